//! The program dashboard: a date range, the funnel per day (clicks → referred signups → won),
//! totals, top referrers and rewards by status; and the funnel as a server-rendered SVG chart.

use crate::Ctx;
use crate::resources::{Day, RewardTotal, TopReferrer};
use crate::{AppError, AppResult};
use serde::Serialize;
use time::{Date, Duration};
use vouch_store::programs::Program;
use vouch_store::stats;

/// Days shown when no range is given.
pub const DEFAULT_DAYS: i64 = 30;
/// The widest range: a year and a day.
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: Date,
    /// Inclusive.
    pub to: Date,
}

fn date(field: &str, raw: &str) -> AppResult<Option<Date>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    Date::parse(
        raw,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map(Some)
    .map_err(|_| AppError::field(field, "must be a date like 2026-11-23"))
}

/// `from`/`to` as `YYYY-MM-DD` (UTC days, both inclusive); empty means the last 30 days.
pub fn parse_range(ctx: &Ctx, from: &str, to: &str) -> AppResult<Range> {
    range_on(ctx.clock.now().datetime().date(), from, to)
}

/// [`parse_range`] as of `today` (the installation's clock, so tests can move it).
fn range_on(today: Date, from: &str, to: &str) -> AppResult<Range> {
    let to = date("to", to)?.unwrap_or(today);
    let from = date("from", from)?.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        return Err(AppError::field("from", "must not be after `to`"));
    }
    if (to - from).whole_days() >= MAX_DAYS {
        return Err(AppError::field(
            "from",
            "the range can span at most 366 days",
        ));
    }
    Ok(Range { from, to })
}

fn bound(d: Date) -> String {
    format!("{d}T00:00:00.000Z")
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub clicks: i64,
    pub signups: i64,
    pub won: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    pub from: String,
    pub to: String,
    /// Every day of the range, oldest first, zeros included.
    pub days: Vec<Day>,
    pub totals: Totals,
    pub top_referrers: Vec<TopReferrer>,
    pub rewards: Vec<RewardTotal>,
}

pub async fn dashboard(ctx: &Ctx, program: &Program, range: Range) -> AppResult<Dashboard> {
    let (from, to) = (bound(range.from), bound(range.to + Duration::days(1)));
    // A dashboard may lag the database by the read replica's delay, when there is one.
    let mut conn = ctx.store.read_conn().await?;
    let found = stats::days(&mut conn, &program.id, &from, &to).await?;
    let mut days = Vec::new();
    let mut d = range.from;
    let mut found = found.into_iter().peekable();
    while d <= range.to {
        let key = d.to_string();
        match found.peek() {
            Some(f) if f.day == key => days.extend(found.next().map(Day::from)),
            _ => days.push(Day {
                day: key,
                ..Day::default()
            }),
        }
        d += Duration::days(1);
    }
    let totals = days.iter().fold(Totals::default(), |t, d| Totals {
        clicks: t.clicks + d.clicks,
        signups: t.signups + d.signups,
        won: t.won + d.won,
    });
    // The costly part: kept while the range's win count stays the same (see `ranking_cache`).
    let top_referrers = ctx
        .rankings
        .get_or_compute(
            (program.id.clone(), from.clone(), to.clone()),
            totals.won,
            async || {
                Ok(stats::top_referrers(&mut conn, &program.id, &from, &to, 10)
                    .await?
                    .into_iter()
                    .map(TopReferrer::from)
                    .collect())
            },
        )
        .await?;
    Ok(Dashboard {
        from: range.from.to_string(),
        to: range.to.to_string(),
        top_referrers,
        rewards: stats::rewards_by_status(&mut conn, &program.id, &from, &to)
            .await?
            .into_iter()
            .map(RewardTotal::from)
            .collect(),
        days,
        totals,
    })
}

/// Recomputes the daily rollups from the raw clicks and referrals in one transaction; returns
/// the rows written. The days click retention has purged (as far as it recorded, whatever this
/// process's settings say) keep their click counts.
pub async fn rebuild_rollups(ctx: &Ctx) -> AppResult<i64> {
    let mut tx = ctx.store.begin().await?;
    let rows = vouch_store::rollups::rebuild(&mut tx).await?;
    crate::commit(tx).await?;
    Ok(rows)
}

/// A line chart drawn on the server: polylines and labels, only numbers and dates, so the
/// template can place them without escaping concerns.
pub struct Chart {
    pub width: i64,
    pub height: i64,
    /// (name, colour, points "x,y x,y …", total)
    pub series: Vec<(&'static str, &'static str, String, i64)>,
    /// (x, label) under the axis.
    pub x_labels: Vec<(i64, String)>,
    /// (y, value) on the left axis.
    pub y_ticks: Vec<(i64, i64)>,
    pub left: i64,
    pub bottom: i64,
    /// Where the axis stops below the busiest day, so that one spike does not flatten every
    /// other day into the baseline; `None` when the axis reaches the top value.
    pub capped_at: Option<i64>,
    /// (x, y, value): days above the cap, drawn at the top with their real value.
    pub above_cap: Vec<(i64, i64, i64)>,
}

