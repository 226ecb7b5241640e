//! Configuration: built-in defaults → optional `vouch.toml` → `VOUCH_*` environment → flags.
//! Checked once at start-up so that a typo stops the process with a message naming the setting.

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub bind: String,
    /// `sqlite://path` (default, created on first start) or `postgres://user@host/db`.
    pub database_url: String,
    /// A PostgreSQL streaming replica of `database_url` for reads that may lag a little
    /// (dashboards, exports, the redirect's cache misses); empty: every read goes to the
    /// database. A replica that does not answer sends those reads back to the database.
    pub database_read_url: String,
    /// Public address of this installation; links and emails are built from it.
    pub base_url: String,
    /// Domain of the email the clone convention gives a referral super customer.
    pub clone_email_domain: String,
    /// The console's time zone for staff who chose none (an IANA name such as Europe/Paris).
    pub time_zone: String,
    /// `text` (human-readable) or `json`.
    pub log_format: String,
    pub database_max_connections: u32,
    /// How long an authenticated API key is kept in memory (0: looked up on every request);
    /// another process sharing the database stops accepting a revoked key within this bound.
    pub api_key_cache_seconds: u64,
    /// The bearer token `GET /metrics` asks for (Prometheus text format); empty turns it off.
    pub metrics_token: String,
    pub session: SessionConfig,
    pub login: LoginConfig,
    pub outbound: OutboundConfig,
    pub worker: WorkerConfig,
    pub webhooks: WebhooksConfig,
    pub email: EmailConfig,
    pub fraud: FraudConfig,
    pub limits: LimitsConfig,
    pub retention: RetentionConfig,
    /// Reverse proxies (CIDRs) whose `X-Forwarded-For` or `Forwarded` header is believed, e.g.
    /// `["10.0.0.0/8"]`; also `VOUCH_TRUSTED_PROXIES=127.0.0.1/32,::1/128`. Empty: every
    /// connection is its own client.
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days webhook events are kept with their messages, deliveries and attempts; replay
    /// reaches back this far (0: for ever).
    pub events_days: i64,
    /// Days finished jobs (emails sent, deliveries given up) and their attempts are kept
    /// (0: for ever).
    pub jobs_days: i64,
    /// Days raw clicks are kept (0: for ever); their daily counts stay. On PostgreSQL whole
    /// months are dropped with their partition.
    pub clicks_days: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Public writes of one kind (signups, registrations, sign-in links, password resets,
    /// unsubscribes, partner enquiries) from one address (IPv6: one /64) per hour (0: off).
    pub public_per_address_per_hour: u32,
    /// Public writes of one kind into one program, super customer or partner per hour (0: off).
    pub public_per_program_per_hour: u32,
    /// Welcome emails to one email address per day, across programs (0: off).
    pub welcome_emails_per_address_per_day: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FraudConfig {
    /// Referred signups from one network address per hour before they are flagged (0: off).
    pub velocity_per_hour: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// `outbox` (keep every message in the database, shown in the console) or `smtp`.
    pub transport: String,
    /// The sender, e.g. `Vouch <referrals@example.com>`.
    pub from: String,
    pub smtp: SmtpConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// `starttls`, `tls` or `none`.
    pub security: String,
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    /// Non-public networks that webhook URLs may still reach (e.g. `["10.0.0.0/8"]`). Also
    /// `VOUCH_OUTBOUND_ALLOW_CIDRS=127.0.0.0/8,::1/128`.
    pub allow_cidrs: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerConfig {
    /// Jobs one process runs at the same time.
    pub concurrency: usize,
    pub poll_interval_ms: u64,
    /// How long a claimed job stays with its worker; after a crash, others take it over then.
    pub lease_seconds: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Delays before each retry; the first attempt is immediate.
    pub retry_schedule_seconds: Vec<u64>,
    pub timeout_seconds: u64,
    /// An endpoint failing without a success for this long is disabled.
    pub disable_after_hours: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    pub idle_minutes: i64,
    pub absolute_hours: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginConfig {
    pub max_failures: i64,
    pub window_minutes: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://./vouch-data/vouch.db".into(),
            database_read_url: String::new(),
            base_url: "http://127.0.0.1:8080".into(),
            clone_email_domain: "example.com".into(),
            time_zone: "UTC".into(),
            log_format: "text".into(),
            database_max_connections: 10,
            api_key_cache_seconds: 5,
            metrics_token: String::new(),
            session: SessionConfig {
                idle_minutes: 30,
                absolute_hours: 12,
            },
            login: LoginConfig {
                max_failures: 10,
                window_minutes: 15,
            },
            fraud: FraudConfig {
                velocity_per_hour: 5,
            },
            limits: {
                let d = vouch_app::PublicLimits::default();
                LimitsConfig {
                    public_per_address_per_hour: d.per_address_per_hour,
                    public_per_program_per_hour: d.per_program_per_hour,
                    welcome_emails_per_address_per_day: d.welcome_emails_per_address_per_day,
                }
            },
            trusted_proxies: Vec::new(),
            retention: {
                let d = vouch_app::Retention::default();
                RetentionConfig {
                    events_days: d.events_days,
                    jobs_days: d.jobs_days,
                    clicks_days: d.clicks_days,
                }
            },
            outbound: OutboundConfig::default(),
            worker: WorkerConfig {
                concurrency: 32,
                poll_interval_ms: 500,
                lease_seconds: 60,
            },
            email: EmailConfig {
                transport: "outbox".into(),
                from: "Vouch <vouch@localhost>".into(),
                smtp: SmtpConfig {
                    host: String::new(),
                    port: 587,
                    security: "starttls".into(),
                    username: String::new(),
                    password: String::new(),
                },
            },
            webhooks: WebhooksConfig {
                retry_schedule_seconds: vouch_domain::webhook::DEFAULT_RETRY_SCHEDULE.to_vec(),
                timeout_seconds: 15,
                disable_after_hours: 120,
            },
        }
    }
}

/// `VOUCH_*` variables that are not read by figment: the test suite's and benchmarks', and
/// `VOUCH_OUTBOUND_ALLOW_CIDRS` and `VOUCH_TRUSTED_PROXIES` (comma-separated lists, read
/// below). Every other `VOUCH_*`
/// variable must be a setting, so a typo stops the start instead of being ignored.
const TOOL_VARIABLES: &[&str] = &[
    "outbound_allow_cidrs",
    "trusted_proxies",
    "test_postgres_url",
    "bench_postgres_url",
    "skip_browser_tests",
    "axe_js",
    "axe_all",
    "update_openapi",
    "record_examples",
    "contract_seconds",
    "contract_seed",
];

/// Values given on the command line; `None` leaves the layers below in charge.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
}

