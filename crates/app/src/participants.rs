//! Enrolment, attribution and qualification: shared by the API, the hosted join page, instant
//! signup links and imports. Each operation is one transaction: the participant, the referral that
//! brought them, their events and the emails they cause commit together or not at all.

use crate::Ctx;
use crate::commit;
use crate::record;
use crate::{AppError, AppResult};
use serde::Deserialize;
use vouch_domain::email_template::Kind;
use vouch_domain::fraud::{self, Context, Flag, Person, normalise_email};
use vouch_domain::participant::ParticipantDraft;
use vouch_domain::program::ProgramStatus;
use vouch_domain::referral::{Source, Stage, Touch, attribute};
use vouch_store::audit::Origin;
use vouch_store::emails::{self, QueueOptions};
use vouch_store::participants::{self, Participant, SignupFacts, WithFingerprints};
use vouch_store::program_events::{self, ProgramEvent};
use vouch_store::programs::Program;
use vouch_store::referrals::{self, NewReferral, Referral, StageChange};
use vouch_store::{StoreError, Tx};

/// The link a participant shares.
pub fn referral_link(ctx: &Ctx, code: &str) -> String {
    format!("{}/r/{code}", ctx.settings.base_url)
}

fn participant_json(ctx: &Ctx, p: &Participant) -> serde_json::Value {
    serde_json::json!({
        "id": p.id, "email": p.email, "first_name": p.first_name, "last_name": p.last_name,
        "code": p.code, "referral_link": referral_link(ctx, &p.code),
    })
}

fn program_json(program: &Program) -> serde_json::Value {
    serde_json::json!({
        "id": program.id, "name": program.name, "slug": program.slug, "offer": program.offer,
        "headline": program.headline, "logo_url": program.logo_url, "brand_color": program.brand_color,
    })
}

/// How a program's emails look: its logo (or name) over its colour.
pub fn brand(program: &Program) -> vouch_domain::email_template::Brand<'_> {
    vouch_domain::email_template::Brand {
        name: &program.name,
        logo_url: program.logo_url.as_deref(),
        color: program.brand_color.as_deref(),
    }
}

/// Queues a participant-facing email with the program's templates and an unsubscribe link.
pub async fn mail_participant(
    ctx: &Ctx,
    tx: &mut Tx,
    kind: Kind,
    program: &Program,
    to: &Participant,
    extra: serde_json::Value,
) -> AppResult<()> {
    let unsubscribe = kind
        .marketing()
        .then(|| crate::unsubscribe::url(ctx, &to.email));
    let mut vars = serde_json::json!({
        "participant": participant_json(ctx, to),
        "program": program_json(program),
        "referral_link": referral_link(ctx, &to.code),
    });
    if let (Some(vars), Some(url)) = (vars.as_object_mut(), &unsubscribe) {
        vars.insert("unsubscribe_url".into(), url.clone().into());
    }
    if let (Some(vars), serde_json::Value::Object(extra)) = (vars.as_object_mut(), extra) {
        vars.extend(extra);
    }
    emails::queue_at_commit(
        tx,
        kind,
        &to.email,
        &vars,
        QueueOptions {
            program_id: Some(&program.id),
            unsubscribe_url: unsubscribe.as_deref(),
            about: None,
            brand: Some(brand(program)),
        },
    )
    .await?;
    Ok(())
}

/// Gives a participant a vanity code (3–10 letters or digits, unique across the
/// installation); the old and new codes are forgotten by this process's link cache at once.
pub async fn set_code(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    raw_code: &str,
) -> AppResult<Participant> {
    let code = vouch_domain::participant::parse_vanity_code(raw_code)
        .map_err(|m| AppError::field("code", m))?;
    let mut tx = ctx.store.begin().await?;
    let before = participants::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("participant"))?;
    let after = participants::set_code(&mut tx, &before, &code).await?;
    record::change(
        &mut tx,
        origin,
        "participant.code_changed",
        Some(&before),
        &after,
        &["participant.updated"],
    );
    commit(tx).await?;
    ctx.links.forget(&before.code);
    ctx.links.forget(&after.code);
    ctx.rankings.forget_program(&after.program_id);
    Ok(after)
}

