//! Clicks by month: on PostgreSQL each month has its partition, rows that arrived before their
//! month's partition existed move into it, retention drops whole months and deletes the rest
//! row by row; on SQLite one table, retention row by row. Daily counts survive both.

use vouch_domain::Timestamp;
use vouch_store::click_partitions::{self, Month};
use vouch_store::clicks::{self, NewClick};
use vouch_store::testing::{backends, fresh_store};
use vouch_store::{Backend, rollups};

fn click(id: &str, at: &str) -> NewClick {
    NewClick {
        id: id.into(),
        at: Timestamp::parse(at).expect("a time"),
        // Two programs: retention purges each one's clicks through its own index range.
        program_id: if id < "clk_c" { "prg_1" } else { "prg_2" }.into(),
        participant_id: "par_1".into(),
        code: "ANN1".into(),
        visitor_hash: format!("v-{id}"),
        referrer: None,
        utm: None,
        device_class: "desktop".into(),
    }
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).expect("a time")
}

/// The programs the clicks belong to (retention walks the programs table).
async fn programs(store: &vouch_store::Store) {
    for id in ["prg_1", "prg_2"] {
        sqlx::query(
            "INSERT INTO programs (id, name, slug, landing_url, status, attribution_window_days,
                 attribution_model, qualifying_event, reward_hold_days, currency, created_at, updated_at)
             VALUES ($1, $1, $1, 'https://example.com', 'live', 30, 'last_click', 'signup', 0, 'USD',
                 '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        )
        .bind(id)
        .execute(store.pool())
        .await
        .expect("program");
    }
}

/// A transaction that has read `clicks` and holds its share lock until it ends.
async fn long_reader(store: &vouch_store::Store) -> vouch_store::Tx {
    let mut reader = store.begin().await.expect("reader");
    sqlx::query("SELECT COUNT(*) FROM clicks")
        .execute(&mut *reader)
        .await
        .expect("read");
    reader
}

async fn count(store: &vouch_store::Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM clicks")
        .fetch_one(store.pool())
        .await
        .expect("count")
}

#[tokio::test]
async fn clicks_live_in_their_month_and_retention_keeps_the_daily_counts() {
    for backend in backends() {
        let store = fresh_store(backend).await.expect("store");
        programs(&store).await;
        let batch = vec![
            click("clk_a", "2026-08-15T10:00:00Z"),
            click("clk_b", "2026-09-10T10:00:00Z"),
            click("clk_c", "2026-10-02T08:00:00Z"),
            click("clk_d", "2026-10-31T23:59:59.999999Z"),
            click("clk_e", "2026-11-01T00:00:00Z"),
            // Far ahead: no partition exists for it when it is written.
            click("clk_f", "2027-05-01T12:00:00Z"),
        ];
        clicks::insert_batch(&store, &batch).await.expect("insert");
        // A batch retried after its answer was lost adds nothing.
        clicks::insert_batch(&store, &batch).await.expect("retry");
        assert_eq!(count(&store).await, 6, "{}", backend.name());
        let counts_before = rollups::all(&mut store.conn().await.expect("conn"))
            .await
            .expect("rollups");

        click_partitions::prepare(&store, at("2026-11-30T12:00:00Z"))
            .await
            .expect("prepare");
        // Twice is harmless (several workers run housekeeping).
        assert!(
            click_partitions::prepare(&store, at("2026-11-30T12:00:00Z"))
                .await
                .expect("prepare again")
                .is_empty()
        );
        if backend == Backend::Postgres {
            // A long reader of the table: attaching a month would queue behind it (and hold
            // new readers behind itself), so preparing gives up and the next pass does it.
            let reader = long_reader(&store).await;
            let busy = click_partitions::prepare(&store, at("2027-09-15T12:00:00Z"))
                .await
                .expect("prepare while busy");
            assert!(busy.is_empty(), "postponed: {busy:?}");
            reader.rollback().await.expect("end the reader");
        }
        let months = click_partitions::months(&store).await.expect("months");
        if backend == Backend::Postgres {
            for month in [
                "2026-08", "2026-09", "2026-10", "2026-11", "2026-12", "2027-05",
            ] {
                assert!(
                    months.contains(&Month::of(month).expect("month")),
                    "{month} in {months:?}"
                );
            }
            let placed: Vec<(String, String)> =
                sqlx::query_as("SELECT tableoid::regclass::text, at FROM clicks ORDER BY at")
                    .fetch_all(store.pool())
                    .await
                    .expect("placement");
            for (table, at) in &placed {
                assert_eq!(
                    table,
                    &Month::of(at).expect("month").table(),
                    "the click at {at} is in its month's partition"
                );
            }
            let stray: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clicks_default")
                .fetch_one(store.pool())
                .await
                .expect("default");
            assert_eq!(stray, 0);
        } else {
            assert!(months.is_empty(), "SQLite keeps one table");
        }
        assert_eq!(count(&store).await, 6);

        // Keep clicks from 15 October: August and September go whole on PostgreSQL, then the
        // first days of October row by row (everything row by row on SQLite).
        let horizon = at("2026-10-15T00:00:00Z");
        let mut conn = store.conn().await.expect("conn");
        assert_eq!(
            click_partitions::purged_before(&mut conn)
                .await
                .expect("horizon"),
            None,
            "nothing purged yet"
        );
        drop(conn);
        if backend == Backend::Postgres {
            // A long reader of the table: dropping a month would queue behind it and hold
            // every click insert behind itself, so the drop gives up and records nothing.
            let reader = long_reader(&store).await;
            let busy = click_partitions::drop_before(&store, horizon)
                .await
                .expect("drop while busy");
            assert!(busy.postponed && busy.months.is_empty(), "{busy:?}");
            reader.rollback().await.expect("end the reader");
            assert_eq!(count(&store).await, 6, "nothing went");
        }
        let dropped = click_partitions::drop_before(&store, horizon)
            .await
            .expect("drop");
        assert!(!dropped.postponed);
        let mut purged = 0;
        loop {
            let n = click_partitions::purge_before(&store, horizon)
                .await
                .expect("purge");
            if n == 0 {
                break;
            }
            purged += n;
        }
        if backend == Backend::Postgres {
            assert_eq!(
                dropped.months,
                vec![
                    Month::of("2026-08").expect("m"),
                    Month::of("2026-09").expect("m")
                ]
            );
            assert_eq!(purged, 1, "clk_c");
        } else {
            assert!(dropped.months.is_empty());
            assert_eq!(
                purged, 3,
                "clk_a and clk_b of one program, clk_c of the other"
            );
        }
        let mut conn = store.conn().await.expect("conn");
        assert_eq!(
            click_partitions::purged_before(&mut conn)
                .await
                .expect("horizon"),
            Some(horizon.to_string()),
            "the purge recorded how far it went"
        );
        drop(conn);
        let left: Vec<String> = sqlx::query_scalar("SELECT id FROM clicks ORDER BY id")
            .fetch_all(store.pool())
            .await
            .expect("left");
        assert_eq!(left, ["clk_d", "clk_e", "clk_f"], "{}", backend.name());
        assert!(
            click_partitions::purge_before(&store, horizon)
                .await
                .expect("purge again")
                == 0
        );

        // The daily counts outlive the raw clicks, and a rebuild keeps the counts of the days
        // it cannot recount: it reads how far retention went from the database, not from
        // any setting.
        let mut conn = store.conn().await.expect("conn");
        assert_eq!(
            rollups::all(&mut conn).await.expect("rollups"),
            counts_before
        );
        drop(conn);
        let mut tx = store.begin().await.expect("tx");
        rollups::rebuild(&mut tx).await.expect("rebuild");
        tx.commit().await.expect("commit");
        let mut conn = store.conn().await.expect("conn");
        assert_eq!(
            rollups::all(&mut conn).await.expect("rollups"),
            counts_before,
            "{}",
            backend.name()
        );
        drop(conn);
        store.close().await;
    }
}

/// An installation whose retention deleted clicks before the horizon was recorded: the
/// migration that adds the record starts it at the oldest click kept (or past the last counted
/// day when none is left), so a rebuild right after the upgrade keeps the purged days' counts.
#[tokio::test]
async fn the_upgrade_records_how_far_earlier_retention_went() {
    for backend in backends() {
        for keep_one in [true, false] {
            let store = vouch_store::testing::store_migrated_to(backend, 30)
                .await
                .expect("store at 0030");
            programs(&store).await;
            // Two clicks and their counts as the click writer of 0030's schema wrote them
            // (today's writes the later schema's shards).
            for c in [
                click("clk_a", "2026-08-15T10:00:00Z"),
                click("clk_d", "2026-10-31T23:00:00Z"),
            ] {
                let at = c.at.to_string();
                sqlx::query(
                    "INSERT INTO clicks (id, at, program_id, participant_id, code, visitor_hash, device_class)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&c.id)
                .bind(&at)
                .bind(&c.program_id)
                .bind(&c.participant_id)
                .bind(&c.code)
                .bind(&c.visitor_hash)
                .bind(&c.device_class)
                .execute(store.pool())
                .await
                .expect("click");
                for who in [c.participant_id.as_str(), ""] {
                    sqlx::query(
                        "INSERT INTO daily_counts (program_id, participant_id, day, clicks) VALUES ($1, $2, $3, 1)",
                    )
                    .bind(&c.program_id)
                    .bind(who)
                    .bind(&at[..10])
                    .execute(store.pool())
                    .await
                    .expect("counts");
                }
            }
            // What retention did before it recorded anything.
            let purged = if keep_one { "clk_a" } else { "clk_%" };
            sqlx::query("DELETE FROM clicks WHERE id LIKE $1")
                .bind(purged)
                .execute(store.pool())
                .await
                .expect("old purge");
            let counts = rollups::all(&mut store.conn().await.expect("conn"))
                .await
                .expect("rollups");
            store.migrate().await.expect("the rest of the migrations");
            let mut conn = store.conn().await.expect("conn");
            let expected = if keep_one {
                "2026-10-31T23:00:00.000Z"
            } else {
                "2026-10-31T23:59:59.999Z"
            };
            assert_eq!(
                click_partitions::purged_before(&mut conn)
                    .await
                    .expect("horizon")
                    .as_deref(),
                Some(expected),
                "{} keep_one={keep_one}",
                backend.name()
            );
            drop(conn);
            let mut tx = store.begin().await.expect("tx");
            rollups::rebuild(&mut tx).await.expect("rebuild");
            tx.commit().await.expect("commit");
            assert_eq!(
                rollups::all(&mut store.conn().await.expect("conn"))
                    .await
                    .expect("rollups"),
                counts,
                "{} keep_one={keep_one}: no count lost",
                backend.name()
            );
            store.close().await;
        }
    }
}
