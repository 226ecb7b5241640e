//! Money: an integer amount of a currency's minor unit together with its ISO 4217 currency.
//! Nothing here uses floats.
//!
//! People type and read major units (`10`, `10.00`, `USD 10.00`); the API and the database carry
//! minor units (`1000`). The rules, written once:
//!
//! - **Parsing** major units accepts an optional sign, digits, and at most the currency's number
//!   of decimals (`10.005` USD is refused, not rounded); no thousands separators.
//! - **Percentages** are basis points (1 bp = 0.01 %). A share of an amount rounds half away
//!   from zero to the minor unit: 1.5 cents becomes 2, −1.5 becomes −2.
//! - **Splitting** never loses or creates a minor unit: each part gets the floor of its exact
//!   share, then the units left over go one each to the parts with the largest remainders
//!   (earlier parts first on ties). The parts always sum to the whole.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Digits after the decimal point of a currency's minor unit (ISO 4217). Most currencies use
/// two; the exceptions Vouch knows are listed.
pub fn exponent(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// `USD 25.00`, `USD -0.05`, `JPY 2500`.
pub fn format(amount: i64, currency: &str) -> String {
    format!("{currency} {}", major(amount, exponent(currency)))
}

/// How people read an amount: the currency's symbol where it has a well-known one, digits in
/// groups of three, the currency's own number of decimals: `$1,234.56`, `€10.00`, `-£0.05`,
/// `¥2,500`, `CHF 10.00` (no symbol: the code and a space). For screens and emails; files and
/// the API keep `USD 25.00` and minor units.
pub fn human(amount: i64, currency: &str) -> String {
    let plain = major(amount, exponent(currency));
    let (sign, digits) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain.as_str()),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if let Some(f) = fraction {
        grouped.push('.');
        grouped.push_str(f);
    }
    match symbol(currency) {
        Some(sym) => format!("{sign}{sym}{grouped}"),
        None => format!("{sign}{currency} {grouped}"),
    }
}

/// Symbols readers know without doubt; a currency that shares `$` or `¥` with another gets a
/// prefix (CA$, CN¥) so that no two currencies read the same.
fn symbol(currency: &str) -> Option<&'static str> {
    Some(match currency {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        "INR" => "₹",
        "KRW" => "₩",
        "ILS" => "₪",
        "NGN" => "₦",
        "PHP" => "₱",
        "VND" => "₫",
        "UAH" => "₴",
        "CAD" => "CA$",
        "AUD" => "A$",
        "NZD" => "NZ$",
        "MXN" => "MX$",
        "BRL" => "R$",
        "HKD" => "HK$",
        "SGD" => "S$",
        "CNY" => "CN¥",
        _ => return None,
    })
}

/// `25.00` for 2500 at two decimals; `2500` at none.
fn major(amount: i64, exponent: u32) -> String {
    if exponent == 0 {
        return amount.to_string();
    }
    let scale = 10_i128.pow(exponent);
    let value = i128::from(amount);
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = exponent as usize
    )
}

/// An ISO 4217 currency code: three upper-case ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");

    /// Accepts `usd` or ` USD ` as `USD`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim().to_ascii_uppercase();
        match t.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => Ok(Self([*a, *b, *c])),
            _ => Err("must be a three-letter ISO 4217 currency code such as USD".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Digits after the decimal point of the minor unit.
    pub fn exponent(self) -> u32 {
        exponent(self.as_str())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Currency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A percentage in basis points: 10 000 bp = 100 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BasisPoints(pub u32);

impl BasisPoints {
    pub const WHOLE: BasisPoints = BasisPoints(10_000);

    /// Parses a percentage as people type it: `50`, `12.5`, `2.25 %` (at most two decimals).
    pub fn parse_percent(text: &str) -> Result<Self, String> {
        let t = text.trim().trim_end_matches('%').trim();
        let bp = parse_scaled(t, 2)
            .map_err(|_| "must be a percentage such as 12.5 (at most two decimals)".to_string())?;
        u32::try_from(bp)
            .map(Self)
            .map_err(|_| "must not be negative or above 42 949 672 %".to_string())
    }

    /// `12.5 %`, `50 %`, `0.25 %`.
    pub fn percent_text(self) -> String {
        let whole = self.0 / 100;
        match self.0 % 100 {
            0 => format!("{whole} %"),
            r if r % 10 == 0 => format!("{whole}.{} %", r / 10),
            r => format!("{whole}.{r:02} %"),
        }
    }
}

/// An amount of money: minor units of its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

/// Why an amount in major units was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseMoneyError {
    Empty,
    NotANumber,
    TooManyDecimals { currency: Currency, allowed: u32 },
    TooLarge,
}

impl fmt::Display for ParseMoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("is required"),
            Self::NotANumber => f.write_str("must be an amount such as 10.00"),
            Self::TooManyDecimals {
                currency,
                allowed: 0,
            } => write!(f, "must be a whole number of {currency} (no decimals)"),
            Self::TooManyDecimals { currency, allowed } => {
                write!(f, "{currency} has {allowed} decimals at most")
            }
            Self::TooLarge => f.write_str("is too large"),
        }
    }
}