/// How the signup page names the person whose link or code brought a visitor: their first
/// name, or `None` when the code names nobody in this program (or they gave no name).
pub async fn referrer_first_name(
    ctx: &Ctx,
    program: &Program,
    code: &str,
) -> AppResult<Option<String>> {
    let mut conn = ctx.store.conn().await?;
    Ok(participants::by_code(&mut conn, code)
        .await?
        .filter(|p| p.program_id == program.id && p.status == crate::participant_admin::ACTIVE)
        .and_then(|p| p.first_name)
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty()))
}

pub async fn get_participant(ctx: &Ctx, id: &str) -> AppResult<Participant> {
    let mut conn = ctx.store.conn().await?;
    participants::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("participant"))
}

/// In `order` (newest first by default), `limit + 1` rows at most: the extra row tells the
/// caller another page follows. `search` is part of the email or the code.
pub async fn list_participants(
    ctx: &Ctx,
    program_id: &str,
    search: Option<&str>,
    order: vouch_store::Order,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Participant>> {
    let mut conn = ctx.store.conn().await?;
    Ok(participants::list(&mut conn, program_id, search, order, starting_after, limit).await?)
}

/// How many participants a search finds in all (the list's total).
pub async fn count_participants(
    ctx: &Ctx,
    program_id: &str,
    search: Option<&str>,
) -> AppResult<i64> {
    let mut conn = ctx.store.conn().await?;
    Ok(participants::count(&mut conn, program_id, search).await?)
}

/// How many referrals a filter finds in all (the list's total).
pub async fn count_referrals(
    ctx: &Ctx,
    program_id: &str,
    filter: &referrals::Filter,
) -> AppResult<i64> {
    let mut conn = ctx.store.conn().await?;
    Ok(referrals::count(&mut conn, program_id, filter).await?)
}

/// The participant behind each id, in order (`None` where an id names nobody), read on one
/// connection so that a page naming people costs one connection, not one per row.
pub async fn find_each(ctx: &Ctx, ids: &[&str]) -> AppResult<Vec<Option<Participant>>> {
    let mut conn = ctx.store.conn().await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(participants::get(&mut conn, id).await?);
    }
    Ok(out)
}

/// `None` rather than an error: a page asks to learn whether someone is enrolled already.
pub async fn find_by_email(
    ctx: &Ctx,
    program_id: &str,
    email: &str,
) -> AppResult<Option<Participant>> {
    let mut conn = ctx.store.conn().await?;
    Ok(participants::by_email(&mut conn, program_id, email).await?)
}

/// What a won referral sets off: the referrer hears of it ("referral won" email) and earns
/// the rewards its count of wins reaches. `referrer` is the referral's referrer when the
/// caller read it in this transaction already; it is read otherwise.
async fn celebrate_win(
    ctx: &Ctx,
    tx: &mut Tx,
    origin: &Origin,
    program: &Program,
    referral: &Referral,
    friend: &Participant,
    referrer: Option<&Participant>,
) -> AppResult<()> {
    let read;
    let referrer = match referrer {
        Some(r) => Some(r),
        None => {
            read = participants::get(tx, &referral.referrer_id).await?;
            read.as_ref()
        }
    };
    let won = referrals::count_by_referrer(tx, &referral.referrer_id, Stage::Won).await?;
    if let Some(referrer) = referrer {
        mail_participant(
            ctx,
            tx,
            Kind::ReferralWon,
            program,
            referrer,
            serde_json::json!({ "friend": { "first_name": friend.first_name }, "won_count": won }),
        )
        .await?;
    }
    // A blocked referrer earns nothing new; the friend's side of a double-sided rule still pays.
    let referrer_blocked = referrer.is_some_and(|p| p.status == crate::participant_admin::BLOCKED);
    super::rewards::after_win(ctx, tx, origin, program, referral, won, referrer_blocked).await
}

/// Evidence of who referred a signup, besides an explicit `referred_by` code, and what the
/// signup looked like for the fraud checks.
#[derive(Debug, Clone, Default)]
pub struct SignupContext {
    /// Touches from the form's hidden field and the attribution cookie.
    pub touches: Vec<Touch>,
    /// The original signup time (imports keep it).
    pub signed_up_at: Option<vouch_domain::Timestamp>,
    /// The signup's network address (the join page's client, or `ip_address` in the API).
    pub ip: Option<String>,
    /// The browser's device cookie (the join page sets one).
    pub device: Option<String>,
    /// An import: the explicit code is an imported referral, the participant's own `code` is
    /// kept, and nothing is sent or paid now — imported history counts toward milestones,
    /// and the rewards it reaches are created at the referrer's next win.
    pub import: Option<ImportFacts>,
}

