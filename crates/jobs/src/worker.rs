//! The worker loop: claim due jobs up to the concurrency limit, run each, record the attempt,
//! repeat. On shutdown it stops claiming, lets running deliveries finish within a grace period,
//! and gives back whatever it still holds.

use crate::email::{self, EmailSettings, Mailer};
use crate::lead;
use crate::outbound;
use crate::webhook::{self, DeliverySettings};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use vouch_store::Store;
use vouch_store::jobs::{self, AttemptRecord, Finished, Job, Next};
use vouch_store::webhooks::DeliveryTarget;

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Jobs run at the same time by one worker.
    pub concurrency: usize,
    /// How often an idle worker looks for due jobs.
    pub poll_interval: Duration,
    /// How long a claim lasts; a worker that dies loses its jobs to others after this.
    pub lease_seconds: i64,
    pub delivery: DeliverySettings,
    pub email: EmailSettings,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 32,
            poll_interval: Duration::from_millis(500),
            lease_seconds: 60,
            email: EmailSettings::default(),
            delivery: DeliverySettings {
                retry_schedule: vouch_domain::webhook::DEFAULT_RETRY_SCHEDULE.to_vec(),
                timeout: Duration::from_secs(15),
                disable_after: Duration::from_secs(5 * 86_400),
                outbound: outbound::OutboundPolicy::default(),
                base_url: "http://127.0.0.1:8080".into(),
            },
        }
    }
}

/// The sale a job delivers (its API post, or an email that carries it), if any.
fn lead_sale_of(job: &Job) -> Option<&str> {
    job.payload["lead_sale_id"]
        .as_str()
        .or_else(|| job.payload["about"].as_str())
}

/// Tells the sales whose delivery jobs ended in this batch, in one transaction, before the
/// attempts are recorded. Should recording the attempts fail, the jobs run again and the
/// sales, already moved, are left as they are; should telling the sales fail, their jobs are
/// put back a minute later (a buyer de-duplicates a second post by the sale's id), so a sale
/// never stays "delivering" for want of one write.
async fn tell_lead_sales(store: &Store, done: &mut [Finished]) {
    use vouch_app::lead_sales::{DeliveryEnd, DeliveryEnded};
    let ended: Vec<DeliveryEnded> = done
        .iter()
        .filter_map(|f| {
            let sale_id = lead_sale_of(&f.job)?.to_string();
            let end = match &f.next {
                Next::Succeeded => DeliveryEnd::Delivered,
                Next::Dead => DeliveryEnd::GaveUp(
                    f.record
                        .error
                        .clone()
                        .unwrap_or_else(|| "every attempt failed".into()),
                ),
                Next::RetryAt(_) => return None,
            };
            Some(DeliveryEnded {
                sale_id,
                job_id: f.job.id.clone(),
                end,
            })
        })
        .collect();
    if ended.is_empty() {
        return;
    }
    let Err(e) = vouch_app::lead_sales::deliveries_finished(store, &ended).await else {
        return;
    };
    tracing::warn!(error = %e, sales = ended.len(), "could not record the end of lead deliveries; their jobs run again in a minute");
    let later = vouch_domain::Timestamp::from_datetime(
        time::OffsetDateTime::now_utc() + std::time::Duration::from_secs(60),
    );
    let ending =
        |f: &Finished| lead_sale_of(&f.job).is_some() && !matches!(f.next, Next::RetryAt(_));
    for f in done.iter_mut().filter(|f| ending(f)) {
        let why = format!("the sale could not be updated: {e}");
        f.record.error = Some(match f.record.error.take() {
            Some(before) => format!("{before}; {why}"),
            None => why,
        });
        f.next = Next::RetryAt(later);
    }
}

/// How long a collected attempt waits for others to be recorded with.
const RECORD_WITHIN: Duration = Duration::from_millis(20);

/// Sleeps until `deadline`, or forever without one (its `select!` branch is then disabled).
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

