//! Persistence for Vouch: one API over SQLite (the zero-set-up default) and PostgreSQL.
//!
//! Queries are written once, in the SQL both engines accept, and run through sqlx's `Any`
//! driver; where the engines differ (the schema's id column, transaction start) the
//! [`Backend`] decides. Every function takes a connection, so a caller composes several of them
//! inside one transaction: a state change and its audit entry commit together or not at all.

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod backup;
pub mod bonuses;
pub mod click_partitions;
mod deferred;
pub use deferred::AuditEntry;
pub mod clicks;
pub mod commissions;
pub mod emails;
pub mod events;
pub mod idempotency;
pub mod jobs;
pub mod lead_sales;
pub mod login_attempts;
mod migrate;
pub mod overview;
pub mod participant_access;
pub mod participants;
pub mod partner_referrals;
pub mod partner_users;
pub mod partners;
pub mod payments;
pub mod people;
pub mod privacy;
pub mod program_events;
pub mod programs;
mod query;
pub use query::{Order, SortColumn, Total};
pub mod referrals;
pub mod retention;
pub mod rewards;
pub mod rollups;
pub mod sales;
pub mod sales_referrals;
pub mod sales_reports;
pub mod secrets;
pub mod sessions;
pub mod setups;
pub mod stats;
pub mod testing;
pub mod users;
pub mod webhooks;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Executor, Row};
use std::str::FromStr;
use std::time::Duration;
use vouch_domain::Timestamp;

pub use sqlx::AnyConnection as Conn;

/// A write transaction. It derefs to the connection, so every store function takes `&mut tx`.
/// On SQLite it also holds this process's turn to write: writers wait in line here, in order,
/// instead of polling SQLite's busy timeout (whose growing sleeps made the slowest writer wait
/// over a second under load). Other processes on the same file still queue on the timeout.
///
/// It also gathers the transaction's additions to the daily rollups and writes them, summed,
/// just before the commit: every referred signup adds to its program's row of the day, and
/// written there, at the end, the row stays locked for the commit alone instead of for the
/// rest of the transaction (or of a whole group of signups).
///
/// Audit entries and events given to [`Tx::audit`] and [`Tx::emit`], and emails given to
/// [`emails::queue_at_commit`], are written at the commit too, many to a statement
/// (`deferred`).
pub struct Tx {
    inner: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    rollups: rollups::Pending,
    deferred: deferred::Writes,
    /// The rollup additions and the gathered writes as they were at [`Tx::savepoint`].
    rollups_at_savepoint: Option<rollups::Pending>,
    deferred_at_savepoint: Option<deferred::Mark>,
}

impl Tx {
    fn new(
        inner: sqlx::Transaction<'static, sqlx::Any>,
        turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    ) -> Self {
        Self {
            inner,
            _turn: turn,
            rollups: rollups::Pending::default(),
            deferred: deferred::Writes::default(),
            rollups_at_savepoint: None,
            deferred_at_savepoint: None,
        }
    }

    /// Writes the gathered audit entries, events and rollup additions, then commits.
    pub async fn commit(mut self) -> Result<()> {
        self.write_gathered().await?;
        let pending = std::mem::take(&mut self.rollups);
        rollups::add_many(&mut self.inner, pending).await?;
        self.inner.commit().await?;
        Ok(())
    }

    /// Adds `counts` to the referrer's and the program's day, written at commit.
    pub(crate) fn count(
        &mut self,
        program_id: &str,
        participant_id: &str,
        day: &str,
        counts: rollups::Counts,
    ) {
        let key = (
            program_id.to_string(),
            participant_id.to_string(),
            day.to_string(),
        );
        *self.rollups.entry(key).or_default() += counts;
    }

    /// An audit entry, written at commit with the others ([`audit::record`] writes one now).
    pub fn audit(&mut self, entry: AuditEntry<'_>) {
        self.deferred.audit(entry);
    }

    /// An event, written at commit with the others and fanned out then to the webhook
    /// endpoints enabled at that moment ([`events::emit`] writes one now). Returns its id.
    pub fn emit(&mut self, event_type: &str, data: &serde_json::Value) -> String {
        self.deferred.event(event_type, data)
    }

    /// Writes the gathered audit entries, events and emails now, for a statement that must
    /// see them (redacting a person's audit entries).
    pub async fn write_gathered(&mut self) -> Result<()> {
        self.deferred.write(&mut self.inner).await
    }

    pub async fn rollback(self) -> std::result::Result<(), sqlx::Error> {
        self.inner.rollback().await
    }