#[derive(Debug, Clone, Default)]
pub struct ImportFacts {
    pub code: Option<String>,
}

/// Registers the participant's company as an account nested under the program's super
/// customer (seed 000: accounts a super customer refers are nested under it).
async fn register_account(
    tx: &mut Tx,
    origin: &Origin,
    super_customer_id: i64,
    draft: &ParticipantDraft,
) -> AppResult<i64> {
    let Some(company) = draft.company.clone() else {
        return Err(AppError::field(
            "company",
            "is required: this program registers an account for it",
        ));
    };
    let fields = vouch_domain::account::AccountFields {
        name: company,
        email: draft.email.clone(),
        owner_first_name: draft.first_name.clone().unwrap_or_default(),
        owner_last_name: draft.last_name.clone().unwrap_or_default(),
        ..Default::default()
    };
    let account_draft = fields.parse().map_err(|v| {
        // An account needs its owner's names; report every problem on the participant's fields.
        let mut errors = v.errors().to_vec();
        for f in &mut errors {
            f.field = match f.field.as_str() {
                "name" | "code" => "company".into(),
                "owner_first_name" => "first_name".into(),
                "owner_last_name" => "last_name".into(),
                other => other.into(),
            };
        }
        AppError::invalid(errors)
    })?;
    Ok(
        crate::accounts::register_in(tx, origin, super_customer_id, account_draft)
            .await?
            .id,
    )
}

/// A keyed hash, so that equal values can be compared without keeping them.
fn fingerprint(ctx: &Ctx, purpose: &str, value: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(purpose.as_bytes());
    h.update(b"\n");
    h.update(value.as_bytes());
    h.update(b"\n");
    h.update(&ctx.secrets.visitor);
    hex::encode(h.finalize())
}

/// An ended program takes nobody in.
pub(crate) fn ensure_open(program: &Program) -> AppResult<()> {
    if program.status == ProgramStatus::Ended {
        return Err(AppError::conflict(
            "program_ended",
            "the program has ended; nobody can join it",
        ));
    }
    Ok(())
}

/// Runs the fraud checks on a referred signup.
async fn fraud_flags(
    ctx: &Ctx,
    tx: &mut Tx,
    program: &Program,
    referrer: &WithFingerprints,
    friend: &Participant,
    facts: &SignupFacts,
) -> AppResult<Vec<Flag>> {
    let signups_from_ip_last_hour = match &facts.ip_hash {
        Some(ip) => {
            participants::signups_from_ip(
                tx,
                &program.id,
                ip,
                ctx.clock.ago(time::Duration::hours(1)),
            )
            .await?
        }
        None => 0,
    };
    let email_key_taken =
        participants::email_key_taken(tx, &program.id, &normalise_email(&friend.email), &friend.id)
            .await?;
    Ok(fraud::check(
        &Person {
            email: &referrer.participant.email,
            ip_hash: referrer.ip_hash.as_deref(),
            device_hash: referrer.device_hash.as_deref(),
        },
        &Person {
            email: &friend.email,
            ip_hash: facts.ip_hash.as_deref(),
            device_hash: facts.device_hash.as_deref(),
        },
        &Context {
            signups_from_ip_last_hour,
            velocity_limit_per_hour: ctx.settings.fraud_velocity_per_hour,
            email_key_taken,
        },
    ))
}

