//! The dashboard's top referrers, kept a short while. Ranking the referrers of a range is the
//! dashboard's one costly read: it sums every win of the range per referrer (a year of a large
//! program is hundreds of thousands of rows), while everything else it shows is a few rows of
//! daily totals. A ranking mostly changes when a win does, so an entry serves while the
//! range's win count is the one it was computed with, for at most [`TTL`]. What the count
//! does not show (a win taken back while another is won, a referrer's new address or code,
//! an erasure) this process forgets at once ([`RankingCache::forget_program`]); made through
//! another process, it shows within [`TTL`]. Requests for a ranking being computed wait for
//! that one computation instead of starting their own.

use crate::AppResult;
use crate::resources::TopReferrer;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// The longest an entry is used.
pub const TTL: Duration = Duration::from_secs(30);
/// Beyond this many entries, expired ones are swept (and, if none expired, all) before adding.
const MAX_ENTRIES: usize = 1_000;

/// (program id, first day, day after the last).
pub type Key = (String, String, String);

struct Entry {
    at: Instant,
    /// The range's win count the ranking was computed with.
    won: i64,
    ranking: Arc<OnceCell<Vec<TopReferrer>>>,
}

#[derive(Default)]
pub struct RankingCache {
    entries: Mutex<HashMap<Key, Entry>>,
}

impl RankingCache {
    /// The ranking of `key` for a range that has `won` wins now: the one kept, or `compute`'s
    /// (whose error is returned and not kept).
    pub async fn get_or_compute(
        &self,
        key: Key,
        won: i64,
        compute: impl AsyncFnOnce() -> AppResult<Vec<TopReferrer>>,
    ) -> AppResult<Vec<TopReferrer>> {
        let cell = self.cell(key, won);
        cell.get_or_try_init(async || compute().await)
            .await
            .cloned()
    }

    /// Forgets every ranking of one program (a change the win count does not show).
    pub fn forget_program(&self, program_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|(program, _, _), _| program != program_id);
    }

    /// The entry's cell, new if there was none usable.
    fn cell(&self, key: Key, won: i64) -> Arc<OnceCell<Vec<TopReferrer>>> {
        // A panic elsewhere while holding the lock leaves the map whole: keep using it.
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = entries.get(&key)
            && e.won == won
            && e.at.elapsed() < TTL
        {
            return e.ranking.clone();
        }
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.at.elapsed() < TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        let ranking = Arc::new(OnceCell::new());
        entries.insert(
            key,
            Entry {
                at: Instant::now(),
                won,
                ranking: ranking.clone(),
            },
        );
        ranking
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key() -> Key {
        ("prg_1".into(), "2026-11-01".into(), "2026-12-01".into())
    }

    fn leader(won: i64) -> Vec<TopReferrer> {
        vec![TopReferrer {
            participant_id: "par_1".into(),
            email: "ann@example.com".into(),
            code: "ANN".into(),
            won,
        }]
    }

    #[tokio::test]
    async fn a_ranking_is_computed_once_per_win_count() {
        let cache = Arc::new(RankingCache::default());
        let computed = Arc::new(AtomicUsize::new(0));
        let request = |won: i64| {
            let (cache, computed) = (cache.clone(), computed.clone());
            async move {
                cache
                    .get_or_compute(key(), won, async move || {
                        computed.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(leader(won))
                    })
                    .await
            }
        };
        // Eight requests at once: one computation, eight answers.
        let mut requests = tokio::task::JoinSet::new();
        for _ in 0..8 {
            requests.spawn(request(3));
        }
        while let Some(answer) = requests.join_next().await {
            assert_eq!(answer.expect("task").expect("ranking"), leader(3));
        }
        assert_eq!(computed.load(Ordering::SeqCst), 1);
        // A new win: computed again.
        assert_eq!(request(4).await.expect("ranking"), leader(4));
        assert_eq!(computed.load(Ordering::SeqCst), 2);
        // The program's rankings forgotten (an erasure, say): computed again, same count.
        cache.forget_program("prg_other");
        assert_eq!(request(4).await.expect("ranking"), leader(4));
        assert_eq!(
            computed.load(Ordering::SeqCst),
            2,
            "another program's: kept"
        );
        cache.forget_program("prg_1");
        assert_eq!(request(4).await.expect("ranking"), leader(4));
        assert_eq!(computed.load(Ordering::SeqCst), 3);
        // A failed computation is not kept.
        let failed = cache
            .get_or_compute(key(), 5, async || {
                Err(crate::AppError::internal("the database went away"))
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(request(5).await.expect("ranking"), leader(5));
        assert_eq!(computed.load(Ordering::SeqCst), 4);
    }
}