/// See [`Worker::record`].
async fn record(store: &Store, worker: &str, mut done: Vec<Finished>) {
    if done.is_empty() {
        return;
    }
    tell_lead_sales(store, &mut done).await;
    match jobs::finish_many(store, worker, &done).await {
        Ok(held) => {
            for (f, held) in done.iter().zip(held) {
                if !held {
                    tracing::warn!(job = %f.job.id, "lease lost before the attempt was recorded; another worker has the job");
                } else if f.next == Next::Dead {
                    tracing::warn!(job = %f.job.id, attempts = f.job.attempts, error = f.record.error.as_deref().unwrap_or(""), "job is dead");
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, jobs = done.len(), "could not record attempts; the jobs run again after their lease")
        }
    }
}

/// Batches being recorded beside the worker's loop, at most [`RECORDING_AT_ONCE`].
#[derive(Default)]
struct Recording(JoinSet<()>);

/// Recordings under way at once: enough to claim while the last batch commits.
const RECORDING_AT_ONCE: usize = 2;

impl Recording {
    /// Starts recording `done` (emptying it), after waiting for a slot. A batch that ends a
    /// lead sale's delivery is recorded in turn, after every recording under way: whether the
    /// sale failed depends on its other jobs' outcomes being recorded first.
    async fn start(&mut self, store: &Store, worker: &str, done: &mut Vec<Finished>) {
        if done.is_empty() {
            return;
        }
        let done = std::mem::take(done);
        if done.iter().any(|f| lead_sale_of(&f.job).is_some()) {
            self.finish().await;
            record(store, worker, done).await;
            return;
        }
        while let Some(ended) = self.0.try_join_next() {
            Self::check(ended);
        }
        while self.0.len() >= RECORDING_AT_ONCE {
            if let Some(ended) = self.0.join_next().await {
                Self::check(ended);
            }
        }
        let (store, worker) = (store.clone(), worker.to_string());
        self.0
            .spawn(async move { record(&store, &worker, done).await });
    }

    /// Waits for every recording under way.
    async fn finish(&mut self) {
        while let Some(ended) = self.0.join_next().await {
            Self::check(ended);
        }
    }

    /// A recording that panicked recorded nothing: its jobs run again after their lease.
    fn check(ended: Result<(), tokio::task::JoinError>) {
        if let Err(e) = ended {
            tracing::error!(error = %e, "recording attempts failed; the jobs run again after their lease");
        }
    }
}

pub struct Worker {
    pub id: String,
    store: Store,
    settings: Arc<WorkerSettings>,
    client: reqwest::Client,
    mailer: Arc<Mailer>,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("email: {0}")]
    Email(String),
}

impl Worker {
    pub fn new(store: Store, settings: WorkerSettings) -> Result<Self, WorkerError> {
        let client = outbound::client(&settings.delivery.outbound, settings.delivery.timeout)?;
        let mailer = Arc::new(
            Mailer::new(&settings.email, settings.delivery.timeout).map_err(WorkerError::Email)?,
        );
        let id = format!(
            "wrk_{}_{}",
            std::process::id(),
            &vouch_domain::id::new_id("w")[2..]
        );
        Ok(Self {
            id,
            store,
            settings: Arc::new(settings),
            client,
            mailer,
        })
    }

    /// Runs one attempt of a job; recording it is the caller's (batched) business.
    async fn run_job(
        store: Store,
        client: reqwest::Client,
        mailer: Arc<Mailer>,
        settings: Arc<WorkerSettings>,
        job: Job,
        target: Option<DeliveryTarget>,
    ) -> Finished {
        let (record, next) = match job.kind.as_str() {
            "webhook" => webhook::attempt(&store, &client, &settings.delivery, &job, target).await,
            "email" => email::attempt(&store, &mailer, &settings.delivery, &job).await,
            vouch_app::lead_sales::POST_JOB => {
                lead::attempt(&store, &client, &settings.delivery, &job).await
            }
            other => (
                AttemptRecord {
                    error: Some(format!("no worker knows jobs of kind {other}")),
                    ..AttemptRecord::starting_now()
                },
                Next::Dead,
            ),
        };
        Finished { job, record, next }
    }

    /// Starts the claimed jobs, with what they deliver read together.
    async fn spawn(&self, set: &mut JoinSet<Finished>, claimed: Vec<Job>) {
        let targets = webhook::targets(&self.store, &claimed).await;
        for job in claimed {
            // `get`, not `remove`: a message may be claimed twice at once (a resend beside a
            // retry), and each of its jobs needs the target.
            let target =
                webhook::message_of(&job).and_then(|message| targets.get(message).cloned());
            set.spawn(Self::run_job(
                self.store.clone(),
                self.client.clone(),
                self.mailer.clone(),
                self.settings.clone(),
                job,
                target,
            ));
        }
    }

    /// Records finished attempts in one transaction. A batch that cannot be recorded is logged;
    /// its jobs run again when their leases end (at least once, never lost).
    async fn record(&self, done: &mut Vec<Finished>) {
        record(&self.store, &self.id, std::mem::take(done)).await;
    }

