//! The batched import decides each row as the one-signup path would: the same file imported
//! into two programs, one through `import_participants` (rows decided together, written with
//! multi-row statements) and one row by row through `enrol_in`, leaves the same participants,
//! referrals, fraud flags, daily counts, events, webhook deliveries and audit entries, and the
//! same report. Run on SQLite and (when `VOUCH_TEST_POSTGRES_URL` is set) on PostgreSQL.

use sqlx::Row;
use std::collections::BTreeMap;
use vouch_app::import::{ImportReport, import_participants, import_row_by_row, parse_file};
use vouch_app::{Ctx, Settings, participant_admin, participants, programs};
use vouch_domain::participant::ParticipantFields;
use vouch_domain::program::{ProgramFields, ProgramStatus};
use vouch_store::Store;
use vouch_store::audit::Origin;
use vouch_store::programs::Program;
use vouch_store::testing::{backends, fresh_store};
use vouch_store::webhooks::{self, EndpointDraft};

/// Rows after the hand-written ones: a chain of referrals long enough to cross a batch.
const CHAIN: usize = vouch_app::import::ROWS_PER_TRANSACTION + 50;

/// The file for the program whose codes start with `p`; `old`, `blocked` and `elsewhere` are the
/// codes of a participant enrolled before, one blocked, and one of the other program.
fn file(p: &str, old: &str, blocked: &str, elsewhere: &str) -> String {
    let mut csv = String::from("email,first_name,referred_by,code,signed_up_at\n");
    let lines = [
        format!("ann@example.com,Ann,,{p}100,2025-01-02T03:04:05.000Z"),
        format!("bo@example.com,Bo,{p}100,,"),
        // Referred by a row later in the file: enrolled on the second pass.
        format!("cy@example.com,Cy,{p}300,{p}200,"),
        format!("dee@example.com,Dee,{p}300,,"),
        format!("eve@example.com,Eve,{old},,"),
        // A blocked referrer credits nobody: Fay joins without one.
        format!("fay@example.com,Fay,{blocked},,"),
        // Ann's own mailbox: flagged for review.
        format!("ann+2@example.com,Annie,{p}100,,"),
        // The file names Ann twice (the parser refuses the second line).
        "ANN@example.com,Ann,,,".to_string(),
        format!("gus@example.com,Gus,,{old},"),
        format!("hal@example.com,Hal,NOPE99,{p}400,"),
        format!("ivy@example.com,Ivy,{elsewhere},,"),
        "old@example.com,,,,".to_string(),
        format!("kim@example.com,Kim,,{p}300,"),
        // Referred by a row that is itself refused (Hal).
        format!("lu@example.com,Lu,{p}400,,"),
    ];
    for line in lines {
        csv.push_str(&line);
        csv.push('\n');
    }
    for i in 0..CHAIN {
        let referrer = if i == 0 {
            format!("{p}100")
        } else {
            format!("{p}F{}", i - 1)
        };
        csv.push_str(&format!("f{i}@example.com,F{i},{referrer},{p}F{i},\n"));
    }
    csv
}

async fn live_program(ctx: &Ctx, origin: &Origin, name: &str) -> Program {
    let program = programs::create(
        ctx,
        origin,
        &ProgramFields {
            name: name.into(),
            landing_url: "https://shop.example.com".into(),
            ..ProgramFields::new_defaults()
        },
    )
    .await
    .expect("program");
    programs::set_status(ctx, origin, &program.id, ProgramStatus::Live, true)
        .await
        .expect("live");
    programs::get(ctx, &program.id).await.expect("program")
}

/// Enrols `email` through the signup path and answers their code.
async fn signup(ctx: &Ctx, origin: &Origin, program: &Program, email: &str) -> (String, String) {
    let draft = ParticipantFields {
        email: email.into(),
        first_name: "Before".into(),
        ..Default::default()
    }
    .parse()
    .expect("draft");
    let (p, _) = participants::enrol(ctx, origin, program, &draft, &Default::default())
        .await
        .expect("signup");
    (p.id, p.code)
}

