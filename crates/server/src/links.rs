//! What a referral code leads to, cached in memory for a few seconds so that the redirect does
//! not wait on the database. Changes made through this process (a program paused, a code
//! replaced, a participant enrolled) take effect at once; other processes see them within
//! [`TTL`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vouch_domain::program::ProgramStatus;
use vouch_store::{Store, participants};

pub const TTL: Duration = Duration::from_secs(5);
/// Beyond this many entries, expired ones are swept before adding more.
const SWEEP_AT: usize = 100_000;

/// The parts of a participant and its program that a redirect needs.
#[derive(Debug, Clone)]
pub struct Target {
    pub participant_id: String,
    pub program_id: String,
    pub status: ProgramStatus,
    pub landing_url: String,
    pub fallback_url: Option<String>,
    pub window_days: i64,
}

type Entry = (Instant, Option<Arc<Target>>);

#[derive(Default)]
pub struct LinkCache {
    map: Mutex<HashMap<String, Entry>>,
}

impl LinkCache {
    /// The target of `code` (upper case), or `None` for an unknown code.
    pub async fn get(&self, store: &Store, code: &str) -> vouch_store::Result<Option<Arc<Target>>> {
        if let Ok(map) = self.map.lock()
            && let Some((at, target)) = map.get(code)
            && at.elapsed() < TTL
        {
            return Ok(target.clone());
        }
        let loaded = load(store, code).await?.map(Arc::new);
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= SWEEP_AT {
                map.retain(|_, (at, _)| at.elapsed() < TTL);
            }
            map.insert(code.to_string(), (Instant::now(), loaded.clone()));
        }
        Ok(loaded)
    }

    /// Forgets one code (enrolment, a new vanity code).
    pub fn forget(&self, code: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(code);
        }
    }

    /// Forgets everything (a program's settings or status changed).
    pub fn clear(&self) {
        if let Ok(mut map) = self.map.lock() {
            map.clear();
        }
    }
}

async fn load(store: &Store, code: &str) -> vouch_store::Result<Option<Target>> {
    let mut conn = store.conn().await?;
    let Some((participant_id, program_id, status, landing_url, fallback_url, window_days)) =
        participants::link_target(&mut conn, code).await?
    else {
        return Ok(None);
    };
    Ok(Some(Target {
        participant_id,
        program_id,
        status: status.parse().map_err(vouch_store::StoreError::Corrupt)?,
        landing_url,
        fallback_url,
        window_days,
    }))
}
