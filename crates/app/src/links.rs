//! What a referral code leads to, cached in memory so that the redirect does not wait on the
//! database. Two layers with different lifetimes: which participant and program a code names
//! changes only when a code is replaced or its participant is blocked or unblocked (rare, and
//! this process forgets it at once), so it is
//! kept for [`CODE_TTL`]; a program's settings (status, landing URL, window) are few and may
//! change any time, so they are kept for [`PROGRAM_TTL`]. Changes made through this process
//! take effect at once; other processes see a program's changes within [`PROGRAM_TTL`] and a
//! replaced code within [`CODE_TTL`].
//!
//! With a read replica, a cache miss reads the replica, and the primary when the replica does
//! not know the code or program (one made a moment ago). For [`FRESH_READS`] after a change
//! through this process, misses of what changed (that code; any program) read the primary, so
//! a replica that has not replayed the change yet cannot put the old value back in the cache.
//! Only the code changed: every signup forgets its new code, and a busy program must not send
//! every other code's miss to the primary. Other processes' bounds grow by the replica's delay.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vouch_domain::program::ProgramStatus;
use vouch_domain::referral::RefCookie;
use vouch_store::{Store, participants, programs};

/// `$read` (a store call on `$conn`) on the read replica when there is one answering, then on
/// the database when the replica does not know the row (made a moment ago) or failed; only on
/// the database when `$fresh` or without a replica. A macro, not a function taking an async
/// closure: the closure's borrowed connection would keep the redirect's future from being
/// `Send`.
macro_rules! read_through {
    ($store:expr, $fresh:expr, |$conn:ident| $read:expr) => {{
        let store: &Store = $store;
        let mut found = None;
        if !$fresh && let Some(mut replica) = store.replica_conn().await {
            let $conn = &mut *replica;
            match $read.await {
                Ok(row) => found = row,
                Err(e) => {
                    tracing::warn!(error = %e, "a read on the replica failed: reading the database")
                }
            }
        }
        match found {
            Some(row) => Some(row),
            None => {
                let $conn = &mut *store.conn().await?;
                $read.await?
            }
        }
    }};
}

pub const PROGRAM_TTL: Duration = Duration::from_secs(5);
pub const CODE_TTL: Duration = Duration::from_secs(60);
/// Beyond this many entries, expired ones are swept before adding more.
const SWEEP_AT: usize = 200_000;
/// After a change through this process, how long cache misses skip the read replica.
pub const FRESH_READS: Duration = Duration::from_secs(10);

/// Whom a code names.
#[derive(Debug)]
pub struct Named {
    pub participant_id: String,
    pub program_id: String,
    /// False while the participant is blocked: their link counts nothing and credits no one.
    pub active: bool,
}

/// The settings of a program that a redirect needs, in the form it uses them: parsed and
/// named once per load rather than on every click.
#[derive(Debug)]
pub struct ProgramSettings {
    pub status: ProgramStatus,
    /// `None` when the stored landing URL does not parse (the redirect uses the fallback).
    pub landing: Option<url::Url>,
    pub fallback_url: Option<String>,
    pub window_days: i64,
    /// The program's attribution cookie ([`RefCookie::name`]).
    pub ref_cookie: String,
}

/// What a code leads to: two shared entries, so a cache hit copies no strings.
#[derive(Debug, Clone)]
pub struct Target {
    pub named: Arc<Named>,
    pub program: Arc<ProgramSettings>,
}

/// code → (loaded at, whom it names), `None` for an unknown code.
type CodeEntry = (Instant, Option<Arc<Named>>);
/// program id → (loaded at, settings), `None` for a program that does not exist.
type ProgramEntry = (Instant, Option<Arc<ProgramSettings>>);

#[derive(Default)]
pub struct LinkCache {
    codes: Mutex<HashMap<String, CodeEntry>>,
    programs: Mutex<HashMap<String, ProgramEntry>>,
    /// Bumped by every `forget` and `clear`: a load that began before a change (a block, a new
    /// code, a paused program) must not put what it read back after the change was forgotten.
    generation: std::sync::atomic::AtomicU64,
    /// Codes forgotten lately → until when their misses read the primary.
    fresh_codes: Mutex<HashMap<String, Instant>>,
    /// Until when programs' misses read the primary (after any program changed).
    fresh_programs_until: Mutex<Option<Instant>>,
}

