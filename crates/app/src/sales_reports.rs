//! The sales-bonus reports (seed 002's "coming soon"): bonuses by type and status, what falls
//! due this week and this month, what was paid per month by payee kind, and the top referrers
//! by bonus amount and by sales, over a date range.

use crate::{AppError, AppResult, Ctx};
use time::{Date, Duration};
use vouch_store::sales_reports::{self as store, BonusGroup, Top};

/// Every report over one range.
#[derive(Debug, Clone)]
pub struct SalesReport {
    pub from: Date,
    pub to: Date,
    pub bonuses: Vec<BonusGroup>,
    /// Monday to Sunday of the current week.
    pub week: (Date, Date),
    pub due_this_week: Vec<(i64, vouch_domain::money::Money)>,
    pub month: (Date, Date),
    pub due_this_month: Vec<(i64, vouch_domain::money::Money)>,
    pub paid_per_month: Vec<(String, String, vouch_domain::money::Money)>,
    pub top_by_bonus: Vec<Top>,
    pub top_by_sales: Vec<Top>,
    /// Referrals entered in the range, and how many of them were won with a sale.
    pub conversion: (i64, i64),
}

/// The longest range a report covers.
pub const MAX_DAYS: i64 = 731;

/// The reports from `from` to `to` (inclusive; by default the last 90 days to today).
pub async fn report(ctx: &Ctx, from: Option<Date>, to: Option<Date>) -> AppResult<SalesReport> {
    let today = crate::payouts::today(ctx);
    let to = to.unwrap_or(today);
    let from = match from {
        Some(f) => f,
        None => to
            .checked_sub(Duration::days(89))
            .ok_or_else(|| AppError::field("to", "is too early"))?,
    };
    if from > to {
        return Err(AppError::field("to", "must not be before from"));
    }
    if (to - from).whole_days() >= MAX_DAYS {
        return Err(AppError::field("from", "a report covers at most two years"));
    }
    // Dates from the clock are years away from the calendar's ends.
    let week_start = today - Duration::days(i64::from(today.weekday().number_days_from_monday()));
    let week = (week_start, week_start + Duration::days(6));
    let month_start = today
        .replace_day(1)
        .map_err(|e| AppError::internal(e.to_string()))?;
    let next_month = if month_start.month() == time::Month::December {
        month_start
            .replace_year(month_start.year() + 1)
            .and_then(|d| d.replace_month(time::Month::January))
    } else {
        month_start.replace_month(month_start.month().next())
    }
    .map_err(|e| AppError::internal(e.to_string()))?;
    let month = (month_start, next_month - Duration::days(1));
    let mut conn = ctx.store.conn().await?;
    Ok(SalesReport {
        from,
        to,
        bonuses: store::bonuses_by_kind_and_status(&mut conn, from, to).await?,
        week,
        due_this_week: store::due_between(&mut conn, week.0, week.1).await?,
        month,
        due_this_month: store::due_between(&mut conn, month.0, month.1).await?,
        paid_per_month: store::paid_per_month(&mut conn, from, to).await?,
        top_by_bonus: store::top_by_bonus(&mut conn, from, to).await?,
        top_by_sales: store::top_by_sales(&mut conn, from, to).await?,
        conversion: {
            let (start, end) = store::created_bounds(from, to);
            vouch_store::sales_referrals::conversion(&mut conn, &start, &end).await?
        },
    })
}
