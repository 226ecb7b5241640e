//! Group commit: small writes that arrive together (signups, above all) share one transaction,
//! so a burst of them costs one commit — one flush to disk — instead of one each.
//!
//! A caller hands its write over and waits. Writes queue; a drain task takes up to
//! [`MAX_GROUP`] of them at a time, runs them one after the other in one transaction and
//! commits once. Each caller gets its own answer only after that commit (nothing is
//! acknowledged that a crash could still take back). If the commit itself fails, every caller
//! of the group hears it (an internal error, 500: nothing of theirs was saved).
//!
//! A write that fails must not take the others with it. Most groups have no failure, so a
//! group first runs without savepoints (each costs two statements per write, and on SQLite a
//! copy of every page the write changes). When a write fails, that transaction is rolled back
//! and the group runs again, each write in a savepoint: the failed write is rolled back to its
//! savepoint alone, its caller gets its own error and the rest of the group commits. A write
//! may therefore run twice; nothing it did in the first run was kept. After a group in which a
//! write failed, the next group takes savepoints from the start, so a stream of refused writes
//! (a form submitted twice, a script sending taken emails) does not make every group run
//! twice; the first group with no failure goes back to running without them.
//!
//! When nothing else is waiting, a write runs at once in a group of one, so a quiet
//! installation pays no delay. Under load the queue fills while a group commits, and the next
//! group takes what arrived. The drain runs in its own task: a caller that goes away (a client
//! that hangs up) does not cancel the writes of others.
//!
//! Lanes: SQLite has one writer, so one drain task; PostgreSQL runs many groups at once
//! ([`GroupCommit::for_store`] says why).
//!
//! Order: a group runs its writes sorted by the key each caller gave ([`write_ordered`]; the
//! sort is stable, so equal keys keep their arrival order). Two groups on PostgreSQL that
//! both create rows of the same referrers then take their locks in the same order, and
//! neither waits for the other in a cycle (a deadlock, which PostgreSQL only breaks after its
//! one-second `deadlock_timeout`).

use crate::{AppError, AppResult, Ctx};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::oneshot;
use vouch_store::{Backend, Tx};

/// Writes in one transaction at most: enough to share a flush among a burst, few enough that
/// one group's locks and latency stay small.
pub const MAX_GROUP: usize = 64;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One write waiting for its group, its result type erased.
trait Pending: Send {
    /// Runs the write in `tx`; true when it succeeded (and its savepoint is to be kept).
    fn run<'a>(&'a mut self, ctx: &'a Ctx, tx: &'a mut Tx) -> BoxFuture<'a, bool>;
    /// Answers the caller: its own result, or `failed` when the group did not commit.
    fn answer(self: Box<Self>, failed: Option<AppError>);
    /// Forgets the result of a run whose transaction was rolled back.
    fn forget(&mut self);
    /// Where the write goes in its group: see the module's "Order".
    fn key(&self) -> &str;
    /// Whether the last run failed on our side (a deadlock between two groups, a lost
    /// connection) rather than on the write's own merits: worth one more run, alone.
    fn failed_on_our_side(&self) -> bool;
}

struct Write<T, F> {
    key: String,
    work: F,
    result: Option<AppResult<T>>,
    reply: oneshot::Sender<AppResult<T>>,
}

impl<T, F> Pending for Write<T, F>
where
    T: Send + 'static,
    F: for<'a> Fn(&'a Ctx, &'a mut Tx) -> BoxFuture<'a, AppResult<T>> + Send + 'static,
{
    fn run<'a>(&'a mut self, ctx: &'a Ctx, tx: &'a mut Tx) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let result = (self.work)(ctx, tx).await;
            let ok = result.is_ok();
            self.result = Some(result);
            ok
        })
    }

    fn answer(self: Box<Self>, failed: Option<AppError>) {
        let answer = match (self.result, failed) {
            // A write refused on its own merits keeps its own answer.
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(_)), Some(e)) | (None, Some(e)) => Err(e),
            (Some(Ok(value)), None) => Ok(value),
            (None, None) => Err(not_saved()),
        };
        // The caller may have gone away; its write stands either way.
        let _ = self.reply.send(answer);
    }

    fn key(&self) -> &str {
        &self.key
    }

    fn forget(&mut self) {
        self.result = None;
    }

    fn failed_on_our_side(&self) -> bool {
        matches!(&self.result, Some(Err(e)) if !e.is_client_error())
    }
}

fn not_saved() -> AppError {
    AppError::Internal("the write was not saved: its transaction did not commit".into())
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Box<dyn Pending>>,
    /// Drain tasks running now.
    draining: usize,
}

/// Counts for `/metrics`: how many groups committed, how many writes they held, and how many
/// groups ran a second time, with savepoints, because one of their writes failed.
#[derive(Default)]
pub struct GroupStats {
    pub groups: AtomicU64,
    pub writes: AtomicU64,
    pub reruns: AtomicU64,
}

