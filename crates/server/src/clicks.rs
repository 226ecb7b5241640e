//! The click buffer: redirects hand clicks to a bounded in-memory queue and return at once; one
//! writer task stores them in batches. A full queue makes the redirect wait (backpressure)
//! rather than drop a click; on shutdown the writer drains the queue before the process exits.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use vouch_store::Store;
use vouch_store::clicks::{self, NewClick};

/// Clicks waiting to be written before redirects start to wait.
pub const CAPACITY: usize = 10_000;
const BATCH: usize = 500;
/// One click per link, visitor and hour is counted.
const DEDUPE_WINDOW: Duration = Duration::from_secs(3600);

/// How to stop the writer: the signal, and the task to wait for.
type Stopper = Arc<tokio::sync::Mutex<Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>>>;

#[derive(Clone)]
pub struct ClickBuffer {
    tx: mpsc::Sender<NewClick>,
    /// When each visitor last counted on each code.
    seen: Arc<Mutex<HashMap<SeenKey, Instant>>>,
    stop: Stopper,
    /// Clicks queued since start, for the shutdown log line.
    counted: Arc<AtomicU64>,
    tally: Arc<Tally>,
}

/// A visitor's digest and a code, held inline: the redirect builds one per click, and a key
/// that allocates was a measurable share of its time. Codes are ASCII letters and digits, so
/// padding with zero bytes cannot make two codes equal.
#[derive(PartialEq, Eq, Hash)]
struct SeenKey {
    visitor: [u8; 32],
    code: [u8; 32],
}

impl SeenKey {
    /// `None` for a code longer than 32 bytes (the redirect never passes one).
    fn new(code: &str, visitor: &[u8; 32]) -> Option<Self> {
        debug_assert!(
            code.bytes().all(|b| b.is_ascii_alphanumeric()),
            "a code is letters and digits"
        );
        let mut padded = [0u8; 32];
        padded
            .get_mut(..code.len())?
            .copy_from_slice(code.as_bytes());
        Some(Self {
            visitor: *visitor,
            code: padded,
        })
    }
}

/// What the writer did with the clicks it took.
#[derive(Default)]
pub struct Tally {
    pub written: AtomicU64,
    /// Refused by the database for their data (logged one by one).
    pub refused: AtomicU64,
}

impl ClickBuffer {
    /// Starts the writer task.
    pub fn start(store: Store) -> Self {
        let (tx, rx) = mpsc::channel(CAPACITY);
        let (stop_tx, stop_rx) = oneshot::channel();
        let tally = Arc::new(Tally::default());
        let handle = tokio::spawn(writer(store, rx, stop_rx, tally.clone()));
        Self {
            tx,
            seen: Arc::new(Mutex::new(HashMap::new())),
            stop: Arc::new(tokio::sync::Mutex::new(Some((stop_tx, handle)))),
            counted: Arc::new(AtomicU64::new(0)),
            tally,
        }
    }

    /// Whether this visitor's click on this code counts (the first in the hour does).
    /// `visitor` is the visitor's SHA-256 digest; `code` a referral code (at most 32 ASCII
    /// letters and digits, as the redirect checks).
    pub fn first_in_window(&self, code: &str, visitor: &[u8; 32]) -> bool {
        let Some(key) = SeenKey::new(code, visitor) else {
            return true;
        };
        let Ok(mut seen) = self.seen.lock() else {
            return true;
        };
        let now = Instant::now();
        if seen.len() > 200_000 {
            seen.retain(|_, t| now.duration_since(*t) < DEDUPE_WINDOW);
        }
        match seen.entry(key) {
            Entry::Occupied(seen) if now.duration_since(*seen.get()) < DEDUPE_WINDOW => false,
            Entry::Occupied(mut expired) => {
                expired.insert(now);
                true
            }
            Entry::Vacant(first) => {
                first.insert(now);
                true
            }
        }
    }

    /// Queues a click; waits while the queue is full.
    pub async fn record(&self, click: NewClick) {
        self.counted.fetch_add(1, Ordering::Relaxed);
        if self.tx.send(click).await.is_err() {
            tracing::error!("the click writer has stopped; a click was not recorded");
        }
    }

    /// Writes everything queued and stops the writer. Call after the server has stopped taking
    /// requests; later calls do nothing.
    pub async fn flush_and_stop(&self) {
        if let Some((stop, handle)) = self.stop.lock().await.take() {
            let _ = stop.send(());
            let _ = handle.await;
            let (counted, written, refused) = (
                self.counted.load(Ordering::Relaxed),
                self.tally.written.load(Ordering::Relaxed),
                self.tally.refused.load(Ordering::Relaxed),
            );
            tracing::info!(counted, written, refused, "click buffer written out");
        }
    }

    /// Clicks queued since start.
    pub fn counted(&self) -> u64 {
        self.counted.load(Ordering::Relaxed)
    }

    /// What the writer has done so far.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }
}