/// What a program holds, with its own code prefix taken off and generated codes hidden.
async fn holdings(store: &Store, program: &Program, prefix: &str) -> Vec<String> {
    let mut conn = store.conn().await.expect("conn");
    let mut out = Vec::new();
    let code = |c: String| match c.strip_prefix(prefix) {
        Some(rest) => format!("own:{rest}"),
        None if c.starts_with("OLD") || c.starts_with("BEFORE") => "before".into(),
        None => "drawn".into(),
    };
    for row in sqlx::query(
        "SELECT p.email, p.first_name, p.code, p.status, p.signed_up_at, p.email_key, r.email AS referrer
         FROM participants p LEFT JOIN participants r ON r.id = p.referred_by
         WHERE p.program_id = $1 ORDER BY p.email",
    )
    .bind(&program.id)
    .fetch_all(&mut *conn)
    .await
    .expect("participants")
    {
        let signed_up: String = row.get("signed_up_at");
        out.push(format!(
            "participant {} {:?} {} {} {} {} by {:?}",
            row.get::<String, _>("email"),
            row.get::<Option<String>, _>("first_name"),
            code(row.get("code")),
            row.get::<String, _>("status"),
            if signed_up.starts_with("2025") { signed_up } else { "now".into() },
            row.get::<String, _>("email_key"),
            row.get::<Option<String>, _>("referrer"),
        ));
    }
    for row in sqlx::query(
        "SELECT a.email AS referrer, b.email AS referred, r.source, r.stage, r.flags, r.review,
                r.won_at IS NOT NULL AS won,
                (SELECT COUNT(*) FROM referral_stage_changes c WHERE c.referral_id = r.id) AS changes
         FROM referrals r JOIN participants a ON a.id = r.referrer_id JOIN participants b ON b.id = r.referred_id
         WHERE r.program_id = $1 ORDER BY b.email",
    )
    .bind(&program.id)
    .fetch_all(&mut *conn)
    .await
    .expect("referrals")
    {
        out.push(format!(
            "referral {} <- {} {} {} {} {} won_at:{} changes:{}",
            row.get::<String, _>("referrer"),
            row.get::<String, _>("referred"),
            row.get::<String, _>("source"),
            row.get::<String, _>("stage"),
            row.get::<String, _>("flags"),
            row.get::<String, _>("review"),
            row.try_get::<bool, _>("won").unwrap_or_else(|_| row.get::<i64, _>("won") != 0),
            row.get::<i64, _>("changes"),
        ));
    }
    for row in sqlx::query(
        "SELECT COALESCE(p.email, '(program)') AS who, CAST(SUM(d.signups) AS BIGINT) AS signups,
                CAST(SUM(d.won) AS BIGINT) AS won
         FROM daily_counts d LEFT JOIN participants p ON p.id = d.participant_id
         WHERE d.program_id = $1 GROUP BY COALESCE(p.email, '(program)') ORDER BY 1",
    )
    .bind(&program.id)
    .fetch_all(&mut *conn)
    .await
    .expect("daily counts")
    {
        out.push(format!(
            "counts {} signups:{} won:{}",
            row.get::<String, _>("who"),
            row.get::<i64, _>("signups"),
            row.get::<i64, _>("won"),
        ));
    }
    out
}