/// Enrols a participant and records the referral the program's attribution model credits.
/// An explicit `referred_by` must name a participant of this program (a field error
/// otherwise); codes from cookies and hidden fields that lead nowhere are ignored, so a stale
/// link never blocks a signup.
///
/// Signups that arrive together share one transaction ([`crate::group_commit`]); each is
/// answered after the commit that saved it.
pub async fn enrol(
    ctx: &Ctx,
    origin: &Origin,
    program: &Program,
    draft: &ParticipantDraft,
    context: &SignupContext,
) -> AppResult<(Participant, Option<Referral>)> {
    let input = std::sync::Arc::new((
        origin.clone(),
        program.clone(),
        draft.clone(),
        context.clone(),
    ));
    // Awaited through a task of its own, so the cache is told even when the caller has gone
    // away (a client hanging up) after its signup was handed over: it commits regardless.
    let ctx = ctx.clone();
    let order = likely_referrer(&ctx, program, draft, context);
    let committed = tokio::spawn(async move {
        let enrolled = crate::group_commit::write_ordered(&ctx, order, move |ctx, tx| {
            let input = input.clone();
            Box::pin(async move {
                let (origin, program, draft, context) = &*input;
                enrol_in(ctx, tx, origin, program, draft, context).await
            })
        })
        .await?;
        // A visit before enrolment may have cached this code as unknown.
        ctx.links.forget(&enrolled.0.code);
        Ok(enrolled)
    });
    committed
        .await
        .unwrap_or_else(|e| Err(AppError::Internal(format!("signup task: {e}"))))
}

/// The code of the referrer a signup most likely credits: the program's attribution model
/// over the signup's touches, before anything is read (a blocked or unknown code makes
/// attribution fall back to another). Its group runs signups in this order, so that groups
/// creating the same referrers' rewards lock them in one order ([`crate::group_commit`]); a
/// wrong guess only risks a deadlock, which PostgreSQL breaks and the group commit retries.
fn likely_referrer(
    ctx: &Ctx,
    program: &Program,
    draft: &ParticipantDraft,
    context: &SignupContext,
) -> String {
    let mut touches: Vec<Touch> = draft
        .referred_by
        .iter()
        .map(|code| Touch {
            code: code.clone(),
            source: Source::Code,
            at: None,
        })
        .collect();
    touches.extend(context.touches.iter().cloned());
    attribute(
        program.attribution_model,
        program.attribution_window_days,
        ctx.clock.now().datetime().unix_timestamp(),
        &touches,
    )
    .map(|t| t.code.to_ascii_uppercase())
    .unwrap_or_default()
}

/// [`enrol`] inside the caller's transaction, which it neither commits nor rolls back (the
/// caller forgets the new code in the link cache once committed).
pub async fn enrol_in(
    ctx: &Ctx,
    tx: &mut Tx,
    origin: &Origin,
    program: &Program,
    draft: &ParticipantDraft,
    context: &SignupContext,
) -> AppResult<(Participant, Option<Referral>)> {
    ensure_open(program)?;
    let mut touches = Vec::new();
    // The participant `referred_by` names, read once: the attribution below mostly picks it.
    let mut named = None;
    if let Some(code) = &draft.referred_by {
        match participants::by_code_with_fingerprints(tx, code).await? {
            Some(p) if p.participant.program_id == program.id => {
                touches.push(Touch {
                    code: p.participant.code.clone(),
                    source: if context.import.is_some() {
                        Source::Import
                    } else {
                        Source::Code
                    },
                    at: None,
                });
                named = Some(p);
            }
            _ => {
                return Err(AppError::field(
                    "referred_by",
                    "no participant of this program has this referral code",
                ));
            }
        }
    }
    touches.extend(context.touches.iter().cloned());
    let now = ctx.clock.now().datetime().unix_timestamp();
    // Candidates in the order the model prefers them; the first that resolves wins.
    let mut referrer = None;
    let mut remaining = touches;
    while let Some(chosen) = attribute(
        program.attribution_model,
        program.attribution_window_days,
        now,
        &remaining,
    ) {
        // A blocked participant's code credits nobody: the signup joins without a referrer.
        let candidate = match named.take_if(|p| p.participant.code == chosen.code) {
            Some(p) => Some(p),
            None => participants::by_code_with_fingerprints(tx, &chosen.code).await?,
        };
        if let Some(p) = candidate
            && p.participant.program_id == program.id
            && p.participant.status == crate::participant_admin::ACTIVE
        {
            referrer = Some((p, chosen.source));
            break;
        }
        remaining.retain(|t| t != &chosen);
    }
    let ip = context
        .ip
        .clone()
        .or_else(|| draft.ip_address.map(|ip| ip.to_string()));
    let facts = SignupFacts {
        signed_up_at: context.signed_up_at,
        ip_hash: ip.map(|ip| fingerprint(ctx, "ip", &ip)),
        device_hash: context
            .device
            .as_deref()
            .map(|d| fingerprint(ctx, "device", d)),
        code: context.import.as_ref().and_then(|i| i.code.clone()),
        account_id: match program.super_customer_id {
            Some(sc) => Some(register_account(tx, origin, sc, draft).await?),
            None => None,
        },
    };
    let quiet = context.import.is_some();
    let participant = participants::create(
        tx,
        &program.id,
        draft,
        referrer.as_ref().map(|(p, _)| p.participant.id.as_str()),
        &facts,
    )
    .await?;
    record::change(
        tx,
        origin,
        "participant.created",
        None,
        &participant,
        &["participant.created"],
    );
    let referral = match &referrer {
        Some((by, source)) => {
            let won_at_signup = program.qualifying_event == "signup";
            let flags = fraud_flags(ctx, tx, program, by, &participant, &facts).await?;
            let by = &by.participant;
            let new = NewReferral {
                program_id: &program.id,
                referrer_id: &by.id,
                referred_id: &participant.id,
                source: *source,
                won: won_at_signup,
                flags: &flags,
            };
            let r = create_referral(tx, origin, &new).await?;
            if won_at_signup && flags.is_empty() && !quiet {
                celebrate_win(ctx, tx, origin, program, &r, &participant, Some(by)).await?;
            }
            Some(r)
        }
        None => None,
    };
    if !quiet && welcome_allowed(ctx, tx, &participant.email).await? {
        mail_participant(
            ctx,
            tx,
            Kind::ParticipantWelcome,
            program,
            &participant,
            serde_json::json!({}),
        )
        .await?;
    }
    Ok((participant, referral))
}

