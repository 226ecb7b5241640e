//! Signed tokens: a payload and an HMAC-SHA256 of it under one of the installation's secrets,
//! both base64url. They need no table, and cannot be forged or moved to another payload or
//! purpose. Used for unsubscribe links, embed tokens of the participant page and instant
//! signup links.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Bytes of the MAC kept: 144 bits, plenty against forgery, short enough for a link.
const TAG: usize = 18;

fn mac(secret: &[u8], purpose: &str, payload: &str) -> Option<Hmac<Sha256>> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    m.update(purpose.as_bytes());
    m.update(b"\n");
    m.update(payload.as_bytes());
    Some(m)
}

/// `base64url(payload).base64url(tag)`.
pub fn sign(secret: &[u8], purpose: &str, payload: &str) -> String {
    let tag = mac(secret, purpose, payload)
        .map(|m| m.finalize().into_bytes()[..TAG].to_vec())
        .unwrap_or_default();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

/// The payload of a genuine token for this purpose.
pub fn verify(secret: &[u8], purpose: &str, token: &str) -> Option<String> {
    let (payload, tag) = token.trim().split_once('.')?;
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    if tag.len() != TAG {
        return None;
    }
    mac(secret, purpose, &payload)?
        .verify_truncated_left(&tag)
        .ok()?;
    Some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_for_their_payload_secret_and_purpose() {
        let t = sign(b"secret", "unsubscribe", "ann@example.com");
        assert_eq!(
            verify(b"secret", "unsubscribe", &t).as_deref(),
            Some("ann@example.com")
        );
        assert_eq!(verify(b"other", "unsubscribe", &t), None);
        assert_eq!(verify(b"secret", "embed", &t), None);
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode("bo@example.com"),
            t.split_once('.').map(|(_, tag)| tag).unwrap_or_default()
        );
        assert_eq!(verify(b"secret", "unsubscribe", &forged), None);
        assert_eq!(verify(b"secret", "unsubscribe", "garbage"), None);
        assert_eq!(verify(b"secret", "unsubscribe", &t[..t.len() - 2]), None);
    }
}
