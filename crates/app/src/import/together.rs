//! A batch of import rows decided together: three lookups for the whole batch, every
//! row's verdict, referrer and fraud flags worked out in memory with the same rules as a
//! signup ([`crate::participants::enrol_in`]), then written with multi-row statements. About
//! ten statements per thousand rows instead of twenty per row.

use super::{Seen, Verdict};
use crate::participant_admin::ACTIVE;
use crate::participants::ensure_open;
use crate::record::Audited;
use crate::{AppError, AppResult, Ctx};
use std::collections::{HashMap, HashSet};
use vouch_domain::fraud::{self, Context, Flag, Person, normalise_email};
use vouch_domain::import::ImportRow;
use vouch_domain::referral::{Source, Touch, attribute};
use vouch_store::audit::{self, Created, Origin};
use vouch_store::participants::{self, NewParticipant, Participant, WithFingerprints};
use vouch_store::programs::Program;
use vouch_store::referrals::{self, NewReferral, Referral};
use vouch_store::{Conn, Tx, events};

/// A participant this import enrolled (or, in a dry run, would have), as a referrer of later
/// rows sees them.
#[derive(Debug, Clone)]
pub(super) struct Enrolled {
    pub id: String,
    pub email: String,
}

/// What the batch does with one row.
pub(super) enum Outcome {
    Settled(Verdict),
    /// The rules refuse the row (the program has ended): reported on its line.
    Refused(AppError),
    Enrol(Enrolment),
}

pub(super) struct Enrolment {
    /// Chosen before writing, so a referrer enrolled by the same batch can be named.
    pub id: String,
    pub referrer_id: Option<String>,
    pub flags: Vec<Flag>,
}

/// The batch's rows with what each will do, and what the batch adds to what the import has
/// enrolled.
pub(super) struct Plan {
    pub rows: Vec<(ImportRow, Outcome)>,
    pub added: Seen,
}

/// A referrer a row names: in the database already, or enrolled by this import.
struct Referrer<'a> {
    id: &'a str,
    email: &'a str,
    active: bool,
    ip_hash: Option<&'a str>,
    device_hash: Option<&'a str>,
}

