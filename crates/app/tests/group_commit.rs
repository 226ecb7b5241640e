//! Group commit: signups that arrive together share one transaction; each is answered with
//! its own result after that commit, and a signup refused by the rules is undone alone while
//! the rest of its group commits. Run on SQLite and (when `VOUCH_TEST_POSTGRES_URL` is set)
//! on PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use vouch_app::group_commit::{self, GroupCommit};
use vouch_app::{AppError, Ctx, Settings, participants, programs};
use vouch_domain::participant::ParticipantFields;
use vouch_domain::program::{ProgramFields, ProgramStatus};
use vouch_store::audit::Origin;
use vouch_store::testing::{backends, fresh_store};

fn person(email: &str, referred_by: &str) -> ParticipantFields {
    ParticipantFields {
        email: email.into(),
        first_name: "Sam".into(),
        referred_by: referred_by.into(),
        ..Default::default()
    }
}

/// A context whose writes go through one lane (so the queue's order and the groups are
/// certain), and a live program.
async fn one_lane_and_a_live_program(
    store: &vouch_store::Store,
    name: &str,
) -> (Ctx, vouch_store::programs::Program) {
    let mut ctx = Ctx::new(store.clone(), Settings::default())
        .await
        .expect("ctx");
    ctx.writes = Arc::new(GroupCommit::with_lanes(1));
    let origin = Origin::system();
    let program = programs::create(
        &ctx,
        &origin,
        &ProgramFields {
            name: name.into(),
            landing_url: "https://shop.example.com".into(),
            ..ProgramFields::new_defaults()
        },
    )
    .await
    .expect("program");
    programs::set_status(&ctx, &origin, &program.id, ProgramStatus::Live, true)
        .await
        .expect("live");
    let program = programs::get(&ctx, &program.id).await.expect("program");
    (ctx, program)
}

