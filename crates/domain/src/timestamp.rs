//! A point in time as Vouch stores and shows it: UTC, millisecond precision.
//!
//! Its text form is fixed-width RFC 3339 (`2026-11-29T12:39:32.999Z`), so text order is time
//! order; that is how both databases store it and how the API and webhooks send it. Rows decode
//! into this type at the store boundary, so nothing above compares or slices time strings.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// `t` in UTC, cut to whole milliseconds (what the text form can hold), so a value survives
    /// a round trip through the database unchanged.
    pub fn from_datetime(t: OffsetDateTime) -> Self {
        let t = t.to_offset(UtcOffset::UTC);
        let cut = t.nanosecond() - t.nanosecond() % 1_000_000;
        Self(t.replace_nanosecond(cut).unwrap_or(t))
    }

    /// Reads RFC 3339 with any offset (the stored form, or a client's).
    pub fn parse(text: &str) -> Result<Self, String> {
        OffsetDateTime::parse(text.trim(), &Rfc3339)
            .map(Self::from_datetime)
            .map_err(|_| format!("`{text}` is not an RFC 3339 time"))
    }

    /// This long ago from now (for window queries: sessions idle, attempts in the last hour).
    pub fn ago(length: Duration) -> Self {
        Self::now() - length
    }

    /// This long from now (expiries, retries).
    pub fn from_now(length: Duration) -> Self {
        Self::now() + length
    }

    pub fn datetime(self) -> OffsetDateTime {
        self.0
    }

    /// The calendar day, `2026-11-29`.
    pub fn date(self) -> time::Date {
        self.0.date()
    }

    /// As people read it in the console: `20 Feb 2026, 15:00 UTC`.
    pub fn short(self) -> String {
        let t = self.0;
        format!(
            "{} {} {}, {:02}:{:02} UTC",
            t.day(),
            &t.month().to_string()[..3],
            t.year(),
            t.hour(),
            t.minute()
        )
    }
}

impl std::ops::Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, d: Duration) -> Timestamp {
        Timestamp::from_datetime(self.0 + d)
    }
}

impl std::ops::Sub<Duration> for Timestamp {
    type Output = Timestamp;
    fn sub(self, d: Duration) -> Timestamp {
        Timestamp::from_datetime(self.0 - d)
    }
}

impl std::ops::Sub for Timestamp {
    type Output = Duration;
    fn sub(self, other: Timestamp) -> Duration {
        self.0 - other.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Timestamp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("A UTC time, RFC 3339 with milliseconds."))
            .examples([serde_json::json!("2026-11-29T12:39:32.999Z")])
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_form_for_people() {
        let t = Timestamp::parse("2026-02-20T15:04:05.123Z").expect("parse");
        assert_eq!(t.short(), "20 Feb 2026, 15:04 UTC");
    }

    #[test]
    fn text_form_is_fixed_width_utc_with_milliseconds() {
        let t = Timestamp::parse("2026-03-04T05:06:07.123456+02:00").expect("valid");
        assert_eq!(t.to_string(), "2026-03-04T03:06:07.123Z");
        assert_eq!(Timestamp::parse(&t.to_string()).expect("valid"), t);
    }

    #[test]
    fn text_order_is_time_order() {
        let a = Timestamp::parse("2026-01-01T00:00:00Z").expect("valid");
        let b = a + Duration::milliseconds(1);
        assert!(a < b);
        assert!(a.to_string() < b.to_string());
    }

    #[test]
    fn serde_round_trip_and_refusal() {
        let t = Timestamp::parse("2026-11-29T12:39:32.999Z").expect("valid");
        let json = serde_json::to_string(&t).expect("valid");
        assert_eq!(json, "\"2026-11-29T12:39:32.999Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).expect("valid"), t);
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }
}