/// The top of a chart's axis for daily `peaks` (each day's largest value): the largest, unless
/// it towers over the rest. A day more than three times the 90th percentile of the busy days is
/// a spike; the axis then stops at twice that percentile and spikes are labelled instead.
pub fn axis_top(peaks: &[i64]) -> (i64, bool) {
    let max = peaks.iter().copied().max().unwrap_or(0).max(1);
    let mut busy: Vec<i64> = peaks.iter().copied().filter(|v| *v > 0).collect();
    if busy.len() < 5 {
        return (max, false);
    }
    busy.sort_unstable();
    let p90 = busy[(busy.len() - 1) * 9 / 10];
    if max > 3 * p90 {
        ((2 * p90).max(1), true)
    } else {
        (max, false)
    }
}

pub fn chart(d: &Dashboard) -> Chart {
    let (width, height, left, right, top, bottom) =
        (900_i64, 260_i64, 48_i64, 12_i64, 12_i64, 232_i64);
    let peaks: Vec<i64> = d
        .days
        .iter()
        .map(|x| x.clicks.max(x.signups).max(x.won))
        .collect();
    let (max, capped) = axis_top(&peaks);
    // A round top for the axis: 1, 2 or 5 times a power of ten.
    let mut step = 1_i64;
    while max / step > 5 {
        step = match step.to_string().chars().next() {
            Some('1') => step * 2,
            Some('2') => step / 2 * 5,
            _ => step * 2,
        };
    }
    let y_max = (max + step - 1) / step * step;
    let n = i64::try_from(d.days.len()).unwrap_or(1).max(1);
    let x = |i: i64| {
        left + if n == 1 {
            0
        } else {
            i * (width - left - right) / (n - 1)
        }
    };
    let y = |v: i64| bottom - v.min(y_max) * (bottom - top) / y_max;
    let line = |f: fn(&Day) -> i64| {
        d.days
            .iter()
            .enumerate()
            .map(|(i, day)| format!("{},{}", x(i64::try_from(i).unwrap_or(0)), y(f(day))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let every = (n / 6).max(1);
    let x_labels = d
        .days
        .iter()
        .enumerate()
        .filter(|(i, _)| i64::try_from(*i).unwrap_or(0) % every == 0)
        .map(|(i, day)| (x(i64::try_from(i).unwrap_or(0)), day.day[5..].to_string()))
        .collect();
    let y_ticks = (0..=y_max / step)
        .map(|k| (y(k * step), k * step))
        .collect();
    let above_cap = d
        .days
        .iter()
        .enumerate()
        .filter_map(|(i, day)| {
            let peak = day.clicks.max(day.signups).max(day.won);
            (peak > y_max).then(|| (x(i64::try_from(i).unwrap_or(0)), top, peak))
        })
        .collect();
    Chart {
        capped_at: capped.then_some(y_max),
        above_cap,
        width,
        height,
        series: vec![
            ("Clicks", "#2f5bd3", line(|d| d.clicks), d.totals.clicks),
            (
                "Referred signups",
                "#9a6700",
                line(|d| d.signups),
                d.totals.signups,
            ),
            ("Won", "#16794c", line(|d| d.won), d.totals.won),
        ],
        x_labels,
        y_ticks,
        left,
        bottom,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spike_does_not_set_the_axis() {
        assert_eq!(
            axis_top(&[0, 0, 3]),
            (3, false),
            "few busy days: the top is the top"
        );
        assert_eq!(axis_top(&[4, 5, 6, 5, 4, 6, 5]), (6, false), "no spike");
        assert_eq!(
            axis_top(&[4, 5, 6, 5, 4, 6, 500]),
            (12, true),
            "a spike is labelled instead"
        );
    }

    #[test]
    fn ranges_default_and_are_checked() {
        let today = Date::from_calendar_date(2026, time::Month::March, 10).expect("date");
        let parse_range = |from, to| range_on(today, from, to);
        let r = parse_range("", "").expect("default");
        assert_eq!(r.to, today);
        assert_eq!((r.to - r.from).whole_days(), DEFAULT_DAYS - 1);
        assert!(parse_range("2026-02-01", "2026-01-01").is_err());
        assert!(parse_range("2024-01-01", "2026-01-01").is_err());
        assert!(parse_range("yesterday", "").is_err());
        let one = parse_range("2026-01-01", "2026-01-01").expect("one day");
        assert_eq!(one.from, one.to);
    }

    #[test]
    fn the_chart_scales_to_a_round_top() {
        let days: Vec<Day> = (0..10)
            .map(|i| Day {
                day: format!("2026-01-{:02}", i + 1),
                clicks: i * 13,
                signups: i,
                won: i / 2,
            })
            .collect();
        let d = Dashboard {
            from: "2026-01-01".into(),
            to: "2026-01-10".into(),
            totals: Totals::default(),
            days,
            top_referrers: vec![],
            rewards: vec![],
        };
        let c = chart(&d);
        let top = c.y_ticks.last().map(|t| t.1);
        assert_eq!(
            top,
            Some(120),
            "117 clicks at most: the axis ends at 120, in steps of 20"
        );
        assert_eq!(c.series[0].2.split(' ').count(), 10);
        assert!(c.series[0].2.starts_with("48,232"));
    }
}
