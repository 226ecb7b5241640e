//! Tools → View Referrals, Submit a Referral, and a referral's page (edit notes, stage and
//! value; the history both sides see). Everything is limited to the user's own partner.

use super::{Portal, PortalLayout};
use crate::AppState;
use crate::api::partner_referrals::parse_sort;
use crate::console::partner_referrals::{
    EDIT_FIELDS, EditForm, REFERRAL_FIELDS, ReferralForm, columns,
};
use crate::console::table::Column;
use crate::console::{CsrfForm, FormErrors, error_page, form_status, with_status};
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use vouch_app::partner_referrals::{self as svc, Side};
use vouch_app::resources::{PartnerReferral, ReferralChange};
use vouch_domain::partner_referral::Direction;
use vouch_store::partner_referrals::ReferralQuery;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal/referrals", get(list))
        .route("/portal/referrals/new", get(new_page).post(submit))
        .route("/portal/referrals/{id}", get(show).post(edit))
}

const PAGE_SIZE: i64 = 25;

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    starting_after: Option<String>,
}

impl ListParams {
    fn with_sort(&self, sort: &str) -> String {
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!("/portal/referrals?q={}&sort={}", enc(&self.q), enc(sort))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/referrals.html")]
struct ListPage {
    l: PortalLayout,
    q: String,
    sort: String,
    columns: Vec<Column>,
    rows: Vec<PartnerReferral>,
    total: i64,
    first_page: bool,
    next_url: Option<String>,
}

async fn list(mut portal: Portal, Query(p): Query<ListParams>) -> Response {
    let result = async {
        let (sort, descending) = parse_sort(Some(p.sort.as_str()).filter(|s| !s.is_empty()))?;
        let side = Side::Partner {
            partner_id: portal.partner_id(),
            origin: &portal.origin,
        };
        let found = svc::list(
            &portal.state,
            &side,
            &ReferralQuery {
                search: Some(p.q.as_str()),
                ..Default::default()
            },
            sort,
            descending,
            p.starting_after.as_deref(),
            PAGE_SIZE,
        )
        .await?;
        Ok::<_, ApiError>((found, sort, descending))
    }
    .await;
    let (found, sort, descending) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    let current = if descending {
        format!("-{}", sort.name())
    } else {
        sort.name().to_string()
    };
    let next_url = found
        .has_more
        .then(|| found.rows.last().map(|r| r.id.clone()))
        .flatten()
        .map(|after| format!("{}&starting_after={after}", p.with_sort(&current)));
    let columns = columns(sort, descending, |s| p.with_sort(s))
        .into_iter()
        .filter(|c| c.label != "Partner")
        .collect();
    ListPage {
        l: portal.layout("referrals"),
        columns,
        total: found.total,
        rows: found.rows,
        first_page: p.starting_after.is_none(),
        next_url,
        q: p.q,
        sort: current,
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/referral_new.html")]
struct NewPage {
    l: PortalLayout,
    f: ReferralForm,
    errors: FormErrors,
}

async fn new_page(mut portal: Portal) -> Response {
    NewPage {
        l: portal.layout("submit"),
        f: ReferralForm::with_currency("USD"),
        errors: FormErrors::default(),
    }
    .into_response()
}

async fn submit(mut portal: Portal, CsrfForm(form): CsrfForm<ReferralForm>) -> Response {
    let result = async {
        let fields = form.client_fields()?;
        let side = Side::Partner {
            partner_id: portal.partner_id(),
            origin: &portal.origin,
        };
        svc::create(
            &portal.state,
            &side,
            portal.partner_id(),
            Direction::ToUs,
            &fields,
        )
        .await
        .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(r) => {
            portal
                .redirect_with(
                    &format!("/portal/referrals/{}", r.id),
                    &format!(
                        "Referral {} submitted: your partner manager will contact you about it.",
                        r.reference
                    ),
                )
                .await
        }
        Err(err) if err.status.is_client_error() && err.status.as_u16() != 404 => with_status(
            form_status(&err),
            NewPage {
                l: portal.layout("submit"),
                errors: FormErrors::from_api(&err, "", REFERRAL_FIELDS),
                f: form,
            },
        ),
        Err(err) => error_page(&err),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/referral.html")]
struct ShowPage {
    l: PortalLayout,
    r: PartnerReferral,
    history: Vec<ReferralChange>,
    f: EditForm,
    errors: FormErrors,
    editing: bool,
}

#[derive(Deserialize, Default)]
struct ShowParams {
    #[serde(default)]
    edit: String,
}

async fn show_page(
    portal: &mut Portal,
    id: &str,
    form: Option<EditForm>,
    errors: FormErrors,
    editing: bool,
) -> Result<ShowPage, ApiError> {
    let side = Side::Partner {
        partner_id: portal.partner_id(),
        origin: &portal.origin,
    };
    let (r, history) = svc::get(&portal.state, &side, id).await?;
    Ok(ShowPage {
        l: portal.layout("referrals"),
        f: form.unwrap_or_else(|| EditForm::of(&r)),
        r,
        history,
        errors,
        editing,
    })
}

async fn show(mut portal: Portal, Path(id): Path<String>, Query(q): Query<ShowParams>) -> Response {
    match show_page(&mut portal, &id, None, FormErrors::default(), q.edit == "1").await {
        Ok(page) => page.into_response(),
        Err(e) => error_page(&e),
    }
}

async fn edit(
    mut portal: Portal,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<EditForm>,
) -> Response {
    let result = async {
        let fields = form.fields()?;
        let side = Side::Partner {
            partner_id: portal.partner_id(),
            origin: &portal.origin,
        };
        svc::edit(&portal.state, &side, &id, &fields)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(r) => {
            portal
                .redirect_with(
                    &format!("/portal/referrals/{id}"),
                    &format!("Referral {} saved.", r.reference),
                )
                .await
        }
        Err(err) if err.status.is_client_error() && err.status.as_u16() != 404 => {
            let errors = FormErrors::from_api(&err, "", EDIT_FIELDS);
            match show_page(&mut portal, &id, Some(form), errors, true).await {
                Ok(page) => with_status(form_status(&err), page),
                Err(e) => error_page(&e),
            }
        }
        Err(err) => error_page(&err),
    }
}
