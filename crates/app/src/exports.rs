//! A program's participants or referrals as one CSV file, read page by page from the read
//! replica when there is one (an export may then lag the database by the replica's delay).

use crate::{AppError, AppResult, Ctx, participants::referral_link};
use vouch_domain::export::CsvOut;
use vouch_store::programs::Program;
use vouch_store::{Order, participants, referrals};

/// Rows read per query.
const PAGE: i64 = 500;

/// What an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    /// Every participant, with code and link; imports back as it is.
    Participants,
    /// Every referral, with stage and fraud flags.
    Referrals,
}

impl Export {
    /// From the URL's last segment (`participants`, `referrals`).
    pub fn parse(what: &str) -> Option<Self> {
        match what {
            "participants" => Some(Self::Participants),
            "referrals" => Some(Self::Referrals),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Participants => "participants",
            Self::Referrals => "referrals",
        }
    }
}

/// The CSV file's bytes, header line first.
pub async fn csv(ctx: &Ctx, program: &Program, what: Export) -> AppResult<Vec<u8>> {
    let out = match what {
        Export::Participants => participants_csv(ctx, program).await?,
        Export::Referrals => referrals_csv(ctx, program).await?,
    };
    out.finish().map_err(csv_error)
}

fn csv_error(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("writing a CSV export: {e}"))
}

async fn participants_csv(ctx: &Ctx, program: &Program) -> AppResult<CsvOut> {
    let mut out = CsvOut::new([
        "id",
        "email",
        "first_name",
        "last_name",
        "code",
        "referral_link",
        "referred_by",
        "signed_up_at",
    ])
    .map_err(csv_error)?;
    let mut conn = ctx.store.read_conn().await?;
    let mut after: Option<String> = None;
    loop {
        let rows = participants::list(
            &mut conn,
            &program.id,
            None,
            Order::NEWEST,
            after.as_deref(),
            PAGE,
        )
        .await?;
        let more = rows.len() as i64 > PAGE;
        let page = &rows[..rows.len().min(PAGE as usize)];
        for p in page {
            let referrer = match &p.referred_by {
                Some(id) => participants::get(&mut conn, id).await?.map(|r| r.code),
                None => None,
            };
            out.row([
                p.id.as_str(),
                &p.email,
                p.first_name.as_deref().unwrap_or_default(),
                p.last_name.as_deref().unwrap_or_default(),
                &p.code,
                &referral_link(ctx, &p.code),
                referrer.as_deref().unwrap_or_default(),
                &p.signed_up_at.to_string(),
            ])
            .map_err(csv_error)?;
        }
        after = page.last().map(|p| p.id.clone());
        if !more {
            return Ok(out);
        }
    }
}

async fn referrals_csv(ctx: &Ctx, program: &Program) -> AppResult<CsvOut> {
    let mut out = CsvOut::new([
        "id",
        "referrer_id",
        "referred_id",
        "source",
        "stage",
        "won_at",
        "review",
        "flags",
        "created_at",
    ])
    .map_err(csv_error)?;
    let mut conn = ctx.store.read_conn().await?;
    let filter = referrals::Filter::default();
    let mut after: Option<String> = None;
    loop {
        let rows = referrals::list(&mut conn, &program.id, &filter, after.as_deref(), PAGE).await?;
        let more = rows.len() as i64 > PAGE;
        let page = &rows[..rows.len().min(PAGE as usize)];
        for r in page {
            let flags: Vec<&str> = r.flags.iter().map(|f| f.detail.as_str()).collect();
            out.row([
                r.id.as_str(),
                &r.referrer_id,
                &r.referred_id,
                &r.source,
                r.stage.as_str(),
                &r.won_at.map(|t| t.to_string()).unwrap_or_default(),
                &r.review,
                &flags.join("; "),
                &r.created_at.to_string(),
            ])
            .map_err(csv_error)?;
        }
        after = page.last().map(|r| r.id.clone());
        if !more {
            return Ok(out);
        }
    }
}
