//! People who refer sales (seed 002) and their agreed referral-bonus terms. Terms are never
//! edited in place: setting them adds a version, and the history stays.

use crate::resources::{BonusTerms, Person as PersonOut};
use crate::{AppError, AppResult, Ctx, commit, record};
use vouch_domain::person::{PersonFields, PersonKind, TermsFields};
use vouch_store::audit::Origin;
use vouch_store::people::{self, Person};

pub async fn create_person(
    ctx: &Ctx,
    origin: &Origin,
    kind: PersonKind,
    fields: &PersonFields,
) -> AppResult<Person> {
    let draft = fields.parse(kind)?;
    let mut tx = ctx.store.begin().await?;
    let person = people::create(&mut tx, kind, &draft).await?;
    record::change(&mut tx, origin, "person.created", None, &person, &[]);
    commit(tx).await?;
    Ok(person)
}

pub async fn get_person(ctx: &Ctx, id: &str) -> AppResult<Person> {
    let mut conn = ctx.store.conn().await?;
    people::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("person"))
}

/// Changes the fields `apply` sets on the person's current ones.
pub async fn update_person(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    apply: impl FnOnce(&mut PersonFields),
) -> AppResult<Person> {
    let mut tx = ctx.store.begin().await?;
    let before = people::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("person"))?;
    let mut fields = fields_of(&before);
    apply(&mut fields);
    let draft = fields.parse(before.kind)?;
    let after = people::update(&mut tx, &before, &draft).await?;
    record::change(
        &mut tx,
        origin,
        "person.updated",
        Some(&before),
        &after,
        &[],
    );
    commit(tx).await?;
    Ok(after)
}

/// A person's fields, e.g. to pre-fill a form or to apply a patch to.
pub fn fields_of(p: &Person) -> PersonFields {
    PersonFields {
        name: p.name.clone(),
        email: p.email.clone().unwrap_or_default(),
        phone: p.phone.clone().unwrap_or_default(),
        company: p.company.clone().unwrap_or_default(),
        employee_number: p.employee_number.clone().unwrap_or_default(),
        notes: p.notes.clone().unwrap_or_default(),
    }
}

/// People newest first (`limit + 1` rows), of one kind and matching a search when given.
pub async fn list_people(
    ctx: &Ctx,
    kind: Option<PersonKind>,
    search: Option<&str>,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Person>> {
    let mut conn = ctx.store.conn().await?;
    Ok(people::list(&mut conn, kind, search, starting_after, limit).await?)
}

/// Agrees new terms with an employee or vendor (contacts get the program's defaults). The
/// earlier versions stay; bonuses already created keep the terms they copied.
pub async fn set_terms(
    ctx: &Ctx,
    origin: &Origin,
    person_id: &str,
    fields: &TermsFields,
) -> AppResult<BonusTerms> {
    let terms = fields.parse()?;
    let mut tx = ctx.store.begin().await?;
    let person = people::get(&mut tx, person_id)
        .await?
        .ok_or_else(|| AppError::not_found("person"))?;
    if !person.kind.has_terms() {
        return Err(AppError::conflict(
            "contacts_have_no_terms",
            "contacts are paid on the program's default terms; only employees and vendors have their own",
        ));
    }
    let before = people::current_terms(&mut tx, person_id).await?;
    let version = people::add_terms(&mut tx, person_id, &terms, &origin.actor.label).await?;
    let after = BonusTerms::from(version);
    record::entry(
        &mut tx,
        origin,
        "person.terms_set",
        "person",
        person_id,
        before.map(|b| serde_json::to_value(BonusTerms::from(b)).unwrap_or_default()),
        serde_json::to_value(&after).ok(),
    );
    commit(tx).await?;
    Ok(after)
}

/// Every version of a person's terms, oldest first; the last is in force.
pub async fn terms_history(ctx: &Ctx, person_id: &str) -> AppResult<Vec<BonusTerms>> {
    let mut conn = ctx.store.conn().await?;
    if people::get(&mut conn, person_id).await?.is_none() {
        return Err(AppError::not_found("person"));
    }
    Ok(people::terms_history(&mut conn, person_id)
        .await?
        .into_iter()
        .map(BonusTerms::from)
        .collect())
}

/// A person as the API shows them, with the terms in force.
pub async fn person_view(ctx: &Ctx, person: Person) -> AppResult<PersonView> {
    let mut conn = ctx.store.conn().await?;
    let terms = people::current_terms(&mut conn, &person.id)
        .await?
        .map(BonusTerms::from);
    Ok(PersonView {
        person: person.into(),
        terms,
    })
}

/// A person with their agreed terms in force (`null` for contacts and until agreed).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PersonView {
    #[serde(flatten)]
    pub person: PersonOut,
    pub terms: Option<BonusTerms>,
}

/// What a people import did (or, on a dry run, would do).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PeopleImportReport {
    pub dry_run: bool,
    /// Rows added as new people.
    pub created: u64,
    /// Rows skipped because the person is there already (same kind and email, or same kind and
    /// name without an email): importing a file twice changes nothing.
    pub already_present: u64,
    /// Problems by line; those lines were skipped.
    pub errors: Vec<vouch_domain::import::LineError>,
}

/// Imports people from CSV (see `vouch_domain::person::parse_people_csv` for the columns),
/// each row in its own transaction and audited like one added by hand.
pub async fn import_people(
    ctx: &Ctx,
    origin: &Origin,
    text: &str,
    default_kind: Option<PersonKind>,
    dry_run: bool,
) -> AppResult<PeopleImportReport> {
    let (rows, errors) = vouch_domain::person::parse_people_csv(text, default_kind)
        .map_err(|m| AppError::field("csv", m))?;
    let mut report = PeopleImportReport {
        dry_run,
        created: 0,
        already_present: 0,
        errors,
    };
    for row in rows {
        let mut tx = ctx.store.begin().await?;
        if people::find_same(
            &mut tx,
            row.kind,
            &row.draft.name,
            row.draft.email.as_deref(),
        )
        .await?
        .is_some()
        {
            report.already_present += 1;
            continue;
        }
        if dry_run {
            report.created += 1;
            continue;
        }
        let person = people::create(&mut tx, row.kind, &row.draft).await?;
        record::change(&mut tx, origin, "person.created", None, &person, &[]);
        commit(tx).await?;
        report.created += 1;
    }
    report.errors.sort_by_key(|e| e.line);
    Ok(report)
}