/// `text` (an optional sign, digits, an optional point and at most `decimals` digits after it)
/// times 10^decimals, exactly.
fn parse_scaled(text: &str, decimals: u32) -> Result<i64, ParseMoneyError> {
    if text.is_empty() {
        return Err(ParseMoneyError::Empty);
    }
    let (negative, digits) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return Err(ParseMoneyError::NotANumber);
    }
    let fraction = fraction.trim_end_matches('0');
    let decimal_places = u32::try_from(fraction.len()).unwrap_or(u32::MAX);
    if decimal_places > decimals {
        return Err(ParseMoneyError::TooManyDecimals {
            currency: Currency::USD,
            allowed: decimals,
        });
    }
    let mut value: i128 = 0;
    for b in whole.bytes().chain(fraction.bytes()) {
        value = value * 10 + i128::from(b - b'0');
        // Far beyond any i64, still far inside i128: the exact check comes last.
        if value > 10_i128.pow(30) {
            return Err(ParseMoneyError::TooLarge);
        }
    }
    value *= 10_i128.pow(decimals - decimal_places);
    if negative {
        value = -value;
    }
    i64::try_from(value).map_err(|_| ParseMoneyError::TooLarge)
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// Parses major units as a person types them: `10` and `10.00` are USD 10.00; `10.005` USD
    /// is refused (never rounded). A leading currency code, if given, must be this one.
    pub fn parse_major(text: &str, currency: Currency) -> Result<Self, ParseMoneyError> {
        let mut t = text.trim();
        if t.get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case(currency.as_str()))
        {
            t = t[3..].trim_start();
        }
        let minor = parse_scaled(t, currency.exponent()).map_err(|e| match e {
            ParseMoneyError::TooManyDecimals { allowed, .. } => {
                ParseMoneyError::TooManyDecimals { currency, allowed }
            }
            other => other,
        })?;
        Ok(Self::new(minor, currency))
    }

    pub fn minor(self) -> i64 {
        self.minor
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    /// The amount in major units without the currency: `10.00`, `2500` (JPY). What a form
    /// field shows for editing.
    pub fn major_text(self) -> String {
        major(self.minor, self.currency.exponent())
    }

    /// The sum, when both are of one currency and it fits.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| self.minor.checked_add(other.minor))
            .flatten()
            .map(|m| Money::new(m, self.currency))
    }

    /// This share of the amount, rounded half away from zero to the minor unit.
    pub fn share(self, bp: BasisPoints) -> Money {
        let exact = i128::from(self.minor) * i128::from(bp.0);
        let whole = i128::from(BasisPoints::WHOLE.0);
        let half = whole / 2;
        let rounded = if exact >= 0 {
            (exact + half) / whole
        } else {
            (exact - half) / whole
        };
        let minor = i64::try_from(rounded).unwrap_or(if exact >= 0 { i64::MAX } else { i64::MIN });
        Money::new(minor, self.currency)
    }

    /// Splits the amount in proportion to `weights` (largest remainder): the parts always sum
    /// to the whole. No weights, or weights that are all zero, give no parts.
    pub fn split(self, weights: &[u32]) -> Vec<Money> {
        let total: i128 = weights.iter().map(|w| i128::from(*w)).sum();
        if total == 0 {
            return Vec::new();
        }
        let amount = i128::from(self.minor);
        let sign = if amount < 0 { -1 } else { 1 };
        let abs = amount.abs();
        let mut parts: Vec<i128> = Vec::with_capacity(weights.len());
        let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
        for (i, w) in weights.iter().enumerate() {
            let exact = abs * i128::from(*w);
            parts.push(exact / total);
            remainders.push((exact % total, i));
        }
        let mut left = abs - parts.iter().sum::<i128>();
        // Largest remainder first; on ties the earlier part.
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, i) in remainders {
            if left == 0 {
                break;
            }
            parts[i] += 1;
            left -= 1;
        }
        parts
            .into_iter()
            .map(|p| Money::new(i64::try_from(p * sign).unwrap_or_default(), self.currency))
            .collect()
    }
}