    /// Collects every task that has already finished, without waiting.
    fn collect_ready(set: &mut JoinSet<Finished>, done: &mut Vec<Finished>) {
        while let Some(Ok(f)) = set.try_join_next() {
            done.push(f);
        }
    }

    /// Claims and runs due jobs until none is due; returns how many ran. For tests and tools.
    pub async fn drain(&self) -> vouch_store::Result<usize> {
        let mut total = 0;
        loop {
            let claimed = jobs::claim(
                &self.store,
                &self.id,
                i64::try_from(self.settings.concurrency).unwrap_or(1),
                self.settings.lease_seconds,
            )
            .await?;
            if claimed.is_empty() {
                return Ok(total);
            }
            total += claimed.len();
            let mut set = JoinSet::new();
            self.spawn(&mut set, claimed).await;
            let mut done = Vec::new();
            while let Some(f) = set.join_next().await {
                if let Ok(f) = f {
                    done.push(f);
                }
            }
            self.record(&mut done).await;
        }
    }

    /// Works until `stop` resolves, then winds down gracefully.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut set = JoinSet::new();
        let mut done = Vec::new();
        tracing::info!(worker = %self.id, concurrency = self.settings.concurrency, "worker started");
        // Claims and records go in batches of a quarter of the slots: one at a time, a busy
        // worker would spend a commit on each job twice. A finished attempt is handed to a
        // recording about RECORD_WITHIN after the loop collects it, and an idle worker records
        // and claims at once.
        let batch = (self.settings.concurrency / 4).max(1);
        let mut oldest_unrecorded: Option<Instant> = None;
        // Recorded beside the loop, which meanwhile claims more.
        let mut recording = Recording::default();
        loop {
            Self::collect_ready(&mut set, &mut done);
            if !done.is_empty() {
                oldest_unrecorded.get_or_insert_with(Instant::now);
            }
            let overdue = oldest_unrecorded.is_some_and(|t| t.elapsed() >= RECORD_WITHIN);
            if done.len() >= batch || set.is_empty() || overdue {
                recording.start(&self.store, &self.id, &mut done).await;
                oldest_unrecorded = None;
            }
            let free = self.settings.concurrency.saturating_sub(set.len());
            let mut claimed_any = false;
            if free > 0 && (free >= batch || set.is_empty()) {
                match jobs::claim(
                    &self.store,
                    &self.id,
                    i64::try_from(free).unwrap_or(1),
                    self.settings.lease_seconds,
                )
                .await
                {
                    Ok(claimed) => {
                        claimed_any = !claimed.is_empty();
                        self.spawn(&mut set, claimed).await;
                    }
                    Err(e) => tracing::warn!(error = %e, "claiming jobs failed; retrying"),
                }
            }
            if claimed_any && set.len() < self.settings.concurrency {
                // More may be due at once; but a queue that never empties must not keep the
                // loop from hearing `stop`.
                tokio::select! {
                    biased;
                    () = &mut stop => break,
                    () = std::future::ready(()) => continue,
                }
            }
            let record_by = oldest_unrecorded.map(|t| t + RECORD_WITHIN);
            tokio::select! {
                () = &mut stop => break,
                Some(f) = set.join_next(), if !set.is_empty() => {
                    if let Ok(f) = f {
                        done.push(f);
                    }
                }
                () = sleep_until(record_by), if record_by.is_some() => {}
                () = tokio::time::sleep(self.settings.poll_interval) => {}
            }
        }
        let grace = self.settings.delivery.timeout + Duration::from_secs(5);
        tracing::info!(worker = %self.id, running = set.len(), "worker stopping: finishing running jobs");
        let finishing = async {
            while let Some(f) = set.join_next().await {
                if let Ok(f) = f {
                    done.push(f);
                }
            }
        };
        if tokio::time::timeout(grace, finishing).await.is_err() {
            set.abort_all();
        }
        // Every attempt is recorded before the rest is given back: a job given back before its
        // attempt is recorded would run again.
        recording.finish().await;
        self.record(&mut done).await;
        match jobs::release(&self.store, &self.id).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(worker = %self.id, released = n, "gave back unfinished jobs"),
            Err(e) => {
                tracing::warn!(error = %e, "could not give back jobs; they return when their lease ends")
            }
        }
        tracing::info!(worker = %self.id, "worker stopped");
    }
}