/// Decides every row of `rows` (in file order, so a row sees the rows before it) from three
/// lookups. Nothing is written.
pub(super) async fn plan(
    ctx: &Ctx,
    conn: &mut Conn,
    program: &Program,
    rows: Vec<ImportRow>,
    seen: &Seen,
) -> AppResult<Plan> {
    let emails: Vec<String> = rows.iter().map(email_of).collect();
    let keys: Vec<String> = rows
        .iter()
        .map(|r| normalise_email(&r.draft.email))
        .collect();
    let codes: Vec<String> = rows
        .iter()
        .flat_map(|r| r.draft.referred_by.iter().chain(r.code.iter()))
        .cloned()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let enrolled = participants::emails_enrolled(conn, &program.id, &emails).await?;
    let keys_used = participants::email_keys_used(conn, &program.id, &keys).await?;
    let holders: HashMap<String, WithFingerprints> = participants::by_codes(conn, &codes)
        .await?
        .into_iter()
        .map(|h| (h.participant.code.clone(), h))
        .collect();

    let now = ctx.clock.now().datetime().unix_timestamp();
    let mut added = Seen::default();
    let mut planned = Vec::with_capacity(rows.len());
    for ((row, email), key) in rows.into_iter().zip(emails).zip(keys) {
        let referrer = |code: &str| -> Option<Referrer<'_>> {
            match holders.get(code) {
                Some(h) if h.participant.program_id == program.id => Some(Referrer {
                    id: &h.participant.id,
                    email: &h.participant.email,
                    active: h.participant.status == ACTIVE,
                    ip_hash: h.ip_hash.as_deref(),
                    device_hash: h.device_hash.as_deref(),
                }),
                Some(_) => None,
                None => seen
                    .codes
                    .get(code)
                    .or_else(|| added.codes.get(code))
                    .map(|e| Referrer {
                        id: &e.id,
                        email: &e.email,
                        active: true,
                        ip_hash: None,
                        device_hash: None,
                    }),
            }
        };
        let verdict = if enrolled.contains(&email)
            || seen.emails.contains(&email)
            || added.emails.contains(&email)
        {
            Verdict::AlreadyEnrolled
        } else if row
            .draft
            .referred_by
            .as_deref()
            .is_some_and(|code| referrer(code).is_none())
        {
            Verdict::Waiting
        } else if row.code.as_deref().is_some_and(|code| {
            holders.contains_key(code)
                || seen.codes.contains_key(code)
                || added.codes.contains_key(code)
        }) {
            Verdict::CodeTaken
        } else {
            Verdict::Enrol
        };
        if !matches!(verdict, Verdict::Enrol) {
            planned.push((row, Outcome::Settled(verdict)));
            continue;
        }
        if let Err(e) = ensure_open(program) {
            planned.push((row, Outcome::Refused(e)));
            continue;
        }
        // The one touch an import row has: the code in its `referred_by` column.
        let touch = row.draft.referred_by.clone().map(|code| Touch {
            code,
            source: Source::Import,
            at: None,
        });
        let chosen = attribute(
            program.attribution_model,
            program.attribution_window_days,
            now,
            touch.as_slice(),
        );
        // A blocked referrer credits nobody: the row joins without one.
        let by = chosen.and_then(|t| referrer(&t.code)).filter(|r| r.active);
        let flags = match &by {
            Some(r) => fraud::check(
                &Person {
                    email: r.email,
                    ip_hash: r.ip_hash,
                    device_hash: r.device_hash,
                },
                &Person {
                    email: &row.draft.email,
                    ip_hash: None,
                    device_hash: None,
                },
                &Context {
                    signups_from_ip_last_hour: 0,
                    velocity_limit_per_hour: ctx.settings.fraud_velocity_per_hour,
                    email_key_taken: keys_used.contains(&key)
                        || seen.email_keys.contains(&key)
                        || added.email_keys.contains(&key),
                },
            ),
            None => Vec::new(),
        };
        let enrolment = Enrolment {
            id: vouch_domain::id::new_id("par"),
            referrer_id: by.map(|r| r.id.to_string()),
            flags,
        };
        if let Some(code) = &row.code {
            added.codes.insert(
                code.clone(),
                Enrolled {
                    id: enrolment.id.clone(),
                    email: row.draft.email.clone(),
                },
            );
        }
        added.emails.insert(email);
        added.email_keys.insert(key);
        planned.push((row, Outcome::Enrol(enrolment)));
    }
    Ok(Plan {
        rows: planned,
        added,
    })
}

/// The email as the program's unique key compares it.
fn email_of(row: &ImportRow) -> String {
    row.draft.email.trim().to_lowercase()
}

/// How many times a drawn code is drawn again when somebody holds it.
const CODE_DRAWS: usize = 8;