/// Starts a write that holds its group open until the gate is notified, and returns once it
/// runs: everything submitted meanwhile queues for the next group (one lane).
async fn hold_the_lane(
    ctx: &Ctx,
) -> (
    Arc<tokio::sync::Notify>,
    tokio::task::JoinHandle<Result<(), AppError>>,
) {
    let gate = Arc::new(tokio::sync::Notify::new());
    let (started, running) = tokio::sync::oneshot::channel::<()>();
    let started = Arc::new(std::sync::Mutex::new(Some(started)));
    let held = tokio::spawn({
        let (ctx, gate) = (ctx.clone(), gate.clone());
        async move {
            group_commit::write(&ctx, move |_, _| {
                let (gate, started) = (gate.clone(), started.clone());
                Box::pin(async move {
                    if let Some(started) = started.lock().ok().and_then(|mut s| s.take()) {
                        let _ = started.send(());
                    }
                    gate.notified().await;
                    Ok::<_, AppError>(())
                })
            })
            .await
        }
    });
    running.await.expect("the held write runs");
    (gate, held)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signups_that_arrive_together_share_a_commit_and_keep_their_own_answers() {
    for backend in backends() {
        let store = fresh_store(backend).await.expect("store");
        // One lane, so the queue's order and the groups are certain.
        let (ctx, program) = one_lane_and_a_live_program(&store, "Grouped").await;
        let origin = Origin::system();
        let draft = person("ann@example.com", "").parse().expect("ann");
        let (ann, _) = participants::enrol(&ctx, &origin, &program, &draft, &Default::default())
            .await
            .expect("ann");
        let before = ctx.writes.stats.groups.load(Ordering::Relaxed);

        let (gate, held) = hold_the_lane(&ctx).await;
        // 30 signups: 27 fine, one email twice (the second is refused), one naming an unknown
        // referral code (refused) — all referred by Ann.
        let mut emails: Vec<String> = (0..27).map(|i| format!("f{i}@example.com")).collect();
        emails.push("f3@example.com".into());
        let mut signups = Vec::new();
        for email in &emails {
            let draft = person(email, &ann.code).parse().expect("draft");
            signups.push(tokio::spawn({
                let (ctx, origin, program) = (ctx.clone(), origin.clone(), program.clone());
                async move {
                    participants::enrol(&ctx, &origin, &program, &draft, &Default::default()).await
                }
            }));
            // In order: the duplicate queues after the first f3.
            while ctx.writes.waiting() < signups.len() {
                tokio::task::yield_now().await;
            }
        }
        // A write that enrols a referred friend and then fails: its savepoint takes back the
        // participant, the referral and the rollup additions. Keyed like Ann's signups, it runs
        // after them, so what its savepoint restores is what they gathered.
        let undone = Arc::new(
            person("undone@example.com", &ann.code)
                .parse()
                .expect("draft"),
        );
        signups.push(tokio::spawn({
            let (ctx, origin, program) = (ctx.clone(), origin.clone(), program.clone());
            let key = ann.code.clone();
            async move {
                group_commit::write_ordered(&ctx, key, move |ctx, tx| {
                    let (origin, program, undone) =
                        (origin.clone(), program.clone(), undone.clone());
                    Box::pin(async move {
                        participants::enrol_in(
                            ctx,
                            tx,
                            &origin,
                            &program,
                            &undone,
                            &Default::default(),
                        )
                        .await?;
                        Err(AppError::conflict("test", "changed its mind"))
                    })
                })
                .await
            }
        }));
        while ctx.writes.waiting() < 29 {
            tokio::task::yield_now().await;
        }
        let unknown = person("g@example.com", "NOSUCHCODE")
            .parse()
            .expect("draft");
        signups.push(tokio::spawn({
            let (ctx, origin, program) = (ctx.clone(), origin.clone(), program.clone());
            async move {
                participants::enrol(&ctx, &origin, &program, &unknown, &Default::default()).await
            }
        }));
        while ctx.writes.waiting() < 30 {
            tokio::task::yield_now().await;
        }
        gate.notify_one();
        held.await.expect("join").expect("held write");

        let mut answers = Vec::new();
        for s in signups {
            answers.push(s.await.expect("join"));
        }
        let ok = answers.iter().filter(|a| a.is_ok()).count();
        assert_eq!(ok, 27, "{backend:?}: {answers:?}");
        assert!(
            matches!(&answers[27], Err(AppError::Conflict { .. })),
            "{backend:?}: the second f3 is refused: {:?}",
            answers[27]
        );
        assert!(
            matches!(&answers[28], Err(AppError::Conflict { code: "test", .. })),
            "{backend:?}: {:?}",
            answers[28]
        );
        let refused = answers[29].as_ref().expect_err("unknown code");
        assert_eq!(refused.field_errors()[0].field, "referred_by");
        // Two groups: the held write alone, then the 30 that queued behind it, which ran a
        // second time, with savepoints, because writes of theirs failed.
        let groups = ctx.writes.stats.groups.load(Ordering::Relaxed) - before;
        assert_eq!(groups, 2, "{backend:?}");
        assert_eq!(
            ctx.writes.stats.reruns.load(Ordering::Relaxed),
            1,
            "{backend:?}"
        );
        assert!(
            ctx.writes.savepoints_first(),
            "{backend:?}: after a failed write, the next group takes savepoints at once"
        );

        // What was answered is what was saved: 27 friends and Ann, 27 referrals.
        let mut conn = store.conn().await.expect("conn");
        let referred = vouch_store::stats::referrals_of(&mut conn, &ann.id)
            .await
            .expect("referrals");
        assert_eq!(referred, 27, "{backend:?}");
        // The rollups, written once at the group's commit, count the 27 and not the undone one.
        let rollups = vouch_store::rollups::all(&mut conn).await.expect("rollups");
        let signups = |who: &str| -> i64 {
            rollups
                .iter()
                .filter(|(p, r, _, _)| *p == program.id && r == who)
                .map(|(_, _, _, c)| c.signups)
                .sum()
        };
        assert_eq!(
            signups(vouch_store::rollups::WHOLE_PROGRAM),
            27,
            "{backend:?}"
        );
        assert_eq!(signups(&ann.id), 27, "{backend:?}");
        let undone =
            vouch_store::participants::by_email(&mut conn, &program.id, "undone@example.com")
                .await
                .expect("by email");
        assert!(
            undone.is_none(),
            "{backend:?}: the failed write left no participant"
        );
        // Nor its audit entries and events, gathered and written at the group's commit: one
        // `participant.created` of each per participant saved, none of the undone write.
        let scalar = |sql: &'static str| {
            let pool = store.pool().clone();
            async move {
                sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(&pool)
                    .await
                    .expect(sql)
            }
        };
        let participants = scalar("SELECT COUNT(*) FROM participants").await;
        assert_eq!(
            scalar("SELECT COUNT(*) FROM events WHERE type = 'participant.created'").await,
            participants,
            "{backend:?}"
        );
        assert_eq!(
            scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'participant.created'").await,
            participants,
            "{backend:?}"
        );
        assert_eq!(
            scalar("SELECT COUNT(*) FROM events WHERE data LIKE '%undone@example.com%'").await,
            0,
            "{backend:?}"
        );
        for a in answers.iter().flatten() {
            let saved = vouch_store::participants::get(&mut conn, &a.0.id)
                .await
                .expect("get");
            assert!(
                saved.is_some(),
                "{backend:?}: {} was answered and saved",
                a.0.email
            );
        }
        drop(conn);

        // A signup alone in its group that is refused leaves nothing behind.
        let again = person("f5@example.com", "").parse().expect("draft");
        let alone = participants::enrol(&ctx, &origin, &program, &again, &Default::default()).await;
        assert!(matches!(alone, Err(AppError::Conflict { .. })), "{alone:?}");
        let mut conn = store.conn().await.expect("conn");
        let count = vouch_store::participants::count(&mut conn, &program.id, None)
            .await
            .expect("count");
        assert_eq!(count, 28, "{backend:?}: Ann and 27 friends");
        drop(conn);

        // A write that fails on our side (as when two groups deadlock) runs once more, alone.
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let answer = group_commit::write(&ctx, {
            let runs = runs.clone();
            move |_, _| {
                let runs = runs.clone();
                Box::pin(async move {
                    match runs.fetch_add(1, Ordering::SeqCst) {
                        0 => Err(AppError::Internal("deadlock detected".into())),
                        n => Ok(n),
                    }
                })
            }
        })
        .await;
        assert_eq!(answer.expect("second run"), 1, "{backend:?}");
        assert_eq!(
            runs.load(Ordering::SeqCst),
            2,
            "{backend:?}: run twice, not more"
        );

        // A write that panics is answered as not saved, and the lane is given back: the next
        // write still runs.
        let panicked = group_commit::write(&ctx, |_, _| {
            Box::pin(async move {
                if std::hint::black_box(true) {
                    panic!("a bug in a write");
                }
                Ok::<_, AppError>(())
            })
        })
        .await;
        assert!(
            matches!(panicked, Err(AppError::Internal(_))),
            "{panicked:?}"
        );
        let after =
            group_commit::write(&ctx, |_, _| Box::pin(async move { Ok::<_, AppError>(7) })).await;
        assert_eq!(after.expect("the lane came back"), 7, "{backend:?}");
        assert!(
            !ctx.writes.savepoints_first(),
            "{backend:?}: a group with no failure goes back to running without savepoints"
        );
        store.close().await;
    }
}

