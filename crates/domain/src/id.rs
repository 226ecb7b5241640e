//! Prefixed, time-sortable identifiers such as `rps_01jc…`: 48 bits of milliseconds followed by
//! 80 random bits, in Crockford base32, so ids sort by creation time and never collide in
//! practice across processes.

use rand::RngCore;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new id with the given prefix (without the underscore), e.g. `new_id("usr")`.
pub fn new_id(prefix: &str) -> String {
    let millis = u128::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(0);
    let mut random = [0u8; 10];
    rand::rng().fill_bytes(&mut random);
    let mut value: u128 = millis << 80;
    for (i, byte) in random.iter().enumerate() {
        value |= u128::from(*byte) << (8 * (9 - i));
    }
    let mut out = String::with_capacity(prefix.len() + 27);
    out.push_str(prefix);
    out.push('_');
    for i in (0..26).rev() {
        let index = ((value >> (5 * i)) & 0x1f) as usize;
        out.push(char::from(ALPHABET[index]));
    }
    out
}

/// Whether `value` has the shape of an id made by [`new_id`] with this prefix.
pub fn is_id(prefix: &str, value: &str) -> bool {
    value
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|body| body.len() == 26 && body.bytes().all(|b| ALPHABET.contains(&b)))
}

/// The shape of every id [`new_id`] makes, whatever its prefix; what the API's
/// `starting_after` takes.
pub const ANY_ID_PATTERN: &str = "^[a-z]{2,8}_[0-9a-hjkmnp-tv-z]{26}$";

/// Whether `value` has the shape of an id made by [`new_id`] with any prefix.
pub fn is_any_id(value: &str) -> bool {
    value.split_once('_').is_some_and(|(prefix, _)| {
        (2..=8).contains(&prefix.len())
            && prefix.bytes().all(|b| b.is_ascii_lowercase())
            && is_id(prefix, value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_prefix_and_sort_by_time() {
        let a = new_id("usr");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id("usr");
        assert!(is_id("usr", &a));
        assert!(a < b);
        assert!(!is_id("key", &a));
        assert!(is_any_id(&a));
        for not_an_id in [
            "",
            "usr_",
            "garbage",
            "USR_01",
            &a[..a.len() - 1],
            &format!("{a}x"),
        ] {
            assert!(!is_any_id(not_an_id), "{not_an_id}");
        }
    }
}