    /// Marks a point this transaction can return to: one write of several that share the
    /// transaction (group commit, batched imports) is undone alone when it fails. One mark at a
    /// time: [`Tx::release`] or [`Tx::rollback_to`] ends it.
    pub async fn savepoint(&mut self) -> Result<()> {
        self.inner.execute("SAVEPOINT vouch_write").await?;
        self.rollups_at_savepoint = Some(self.rollups.clone());
        self.deferred_at_savepoint = Some(self.deferred.mark());
        Ok(())
    }

    /// Keeps what was written since [`Tx::savepoint`].
    pub async fn release(&mut self) -> Result<()> {
        self.inner.execute("RELEASE SAVEPOINT vouch_write").await?;
        self.rollups_at_savepoint = None;
        self.deferred_at_savepoint = None;
        Ok(())
    }

    /// Undoes what was written since [`Tx::savepoint`]; the transaction goes on (on
    /// PostgreSQL, also after a statement failed in it).
    pub async fn rollback_to(&mut self) -> Result<()> {
        self.inner
            .execute("ROLLBACK TO SAVEPOINT vouch_write")
            .await?;
        self.inner.execute("RELEASE SAVEPOINT vouch_write").await?;
        if let Some(before) = self.rollups_at_savepoint.take() {
            self.rollups = before;
        }
        if let Some(mark) = self.deferred_at_savepoint.take() {
            self.deferred.rewind(mark);
        }
        Ok(())
    }
}

impl std::ops::Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(
                "database URL must start with sqlite: or postgres://".into(),
            ))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Config(String),
    /// A unique constraint refused the write; `field` names the column when it is known.
    #[error("conflict on {field}")]
    Conflict { field: String },
    #[error("not found")]
    NotFound,
    /// The caller may not make this change (a rule that depends on who asks).
    #[error("{0}")]
    Forbidden(String),
    /// The record's current state refuses the change: a transition its lifecycle does not
    /// allow, or a concurrent change that got there first (a guarded update found the state it
    /// read gone). `code` is the stable problem code (`invalid_transition`, `already_decided`,
    /// `not_in_review`).
    #[error("{message}")]
    WrongState { code: &'static str, message: String },
    /// A domain rule refused the change (e.g. a nesting cycle); `field` is the input at fault.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// Whether the same write may succeed if tried again: anything but the database refusing
    /// this data itself. Refusals of the data are PostgreSQL's classes 22 (data exception) and
    /// 23 (integrity constraint) and SQLite's CONSTRAINT, MISMATCH, TOOBIG and RANGE, and
    /// values that cannot be encoded; everything else (a lost connection, a lock, a full disk,
    /// a read-only replica after a failover) may pass later.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(db)) => {
                let code = db.code().unwrap_or_default();
                let refused_data = if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    // The primary result code is the low byte of an extended one.
                    code.parse::<i64>()
                        .is_ok_and(|c| [18, 19, 20, 25].contains(&(c & 0xff)))
                } else {
                    code.starts_with("22") || code.starts_with("23")
                };
                !refused_data
            }
            StoreError::Database(
                sqlx::Error::Encode(_)
                | sqlx::Error::Decode(_)
                | sqlx::Error::ColumnDecode { .. }
                | sqlx::Error::TypeNotFound { .. }
                | sqlx::Error::ColumnNotFound(_)
                | sqlx::Error::ColumnIndexOutOfBounds { .. },
            ) => false,
            StoreError::Database(_) => true,
            _ => false,
        }
    }
}

/// Turns a unique-constraint violation into [`StoreError::Conflict`] naming the column. Both
/// schemas name their unique constraints `{table}_{column}_unique`; SQLite reports
/// `table.column` instead, so both spellings are recognised.
pub(crate) fn conflict(err: sqlx::Error, table: &str, columns: &[&str]) -> StoreError {
    if let Some(db) = err.as_database_error()
        && db.is_unique_violation()
    {
        let text = format!("{} {}", db.message(), db.constraint().unwrap_or_default());
        let field = columns
            .iter()
            .find(|c| {
                text.contains(&format!("{table}.{c}"))
                    || text.contains(&format!("{table}_{c}_unique"))
            })
            .copied()
            .unwrap_or("id");
        return StoreError::Conflict {
            field: field.to_string(),
        };
    }
    StoreError::Database(err)
}