impl LinkCache {
    /// The target of `code` (upper case), or `None` for an unknown code.
    pub async fn get(&self, store: &Store, code: &str) -> vouch_store::Result<Option<Target>> {
        let cached = self.codes.lock().ok().and_then(|m| {
            m.get(code)
                .filter(|(at, _)| at.elapsed() < CODE_TTL)
                .map(|(_, named)| named.clone())
        });
        let named = match cached {
            Some(named) => named,
            None => {
                let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
                let loaded = load_code(store, code, self.code_is_fresh(code))
                    .await?
                    .map(Arc::new);
                if let Ok(mut m) = self.codes.lock()
                    && self.generation.load(std::sync::atomic::Ordering::SeqCst) == generation
                {
                    if m.len() >= SWEEP_AT {
                        m.retain(|_, (at, _)| at.elapsed() < CODE_TTL);
                    }
                    m.insert(code.to_string(), (Instant::now(), loaded.clone()));
                }
                loaded
            }
        };
        let Some(named) = named else {
            return Ok(None);
        };
        let Some(program) = self.program(store, &named.program_id).await? else {
            return Ok(None);
        };
        Ok(Some(Target { named, program }))
    }

    async fn program(
        &self,
        store: &Store,
        id: &str,
    ) -> vouch_store::Result<Option<Arc<ProgramSettings>>> {
        if let Ok(m) = self.programs.lock()
            && let Some((at, p)) = m.get(id)
            && at.elapsed() < PROGRAM_TTL
        {
            return Ok(p.clone());
        }
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let found = read_through!(store, self.programs_are_fresh(), |conn| {
            programs::get(conn, id)
        });
        let loaded = found.map(|p| {
            Arc::new(ProgramSettings {
                status: p.status,
                landing: url::Url::parse(&p.landing_url).ok(),
                fallback_url: p.fallback_url,
                window_days: p.attribution_window_days,
                ref_cookie: RefCookie::name(&p.id),
            })
        });
        if let Ok(mut m) = self.programs.lock()
            && self.generation.load(std::sync::atomic::Ordering::SeqCst) == generation
        {
            m.insert(id.to_string(), (Instant::now(), loaded.clone()));
        }
        Ok(loaded)
    }

    /// Whether a miss of `code` must read the primary now (see [`FRESH_READS`]).
    fn code_is_fresh(&self, code: &str) -> bool {
        self.fresh_codes
            .lock()
            .ok()
            .and_then(|m| m.get(code).copied())
            .is_some_and(|until| Instant::now() < until)
    }

    /// Whether a program's miss must read the primary now (see [`FRESH_READS`]).
    fn programs_are_fresh(&self) -> bool {
        self.fresh_programs_until
            .lock()
            .ok()
            .and_then(|until| *until)
            .is_some_and(|until| Instant::now() < until)
    }

    /// Forgets one code (enrolment, a new vanity code).
    pub fn forget(&self, code: &str) {
        if let Ok(mut fresh) = self.fresh_codes.lock() {
            let now = Instant::now();
            if fresh.len() >= SWEEP_AT {
                fresh.retain(|_, until| now < *until);
            }
            fresh.insert(code.to_string(), now + FRESH_READS);
        }
        if let Ok(mut m) = self.codes.lock() {
            self.generation
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            m.remove(code);
        }
    }

    /// Forgets every program's settings (a program's settings or status changed).
    pub fn clear(&self) {
        if let Ok(mut until) = self.fresh_programs_until.lock() {
            *until = Some(Instant::now() + FRESH_READS);
        }
        if let Ok(mut m) = self.programs.lock() {
            self.generation
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            m.clear();
        }
    }
}

/// Whom `code` names (see [`read_through!`]).
async fn load_code(store: &Store, code: &str, fresh: bool) -> vouch_store::Result<Option<Named>> {
    let found = read_through!(store, fresh, |conn| participants::by_code(conn, code));
    Ok(found.map(|p| Named {
        active: p.status == crate::participant_admin::ACTIVE,
        participant_id: p.id,
        program_id: p.program_id,
    }))
}
