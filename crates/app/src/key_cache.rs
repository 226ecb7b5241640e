//! API keys by the hash of their secret, kept in memory for a few seconds so that an
//! authenticated request does not wait on the database for its key (one round trip of the two
//! a short list costs). Only keys that exist and are not revoked are kept; an unknown secret
//! always goes to the database, so guessing fills nothing. Revoking a key through this process
//! forgets it at once; another process sharing the database stops accepting it within
//! [`KEY_TTL`]. `last_used_at` is still written (at most once a minute) when an entry is loaded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use vouch_store::api_keys::ApiKey;

/// How long another process may accept a key revoked elsewhere.
pub const KEY_TTL: Duration = Duration::from_secs(5);
/// Beyond this many keys, expired entries are swept before adding more.
const SWEEP_AT: usize = 10_000;

pub struct KeyCache {
    ttl: Duration,
    keys: Mutex<HashMap<String, (Instant, ApiKey)>>,
}

impl Default for KeyCache {
    fn default() -> Self {
        Self::with_ttl(KEY_TTL)
    }
}

impl KeyCache {
    /// A cache whose entries live `ttl` (zero keeps nothing).
    pub fn with_ttl(ttl: Duration) -> Self {
        Self {
            ttl,
            keys: Mutex::default(),
        }
    }

    /// The key for a secret's hash, when loaded less than the TTL ago.
    pub fn get(&self, secret_hash: &str) -> Option<ApiKey> {
        let keys = self.keys.lock().ok()?;
        keys.get(secret_hash)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, key)| key.clone())
    }

    pub fn put(&self, secret_hash: &str, key: &ApiKey) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut keys) = self.keys.lock() {
            if keys.len() >= SWEEP_AT {
                let ttl = self.ttl;
                keys.retain(|_, (at, _)| at.elapsed() < ttl);
            }
            keys.insert(secret_hash.to_string(), (Instant::now(), key.clone()));
        }
    }

    /// Forgets a key (it was revoked through this process).
    pub fn forget(&self, key_id: &str) {
        if let Ok(mut keys) = self.keys.lock() {
            keys.retain(|_, (_, key)| key.id != key_id);
        }
    }
}
