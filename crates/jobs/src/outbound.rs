//! The HTTP client for user-configured destinations, guarded against server-side request
//! forgery: a DNS resolver drops every address [`OutboundPolicy`] refuses, so a name that
//! resolves somewhere private at delivery time cannot slip through the check made when the URL
//! was configured.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
pub use vouch_app::outbound::OutboundPolicy;

/// A resolver that drops every address the policy refuses, and fails when none is left.
struct GuardedResolver {
    policy: OutboundPolicy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if allowed.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> = if found.is_empty() {
                    format!("{host} has no address").into()
                } else {
                    format!("{host} resolves only to non-public addresses; refused (outbound.allow_cidrs)").into()
                };
                return Err(err);
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// An HTTP client for user-configured destinations: the guard above, no redirects (a redirect
/// is a failed delivery), and a total timeout.
pub fn client(
    policy: &OutboundPolicy,
    timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    crate::install_crypto_provider();
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver {
            policy: policy.clone(),
        }))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("Vouch-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_resolving_to_private_addresses_are_refused_at_connect() {
        let client = client(&OutboundPolicy::default(), Duration::from_secs(2)).expect("client");
        let err = client
            .get("http://localhost:9/")
            .send()
            .await
            .expect_err("refused");
        let chain = format!("{err:?}");
        assert!(chain.contains("non-public"), "{chain}");
    }
}