async fn writer(
    store: Store,
    mut rx: mpsc::Receiver<NewClick>,
    mut stop: oneshot::Receiver<()>,
    tally: Arc<Tally>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            got = rx.recv() => match got {
                Some(click) => batch.push(click),
                None => break,
            },
            _ = &mut stop => {
                // Shutting down: everything already queued is written.
                while let Ok(click) = rx.try_recv() {
                    batch.push(click);
                }
                write(&store, &mut batch, &tally).await;
                return;
            }
        }
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(click) => batch.push(click),
                Err(_) => break,
            }
        }
        write(&store, &mut batch, &tally).await;
    }
    write(&store, &mut batch, &tally).await;
}

/// Writes a batch. While the database is unreachable or busy the batch is retried with backoff
/// (clicks wait in memory and, once the queue is full, redirects wait: nothing is dropped). A
/// batch the database refuses for its data is written click by click, so one bad click cannot
/// hold the others back or loop for ever; a click refused on its own is logged and counted.
async fn write(store: &Store, batch: &mut Vec<NewClick>, tally: &Tally) {
    if batch.is_empty() {
        return;
    }
    match write_retrying(store, batch).await {
        Ok(()) => {
            tally
                .written
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
        Err(e) => {
            tracing::warn!(error = %e, clicks = batch.len(), "the database refused a batch of clicks; writing them one by one");
            for click in batch.iter() {
                match write_retrying(store, std::slice::from_ref(click)).await {
                    Ok(()) => {
                        tally.written.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        tally.refused.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(error = %e, click = %click.id, code = %click.code, "a click could not be written and is dropped");
                    }
                }
            }
        }
    }
    batch.clear();
}

/// Retries while the failure is transient; answers the first failure that is not.
async fn write_retrying(store: &Store, clicks: &[NewClick]) -> Result<(), vouch_store::StoreError> {
    let mut delay = Duration::from_millis(50);
    loop {
        match clicks::insert_batch(store, clicks).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, clicks = clicks.len(), "writing clicks failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_store::testing::{backends, fresh_store};

    fn click(n: usize, code: &str) -> NewClick {
        NewClick {
            id: vouch_domain::id::new_id("clk"),
            at: vouch_domain::Timestamp::now(),
            program_id: "prg_x".into(),
            participant_id: format!("par_{n}"),
            code: code.into(),
            visitor_hash: format!("v{n}"),
            referrer: None,
            utm: None,
            device_class: "desktop".into(),
        }
    }

    #[tokio::test]
    async fn one_click_per_code_and_visitor_is_counted_in_the_window() {
        let store = fresh_store(vouch_store::Backend::Sqlite)
            .await
            .expect("store");
        let buffer = ClickBuffer::start(store);
        let (alice, bob) = ([1u8; 32], [2u8; 32]);
        assert!(buffer.first_in_window("ABC", &alice));
        assert!(!buffer.first_in_window("ABC", &alice));
        // Another code, another visitor, or a code that is a prefix of the first: each counts.
        assert!(buffer.first_in_window("ABCD", &alice));
        assert!(buffer.first_in_window("AB", &alice));
        assert!(buffer.first_in_window("ABC", &bob));
        assert!(!buffer.first_in_window("ABCD", &alice));
        // A key that cannot be held inline is counted rather than refused.
        let long = "X".repeat(33);
        assert!(buffer.first_in_window(&long, &alice));
        assert!(buffer.first_in_window(&long, &alice));
        buffer.flush_and_stop().await;
    }

    async fn stored(store: &Store) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM clicks")
            .fetch_one(store.pool())
            .await
            .unwrap_or(-1)
    }

    /// A batch over the chunk size with a click the database refuses in its second chunk: the
    /// rest is written once, the refused click is counted, and the writer moves on.
    #[tokio::test]
    async fn a_refused_click_neither_loops_nor_holds_back_the_others() {
        for backend in backends() {
            let store = fresh_store(backend).await.expect("store");
            let refuse = match backend {
                vouch_store::Backend::Sqlite => {
                    "CREATE TRIGGER refuse_bad BEFORE INSERT ON clicks WHEN NEW.code = 'BAD' \
                     BEGIN SELECT RAISE(ABORT, 'refused'); END"
                }
                vouch_store::Backend::Postgres => {
                    "ALTER TABLE clicks ADD CONSTRAINT refuse_bad CHECK (code <> 'BAD')"
                }
            };
            sqlx::query(refuse)
                .execute(store.pool())
                .await
                .expect("refusal");
            let mut batch: Vec<NewClick> = (0..1200)
                .map(|n| click(n, if n == 1100 { "BAD" } else { "GOOD" }))
                .collect();
            let again: Vec<NewClick> = batch.iter().filter(|c| c.code == "GOOD").cloned().collect();
            let tally = Tally::default();
            write(&store, &mut batch, &tally).await;
            assert!(batch.is_empty());
            assert_eq!(
                tally.written.load(Ordering::Relaxed),
                1199,
                "{}",
                backend.name()
            );
            assert_eq!(tally.refused.load(Ordering::Relaxed), 1);
            assert_eq!(stored(&store).await, 1199);
            // Written again (an answer lost after the commit): nothing doubles, nothing fails.
            vouch_store::clicks::insert_batch(&store, &again)
                .await
                .expect("idempotent");
            assert_eq!(stored(&store).await, 1199);
            store.close().await;
        }
    }
}