pub struct GroupCommit {
    queue: Mutex<Queue>,
    lanes: usize,
    /// Set when a write of the last group failed: see [`GroupCommit::savepoints_first`].
    after_a_failure: AtomicBool,
    pub stats: GroupStats,
}

impl GroupCommit {
    /// One lane on SQLite: it has one writer at a time anyway, and sharing its commits is
    /// the gain. PostgreSQL runs many transactions at once and already shares the flush of
    /// concurrent commits; what limits it is round trips, so it gets eight lanes (of the
    /// default ten connections, leaving two for reads) and groups form when more writes than
    /// that wait (fewer when the pool is smaller). Measured with `bench/signups.sh`: two
    /// lanes gave 0.73x the referred signups of eight.
    pub fn for_store(store: &vouch_store::Store) -> Self {
        let connections =
            usize::try_from(store.pool().options().get_max_connections()).unwrap_or(usize::MAX);
        Self::with_lanes(match store.backend() {
            Backend::Sqlite => 1,
            // Never all of the pool: the reads each signup needs first must find a connection.
            Backend::Postgres => connections.saturating_sub(2).clamp(1, 8),
        })
    }

    pub fn with_lanes(lanes: usize) -> Self {
        Self {
            queue: Mutex::default(),
            lanes: lanes.max(1),
            after_a_failure: AtomicBool::new(false),
            stats: GroupStats::default(),
        }
    }

    /// Whether the next group takes savepoints from the start (a write of the last one failed).
    pub fn savepoints_first(&self) -> bool {
        self.after_a_failure.load(Ordering::Relaxed)
    }

    /// Writes queued and not yet taken into a group.
    pub fn waiting(&self) -> usize {
        self.lock().waiting.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        // The queue holds no invariant a panic elsewhere could break half-way.
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Runs `work` in the next group's transaction and answers once that group has committed.
/// `work` must not commit or roll back: it writes through `tx` only, and does nothing outside
/// it that a second run would repeat. It may run more than once: when a write of its group
/// fails (the group runs again with savepoints), and when it failed on our side inside a
/// group (two groups deadlocked on PostgreSQL, say: it runs once more, alone, after its group).
pub async fn write<T, F>(ctx: &Ctx, work: F) -> AppResult<T>
where
    T: Send + 'static,
    F: for<'a> Fn(&'a Ctx, &'a mut Tx) -> BoxFuture<'a, AppResult<T>> + Send + 'static,
{
    write_ordered(ctx, String::new(), work).await
}

/// [`write`], placed in its group by `key` (writes without one come first): writes that lock
/// rows of the same kind give the key those rows are found by, a signup its referrer's code.
pub async fn write_ordered<T, F>(ctx: &Ctx, key: String, work: F) -> AppResult<T>
where
    T: Send + 'static,
    F: for<'a> Fn(&'a Ctx, &'a mut Tx) -> BoxFuture<'a, AppResult<T>> + Send + 'static,
{
    let (reply, answer) = oneshot::channel();
    let start_drain = {
        let mut queue = ctx.writes.lock();
        queue.waiting.push(Box::new(Write {
            key,
            work,
            result: None,
            reply,
        }));
        let start = queue.draining < ctx.writes.lanes;
        if start {
            queue.draining += 1;
        }
        start
    };
    if start_drain {
        tokio::spawn(drain(ctx.clone()));
    }
    answer.await.unwrap_or_else(|_| Err(not_saved()))
}

/// If the drain task ends by a panic, gives its lane back and, when writes still wait,
/// starts a new drain for them (a quiet installation may send no further write to do it).
/// The writes of the group that panicked are answered "not saved" (their transaction was
/// dropped, so rolled back).
struct LaneGuard(Ctx);

impl Drop for LaneGuard {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let restart = {
            let mut queue = self.0.writes.lock();
            queue.draining -= 1;
            let restart = !queue.waiting.is_empty() && queue.draining < self.0.writes.lanes;
            if restart {
                queue.draining += 1;
            }
            restart
        };
        if restart && let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(drain(self.0.clone()));
        }
    }
}

async fn drain(ctx: Ctx) {
    let writes = ctx.writes.clone();
    let _guard = LaneGuard(ctx.clone());
    loop {
        let mut group: Vec<Box<dyn Pending>> = {
            let mut queue = writes.lock();
            if queue.waiting.is_empty() {
                queue.draining -= 1;
                return;
            }
            let take = queue.waiting.len().min(MAX_GROUP);
            queue.waiting.drain(..take).collect()
        };
        group.sort_by(|a, b| a.key().cmp(b.key()));
        run_group(&ctx, group).await;
    }
}

