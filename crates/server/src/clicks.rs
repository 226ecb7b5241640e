//! The click buffer: redirects hand clicks to a bounded in-memory queue and return at once; one
//! writer task stores them in batches. A full queue makes the redirect wait (backpressure)
//! rather than drop a click; on shutdown the writer drains the queue before the process exits.

use std::collections::HashMap;
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
    seen: Arc<Mutex<HashMap<(String, String), Instant>>>,
    stop: Stopper,
    /// Clicks queued and clicks written since start, for the shutdown log line.
    counted: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
}

impl ClickBuffer {
    /// Starts the writer task.
    pub fn start(store: Store) -> Self {
        let (tx, rx) = mpsc::channel(CAPACITY);
        let (stop_tx, stop_rx) = oneshot::channel();
        let written = Arc::new(AtomicU64::new(0));
        let handle = tokio::spawn(writer(store, rx, stop_rx, written.clone()));
        Self {
            tx,
            seen: Arc::new(Mutex::new(HashMap::new())),
            stop: Arc::new(tokio::sync::Mutex::new(Some((stop_tx, handle)))),
            counted: Arc::new(AtomicU64::new(0)),
            written,
        }
    }

    /// Whether this visitor's click on this code counts (the first in the hour does).
    pub fn first_in_window(&self, code: &str, visitor: &str) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return true;
        };
        let now = Instant::now();
        if seen.len() > 200_000 {
            seen.retain(|_, t| now.duration_since(*t) < DEDUPE_WINDOW);
        }
        match seen.get(&(code.to_string(), visitor.to_string())) {
            Some(t) if now.duration_since(*t) < DEDUPE_WINDOW => false,
            _ => {
                seen.insert((code.to_string(), visitor.to_string()), now);
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
            let (counted, written) = (
                self.counted.load(Ordering::Relaxed),
                self.written.load(Ordering::Relaxed),
            );
            tracing::info!(counted, written, "click buffer written out");
        }
    }
}

async fn writer(
    store: Store,
    mut rx: mpsc::Receiver<NewClick>,
    mut stop: oneshot::Receiver<()>,
    written: Arc<AtomicU64>,
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
                write(&store, &mut batch, &written).await;
                return;
            }
        }
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(click) => batch.push(click),
                Err(_) => break,
            }
        }
        write(&store, &mut batch, &written).await;
    }
    write(&store, &mut batch, &written).await;
}

/// Writes a batch, retrying with backoff: clicks wait in memory rather than being dropped.
async fn write(store: &Store, batch: &mut Vec<NewClick>, written: &AtomicU64) {
    let mut delay = Duration::from_millis(50);
    while !batch.is_empty() {
        match clicks::insert_batch(store, batch).await {
            Ok(()) => {
                written.fetch_add(batch.len() as u64, Ordering::Relaxed);
                batch.clear();
            }
            Err(e) => {
                tracing::warn!(error = %e, clicks = batch.len(), "writing clicks failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
