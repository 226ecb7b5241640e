//! Vouch's use cases: one function per operation a person or system performs (create, update,
//! change state, enrol, report an event, review, deliver, import, approve, …). Each takes the
//! [`Ctx`], who acts (an audit [`Origin`](vouch_store::audit::Origin)) and typed input; it opens
//! the transaction, lets `vouch_domain` decide, persists through `vouch_store`, records the audit
//! entry and the events, and answers a typed result or an [`AppError`]. It knows no HTTP: the
//! API, the console, the public pages, the CLI and the workers all call it.

pub mod accounts;
pub mod audit;
pub mod auth;
mod bonus_prefill;
pub mod bonuses;
pub mod commissions;
pub mod emails;
mod error;
pub mod exports;
pub mod group_commit;
pub mod housekeeping;
pub mod import;
pub mod instant;
pub mod key_cache;
pub mod lead_sales;
pub mod links;
pub mod metrics;
pub mod outbound;
pub mod overview;
pub mod participant_access;
pub mod participant_admin;
pub mod participant_profile;
pub mod participants;
pub mod partner_referrals;
pub mod partner_users;
pub mod partners;
pub mod payouts;
pub mod people;
pub mod privacy;
pub mod programs;
pub mod ranking_cache;
mod record;
pub mod resources;
mod reward_status;
pub mod rewards;
pub mod sales;
pub mod sales_referrals;
pub mod sales_reports;
pub mod setups;
pub mod signed;
pub mod staff;
pub mod stats;
pub mod unsubscribe;
pub mod webhooks;

pub use error::{AppError, AppResult};

use std::sync::Arc;
use vouch_domain::Timestamp;
use vouch_store::{Store, StoreError, Tx};