/// A read replica's pool and when it failed last.
#[derive(Clone, Debug)]
struct Replica {
    pool: AnyPool,
    /// Milliseconds since the Unix epoch until which reads skip the replica (0: none).
    resting_until: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Replica {
    const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
    const REST: Duration = Duration::from_secs(10);

    fn now_ms() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    async fn acquire(&self) -> Option<sqlx::pool::PoolConnection<sqlx::Any>> {
        use std::sync::atomic::Ordering;
        if Self::now_ms() < self.resting_until.load(Ordering::Relaxed) {
            return None;
        }
        // Every connection busy (long exports, say): the primary serves at once rather than
        // after a wait; the replica is not at fault.
        if self.pool.size() >= self.pool.options().get_max_connections()
            && self.pool.num_idle() == 0
        {
            return None;
        }
        match self.pool.acquire().await {
            Ok(conn) => Some(conn),
            Err(e) => {
                tracing::warn!(error = %e, "the read replica did not answer: reading from the primary");
                self.resting_until.store(
                    Self::now_ms() + Self::REST.as_millis() as u64,
                    Ordering::Relaxed,
                );
                None
            }
        }
    }
}

/// The shared connection pool and the engine behind it.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// A PostgreSQL streaming replica for reads that may lag a little (see [`Store::read_conn`]).
    replica: Option<Replica>,
    backend: Backend,
    /// One writer at a time on SQLite (see [`Tx`]).
    write_turn: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// How long a pooled PostgreSQL connection may sit idle and still be handed out without a ping.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// sqlx pings every connection it hands out by default, on top of the ping it sends when a
/// connection comes back: one more round trip to PostgreSQL (or hand-off to SQLite's worker
/// thread) for every use of the pool. The ping on return stays (sqlx always sends it), and it
/// already closes a connection that broke during its use, so a broken connection never goes
/// back to the pool.
/// What is left to catch is a connection that died while it sat idle (the server restarted,
/// a firewall dropped it): PostgreSQL's are pinged when they have been idle for more than
/// [`PING_AFTER_IDLE`]. The price: `idle_for` counts from the last use, so under steady load
/// no connection is pinged, and when the server restarts or fails over, each connection used
/// in the second before fails the one request, claim or transaction that finds it dead (up to
/// the pool's size of them) and is closed when it comes back. The read replica's pool keeps
/// the ping on every hand-out (see [`Store::with_read_replica`]). An SQLite connection is a
/// file handle and a thread in this process, and is not pinged when it is handed out.
fn checked_on_acquire(options: AnyPoolOptions, backend: Backend) -> AnyPoolOptions {
    let options = options.test_before_acquire(false);
    match backend {
        Backend::Sqlite => options,
        Backend::Postgres => options.before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        }),
    }
}

impl Store {
    /// Connects (creating an SQLite file and its folder if needed). Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite => sqlite_url_with_create(url)?,
            Backend::Postgres => postgres_url(url, tls_chosen_in_environment()),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = checked_on_acquire(AnyPoolOptions::new(), backend)
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; a busy timeout makes a
                        // second writer wait instead of failing at once.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            replica: None,
            backend,
            write_turn: std::sync::Arc::default(),
        })
    }

    /// Sends the reads that tolerate a little lag (dashboards, exports, the redirect's cache
    /// misses: [`Store::read_conn`]) to a PostgreSQL read replica. Does not connect yet: a
    /// replica that is down at start costs nothing but the fallback.
    pub fn with_read_replica(mut self, url: &str, max_connections: u32) -> Result<Self> {
        if self.backend != Backend::Postgres || Backend::from_url(url)? != Backend::Postgres {
            return Err(StoreError::Config(
                "a read replica needs PostgreSQL, for the database and the replica".into(),
            ));
        }
        let url = postgres_url(url, tls_chosen_in_environment());
        let options = AnyConnectOptions::from_str(&url)?;
        // Every connection is pinged as it is handed out (sqlx's default, unlike the primary's
        // pool): a replica that went away must fail there, where `replica_conn` sends the read
        // to the primary, and not in the middle of a dashboard's query.
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            // Short: a replica that does not answer sends reads to the primary instead.
            .acquire_timeout(Replica::ACQUIRE_TIMEOUT)
            // A replica stuck in a query must not hold its connections for ever.
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("SET statement_timeout = '60s'").await?;
                    Ok(())
                })
            })
            .connect_lazy_with(options);
        self.replica = Some(Replica {
            pool,
            resting_until: std::sync::Arc::default(),
        });
        Ok(self)
    }

    pub fn has_read_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// A connection for a read that may see data a little behind the primary: the read
    /// replica's, when one is configured and answers; otherwise the primary's (a replica that
    /// failed is left alone for [`Replica::REST`] before it is tried again).
    pub async fn read_conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        match self.replica_conn().await {
            Some(conn) => Ok(conn),
            None => self.conn().await,
        }
    }

    /// The read replica's connection, if one is configured, answering and not all busy.
    pub async fn replica_conn(&self) -> Option<sqlx::pool::PoolConnection<sqlx::Any>> {
        self.replica.as_ref()?.acquire().await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A pooled connection for reads that need no transaction.
    pub async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so two writers queue on the busy timeout instead of deadlocking when both
    /// try to upgrade a read lock.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let turn = self.write_turn.clone().lock_owned().await;
                Tx::new(self.pool.begin_with("BEGIN IMMEDIATE").await?, Some(turn))
            }
            Backend::Postgres => Tx::new(self.pool.begin().await?, None),
        })
    }

    pub async fn migrate(&self) -> Result<()> {
        migrate::migrator(self.backend).run(&self.pool).await?;
        // Without this month's partition clicks still land (in the default partition) and the
        // worker's housekeeping tries again: no reason to refuse to start.
        if let Err(e) = click_partitions::prepare(self, Timestamp::now()).await {
            tracing::warn!(error = %e, "could not prepare this month's click partitions");
        }
        Ok(())
    }

    /// Whether the database answers and every embedded migration has been applied.
    pub async fn ready(&self) -> Result<bool> {
        let latest = migrate::latest_version(self.backend);
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&self.pool)
                .await
                .or_else(|e| match &e {
                    // No migrations table yet: reachable, but not migrated.
                    sqlx::Error::Database(_) => Ok(None),
                    _ => Err(e),
                })?;
        Ok(applied == Some(latest))
    }

    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(replica) = &self.replica {
            replica.pool.close().await;
        }
    }
}

