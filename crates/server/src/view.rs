//! How pages show values to people, callable from any template (`crate::view::when(…)`):
//! times as `<time>` elements that `vouch.js` turns into the reader's time zone (relative when
//! recent, the exact time on hover), money with its symbol, and stored names as words.

use askama::filters::Safe;
use std::fmt::Display;
use vouch_domain::Timestamp;

/// `<time datetime="2026-11-29T12:39:32.999Z" title="…">29 Nov 2026, 12:39 UTC</time>`: the
/// text reads well without script; `vouch.js` rewrites it in the staff user's time zone
/// (`<main data-tz>`), as "3 min ago" when recent.
pub fn when(at: &Timestamp) -> Safe<String> {
    let exact = at.to_string();
    Safe(format!(
        "<time datetime=\"{exact}\" title=\"{exact}\" data-when>{}</time>",
        at.short()
    ))
}

/// A stored name as words: `ready_for_review` → "Ready for review", `last_click` → "Last
/// click".
pub fn words(value: impl Display) -> String {
    let text = value.to_string().replace('_', " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// `$1,234.56`, `€10.00`, `CHF 10.00`.
pub fn money(amount: impl std::borrow::Borrow<i64>, currency: &str) -> String {
    vouch_domain::money::human(*amount.borrow(), currency)
}

/// `part` as a share of `whole` to one decimal (`12.5%`), `—` when there is no whole.
pub fn rate(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "—".into();
    }
    let tenths = (i128::from(part) * 1000 + i128::from(whole) / 2) / i128::from(whole);
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// Amounts in several currencies: `$10.00 + €5.00`, or `—` when there are none.
pub fn sums(sums: &[(String, i64)]) -> String {
    if sums.is_empty() {
        return "—".into();
    }
    sums.iter()
        .map(|(currency, amount)| money(*amount, currency))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// A money list's totals as a sentence: "3 payments, $1,200.00 in all." (amounts in several
/// currencies are added with `+`; an empty list reads "No payments.").
pub fn totals(totals: &[vouch_store::Total], one: &str, many: &str) -> String {
    let count: i64 = totals.iter().map(|t| t.count).sum();
    if count == 0 {
        return format!("No {many}.");
    }
    let amounts: Vec<(String, i64)> = totals
        .iter()
        .map(|t| (t.currency.clone(), t.amount))
        .collect();
    format!(
        "{count} {}, {} in all.",
        if count == 1 { one } else { many },
        sums(&amounts)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_read_as_a_sentence() {
        let t = |currency: &str, count, amount| vouch_store::Total {
            currency: currency.into(),
            count,
            amount,
        };
        assert_eq!(totals(&[], "payment", "payments"), "No payments.");
        assert_eq!(
            totals(&[t("USD", 1, 120_000)], "payment", "payments"),
            "1 payment, $1,200.00 in all."
        );
        assert_eq!(
            totals(&[t("EUR", 2, 500), t("USD", 1, 100)], "payment", "payments"),
            "3 payments, €5.00 + $1.00 in all."
        );
    }

    #[test]
    fn stored_names_read_as_words() {
        assert_eq!(words("ready_for_review"), "Ready for review");
        assert_eq!(words("live"), "Live");
        assert_eq!(words(""), "");
    }

    #[test]
    fn times_carry_the_exact_moment_for_the_script() {
        let t = Timestamp::parse("2026-11-29T12:39:32.999Z").expect("time");
        let html = when(&t).0;
        assert!(
            html.contains("datetime=\"2026-11-29T12:39:32.999Z\""),
            "{html}"
        );
        assert!(html.contains(">29 Nov 2026, 12:39 UTC</time>"), "{html}");
    }
}