/// The program's events and audit entries as integrators see them: per type or action, the
/// fields of the payload and the values that do not change from one run to the next.
async fn payloads(store: &Store, program: &Program, prefix: &str) -> Vec<String> {
    let mut conn = store.conn().await.expect("conn");
    let mut out = Vec::new();
    let stable = [
        "email",
        "first_name",
        "status",
        "source",
        "stage",
        "review",
        "flags",
    ];
    let describe = |what: String, json: String| -> Option<String> {
        let value: serde_json::Value = serde_json::from_str(&json).expect("json");
        if value["program_id"] != serde_json::Value::String(program.id.clone()) {
            return None;
        }
        let object = value.as_object()?;
        let keys: Vec<&String> = object.keys().collect();
        let kept: Vec<String> = stable
            .iter()
            .map(|k| format!("{k}={}", object.get(*k).cloned().unwrap_or_default()))
            .collect();
        let code = object
            .get("code")
            .and_then(|c| c.as_str())
            .map(|c| c.starts_with(prefix));
        Some(format!("{what} {keys:?} {kept:?} own code: {code:?}"))
    };
    for row in sqlx::query("SELECT type AS what, data AS json FROM events")
        .fetch_all(&mut *conn)
        .await
        .expect("events")
    {
        out.extend(describe(
            format!("event {}", row.get::<String, _>("what")),
            row.get("json"),
        ));
    }
    for row in sqlx::query(
        "SELECT action AS what, after_json AS json FROM audit_log WHERE after_json IS NOT NULL AND action IN ('participant.created', 'referral.created')",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("audit")
    {
        out.extend(describe(format!("audit {}", row.get::<String, _>("what")), row.get("json")));
    }
    out.sort();
    out
}

/// Events by type, webhook messages, queued jobs and audit entries by action, in the whole
/// database.
async fn totals(store: &Store) -> BTreeMap<String, i64> {
    let mut conn = store.conn().await.expect("conn");
    let mut out = BTreeMap::new();
    for (sql, what) in [
        (
            "SELECT type AS k, COUNT(*) AS n FROM events GROUP BY type",
            "event",
        ),
        (
            "SELECT action AS k, COUNT(*) AS n FROM audit_log GROUP BY action",
            "audit",
        ),
        (
            "SELECT kind AS k, COUNT(*) AS n FROM jobs WHERE status = 'queued' GROUP BY kind",
            "job",
        ),
        (
            "SELECT 'all' AS k, COUNT(*) AS n FROM webhook_messages",
            "message",
        ),
    ] {
        for row in sqlx::query(sql).fetch_all(&mut *conn).await.expect(what) {
            out.insert(
                format!("{what} {}", row.get::<String, _>("k")),
                row.get::<i64, _>("n"),
            );
        }
    }
    out
}

fn difference(
    after: &BTreeMap<String, i64>,
    before: &BTreeMap<String, i64>,
) -> BTreeMap<String, i64> {
    after
        .iter()
        .map(|(k, n)| (k.clone(), n - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, n)| *n != 0)
        .collect()
}

fn comparable(report: &ImportReport) -> String {
    format!(
        "enrolled {} referrals {} already {} errors {:?}",
        report.enrolled, report.referrals, report.already_enrolled, report.errors
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batched_import_leaves_what_the_row_by_row_import_leaves() {
    for backend in backends() {
        let store = fresh_store(backend).await.expect("store");
        let ctx = Ctx::new(store.clone(), Settings::default())
            .await
            .expect("ctx");
        let origin = Origin::system();
        {
            let mut conn = store.conn().await.expect("conn");
            let draft = EndpointDraft {
                url: "https://hooks.example.com/vouch".into(),
                description: None,
                event_types: vec![],
                enabled: true,
            };
            webhooks::create(&mut conn, &draft, "whsec_test")
                .await
                .expect("endpoint");
        }
        let together = live_program(&ctx, &origin, "Together").await;
        let one_by_one = live_program(&ctx, &origin, "One by one").await;
        let (_, old_t) = signup(&ctx, &origin, &together, "old@example.com").await;
        let (blocked_t, blocked_code_t) =
            signup(&ctx, &origin, &together, "blocked@example.com").await;
        let (_, old_o) = signup(&ctx, &origin, &one_by_one, "old@example.com").await;
        let (blocked_o, blocked_code_o) =
            signup(&ctx, &origin, &one_by_one, "blocked@example.com").await;
        participant_admin::block(&ctx, &origin, &blocked_t, "test")
            .await
            .expect("block");
        participant_admin::block(&ctx, &origin, &blocked_o, "test")
            .await
            .expect("block");

        let file_t = file("ZZT", &old_t, &blocked_code_t, &old_o);
        let file_o = file("ZZO", &old_o, &blocked_code_o, &old_t);
        let parse = |f: &str| parse_file(f, &[]).expect("parsed");

        let start = totals(&store).await;
        let dry = import_participants(&ctx, &origin, &together, parse(&file_t), true, |_| {})
            .await
            .expect("dry run");
        assert!(dry.dry_run);
        assert_eq!(
            totals(&store).await,
            start,
            "{backend:?}: a dry run writes nothing"
        );
        let done = import_participants(&ctx, &origin, &together, parse(&file_t), false, |_| {})
            .await
            .expect("import");
        let middle = totals(&store).await;
        let reference = import_row_by_row(&ctx, &origin, &one_by_one, parse(&file_o))
            .await
            .expect("row by row");
        let end = totals(&store).await;

        assert_eq!(
            done.batches_row_by_row, 0,
            "{backend:?}: every batch was written together"
        );
        assert_eq!(comparable(&done), comparable(&reference), "{backend:?}");
        assert_eq!(
            comparable(&dry),
            comparable(&done),
            "{backend:?}: the dry run"
        );
        // Everything the hand-written rows test, and the chain.
        assert_eq!(
            done.enrolled,
            8 + CHAIN as u64,
            "{backend:?}: {}",
            comparable(&done)
        );
        assert_eq!(done.already_enrolled, 1, "{}", comparable(&done));
        let lines: Vec<(u64, &str)> = done
            .errors
            .iter()
            .map(|e| (e.line, e.field.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (9, "email"),
                (10, "code"),
                (11, "referred_by"),
                (12, "referred_by"),
                (15, "referred_by")
            ],
            "{backend:?}"
        );
        assert_eq!(
            holdings(&store, &together, "ZZT").await,
            holdings(&store, &one_by_one, "ZZO").await,
            "{backend:?}"
        );
        assert_eq!(
            difference(&middle, &start),
            difference(&end, &middle),
            "{backend:?}"
        );
        let seen = payloads(&store, &together, "ZZT").await;
        assert!(
            seen.len() > 4 * CHAIN,
            "{backend:?}: {} payloads",
            seen.len()
        );
        assert_eq!(
            seen,
            payloads(&store, &one_by_one, "ZZO").await,
            "{backend:?}"
        );
        let made = difference(&middle, &start);
        assert_eq!(
            made.get("event participant.created"),
            Some(&(8 + CHAIN as i64))
        );
        assert_eq!(made.get("event referral.flagged"), Some(&1));
        assert!(
            made.get("message all")
                .is_some_and(|n| *n > 2 * CHAIN as i64),
            "{made:?}"
        );

        // The same file again changes nothing, and says so the same way.
        let again = import_participants(&ctx, &origin, &together, parse(&file_t), false, |_| {})
            .await
            .expect("again");
        let again_reference = import_row_by_row(&ctx, &origin, &one_by_one, parse(&file_o))
            .await
            .expect("again, row by row");
        assert_eq!(again.enrolled, 0);
        assert_eq!(
            comparable(&again),
            comparable(&again_reference),
            "{backend:?}"
        );
        assert_eq!(
            totals(&store).await,
            end,
            "{backend:?}: nothing more written"
        );

        // An ended program takes nobody in, on either path, and says so on every line.
        let newcomers = "email\nnew1@example.com\nnew2@example.com\n";
        for program in [&together, &one_by_one] {
            programs::set_status(&ctx, &origin, &program.id, ProgramStatus::Ended, true)
                .await
                .expect("ended");
        }
        let together = programs::get(&ctx, &together.id).await.expect("program");
        let one_by_one = programs::get(&ctx, &one_by_one.id).await.expect("program");
        let ended = import_participants(&ctx, &origin, &together, parse(newcomers), false, |_| {})
            .await
            .expect("ended, together");
        let ended_reference = import_row_by_row(&ctx, &origin, &one_by_one, parse(newcomers))
            .await
            .expect("ended, row by row");
        assert_eq!(
            comparable(&ended),
            comparable(&ended_reference),
            "{backend:?}"
        );
        assert_eq!((ended.enrolled, ended.errors.len()), (0, 2), "{backend:?}");
        assert!(
            ended.errors[0].message.contains("ended"),
            "{:?}",
            ended.errors
        );
    }
}

/// PostgreSQL lets another writer enrol an email between the batch's look and its write (on
/// SQLite the batch's transaction holds the one write turn). The multi-row write then fails, and
/// the batch is enrolled again row by row: the taken row is reported already enrolled, the rest
/// of the batch is enrolled, nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_meets_a_concurrent_signup_is_enrolled_row_by_row() {
    let Some(backend) = backends()
        .into_iter()
        .find(|b| *b == vouch_store::Backend::Postgres)
    else {
        return;
    };
    let store = fresh_store(backend).await.expect("store");
    let ctx = Ctx::new(store.clone(), Settings::default())
        .await
        .expect("ctx");
    let origin = Origin::system();
    let program = live_program(&ctx, &origin, "Raced").await;
    let mut csv = String::from("email,first_name\n");
    for i in 0..50 {
        csv.push_str(&format!("r{i}@example.com,R{i}\n"));
    }

    // Another writer enrols r7 and holds its transaction open.
    let mut other = store.begin().await.expect("begin");
    let draft = ParticipantFields {
        email: "r7@example.com".into(),
        ..Default::default()
    }
    .parse()
    .expect("draft");
    vouch_store::participants::create(&mut other, &program.id, &draft, None, &Default::default())
        .await
        .expect("the other writer's row");

    let import = tokio::spawn({
        let (ctx, program, origin) = (ctx.clone(), program.clone(), origin.clone());
        let parsed = parse_file(&csv, &[]).expect("parsed");
        async move { import_participants(&ctx, &origin, &program, parsed, false, |_| {}).await }
    });
    // The import has looked (r7 was not there) and its write waits on the other writer's row.
    let mut watcher = store.conn().await.expect("conn");
    let mut waited = false;
    for _ in 0..200 {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO participants%'",
        )
        .fetch_one(&mut *watcher)
        .await
        .expect("activity");
        if n > 0 {
            waited = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(
        waited,
        "the import's write never waited on the other writer"
    );
    other.commit().await.expect("the other writer commits");
    let report = import.await.expect("task").expect("import");
    assert_eq!(report.batches_row_by_row, 1, "{report:?}");
    assert_eq!(
        (
            report.enrolled,
            report.already_enrolled,
            report.errors.len()
        ),
        (49, 1, 0),
        "{report:?}"
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM participants WHERE program_id = $1")
        .bind(&program.id)
        .fetch_one(&mut *watcher)
        .await
        .expect("count");
    assert_eq!(n, 50);
}
