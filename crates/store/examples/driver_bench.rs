//! What sqlx's `Any` driver costs against each engine's own: the accounts list's page query
//! (21 rows of the 19 columns of `accounts`) fetched and decoded through an `AnyConnection`,
//! and the same text through a `SqliteConnection` or `PgConnection`, on the same database,
//! alternating in rounds; and the store's own `accounts::list` (Any, plus its row mapping).
//!
//!   cargo run --release -p vouch-store --example driver_bench [iterations per round, default 3000]
//!
//! SQLite always; PostgreSQL too when VOUCH_TEST_POSTGRES_URL names a server (a fresh database
//! is made on it). Prints microseconds per query, the median of 5 rounds.

use sqlx::{Connection, Row};
use std::time::Instant;
use vouch_store::Backend;
use vouch_store::accounts::{self, ListQuery, SortKey};
use vouch_store::testing::{backends, fresh_store};

const PAGE: &str = "SELECT * FROM accounts WHERE 1 = 1 ORDER BY id DESC LIMIT 21";

/// The accounts row as the list reads it, decoded column by column from any row type.
macro_rules! decode {
    ($row:expr) => {{
        let r = $row;
        (
            r.try_get::<i64, _>("id")?,
            r.try_get::<String, _>("name")?,
            r.try_get::<String, _>("code")?,
            r.try_get::<String, _>("email")?,
            r.try_get::<String, _>("owner_first_name")?,
            r.try_get::<String, _>("owner_last_name")?,
            r.try_get::<Option<String>, _>("owner_phone")?,
            (
                r.try_get::<i64, _>("vendor_matrix")?,
                r.try_get::<i64, _>("corporate_catalog")?,
                r.try_get::<i64, _>("whitelabeling")?,
                r.try_get::<i64, _>("exempt_from_membership_fees")?,
                r.try_get::<i64, _>("is_super_customer")?,
                r.try_get::<Option<i64>, _>("parent_id")?,
                r.try_get::<String, _>("registration_policy")?,
                r.try_get::<Option<String>, _>("partner_site_url")?,
                r.try_get::<i64, _>("registration_approved")?,
                r.try_get::<Option<String>, _>("notes")?,
                r.try_get::<String, _>("created_at")?,
                r.try_get::<String, _>("updated_at")?,
            ),
        )
    }};
}

/// Microseconds per page over `iterations` fetches and decodes of [`PAGE`] on `conn` (a macro:
/// the connection types share no trait the executor bound accepts for all three).
macro_rules! pages {
    ($conn:expr, $iterations:expr) => {{
        let start = Instant::now();
        for _ in 0..$iterations {
            for row in sqlx::query(PAGE).fetch_all($conn).await? {
                std::hint::black_box(decode!(&row));
            }
        }
        start.elapsed().as_secs_f64() * 1e6 / $iterations as f64
    }};
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3000);
    println!("| store | path | µs per page (median of 5 rounds) |");
    println!("|---|---|---:|");
    for backend in backends() {
        let store = fresh_store(backend).await?;
        let url = store_url(&store).await?;
        {
            let mut conn = store.conn().await?;
            for i in 0..1000 {
                sqlx::query(
                    "INSERT INTO accounts (name, code, email, owner_first_name, owner_last_name,
                         owner_phone, created_at, updated_at)
                     VALUES ($1, $2, $3, 'Ann', 'Lee', '+1 555 0100', '2026-11-30T00:00:00.000Z',
                         '2026-11-30T00:00:00.000Z')",
                )
                .bind(format!("Account {i}"))
                .bind(format!("CODE{i}"))
                .bind(format!("a{i}@bench.example"))
                .execute(&mut *conn)
                .await?;
            }
        }
        let mut any = store.conn().await?;
        let query = ListQuery {
            search: None,
            super_customers_only: false,
            parent_id: None,
            sort: SortKey::Id,
            descending: true,
            starting_after: None,
            limit: 20,
        };
        let (mut t_any, mut t_native, mut t_list) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..5 {
            t_any.push(pages!(&mut *any, iterations));
            // A connection of the engine's own driver, opened before its clock starts.
            t_native.push(match backend {
                Backend::Sqlite => {
                    let mut native = sqlx::SqliteConnection::connect(&url).await?;
                    pages!(&mut native, iterations)
                }
                Backend::Postgres => {
                    let mut native = sqlx::PgConnection::connect(&url).await?;
                    pages!(&mut native, iterations)
                }
            });
            let start = Instant::now();
            for _ in 0..iterations {
                std::hint::black_box(accounts::list(&mut any, &query).await?);
            }
            t_list.push(start.elapsed().as_secs_f64() * 1e6 / iterations as f64);
        }
        let name = backend.name();
        let (a, n) = (median(t_any), median(t_native));
        println!("| {name} | `Any` fetch + decode | {a:.1} |");
        println!("| {name} | native fetch + decode | {n:.1} |");
        println!(
            "| {name} | `accounts::list` (Any + row mapping) | {:.1} |",
            median(t_list)
        );
        println!("| {name} | Any / native | {:.2} |", a / n);
        drop(any);
        store.close().await;
    }
    Ok(())
}

/// The URL of the store's database, as the native driver wants it.
async fn store_url(store: &vouch_store::Store) -> Result<String, Box<dyn std::error::Error>> {
    let mut conn = store.conn().await?;
    Ok(match store.backend() {
        Backend::Sqlite => {
            let file: String =
                sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                    .fetch_one(&mut *conn)
                    .await?;
            format!("sqlite://{file}")
        }
        Backend::Postgres => {
            let db: String = sqlx::query_scalar("SELECT current_database()::text")
                .fetch_one(&mut *conn)
                .await?;
            let admin = std::env::var(vouch_store::testing::POSTGRES_ENV)?;
            let (base, _) = admin
                .rsplit_once('/')
                .ok_or("the PostgreSQL URL must end in /DATABASE")?;
            format!("{base}/{db}")
        }
    })
}