impl Config {
    /// Loads the layers. A missing default `vouch.toml` is fine; a missing file that was
    /// asked for by name is an error.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    bail!("the configuration file {} does not exist", path.display());
                }
                figment = figment.merge(Toml::file_exact(path));
            }
            None if Path::new("vouch.toml").exists() => {
                figment = figment.merge(Toml::file_exact("vouch.toml"))
            }
            None => {}
        }
        let mut config: Config = figment
            .merge(Env::prefixed("VOUCH_").split("__").ignore(TOOL_VARIABLES))
            .merge(Serialized::defaults(overrides))
            .extract()
            .context("invalid configuration")?;
        let list = |text: String| -> Vec<String> {
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        if let Ok(cidrs) = std::env::var("VOUCH_OUTBOUND_ALLOW_CIDRS") {
            config.outbound.allow_cidrs = list(cidrs);
        }
        if let Ok(cidrs) = std::env::var("VOUCH_TRUSTED_PROXIES") {
            config.trusted_proxies = list(cidrs);
        }
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.bind.parse::<SocketAddr>().with_context(|| {
            format!(
                "bind: `{}` is not an address such as 127.0.0.1:8080",
                self.bind
            )
        })?;
        let backend = vouch_store::Backend::from_url(&self.database_url)
            .map_err(|e| anyhow::anyhow!("database_url: {e}"))?;
        if !self.database_read_url.is_empty() {
            let replica = vouch_store::Backend::from_url(&self.database_read_url)
                .map_err(|e| anyhow::anyhow!("database_read_url: {e}"))?;
            if backend != vouch_store::Backend::Postgres
                || replica != vouch_store::Backend::Postgres
            {
                bail!(
                    "database_read_url: a read replica needs PostgreSQL (postgres://…) for both database_url and database_read_url"
                );
            }
        }
        let rest = self
            .base_url
            .strip_prefix("https://")
            .or_else(|| self.base_url.strip_prefix("http://"))
            .with_context(|| {
                format!(
                    "base_url: `{}` must start with http:// or https://",
                    self.base_url
                )
            })?;
        if rest.trim_end_matches('/').is_empty() || rest.contains(['?', '#', ' ']) {
            bail!(
                "base_url: `{}` must be an address such as https://refer.example.com",
                self.base_url
            );
        }
        vouch_domain::email::Email::parse(&format!("x@{}", self.clone_email_domain)).map_err(
            |_| {
                anyhow::anyhow!(
                    "clone_email_domain: `{}` is not a domain",
                    self.clone_email_domain
                )
            },
        )?;
        vouch_domain::time_zones::check(&self.time_zone)
            .map_err(|m| anyhow::anyhow!("time_zone: `{}` {m}", self.time_zone))?;
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!(
                "log_format: must be text or json, not `{}`",
                self.log_format
            );
        }
        if self.session.idle_minutes < 1 || self.session.absolute_hours < 1 {
            bail!("session: idle_minutes and absolute_hours must be at least 1");
        }
        if self.login.max_failures < 1 || self.login.window_minutes < 1 {
            bail!("login: max_failures and window_minutes must be at least 1");
        }
        if !(0..=100_000).contains(&self.fraud.velocity_per_hour) {
            bail!("fraud.velocity_per_hour: must be between 0 (off) and 100000");
        }
        vouch_jobs::OutboundPolicy::parse(&self.outbound.allow_cidrs.join(","))
            .map_err(|e| anyhow::anyhow!("outbound.allow_cidrs: {e}"))?;
        vouch_jobs::OutboundPolicy::parse(&self.trusted_proxies.join(","))
            .map_err(|e| anyhow::anyhow!("trusted_proxies: {e}"))?;
        if !(0..=36_500).contains(&self.retention.events_days)
            || !(0..=36_500).contains(&self.retention.jobs_days)
            || !(0..=36_500).contains(&self.retention.clicks_days)
        {
            bail!(
                "retention: events_days, jobs_days and clicks_days must be between 0 (for ever) and 36500"
            );
        }
        if !(0..=1000).contains(&self.limits.welcome_emails_per_address_per_day) {
            bail!("limits.welcome_emails_per_address_per_day: must be between 0 (off) and 1000");
        }
        if !(1..=1000).contains(&self.worker.concurrency) {
            bail!("worker.concurrency: must be between 1 and 1000");
        }
        if self.worker.poll_interval_ms < 10 {
            bail!("worker.poll_interval_ms: must be at least 10");
        }
        if self.webhooks.timeout_seconds < 1 || self.webhooks.timeout_seconds > 300 {
            bail!("webhooks.timeout_seconds: must be between 1 and 300");
        }
        if self.worker.lease_seconds
            < i64::try_from(self.webhooks.timeout_seconds).unwrap_or(i64::MAX) + 1
        {
            bail!(
                "worker.lease_seconds: must be longer than webhooks.timeout_seconds, or a slow delivery would run twice"
            );
        }
        if self.webhooks.retry_schedule_seconds.is_empty()
            || self.webhooks.retry_schedule_seconds.len() > 50
        {
            bail!("webhooks.retry_schedule_seconds: give between 1 and 50 delays");
        }
        if self.webhooks.disable_after_hours < 1 {
            bail!("webhooks.disable_after_hours: must be at least 1");
        }
        match self.email.transport.as_str() {
            "outbox" => {}
            "smtp" if self.email.smtp.host.trim().is_empty() => {
                bail!("email.smtp.host: required when email.transport is smtp")
            }
            "smtp" => {}
            other => bail!("email.transport: must be outbox or smtp, not `{other}`"),
        }
        if !matches!(
            self.email.smtp.security.as_str(),
            "starttls" | "tls" | "none"
        ) {
            bail!("email.smtp.security: must be starttls, tls or none");
        }
        if vouch_jobs::email::parse_mailbox(&self.email.from).is_err() {
            bail!(
                "email.from: `{}` is not an address such as Vouch <referrals@example.com>",
                self.email.from
            );
        }
        if self.database_max_connections < 1 {
            bail!("database_max_connections: must be at least 1");
        }
        let token = self.metrics_token.trim();
        if !token.is_empty() && token.len() < 16 {
            bail!("metrics_token: at least 16 characters (or empty to turn /metrics off)");
        }
        if self.api_key_cache_seconds > 300 {
            bail!(
                "api_key_cache_seconds: at most 300 (a revoked key stays usable elsewhere this long)"
            );
        }
        Ok(())
    }

    pub fn settings(&self) -> vouch_app::Settings {
        vouch_app::Settings {
            base_url: self.base_url.trim_end_matches('/').to_string(),
            clone_email_domain: self.clone_email_domain.clone(),
            time_zone: self.time_zone.trim().to_string(),
            api_key_cache: std::time::Duration::from_secs(self.api_key_cache_seconds),
            metrics_token: Some(self.metrics_token.trim().to_string()).filter(|t| !t.is_empty()),
            session_idle_minutes: self.session.idle_minutes,
            session_absolute_hours: self.session.absolute_hours,
            login_max_failures: self.login.max_failures,
            login_window_minutes: self.login.window_minutes,
            outbound: self.outbound_policy(),
            fraud_velocity_per_hour: self.fraud.velocity_per_hour,
            public_limits: vouch_app::PublicLimits {
                per_address_per_hour: self.limits.public_per_address_per_hour,
                per_program_per_hour: self.limits.public_per_program_per_hour,
                welcome_emails_per_address_per_day: self.limits.welcome_emails_per_address_per_day,
            },
            trusted_proxies: vouch_jobs::OutboundPolicy::parse(&self.trusted_proxies.join(","))
                .map(|p| p.allow)
                .unwrap_or_default(),
            retention: vouch_app::Retention {
                events_days: self.retention.events_days,
                jobs_days: self.retention.jobs_days,
                clicks_days: self.retention.clicks_days,
            },
        }
    }

    fn outbound_policy(&self) -> vouch_jobs::OutboundPolicy {
        vouch_jobs::OutboundPolicy::parse(&self.outbound.allow_cidrs.join(",")).unwrap_or_default()
    }

    pub fn worker_settings(&self) -> vouch_jobs::WorkerSettings {
        vouch_jobs::WorkerSettings {
            concurrency: self.worker.concurrency,
            poll_interval: std::time::Duration::from_millis(self.worker.poll_interval_ms),
            lease_seconds: self.worker.lease_seconds,
            delivery: vouch_jobs::webhook::DeliverySettings {
                retry_schedule: self.webhooks.retry_schedule_seconds.clone(),
                timeout: std::time::Duration::from_secs(self.webhooks.timeout_seconds),
                disable_after: std::time::Duration::from_secs(
                    self.webhooks.disable_after_hours * 3600,
                ),
                outbound: self.outbound_policy(),
                base_url: self.base_url.trim_end_matches('/').to_string(),
            },
            email: vouch_jobs::email::EmailSettings {
                transport: match self.email.transport.as_str() {
                    "smtp" => vouch_jobs::email::Transport::Smtp(vouch_jobs::email::SmtpSettings {
                        host: self.email.smtp.host.clone(),
                        port: self.email.smtp.port,
                        security: match self.email.smtp.security.as_str() {
                            "tls" => vouch_jobs::email::SmtpSecurity::Tls,
                            "none" => vouch_jobs::email::SmtpSecurity::None,
                            _ => vouch_jobs::email::SmtpSecurity::StartTls,
                        },
                        username: Some(self.email.smtp.username.clone()).filter(|u| !u.is_empty()),
                        password: Some(self.email.smtp.password.clone()).filter(|p| !p.is_empty()),
                    }),
                    _ => vouch_jobs::email::Transport::Outbox,
                },
                from: self.email.from.clone(),
            },
        }
    }

    /// The configuration as TOML with secrets (the database password) replaced.
    pub fn redacted_toml(&self) -> anyhow::Result<String> {
        let mut shown = self.clone();
        shown.database_url = redact_url(&self.database_url);
        shown.database_read_url = redact_url(&self.database_read_url);
        if !shown.metrics_token.is_empty() {
            shown.metrics_token = "***".into();
        }
        if !shown.email.smtp.password.is_empty() {
            shown.email.smtp.password = "***".into();
        }
        toml_string(&shown)
    }
}

