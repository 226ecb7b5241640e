//! API keys are cached in memory for a few seconds: a revoked key is refused at once by the
//! process that revoked it and within the cache's lifetime by another process sharing the
//! database (two `Ctx` on one store stand for two `vouch serve` processes). Run on SQLite and
//! (when `VOUCH_TEST_POSTGRES_URL` is set) on PostgreSQL.

use std::sync::Arc;
use std::time::Duration;
use vouch_app::key_cache::KeyCache;
use vouch_app::{Ctx, Settings, auth, staff};
use vouch_store::audit::Origin;
use vouch_store::testing::{backends, fresh_store};

#[tokio::test]
async fn a_revoked_key_is_refused_at_once_here_and_within_the_bound_elsewhere() {
    for backend in backends() {
        let store = fresh_store(backend).await.expect("store");
        let here = Ctx::new(store.clone(), Settings::default())
            .await
            .expect("ctx");
        let mut elsewhere = Ctx::new(store.clone(), Settings::default())
            .await
            .expect("ctx");
        // The other process's cache lives 300 ms so the test need not wait the default 5 s.
        let bound = Duration::from_millis(300);
        elsewhere.api_keys = Arc::new(KeyCache::with_ttl(bound));
        let origin = Origin::system();
        let (key, secret) = staff::create_api_key(&here, &origin, "Reports", "read")
            .await
            .expect("key");
        for ctx in [&here, &elsewhere] {
            let found = auth::api_key(ctx, &secret).await.expect("lookup");
            assert_eq!(found.map(|k| k.id), Some(key.id.clone()), "both accept it");
        }
        assert!(
            auth::api_key(&here, "not-a-secret")
                .await
                .expect("lookup")
                .is_none()
        );

        staff::revoke_api_key(&here, &origin, &key.id)
            .await
            .expect("revoke");
        assert!(
            auth::api_key(&here, &secret)
                .await
                .expect("lookup")
                .is_none(),
            "refused at once by the process that revoked it"
        );
        assert!(
            auth::api_key(&elsewhere, &secret)
                .await
                .expect("lookup")
                .is_some(),
            "another process may still accept it from its cache"
        );
        tokio::time::sleep(bound + Duration::from_millis(50)).await;
        assert!(
            auth::api_key(&elsewhere, &secret)
                .await
                .expect("lookup")
                .is_none(),
            "and refuses it once its entry is older than the bound"
        );
    }
}