/// A group runs its writes in the order of their keys, equal keys in arrival order: groups
/// that create rows of the same referrers take their locks in one order (no deadlock). With
/// no write failing, the group commits in one run, without savepoints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_runs_its_writes_in_the_order_of_their_keys() {
    for backend in backends() {
        let store = fresh_store(backend).await.expect("store");
        let (ctx, program) = one_lane_and_a_live_program(&store, "Ordered").await;
        let origin = Origin::system();
        let ran = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        // Each write enrols a participant named after it, then notes that it ran.
        let record = |ctx: &Ctx, key: &str, name: &str| {
            let (ctx, ran, key, name) =
                (ctx.clone(), ran.clone(), key.to_string(), name.to_string());
            let (origin, program) = (origin.clone(), program.clone());
            let draft = Arc::new(
                person(&format!("{name}@example.com"), "")
                    .parse()
                    .expect("draft"),
            );
            tokio::spawn(async move {
                group_commit::write_ordered(&ctx, key, move |ctx, tx| {
                    let (ran, name) = (ran.clone(), name.clone());
                    let (origin, program, draft) = (origin.clone(), program.clone(), draft.clone());
                    Box::pin(async move {
                        participants::enrol_in(
                            ctx,
                            tx,
                            &origin,
                            &program,
                            &draft,
                            &Default::default(),
                        )
                        .await?;
                        ran.lock().expect("log").push(name);
                        Ok::<_, AppError>(())
                    })
                })
                .await
            })
        };
        let (gate, held) = hold_the_lane(&ctx).await;
        let mut queued = Vec::new();
        for (key, name) in [
            ("Y", "y1"),
            ("X", "x1"),
            ("", "none"),
            ("Y", "y2"),
            ("X", "x2"),
        ] {
            queued.push(record(&ctx, key, name));
            while ctx.writes.waiting() < queued.len() {
                tokio::task::yield_now().await;
            }
        }
        gate.notify_one();
        held.await.expect("join").expect("held");
        for q in queued {
            q.await.expect("join").expect("write");
        }
        assert_eq!(
            *ran.lock().expect("log"),
            vec!["none", "x1", "x2", "y1", "y2"],
            "{backend:?}: each ran once, in order"
        );
        // No write failed: the group ran once, without savepoints, and saved all five.
        assert_eq!(
            ctx.writes.stats.reruns.load(Ordering::Relaxed),
            0,
            "{backend:?}"
        );
        let mut conn = store.conn().await.expect("conn");
        let saved = vouch_store::participants::count(&mut conn, &program.id, None)
            .await
            .expect("count");
        assert_eq!(saved, 5, "{backend:?}");
        drop(conn);
        store.close().await;
    }
}
