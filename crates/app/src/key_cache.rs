//! API keys by the hash of their secret, kept in memory for a few seconds so that an
//! authenticated request does not wait on the database for its key (one round trip of the two
//! a short list costs). Only keys that exist and are not revoked are kept; an unknown secret
//! always goes to the database, so guessing fills nothing. Revoking a key through this process
//! forgets it at once; another process sharing the database stops accepting it within
//! [`KEY_TTL`]. `last_used_at` is still written (at most once a minute) when an entry is loaded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use vouch_store::api_keys::ApiKey;

/// How long another process may accept a key revoked elsewhere.
pub const KEY_TTL: Duration = Duration::from_secs(5);
/// Beyond this many keys, expired entries are swept before adding more.
const SWEEP_AT: usize = 10_000;

pub struct KeyCache {
    ttl: Duration,
    keys: Mutex<HashMap<String, (Instant, ApiKey)>>,
    /// Bumped by every `forget`: a lookup that began before a revocation must not put the key
    /// back after it (see [`KeyCache::put`]).
    generation: AtomicU64,
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
            generation: AtomicU64::new(0),
        }
    }

    /// The key for a secret's hash, when loaded less than the TTL ago.
    pub fn get(&self, secret_hash: &str) -> Option<ApiKey> {
        let keys = self.keys.lock().ok()?;
        keys.get(secret_hash)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, key)| key.clone())
    }

    /// Where forgetting stands, read before a database lookup and given back to [`put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Keeps a key loaded by a lookup that began at `generation`, unless a key was forgotten
    /// since (that lookup may have read the key just before it was revoked).
    pub fn put(&self, secret_hash: &str, key: &ApiKey, generation: u64) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut keys) = self.keys.lock() {
            // Checked under the lock `forget` takes, so a revocation cannot slip in between.
            if self.generation.load(Ordering::SeqCst) != generation {
                return;
            }
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
            self.generation.fetch_add(1, Ordering::SeqCst);
            keys.retain(|_, (_, key)| key.id != key_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_domain::Timestamp;
    use vouch_domain::permission::Scope;

    fn key(id: &str) -> ApiKey {
        ApiKey {
            id: id.into(),
            name: "Reports".into(),
            scope: Scope::Read,
            hint: "abcd".into(),
            created_by: "system".into(),
            created_at: Timestamp::now(),
            last_used_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_lookup_that_began_before_a_revocation_does_not_cache_the_key() {
        let cache = KeyCache::default();
        let began = cache.generation();
        // The key is revoked (and forgotten) while the lookup reads it from the database.
        cache.forget("key_1");
        cache.put("hash", &key("key_1"), began);
        assert!(cache.get("hash").is_none());
        // A lookup that began after it caches as usual.
        let later = cache.generation();
        cache.put("hash", &key("key_2"), later);
        assert_eq!(cache.get("hash").map(|k| k.id), Some("key_2".to_string()));
    }
}