/// The file an `sqlite://` URL names (an in-memory database has none).
pub fn sqlite_file(url: &str) -> Result<std::path::PathBuf> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::Config(
            "the SQLite database must be a file (e.g. sqlite://./vouch-data/vouch.db)".into(),
        ));
    }
    Ok(std::path::PathBuf::from(path))
}

/// `url`, or, when it names this machine (a loopback address or `localhost`, with no `host`
/// or `hostaddr` parameter that would send it elsewhere) and chooses nothing about TLS (no
/// `ssl…` parameter, no `PGSSL…` variable in the environment), `url` with `sslmode=disable`.
/// sqlx's default (`prefer`) negotiates TLS whenever the server offers it, and on loopback,
/// where the bytes never leave the kernel, encrypting them protected nothing and cost a
/// quarter of an API list's throughput (BENCHMARKS.md). A URL that names its `sslmode` is
/// taken as written.
fn postgres_url(url: &str, tls_chosen_in_environment: bool) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        // A `postgres:` URL's host is opaque to the `url` crate: an IPv4 address comes as text.
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    };
    // `host` and `hostaddr` replace the address's host in sqlx (and libpq): such a URL may
    // lead anywhere, so it is taken as written.
    let chooses = parsed
        .query_pairs()
        .any(|(key, _)| key.starts_with("ssl") || key == "host" || key == "hostaddr");
    // A fragment would swallow an appended parameter.
    if !loopback || chooses || tls_chosen_in_environment || parsed.fragment().is_some() {
        return url.to_string();
    }
    let separator = if parsed.query().is_some() { '&' } else { '?' };
    format!("{url}{separator}sslmode=disable")
}

/// Whether a `PGSSL…` variable (mode, client certificate, key, root certificate…) is set: the
/// environment chose how to use TLS.
fn tls_chosen_in_environment() -> bool {
    std::env::vars_os().any(|(name, _)| name.to_string_lossy().starts_with("PGSSL"))
}

