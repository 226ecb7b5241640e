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

/// The reports as the API shows them: amounts in minor units beside their currency.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SalesReportOut {
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    pub bonuses_by_kind_and_status: Vec<BonusGroupOut>,
    pub due_this_week: DueOut,
    pub due_this_month: DueOut,
    pub paid_per_month: Vec<PaidOut>,
    /// The ten payees with the most in approved bonuses, ranked within each currency.
    pub top_by_bonus: Vec<TopOut>,
    /// The ten referrers whose approved sales add up to the most, ranked within each currency.
    pub top_by_sales: Vec<TopOut>,
    pub conversion: ConversionOut,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct BonusGroupOut {
    pub kind: vouch_domain::bonus::BonusKind,
    pub status: vouch_domain::bonus::BonusStatus,
    pub count: i64,
    pub amount: i64,
    pub currency: String,
}

/// Unpaid payments falling due in a range, per currency.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DueOut {
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    pub totals: Vec<DueTotal>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DueTotal {
    pub count: i64,
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PaidOut {
    /// `2026-04`.
    pub month: String,
    pub payee_kind: vouch_domain::person::PersonKind,
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TopOut {
    pub person_id: String,
    pub name: String,
    pub count: i64,
    pub amount: i64,
    pub currency: String,
}

/// Referrals entered in the range and how many were won with a sale.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ConversionOut {
    pub entered: i64,
    pub won: i64,
}

impl From<&SalesReport> for SalesReportOut {
    fn from(r: &SalesReport) -> Self {
        use vouch_domain::sale::date_text;
        let due = |range: (Date, Date), rows: &[(i64, vouch_domain::money::Money)]| DueOut {
            from: date_text(range.0),
            to: date_text(range.1),
            totals: rows
                .iter()
                .map(|(n, m)| DueTotal {
                    count: *n,
                    amount: m.minor(),
                    currency: m.currency().to_string(),
                })
                .collect(),
        };
        let top = |rows: &[Top]| {
            rows.iter()
                .map(|t| TopOut {
                    person_id: t.person_id.clone(),
                    name: t.name.clone(),
                    count: t.count,
                    amount: t.amount.minor(),
                    currency: t.amount.currency().to_string(),
                })
                .collect()
        };
        Self {
            from: date_text(r.from),
            to: date_text(r.to),
            bonuses_by_kind_and_status: r
                .bonuses
                .iter()
                .filter_map(|g| {
                    Some(BonusGroupOut {
                        kind: g.kind.parse().ok()?,
                        status: g.status.parse().ok()?,
                        count: g.count,
                        amount: g.amount.minor(),
                        currency: g.amount.currency().to_string(),
                    })
                })
                .collect(),
            due_this_week: due(r.week, &r.due_this_week),
            due_this_month: due(r.month, &r.due_this_month),
            paid_per_month: r
                .paid_per_month
                .iter()
                .filter_map(|(month, kind, m)| {
                    Some(PaidOut {
                        month: month.clone(),
                        payee_kind: kind.parse().ok()?,
                        amount: m.minor(),
                        currency: m.currency().to_string(),
                    })
                })
                .collect(),
            top_by_bonus: top(&r.top_by_bonus),
            top_by_sales: top(&r.top_by_sales),
            conversion: ConversionOut {
                entered: r.conversion.0,
                won: r.conversion.1,
            },
        }
    }
}
