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
/// is a failed delivery), a total timeout, and no proxy from the environment (`HTTP_PROXY`
/// and friends): a proxy would resolve and connect for us, past the guard.
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
        .no_proxy()
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

    /// A proxy in the environment is not used: the child test process below runs with
    /// `HTTP_PROXY` pointing at a listener that would see the request if it were.
    #[test]
    fn proxy_variables_in_the_environment_are_ignored() {
        use std::io::{Read, Write};
        if std::env::var_os("VOUCH_PROXY_CHILD").is_some() {
            return;
        }
        let proxy = std::net::TcpListener::bind("127.0.0.1:0").expect("proxy");
        let target = std::net::TcpListener::bind("127.0.0.1:0").expect("target");
        let proxy_url = format!("http://{}", proxy.local_addr().expect("addr"));
        let target_addr = target.local_addr().expect("addr");
        let serve = std::thread::spawn(move || {
            let (mut stream, _) = target.accept().expect("accept");
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
        });
        let out = std::process::Command::new(std::env::current_exe().expect("exe"))
            .args([
                "--exact",
                "outbound::tests::a_request_through_the_environment",
            ])
            .env("VOUCH_PROXY_CHILD", target_addr.to_string())
            .env("HTTP_PROXY", &proxy_url)
            .env("http_proxy", &proxy_url)
            .env("ALL_PROXY", &proxy_url)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .expect("child");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        serve.join().expect("served");
        proxy.set_nonblocking(true).expect("nonblocking");
        assert!(proxy.accept().is_err(), "the proxy was used");
    }

    /// Runs only inside the child process of the test above.
    #[tokio::test]
    async fn a_request_through_the_environment() {
        let Ok(target) = std::env::var("VOUCH_PROXY_CHILD") else {
            return;
        };
        let open = OutboundPolicy::parse("127.0.0.0/8").expect("policy");
        let answer = client(&open, Duration::from_secs(5))
            .expect("client")
            .get(format!("http://{target}/hook"))
            .send()
            .await
            .expect("the target answers directly");
        assert_eq!(answer.status(), 204);
    }
}