/// Whether one more welcome email may go to this address today: signups in many programs (or
/// a script signing a stranger up everywhere) send at most the day's limit; the signups still
/// count.
async fn welcome_allowed(ctx: &Ctx, tx: &mut Tx, email: &str) -> AppResult<bool> {
    let limit = ctx
        .settings
        .public_limits
        .welcome_emails_per_address_per_day;
    if limit == 0 {
        return Ok(true);
    }
    let since = ctx.clock.now() - time::Duration::days(1);
    let sent = emails::count_to_in(tx, Kind::ParticipantWelcome, email, since).await?;
    if sent >= limit {
        tracing::info!(
            sent,
            limit,
            "welcome email not sent: the address had its day's welcome emails"
        );
    }
    Ok(sent < limit)
}

/// An event the operator's systems report about a participant.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EventIn {
    /// The sender's own id of the event; reporting the same id again changes nothing (409
    /// `event_id_reused` when it named another event).
    #[schema(
        required = true,
        min_length = 1,
        max_length = 200,
        example = "order-1042"
    )]
    pub event_id: String,
    /// e.g. `purchase` or `email_verified`; the program's qualifying event wins referrals.
    #[schema(
        required = true,
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9_.-]{1,64}$",
        example = "purchase"
    )]
    pub name: String,
    /// The participant, by id (`par_…`) … (one of the two is required; 422 when it names
    /// nobody in this program)
    #[schema(max_length = 64)]
    pub participant_id: String,
    /// … or by email.
    #[schema(max_length = 254)]
    pub email: String,
}

fn check_event(e: &EventIn) -> AppResult<()> {
    let mut v = vouch_domain::Validation::new();
    v.check(
        "event_id",
        vouch_domain::validation::required_text(&e.event_id, 200),
    );
    let name = e.name.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        v.add(
            "name",
            "is required: letters, digits, `_`, `.` or `-`, at most 64",
        );
    }
    if e.participant_id.trim().is_empty() && e.email.trim().is_empty() {
        v.add("participant_id", "name the participant by id or by email");
    }
    v.into_result().map_err(AppError::invalid)
}