fn toml_string(config: &Config) -> anyhow::Result<String> {
    Ok(toml::to_string_pretty(config)?)
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_redaction_hides_passwords() {
        assert!(Config::default().validate().is_ok());
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let mut c = Config {
            bind: "nope".into(),
            ..Config::default()
        };
        assert!(
            c.validate()
                .expect_err("invalid")
                .to_string()
                .starts_with("bind")
        );
        c = Config {
            base_url: "ftp://x".into(),
            ..Config::default()
        };
        assert!(
            c.validate()
                .expect_err("invalid")
                .to_string()
                .starts_with("base_url")
        );
        c = Config {
            database_url: "mysql://x".into(),
            ..Config::default()
        };
        assert!(
            c.validate()
                .expect_err("invalid")
                .to_string()
                .starts_with("database_url")
        );
        // A read replica needs PostgreSQL on both sides.
        for (database_url, read_url) in [
            ("sqlite://./x.db", "postgres://replica/db"),
            ("postgres://primary/db", "sqlite://./x.db"),
        ] {
            c = Config {
                database_url: database_url.into(),
                database_read_url: read_url.into(),
                ..Config::default()
            };
            assert!(
                c.validate()
                    .expect_err("invalid")
                    .to_string()
                    .starts_with("database_read_url"),
                "{database_url} + {read_url}"
            );
        }
        c = Config {
            database_url: "postgres://primary/db".into(),
            database_read_url: "postgres://u:secret@replica/db".into(),
            ..Config::default()
        };
        assert!(c.validate().is_ok());
        assert!(
            !c.redacted_toml().expect("toml").contains("secret"),
            "the replica's password is not shown"
        );
    }
}