fn sqlite_url_with_create(url: &str) -> Result<String> {
    let path = sqlite_file(url)?;
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Config(format!("cannot create the folder {}: {e}", dir.display()))
        })?;
    }
    Ok(if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// Now, as stored (the text form of [`Timestamp`]), for binding into a write.
pub(crate) fn now() -> String {
    Timestamp::now().to_string()
}

/// A time column decoded at the row boundary: `Timestamp` for a required column,
/// `Option<Timestamp>` for one that may be NULL.
pub(crate) trait TimeColumn: Sized {
    fn decode(row: &sqlx::any::AnyRow, column: &str) -> Result<Self>;
}

impl TimeColumn for Timestamp {
    fn decode(row: &sqlx::any::AnyRow, column: &str) -> Result<Self> {
        let text: String = row.try_get(column)?;
        Timestamp::parse(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
    }
}

impl TimeColumn for Option<Timestamp> {
    fn decode(row: &sqlx::any::AnyRow, column: &str) -> Result<Self> {
        let text: Option<String> = row.try_get(column)?;
        text.map(|t| Timestamp::parse(&t))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
    }
}

pub(crate) fn time_col<T: TimeColumn>(row: &sqlx::any::AnyRow, column: &str) -> Result<T> {
    T::decode(row, column)
}

/// A date column (`YYYY-MM-DD` text), NULL while unknown.
pub(crate) fn date_col(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<time::Date>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| {
        vouch_domain::sale::parse_date(&t)
            .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
    })
    .transpose()
    .map(Option::flatten)
}

/// A date as bound into a write.
pub(crate) fn date_text(date: Option<time::Date>) -> Option<String> {
    date.map(vouch_domain::sale::date_text)
}

/// An amount column with its currency column.
pub(crate) fn money_col(
    row: &sqlx::any::AnyRow,
    amount: &str,
    currency: &str,
) -> Result<vouch_domain::money::Money> {
    let minor: i64 = row.try_get(amount)?;
    Ok(vouch_domain::money::Money::new(
        minor,
        currency_col(row, currency)?,
    ))
}

pub(crate) fn currency_col(
    row: &sqlx::any::AnyRow,
    column: &str,
) -> Result<vouch_domain::money::Currency> {
    let text: String = row.try_get(column)?;
    vouch_domain::money::Currency::parse(&text)
        .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// A closed-set column (status, kind, …) parsed into its type.
pub(crate) fn enum_col<T: std::str::FromStr<Err = String>>(
    row: &sqlx::any::AnyRow,
    column: &str,
) -> Result<T> {
    let text: String = row.try_get(column)?;
    text.parse()
        .map_err(|e: String| StoreError::Corrupt(format!("{column}: {e}")))
}

/// An optional closed-set column.
pub(crate) fn opt_enum_col<T: std::str::FromStr<Err = String>>(
    row: &sqlx::any::AnyRow,
    column: &str,
) -> Result<Option<T>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| {
        t.parse()
            .map_err(|e: String| StoreError::Corrupt(format!("{column}: {e}")))
    })
    .transpose()
}

pub(crate) fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// `needle` with `%`, `_` and `\` escaped for a `LIKE … ESCAPE '\'` pattern.
fn like_escape(needle: &str) -> String {
    let mut out = String::new();
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A case-insensitive substring pattern (compare against `LOWER(column)`).
pub(crate) fn like_contains(needle: &str) -> String {
    format!("%{}%", like_escape(&needle.to_lowercase()))
}

/// A prefix pattern.
pub(crate) fn like_prefix(prefix: &str) -> String {
    format!("{}%", like_escape(prefix))
}

pub(crate) async fn exec(conn: &mut AnyConnection, sql: &'static str) -> Result<()> {
    conn.execute(sql).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::postgres_url;

    #[test]
    fn only_a_loopback_url_that_chooses_nothing_about_tls_goes_without() {
        for (url, expected) in [
            (
                "postgres://postgres@127.0.0.1:5432/test",
                "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
            ),
            (
                "postgres://u:p@localhost/vouch?application_name=v",
                "postgres://u:p@localhost/vouch?application_name=v&sslmode=disable",
            ),
            ("postgres://[::1]/v", "postgres://[::1]/v?sslmode=disable"),
            (
                "postgres://127.0.0.1/v?sslmode=require",
                "postgres://127.0.0.1/v?sslmode=require",
            ),
            (
                "postgres://127.0.0.1/v?sslrootcert=/ca.pem",
                "postgres://127.0.0.1/v?sslrootcert=/ca.pem",
            ),
            ("postgres://db.internal/v", "postgres://db.internal/v"),
            ("postgres://10.0.0.5/v", "postgres://10.0.0.5/v"),
            (
                "postgres:///v?host=/var/run/postgresql",
                "postgres:///v?host=/var/run/postgresql",
            ),
            // `host` and `hostaddr` may send a loopback-looking URL elsewhere.
            (
                "postgres://localhost/v?host=db.example.com",
                "postgres://localhost/v?host=db.example.com",
            ),
            (
                "postgres://127.0.0.1/v?hostaddr=10.0.0.5",
                "postgres://127.0.0.1/v?hostaddr=10.0.0.5",
            ),
            // Names that only look local.
            (
                "postgres://127.0.0.1.example.com/v",
                "postgres://127.0.0.1.example.com/v",
            ),
            (
                "postgres://localhost.example.com/v",
                "postgres://localhost.example.com/v",
            ),
            ("postgres://localhost/v#x", "postgres://localhost/v#x"),
        ] {
            assert_eq!(postgres_url(url, false), expected, "{url}");
        }
        // A PGSSL… variable in the environment is a choice too.
        assert_eq!(
            postgres_url("postgres://127.0.0.1/v", true),
            "postgres://127.0.0.1/v"
        );
    }
}