/// Records an event; the program's qualifying event wins the participant's referral. Returns
/// the event and whether it was new (a repeat of the same id returns the first answer).
pub async fn record_event(
    ctx: &Ctx,
    origin: &Origin,
    program: &Program,
    input: &EventIn,
) -> AppResult<(ProgramEvent, bool)> {
    check_event(input)?;
    let event_id = input.event_id.trim();
    let name = input.name.trim();
    let mut tx = ctx.store.begin().await?;
    let participant = if !input.participant_id.trim().is_empty() {
        participants::get(&mut tx, input.participant_id.trim())
            .await?
            .filter(|p| p.program_id == program.id)
            .ok_or_else(|| {
                AppError::field(
                    "participant_id",
                    "no participant of this program has this id",
                )
            })?
    } else {
        participants::by_email(&mut tx, &program.id, &input.email)
            .await?
            .ok_or_else(|| {
                AppError::field("email", "no participant of this program has this email")
            })?
    };
    if let Some(seen) = program_events::get(&mut tx, &program.id, event_id).await? {
        if seen.name != name || seen.participant_id != participant.id {
            return Err(AppError::conflict(
                "event_id_reused",
                "this event_id was already reported for another event or participant",
            ));
        }
        return Ok((seen, false));
    }
    let referral = referrals::of_referred(&mut tx, &participant.id).await?;
    let (outcome, referral_id) = match referral {
        _ if name != program.qualifying_event => ("not_qualifying", None),
        None => ("not_referred", None),
        Some(r) => match r.stage {
            Stage::Won => ("already_won", Some(r.id)),
            Stage::Lost | Stage::Junk => ("referral_closed", Some(r.id)),
            Stage::New | Stage::InProgress => {
                let reason = format!("{name} event {event_id}");
                let won = move_referral(&mut tx, origin, &r, Stage::Won, Some(&reason)).await?;
                celebrate_win(ctx, &mut tx, origin, program, &won, &participant, None).await?;
                ("referral_won", Some(won.id))
            }
        },
    };
    let event = program_events::insert(
        &mut tx,
        &program.id,
        event_id,
        name,
        &participant.id,
        outcome,
        referral_id.as_deref(),
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict { .. } => AppError::conflict(
            "event_in_flight",
            "the same event_id is being reported at this moment; retry",
        ),
        other => other.into(),
    })?;
    commit(tx).await?;
    Ok((event, true))
}

/// A staff decision on a referral: revoke a won one (a refund), or close an open one as lost
/// or junk. Stage rules come from the domain; a decision already taken is a conflict.
pub async fn set_referral_stage(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    to: Stage,
    reason: Option<&str>,
) -> AppResult<Referral> {
    let reason = vouch_domain::validation::optional_text(reason.unwrap_or_default(), 500)
        .map_err(|m| AppError::field("reason", m))?;
    let reason = reason.as_deref();
    let mut tx = ctx.store.begin().await?;
    let before = referrals::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("referral"))?;
    let after = move_referral(&mut tx, origin, &before, to, reason).await?;
    let program = vouch_store::programs::get(&mut tx, &after.program_id)
        .await?
        .ok_or_else(|| AppError::not_found("program"))?;
    if to == Stage::Won
        && after.review != "pending"
        && let Some(friend) = participants::get(&mut tx, &after.referred_id).await?
    {
        celebrate_win(ctx, &mut tx, origin, &program, &after, &friend, None).await?;
    }
    if before.stage == Stage::Won {
        let why = reason.unwrap_or("the referral was revoked");
        super::rewards::after_revoke(&mut tx, origin, &program, &after, why).await?;
    }
    commit(tx).await?;
    if before.stage == Stage::Won {
        ctx.rankings.forget_program(&after.program_id);
    }
    Ok(after)
}

/// Decides each flagged referral of `program_id` in turn (`clear` or `junk`, one reason for
/// all), each in its own transaction as one decision is; returns each id with why it was not
/// decided, if not (a referral of another program is not decided).
pub async fn review_many(
    ctx: &Ctx,
    origin: &Origin,
    program_id: &str,
    ids: &[String],
    decision: &str,
    reason: &str,
) -> AppResult<Vec<(String, Option<String>)>> {
    if ids.is_empty() || ids.len() > crate::rewards::BULK_MAX {
        return Err(AppError::field("ids", "tick 1 to 100 referrals"));
    }
    // Checked once up front, so a bad decision or reason is one answer, not one per referral.
    if !matches!(decision, "clear" | "junk") {
        return Err(AppError::field("decision", "must be clear or junk"));
    }
    vouch_domain::validation::required_text(reason, 500)
        .map_err(|m| AppError::field("reason", m))?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let refused = match get_referral(ctx, id).await {
            Ok(r) if r.program_id == program_id => {
                review_referral(ctx, origin, id, decision, reason)
                    .await
                    .err()
                    .map(|e| e.detail())
            }
            Ok(_) => Some("not a referral of this program".to_string()),
            Err(e) => Some(e.detail()),
        };
        out.push((id.clone(), refused));
    }
    Ok(out)
}