async fn run_group(ctx: &Ctx, mut group: Vec<Box<dyn Pending>>) {
    if group.len() > 1 && !ctx.writes.savepoints_first() {
        match run_without_savepoints(ctx, &mut group).await {
            Together::Committed => return committed(ctx, group).await,
            Together::NotSaved(e) => return answer_all(group, &e),
            Together::AWriteFailed => {
                ctx.writes.stats.reruns.fetch_add(1, Ordering::Relaxed);
                for pending in &mut group {
                    pending.forget();
                }
            }
        }
    }
    run_with_savepoints(ctx, group).await;
}

/// How a group run without savepoints ended.
enum Together {
    Committed,
    /// The transaction could not begin or commit: nothing of the group was saved.
    NotSaved(String),
    /// A write failed, and the transaction was rolled back: the group is to run again.
    AWriteFailed,
}

async fn run_without_savepoints(ctx: &Ctx, group: &mut [Box<dyn Pending>]) -> Together {
    let mut tx = match ctx.store.begin().await {
        Ok(tx) => tx,
        Err(e) => return Together::NotSaved(e.to_string()),
    };
    for pending in group.iter_mut() {
        if !pending.run(ctx, &mut tx).await {
            // Rolled back now, not when the dropped connection's turn comes: the second run
            // writes the same rows, and must not wait for these.
            if let Err(e) = tx.rollback().await {
                tracing::warn!(error = %e, "group commit: rolling back a failed group");
            }
            return Together::AWriteFailed;
        }
    }
    match tx.commit().await {
        Ok(()) => Together::Committed,
        Err(e) => Together::NotSaved(e.to_string()),
    }
}

/// Runs each write in a savepoint of one transaction (a group of one in none: its failure is
/// the whole transaction's), so a write that fails is undone alone. Whether one failed decides
/// how the next group starts; it is noted before anyone is answered.
async fn run_with_savepoints(ctx: &Ctx, mut group: Vec<Box<dyn Pending>>) {
    let mut tx = match ctx.store.begin().await {
        Ok(tx) => tx,
        Err(e) => return answer_all(group, &e.to_string()),
    };
    let single = group.len() == 1;
    let mut failed: Option<String> = None;
    let mut a_write_failed = false;
    for pending in &mut group {
        if !single && let Err(e) = tx.savepoint().await {
            failed = Some(e.to_string());
            break;
        }
        let ok = pending.run(ctx, &mut tx).await;
        a_write_failed |= !ok;
        if single && !ok {
            // Dropping the transaction rolls it back; the write keeps its own error.
            drop(tx);
            ctx.writes.after_a_failure.store(true, Ordering::Relaxed);
            return answer_each(ctx, group).await;
        }
        let mark = match (single, ok) {
            (true, _) => Ok(()),
            (false, true) => tx.release().await,
            (false, false) => tx.rollback_to().await,
        };
        if let Err(e) = mark {
            failed = Some(e.to_string());
            break;
        }
    }
    let outcome = match failed {
        Some(e) => Err(e),
        None => tx.commit().await.map_err(|e| e.to_string()),
    };
    ctx.writes
        .after_a_failure
        .store(a_write_failed, Ordering::Relaxed);
    match outcome {
        Ok(()) => committed(ctx, group).await,
        Err(e) => answer_all(group, &e),
    }
}

/// Counts a committed group and answers its writes.
async fn committed(ctx: &Ctx, group: Vec<Box<dyn Pending>>) {
    ctx.writes.stats.groups.fetch_add(1, Ordering::Relaxed);
    let n = u64::try_from(group.len()).unwrap_or(u64::MAX);
    ctx.writes.stats.writes.fetch_add(n, Ordering::Relaxed);
    answer_each(ctx, group).await;
}

/// Answers each write of a group that committed (or of a lone write that failed); a write
/// that failed on our side runs once more, alone, first.
async fn answer_each(ctx: &Ctx, group: Vec<Box<dyn Pending>>) {
    let mut again = Vec::new();
    for pending in group {
        if pending.failed_on_our_side() {
            again.push(pending);
        } else {
            pending.answer(None);
        }
    }
    for mut pending in again {
        let mut tx = match ctx.store.begin().await {
            Ok(tx) => tx,
            Err(e) => {
                pending.answer(Some(AppError::Internal(format!(
                    "the write was not saved: {e}"
                ))));
                continue;
            }
        };
        if pending.run(ctx, &mut tx).await {
            if let Err(e) = tx.commit().await {
                pending.answer(Some(AppError::Internal(format!(
                    "the write was not saved: {e}"
                ))));
                continue;
            }
            ctx.writes.stats.groups.fetch_add(1, Ordering::Relaxed);
            ctx.writes.stats.writes.fetch_add(1, Ordering::Relaxed);
        }
        pending.answer(None);
    }
}

fn answer_all(group: Vec<Box<dyn Pending>>, cause: &str) {
    tracing::error!(error = %cause, writes = group.len(), "group commit failed");
    for pending in group {
        pending.answer(Some(AppError::Internal(format!(
            "the write was not saved: {cause}"
        ))));
    }
}