impl fmt::Display for Money {
    /// `USD 25.00`, `USD -0.05`, `JPY 2500`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency, self.major_text())
    }
}

/// On the wire (API, webhooks): `{"amount": 2500, "currency": "USD"}`, minor units.
#[derive(Serialize, Deserialize)]
struct MoneyWire {
    amount: i64,
    currency: Currency,
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        MoneyWire {
            amount: self.minor,
            currency: self.currency,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = MoneyWire::deserialize(d)?;
        Ok(Money::new(w.amount, w.currency))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn people_read_symbols_groups_and_the_currency_s_decimals() {
        assert_eq!(super::human(123_456, "USD"), "$1,234.56");
        assert_eq!(super::human(1_000, "EUR"), "€10.00");
        assert_eq!(super::human(-5, "GBP"), "-£0.05");
        assert_eq!(super::human(2_500, "JPY"), "¥2,500");
        assert_eq!(super::human(1_000, "CHF"), "CHF 10.00");
        assert_eq!(super::human(100_000_000, "CAD"), "CA$1,000,000.00");
        assert_eq!(super::human(12_345, "KWD"), "KWD 12.345");
        assert_eq!(super::human(i64::MIN, "USD"), "-$92,233,720,368,547,758.08");
    }

    use super::*;
    use proptest::prelude::*;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::USD)
    }

    fn cur(code: &str) -> Currency {
        Currency::parse(code).expect("currency")
    }

    #[test]
    fn formats_by_the_currency_exponent() {
        assert_eq!(format(2500, "USD"), "USD 25.00");
        assert_eq!(format(5, "EUR"), "EUR 0.05");
        assert_eq!(format(-5, "EUR"), "EUR -0.05");
        assert_eq!(format(2500, "JPY"), "JPY 2500");
        assert_eq!(format(1234, "KWD"), "KWD 1.234");
        assert_eq!(format(i64::MIN, "USD"), "USD -92233720368547758.08");
        assert_eq!(usd(2500).to_string(), "USD 25.00");
        assert_eq!(usd(2500).major_text(), "25.00");
    }

    #[test]
    fn major_units_parse_exactly_or_not_at_all() {
        let ok = |t: &str, c: &str| Money::parse_major(t, cur(c)).map(Money::minor);
        assert_eq!(ok("10", "USD"), Ok(1000));
        assert_eq!(ok("10.00", "USD"), Ok(1000));
        assert_eq!(ok("10.5", "USD"), Ok(1050));
        assert_eq!(ok(" 0.05 ", "USD"), Ok(5));
        assert_eq!(ok(".5", "USD"), Ok(50));
        assert_eq!(ok("10.", "USD"), Ok(1000));
        assert_eq!(ok("USD 10.00", "USD"), Ok(1000));
        assert_eq!(ok("usd 10", "USD"), Ok(1000));
        assert_eq!(ok("-3.20", "EUR"), Ok(-320));
        assert_eq!(
            ok("10.050", "USD"),
            Ok(1005),
            "trailing zeros are not decimals"
        );
        assert_eq!(ok("2500", "JPY"), Ok(2500));
        assert_eq!(ok("1.234", "KWD"), Ok(1234));
        assert_eq!(
            ok("10.005", "USD"),
            Err(ParseMoneyError::TooManyDecimals {
                currency: Currency::USD,
                allowed: 2
            })
        );
        assert_eq!(
            Money::parse_major("10.005", Currency::USD)
                .expect_err("refused")
                .to_string(),
            "USD has 2 decimals at most"
        );
        assert_eq!(
            Money::parse_major("1.5", cur("JPY"))
                .expect_err("refused")
                .to_string(),
            "must be a whole number of JPY (no decimals)"
        );
        for bad in [
            "", "  ", "ten", "1,000.00", "1e3", "--1", ".", "1.2.3", "EUR 10",
        ] {
            assert!(Money::parse_major(bad, Currency::USD).is_err(), "{bad}");
        }
        assert_eq!(
            ok("92233720368547758.08", "USD"),
            Err(ParseMoneyError::TooLarge)
        );
    }

    #[test]
    fn currencies_and_percentages() {
        assert_eq!(cur(" usd ").as_str(), "USD");
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("U5D").is_err());
        assert_eq!(BasisPoints::parse_percent("12.5"), Ok(BasisPoints(1250)));
        assert_eq!(BasisPoints::parse_percent("50 %"), Ok(BasisPoints(5000)));
        assert!(BasisPoints::parse_percent("12.345").is_err());
        assert!(BasisPoints::parse_percent("-1").is_err());
        assert_eq!(BasisPoints(1250).percent_text(), "12.5 %");
        assert_eq!(BasisPoints(25).percent_text(), "0.25 %");
        assert_eq!(BasisPoints(5000).percent_text(), "50 %");
    }

    #[test]
    fn shares_round_half_away_from_zero() {
        assert_eq!(usd(1000).share(BasisPoints(5000)), usd(500));
        assert_eq!(usd(3).share(BasisPoints(5000)), usd(2), "1.5 rounds up");
        assert_eq!(
            usd(-3).share(BasisPoints(5000)),
            usd(-2),
            "-1.5 rounds down"
        );
        assert_eq!(usd(1).share(BasisPoints(4999)), usd(0));
        assert_eq!(usd(12_345).share(BasisPoints(250)), usd(309), "308.625");
    }

    #[test]
    fn splits_by_largest_remainder() {
        assert_eq!(usd(100).split(&[1, 1, 1]), [usd(34), usd(33), usd(33)]);
        assert_eq!(usd(-100).split(&[1, 1, 1]), [usd(-34), usd(-33), usd(-33)]);
        assert_eq!(usd(1000).split(&[5000, 5000]), [usd(500), usd(500)]);
        assert_eq!(usd(5).split(&[0, 1]), [usd(0), usd(5)]);
        assert!(usd(5).split(&[]).is_empty());
        assert!(usd(5).split(&[0, 0]).is_empty());
    }

    #[test]
    fn money_travels_as_minor_units_with_its_currency() {
        let json = serde_json::to_value(usd(2500)).expect("json");
        assert_eq!(
            json,
            serde_json::json!({ "amount": 2500, "currency": "USD" })
        );
        let back: Money = serde_json::from_value(json).expect("back");
        assert_eq!(back, usd(2500));
    }

    proptest! {
        #[test]
        fn split_parts_always_sum_to_the_whole(
            minor in any::<i64>(),
            weights in proptest::collection::vec(0u32..=1_000_000, 1..12),
        ) {
            let parts = usd(minor).split(&weights);
            if weights.iter().all(|w| *w == 0) {
                prop_assert!(parts.is_empty());
            } else {
                prop_assert_eq!(parts.len(), weights.len());
                let sum: i128 = parts.iter().map(|p| i128::from(p.minor())).sum();
                prop_assert_eq!(sum, i128::from(minor));
                // No part strays more than one unit from its exact share.
                let total: i128 = weights.iter().map(|w| i128::from(*w)).sum();
                for (p, w) in parts.iter().zip(&weights) {
                    let exact = i128::from(minor) * i128::from(*w);
                    let diff = (i128::from(p.minor()) * total - exact).abs();
                    prop_assert!(diff < total, "part {} weight {}", p.minor(), w);
                }
            }
        }

        #[test]
        fn major_text_parses_back_to_the_same_amount(minor in any::<i64>(), code in "(USD|JPY|KWD|CLF)") {
            let m = Money::new(minor, cur(&code));
            prop_assert_eq!(Money::parse_major(&m.major_text(), m.currency()), Ok(m));
        }
    }
}
