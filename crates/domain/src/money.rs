//! Amounts are integer minor units of an ISO 4217 currency; nothing here uses floats. This
//! module only shows them: `2500` USD is `USD 25.00`, `2500` JPY is `JPY 2500`.

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
    let e = exponent(currency);
    if e == 0 {
        return format!("{currency} {amount}");
    }
    let scale = 10_i128.pow(e);
    let value = i128::from(amount);
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.abs();
    format!(
        "{currency} {sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = e as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_the_currency_exponent() {
        assert_eq!(format(2500, "USD"), "USD 25.00");
        assert_eq!(format(5, "EUR"), "EUR 0.05");
        assert_eq!(format(-5, "EUR"), "EUR -0.05");
        assert_eq!(format(2500, "JPY"), "JPY 2500");
        assert_eq!(format(1234, "KWD"), "KWD 1.234");
        assert_eq!(format(i64::MIN, "USD"), "USD -92233720368547758.08");
    }
}
