//! A read replica: `Store::read_conn` reads a PostgreSQL streaming replica (set up by the
//! test harness: its own primary and standby clusters), sees what the primary wrote once it is
//! replayed and not before, and falls back to the primary when the replica is down. SQLite
//! refuses a replica. Runs where the suite runs on PostgreSQL.

use vouch_store::testing::replica::StreamingPair;
use vouch_store::testing::{backends, fresh_database_url};
use vouch_store::{Backend, Store, StoreError};

async fn in_recovery(conn: &mut sqlx::AnyConnection) -> bool {
    sqlx::query_scalar("SELECT pg_is_in_recovery()")
        .fetch_one(conn)
        .await
        .expect("pg_is_in_recovery")
}

async fn has_row(conn: &mut sqlx::AnyConnection, id: &str) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM staff_users WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
        .expect("count")
        == 1
}

async fn add_row(store: &Store, id: &str) {
    sqlx::query(
        "INSERT INTO staff_users (id, email, name, password_hash, role, created_at, updated_at)
         VALUES ($1, $1, $1, 'x', 'viewer', '2026-11-30T00:00:00Z', '2026-11-30T00:00:00Z')",
    )
    .bind(id)
    .execute(store.pool())
    .await
    .expect("insert");
}

#[tokio::test]
async fn reads_that_may_lag_go_to_the_replica_and_fall_back_to_the_primary() {
    let sqlite = vouch_store::testing::fresh_store(Backend::Sqlite)
        .await
        .expect("sqlite");
    let refused = sqlite
        .clone()
        .with_read_replica("postgres://127.0.0.1/x", 2);
    assert!(
        matches!(refused, Err(StoreError::Config(_))),
        "SQLite has no replica"
    );
    sqlite.close().await;
    if !backends().contains(&Backend::Postgres) {
        return;
    }
    // Without a replica, reads that may lag go to the database itself.
    let plain = Store::connect(
        &fresh_database_url(Backend::Postgres).await.expect("url"),
        2,
    )
    .await
    .expect("plain");
    assert!(!plain.has_read_replica());
    assert!(!in_recovery(&mut plain.read_conn().await.expect("conn")).await);
    plain.close().await;

    let pair = StreamingPair::start().expect("a primary and its streaming replica");
    let store = Store::connect(&pair.primary_url, 4)
        .await
        .expect("primary")
        .with_read_replica(&pair.replica_url, 4)
        .expect("replica");
    store.migrate().await.expect("migrate");
    pair.caught_up().await.expect("caught up");
    assert!(in_recovery(&mut store.read_conn().await.expect("read conn")).await);
    assert!(!in_recovery(&mut store.conn().await.expect("conn")).await);

    add_row(&store, "usr_replayed").await;
    pair.caught_up().await.expect("caught up");
    assert!(has_row(&mut store.read_conn().await.expect("read"), "usr_replayed").await);

    // While the replica lags, it does not have what the primary has.
    pair.pause_replay(true).await.expect("pause");
    add_row(&store, "usr_lagging").await;
    assert!(!has_row(&mut store.read_conn().await.expect("read"), "usr_lagging").await);
    assert!(has_row(&mut store.conn().await.expect("conn"), "usr_lagging").await);
    pair.pause_replay(false).await.expect("resume");
    pair.caught_up().await.expect("caught up");
    assert!(has_row(&mut store.read_conn().await.expect("read"), "usr_lagging").await);

    // A replica that is down: reads go to the primary, again and again.
    store.close().await;
    let store = Store::connect(&pair.primary_url, 4)
        .await
        .expect("primary")
        .with_read_replica(&pair.replica_url, 4)
        .expect("replica");
    pair.stop_replica().expect("stop the replica");
    let mut conn = store.read_conn().await.expect("falls back");
    assert!(!in_recovery(&mut conn).await);
    assert!(has_row(&mut conn, "usr_lagging").await);
    drop(conn);
    let mut conn = store.read_conn().await.expect("falls back again");
    assert!(!in_recovery(&mut conn).await);
    drop(conn);
    store.close().await;
}