/// Writes the plan's enrolments: participants, referrals with their stage and rollup counts,
/// audit entries and events (with their webhook deliveries), in the order of the rows. Answers
/// the codes enrolled. Fails with a conflict when a writer outside this import took an email
/// or code after [`plan`] looked; the caller then enrols the batch row by row.
pub(super) async fn write(
    tx: &mut Tx,
    origin: &Origin,
    program: &Program,
    plan: &Plan,
) -> AppResult<Vec<String>> {
    let enrolling: Vec<(&ImportRow, &Enrolment)> = plan
        .rows
        .iter()
        .filter_map(|(row, outcome)| match outcome {
            Outcome::Enrol(e) => Some((row, e)),
            _ => None,
        })
        .collect();
    if enrolling.is_empty() {
        return Ok(Vec::new());
    }
    let codes = choose_codes(tx, &enrolling).await?;
    let news: Vec<NewParticipant<'_>> = enrolling
        .iter()
        .zip(&codes)
        .map(|((row, e), code)| NewParticipant {
            id: e.id.clone(),
            draft: &row.draft,
            code: code.clone(),
            referred_by: e.referrer_id.clone(),
            signed_up_at: row.signed_up_at,
        })
        .collect();
    let made = participants::insert_many(tx, &program.id, &news).await?;

    let won = program.qualifying_event == "signup";
    let referral_news: Vec<NewReferral<'_>> = enrolling
        .iter()
        .filter_map(|(_, e)| {
            e.referrer_id.as_deref().map(|referrer_id| NewReferral {
                program_id: &program.id,
                referrer_id,
                referred_id: &e.id,
                source: Source::Import,
                won,
                flags: &e.flags,
            })
        })
        .collect();
    let referrals = referrals::create_many(tx, origin, &referral_news).await?;
    let by_participant: HashMap<&str, &Referral> = referrals
        .iter()
        .map(|r| (r.referred_id.as_str(), r))
        .collect();

    // Audit entries and events written in row order: the participant, then the referral it
    // brought. (Their ids, like the row path's, sort by millisecond only.)
    let public: Vec<Published<'_>> = made
        .iter()
        .map(|p| {
            let referral = by_participant.get(p.id.as_str()).map(|r| (*r, r.public()));
            (p, p.public(), referral)
        })
        .collect();
    let mut entries = Vec::with_capacity(public.len() * 2);
    let mut announced: Vec<(&str, &serde_json::Value)> = Vec::with_capacity(public.len() * 3);
    for (p, p_json, referral) in &public {
        entries.push(Created {
            action: "participant.created",
            entity: Participant::ENTITY,
            entity_id: p.audit_id(),
            after: p_json,
        });
        announced.push(("participant.created", p_json));
        if let Some((r, r_json)) = referral {
            entries.push(Created {
                action: "referral.created",
                entity: Referral::ENTITY,
                entity_id: r.audit_id(),
                after: r_json,
            });
            announced.push(("referral.created", r_json));
            if !r.flags.is_empty() {
                announced.push(("referral.flagged", r_json));
            }
            if won {
                announced.push(("referral.won", r_json));
            }
        }
    }
    audit::record_many(tx, origin, &entries).await?;
    events::emit_many(tx, &announced).await?;
    Ok(codes)
}

/// A participant enrolled by the batch with its public form, and the referral it brought with
/// its own.
type Published<'a> = (
    &'a Participant,
    serde_json::Value,
    Option<(&'a Referral, serde_json::Value)>,
);

/// Each row's code: its own (checked by [`plan`]), or one drawn for it that nobody holds.
async fn choose_codes(tx: &mut Tx, rows: &[(&ImportRow, &Enrolment)]) -> AppResult<Vec<String>> {
    let mut codes: Vec<Option<String>> = rows.iter().map(|(row, _)| row.code.clone()).collect();
    let mut in_batch: HashSet<String> = codes.iter().flatten().cloned().collect();
    for _ in 0..CODE_DRAWS {
        let mut drawn = Vec::new();
        for (i, (row, _)) in rows.iter().enumerate() {
            if codes[i].is_some() {
                continue;
            }
            let code = vouch_domain::participant::generate_code(
                row.draft.first_name.as_deref().unwrap_or_default(),
                &row.draft.email,
            );
            if in_batch.insert(code.clone()) {
                drawn.push((i, code));
            }
        }
        if drawn.is_empty() && codes.iter().all(Option::is_some) {
            break;
        }
        let candidates: Vec<String> = drawn.iter().map(|(_, c)| c.clone()).collect();
        let taken = participants::codes_taken(tx, &candidates).await?;
        for (i, code) in drawn {
            if taken.contains(&code) {
                in_batch.remove(&code);
            } else {
                codes[i] = Some(code);
            }
        }
    }
    codes
        .into_iter()
        .map(|c| c.ok_or_else(|| AppError::field("code", "no free referral code could be drawn")))
        .collect()
}