/// The installation's settings that decide what operations do.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Public address of this installation, without a trailing slash; links and emails use it.
    pub base_url: String,
    /// Domain of the email address the clone convention gives a referral super customer.
    pub clone_email_domain: String,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    /// Failed logins allowed per account and per address within the window.
    pub login_max_failures: i64,
    pub login_window_minutes: i64,
    /// Which non-public networks outbound URLs (webhook endpoints) may point to.
    pub outbound: outbound::OutboundPolicy,
    /// Referred signups from one network address per hour before they are flagged (0: off).
    pub fraud_velocity_per_hour: i64,
    /// How often anyone may use the public forms.
    pub public_limits: PublicLimits,
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` header names the client; a
    /// request from anywhere else is its own client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long delivery records are kept.
    pub retention: Retention,
    /// The time zone the console shows times in for staff who chose none (an IANA name).
    pub time_zone: String,
    /// How long an authenticated API key is kept in memory (see [`key_cache`]).
    pub api_key_cache: std::time::Duration,
    /// The bearer token `/metrics` asks for; `None` turns it off (404).
    pub metrics_token: Option<String>,
}

/// Days delivery records are kept (0: for ever). Audit entries, money records and the email
/// outbox are never deleted by retention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Webhook events, with their messages, deliveries and attempts; replay reaches back this
    /// far.
    pub events_days: i64,
    /// Finished jobs (emails sent, deliveries given up or cancelled) and their attempts; an
    /// email stays in the outbox without them. A lead sale's delivery log is kept.
    pub jobs_days: i64,
    /// Raw clicks (0: for ever). Their daily counts stay: dashboards and participant pages
    /// read those. On PostgreSQL whole months go by dropping their partition.
    pub clicks_days: i64,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            events_days: 90,
            jobs_days: 30,
            clicks_days: 0,
        }
    }
}

/// Limits on public writes (signups, registrations, sign-in links, resets, unsubscribes,
/// enquiries) and on the mail they cause. 0 turns a limit off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicLimits {
    /// Writes of one kind from one address (an IPv6 /64) per hour, as a burst that refills
    /// evenly over the hour.
    pub per_address_per_hour: u32,
    /// Writes of one kind into one program (super customer, partner) per hour, from anywhere.
    pub per_program_per_hour: u32,
    /// Welcome emails to one email address per day, across programs; a signup over it still
    /// joins, without the email.
    pub welcome_emails_per_address_per_day: i64,
}

impl Default for PublicLimits {
    fn default() -> Self {
        Self {
            per_address_per_hour: 20,
            per_program_per_hour: 2000,
            welcome_emails_per_address_per_day: 3,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:8080".into(),
            clone_email_domain: "example.com".into(),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            login_max_failures: 10,
            login_window_minutes: 15,
            outbound: outbound::OutboundPolicy::default(),
            fraud_velocity_per_hour: 5,
            public_limits: PublicLimits::default(),
            trusted_proxies: Vec::new(),
            retention: Retention::default(),
            time_zone: "UTC".into(),
            api_key_cache: key_cache::KEY_TTL,
            metrics_token: None,
        }
    }
}

/// Keys shared by every process of the installation (kept in the database).
pub struct Secrets {
    /// Mixed into the visitor hash of clicks: visitors are counted, never stored.
    pub visitor: Vec<u8>,
    /// Signs unsubscribe links.
    pub unsubscribe: Vec<u8>,
    /// Signs embed tokens of the participant page.
    pub embed: Vec<u8>,
}

/// Where use cases read the time: the system clock, moved by an offset that only tests set
/// (to see a hold end or a link expire without waiting). Rows are still stamped by the store.
#[derive(Clone, Default)]
pub struct Clock {
    offset_ms: Arc<std::sync::atomic::AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        let offset = self.offset_ms.load(std::sync::atomic::Ordering::Relaxed);
        Timestamp::now() + time::Duration::milliseconds(offset)
    }

    /// Moves this clock (and every copy of it) forward.
    pub fn advance(&self, by: time::Duration) {
        let ms = i64::try_from(by.whole_milliseconds()).unwrap_or(i64::MAX);
        self.offset_ms
            .fetch_add(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// `length` before now.
    pub fn ago(&self, length: time::Duration) -> Timestamp {
        self.now() - length
    }

    /// `length` from now.
    pub fn from_now(&self, length: time::Duration) -> Timestamp {
        self.now() + length
    }
}

/// What every use case runs with: the store, the settings, the clock, the installation's
/// secrets and this process's cache of what referral codes lead to (which changes made here
/// forget at once).
#[derive(Clone)]
pub struct Ctx {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub secrets: Arc<Secrets>,
    pub links: Arc<links::LinkCache>,
    /// API keys recently authenticated (see [`key_cache`]).
    pub api_keys: Arc<key_cache::KeyCache>,
    /// Small writes waiting to share a transaction (see [`group_commit`]).
    pub writes: Arc<group_commit::GroupCommit>,
    /// Dashboards' top referrers (see [`ranking_cache`]).
    pub rankings: Arc<ranking_cache::RankingCache>,
}

impl Ctx {
    /// Loads (or creates, on first use) the installation's secrets.
    pub async fn new(store: Store, settings: Settings) -> Result<Self, StoreError> {
        let secrets = {
            let mut conn = store.conn().await?;
            Secrets {
                visitor: vouch_store::secrets::get_or_create(&mut conn, "visitor_hash").await?,
                unsubscribe: vouch_store::secrets::get_or_create(&mut conn, "unsubscribe").await?,
                embed: vouch_store::secrets::get_or_create(&mut conn, "embed").await?,
            }
        };
        let key_ttl = settings.api_key_cache;
        let writes = group_commit::GroupCommit::for_store(&store);
        Ok(Self {
            store,
            settings: Arc::new(settings),
            clock: Clock::default(),
            secrets: Arc::new(secrets),
            links: Arc::default(),
            api_keys: Arc::new(key_cache::KeyCache::with_ttl(key_ttl)),
            rankings: Arc::default(),
            writes: Arc::new(writes),
        })
    }
}

async fn commit(tx: Tx) -> AppResult<()> {
    tx.commit().await?;
    Ok(())
}

/// A reason a person gives (to cancel a sale, to reject a bonus): required, printable, at most
/// 500 characters. `why` ends "is required: why …".
pub(crate) fn checked_reason(raw: &str, why: &str) -> AppResult<String> {
    vouch_domain::validation::required_text(raw, 500).map_err(|m| {
        AppError::field(
            "reason",
            if m == "is required" {
                format!("is required: why {why}")
            } else {
                m
            },
        )
    })
}
