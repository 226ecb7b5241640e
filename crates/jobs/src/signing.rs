//! Standard Webhooks v1 signatures: HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`
//! with the base64-decoded part of a `whsec_` secret, sent as `v1,<base64>`; several entries
//! separated by spaces when more than one secret signs (during a rotation).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SigningError {
    #[error("the secret must be whsec_ followed by base64")]
    BadSecret,
}

/// One `v1,<base64>` signature.
pub fn sign(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SigningError> {
    let encoded = vouch_domain::webhook::secret_key(secret).ok_or(SigningError::BadSecret)?;
    let key = STANDARD
        .decode(encoded)
        .map_err(|_| SigningError::BadSecret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| SigningError::BadSecret)?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header value for every secret that signs now.
pub fn signature_header(
    secrets: &[&str],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SigningError> {
    let parts = secrets
        .iter()
        .map(|s| sign(s, msg_id, timestamp, body))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_app::webhooks::new_secret;

    /// The test vector of the Standard Webhooks specification.
    #[test]
    fn specification_test_vector() {
        let signature = sign(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            br#"{"email":"test@example.com","username":"test_user"}"#,
        );
        assert_eq!(
            signature,
            Ok("v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=".to_string())
        );
    }

    #[test]
    fn rotation_signs_with_both_and_bad_secrets_are_refused() {
        let a = new_secret();
        let b = new_secret();
        assert!(a.starts_with("whsec_") && a.len() > 40 && a != b);
        let header = signature_header(&[&a, &b], "msg_1", 1, b"{}").expect("sign");
        assert_eq!(header.split(' ').count(), 2);
        assert_eq!(sign("nope", "m", 1, b""), Err(SigningError::BadSecret));
        assert_eq!(
            sign("whsec_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", "m", 1, b""),
            Err(SigningError::BadSecret)
        );
    }
}