/// A staff decision on a flagged referral: `clear` lets it count (a won referral now earns its
/// rewards and the referrer hears of it); `junk` closes it. Audited with the reason.
pub async fn review_referral(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    decision: &str,
    reason: &str,
) -> AppResult<Referral> {
    let stored = match decision {
        "clear" => "cleared",
        "junk" => "junk",
        _ => return Err(AppError::field("decision", "must be clear or junk")),
    };
    let reason = vouch_domain::validation::required_text(reason, 500)
        .map_err(|m| AppError::field("reason", m))?;
    let reason = reason.as_str();
    let mut tx = ctx.store.begin().await?;
    let before = referrals::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("referral"))?;
    let program = vouch_store::programs::get(&mut tx, &before.program_id)
        .await?
        .ok_or_else(|| AppError::not_found("program"))?;
    let decided = referrals::decide_review(&mut tx, origin, &before, stored, reason).await?;
    record::change(
        &mut tx,
        origin,
        &format!("referral.review_{stored}"),
        Some(&before),
        &decided,
        &["referral.reviewed"],
    );
    let after = if stored == "junk" && !matches!(decided.stage, Stage::Lost | Stage::Junk) {
        move_referral(&mut tx, origin, &decided, Stage::Junk, Some(reason)).await?
    } else {
        decided
    };
    if stored == "cleared"
        && after.stage == Stage::Won
        && let Some(friend) = participants::get(&mut tx, &after.referred_id).await?
    {
        celebrate_win(ctx, &mut tx, origin, &program, &after, &friend, None).await?;
    }
    commit(tx).await?;
    Ok(after)
}

pub async fn get_referral(ctx: &Ctx, id: &str) -> AppResult<Referral> {
    let mut conn = ctx.store.conn().await?;
    referrals::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("referral"))
}

/// Newest first, `limit + 1` rows at most: the extra row tells the caller another page follows.
pub async fn list_referrals(
    ctx: &Ctx,
    program_id: &str,
    filter: &referrals::Filter,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Referral>> {
    let mut conn = ctx.store.conn().await?;
    Ok(referrals::list(&mut conn, program_id, filter, starting_after, limit).await?)
}

/// Every stage a referral went through, oldest first.
pub async fn referral_history(ctx: &Ctx, referral_id: &str) -> AppResult<Vec<StageChange>> {
    let mut conn = ctx.store.conn().await?;
    Ok(referrals::history(&mut conn, referral_id).await?)
}

/// Records a referral with its audit entry and events: `referral.created`, then
/// `referral.flagged` when fraud checks fired and `referral.won` when it is won at once.
async fn create_referral(
    tx: &mut Tx,
    origin: &Origin,
    new: &NewReferral<'_>,
) -> AppResult<Referral> {
    let r = referrals::create(tx, origin, new).await?;
    let mut events = vec!["referral.created"];
    if !new.flags.is_empty() {
        events.push("referral.flagged");
    }
    if new.won {
        events.push("referral.won");
    }
    record::change(tx, origin, "referral.created", None, &r, &events);
    Ok(r)
}

/// Moves a referral to another stage, audited, with the event the move means.
async fn move_referral(
    tx: &mut Tx,
    origin: &Origin,
    before: &Referral,
    to: Stage,
    reason: Option<&str>,
) -> AppResult<Referral> {
    let after = referrals::set_stage(tx, origin, before, to, reason).await?;
    let event = match (before.stage, to) {
        (_, Stage::Won) => "referral.won",
        (Stage::Won, Stage::Lost | Stage::Junk) => "referral.revoked",
        _ => "referral.stage_changed",
    };
    record::change(
        tx,
        origin,
        "referral.stage_changed",
        Some(before),
        &after,
        &[event],
    );
    Ok(after)
}
