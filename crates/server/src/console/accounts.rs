//! Accounts and super customers in the console.

use super::{
    Console, CsrfForm, FormBody, FormErrors, Layout, StaffCan, error_page, form_status, ticked,
    with_status,
};
use crate::AppState;
use crate::api::accounts::parse_sort;
use crate::auth::perm;
use crate::console::table::{Column, list_url, sort_headers};
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vouch_app::accounts::AccountView;
use vouch_domain::account::{AccountFields, CloneOverrides, RegistrationPolicy};
use vouch_domain::permission::Action;
use vouch_store::accounts::{Account, ListQuery};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/accounts", get(list))
        .route("/admin/accounts/new", get(new_page).post(create))
        .route("/admin/accounts/{id}", get(show))
        .route("/admin/accounts/{id}/edit", get(edit_page).post(edit))
        .route("/admin/accounts/{id}/clone", get(clone_page).post(clone))
        .route("/admin/accounts/{id}/designate", post(designate))
        .route("/admin/accounts/{id}/nest", post(nest))
        .route("/admin/accounts/{id}/registration", post(registration))
}

const PAGE_SIZE: i64 = 25;

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    super_customers: Option<String>,
    #[serde(default)]
    sort: String,
    /// Kept as text: a mangled link shows the first page rather than an error.
    #[serde(default)]
    starting_after: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/list.html")]
struct ListPage {
    l: Layout,
    q: String,
    super_only: bool,
    sort: String,
    columns: Vec<Column>,
    rows: Vec<Account>,
    /// How many accounts the search finds in all.
    total: i64,
    next_url: Option<String>,
    can_write: bool,
}

async fn list(
    StaffCan(mut console, _): StaffCan<perm::AccountsRead>,
    Query(p): Query<ListParams>,
) -> Response {
    // A missing or mangled sort shows the list by name rather than an error.
    let sort = if parse_sort(Some(&p.sort)).is_ok() {
        p.sort.clone()
    } else {
        "name".to_string()
    };
    let (key, descending) = parse_sort(Some(&sort)).unwrap_or_default();
    let super_only = ticked(&p.super_customers);
    let query = ListQuery {
        search: Some(p.q.clone()),
        super_customers_only: super_only,
        sort: key,
        descending,
        starting_after: p.starting_after.trim().parse().ok(),
        limit: PAGE_SIZE,
        ..Default::default()
    };
    let found = async {
        let rows = vouch_app::accounts::list_accounts(&console.state, &query).await?;
        let total = vouch_app::accounts::count_accounts(&console.state, &query).await?;
        Ok::<_, vouch_app::AppError>((rows, total))
    }
    .await;
    let (mut rows, total) = match found {
        Ok(found) => found,
        Err(e) => return error_page(&e.into()),
    };
    let has_more = rows.len() > usize::try_from(PAGE_SIZE).unwrap_or(25);
    rows.truncate(usize::try_from(PAGE_SIZE).unwrap_or(25));
    let only = if super_only { "on" } else { "" };
    let next_url = has_more
        .then(|| rows.last().map(|last| last.id.to_string()))
        .flatten()
        .map(|after| {
            list_url(
                "/admin/accounts",
                &[
                    ("q", &p.q),
                    ("sort", &sort),
                    ("super_customers", only),
                    ("starting_after", &after),
                ],
            )
        });
    let columns = sort_headers(
        &[
            ("id", "Customer id"),
            ("name", "Name"),
            ("", "Code"),
            ("", "Email"),
            ("", "Owner"),
            ("", "Type"),
            ("", "Super customer"),
        ],
        &sort,
        |s| {
            list_url(
                "/admin/accounts",
                &[("q", &p.q), ("sort", s), ("super_customers", only)],
            )
        },
    );
    let can_write = console.may(Action::AccountsWrite);
    ListPage {
        l: console.layout("accounts"),
        q: p.q,
        super_only,
        sort,
        columns,
        rows,
        total,
        next_url,
        can_write,
    }
    .into_response()
}

/// The account form as the browser sends it.
#[derive(Deserialize, Default)]
pub struct AccountForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub owner_first_name: String,
    #[serde(default)]
    pub owner_last_name: String,
    #[serde(default)]
    pub owner_phone: String,
    pub vendor_matrix: Option<String>,
    pub corporate_catalog: Option<String>,
    pub whitelabeling: Option<String>,
    pub exempt_from_membership_fees: Option<String>,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub registration_policy: String,
    #[serde(default)]
    pub partner_site_url: String,
    #[serde(default)]
    pub parent_id: String,
    pub is_super_customer: Option<String>,
    #[serde(default)]
    pub beneficiary_label: String,
}

impl AccountForm {
    pub fn fields(&self) -> AccountFields {
        AccountFields {
            name: self.name.clone(),
            code: self.code.clone(),
            email: self.email.clone(),
            owner_first_name: self.owner_first_name.clone(),
            owner_last_name: self.owner_last_name.clone(),
            owner_phone: self.owner_phone.clone(),
            vendor_matrix: ticked(&self.vendor_matrix),
            corporate_catalog: ticked(&self.corporate_catalog),
            whitelabeling: ticked(&self.whitelabeling),
            exempt_from_membership_fees: ticked(&self.exempt_from_membership_fees),
            notes: self.notes.clone(),
            registration_policy: self.registration_policy.clone(),
            partner_site_url: self.partner_site_url.clone(),
        }
    }
}

pub const ACCOUNT_FIELDS: &[&str] = &[
    "name",
    "code",
    "email",
    "owner_first_name",
    "owner_last_name",
    "owner_phone",
    "notes",
    "registration_policy",
    "partner_site_url",
    "parent_id",
    "beneficiary_label",
];

/// What the shared account form template needs.
pub struct FormView {
    pub title: String,
    pub action: String,
    pub submit: String,
    pub f: AccountFields,
    pub errors: FormErrors,
    /// Creation only: pick a parent super customer and designate.
    pub placement: bool,
    pub parent_id: String,
    pub is_super_customer: bool,
    /// Cloning only: the beneficiary label of the convention.
    pub clone_label: Option<String>,
    pub supers: Vec<Account>,
    pub policies: Vec<(String, String)>,
    pub cancel: String,
}

fn policies() -> Vec<(String, String)> {
    RegistrationPolicy::ALL
        .iter()
        .map(|p| (p.as_str().to_string(), p.label().to_string()))
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/form.html")]
struct FormPage {
    l: Layout,
    v: FormView,
}

async fn super_customers(console: &Console) -> Vec<Account> {
    vouch_app::accounts::super_customers(&console.state)
        .await
        .unwrap_or_default()
}

async fn new_page(StaffCan(mut console, _): StaffCan<perm::AccountsWrite>) -> Response {
    let supers = super_customers(&console).await;
    let v = FormView {
        title: "New account".into(),
        action: "/admin/accounts/new".into(),
        submit: "Create account".into(),
        f: AccountFields::default(),
        errors: FormErrors::default(),
        placement: true,
        parent_id: String::new(),
        is_super_customer: false,
        clone_label: None,
        supers,
        policies: policies(),
        cancel: "/admin/accounts".into(),
    };
    FormPage {
        l: console.layout("accounts"),
        v,
    }
    .into_response()
}

async fn create(
    StaffCan(mut console, _): StaffCan<perm::AccountsWrite>,
    CsrfForm(form): CsrfForm<AccountForm>,
) -> Response {
    let fields = form.fields();
    let parent_id = match form.parent_id.trim() {
        "" => Ok(None),
        raw => raw
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::field("parent_id", "must be a customer id")),
    };
    let result = match parent_id {
        Ok(parent_id) => vouch_app::accounts::create_account(
            &console.state,
            &console.origin,
            &fields,
            parent_id,
            ticked(&form.is_super_customer),
        )
        .await
        .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(account) => {
            console
                .redirect_with(
                    &format!("/admin/accounts/{}", account.id),
                    &format!("Account {} created.", account.id),
                )
                .await
        }
        Err(err) if err.status.is_client_error() => {
            let supers = super_customers(&console).await;
            let v = FormView {
                title: "New account".into(),
                action: "/admin/accounts/new".into(),
                submit: "Create account".into(),
                f: fields,
                errors: FormErrors::from_api(&err, "", ACCOUNT_FIELDS),
                placement: true,
                parent_id: form.parent_id.clone(),
                is_super_customer: ticked(&form.is_super_customer),
                clone_label: None,
                supers,
                policies: policies(),
                cancel: "/admin/accounts".into(),
            };
            with_status(
                form_status(&err),
                FormPage {
                    l: console.layout("accounts"),
                    v,
                },
            )
        }
        Err(err) => error_page(&err),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/show.html")]
struct ShowPage {
    l: Layout,
    a: AccountView,
    parent: Option<Account>,
    children: Vec<Account>,
    supers: Vec<Account>,
    can_write: bool,
    can_decide: bool,
    can_request: bool,
}

fn account_id(raw: &str) -> Result<i64, Response> {
    raw.parse()
        .map_err(|_| error_page(&ApiError::not_found("account")))
}

async fn show(
    StaffCan(mut console, _): StaffCan<perm::AccountsRead>,
    Path(id): Path<String>,
) -> Response {
    let id = match account_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let loaded = async {
        let account = vouch_app::accounts::get_account(&console.state, id).await?;
        let parent = match account.parent_id {
            Some(p) => vouch_app::accounts::find_account(&console.state, p).await?,
            None => None,
        };
        let children = vouch_app::accounts::children(&console.state, id).await?;
        let supers = vouch_app::accounts::super_customers(&console.state).await?;
        Ok::<_, vouch_app::AppError>((account, parent, children, supers))
    }
    .await;
    let (account, parent, children, supers) = match loaded {
        Ok(found) => found,
        Err(e) => return error_page(&e.into()),
    };
    let supers = supers.into_iter().filter(|s| s.id != account.id).collect();
    let page = ShowPage {
        a: AccountView::new(&console.state, account),
        parent,
        children,
        supers,
        can_write: console.may(Action::AccountsWrite),
        can_decide: console.may(Action::SetupsDecide),
        can_request: console.may(Action::SetupsRequest),
        l: console.layout("accounts"),
    };
    page.into_response()
}

async fn edit_page(
    StaffCan(mut console, _): StaffCan<perm::AccountsWrite>,
    Path(id): Path<String>,
) -> Response {
    let account = match account_id(&id) {
        Ok(id) => vouch_app::accounts::get_account(&console.state, id)
            .await
            .map_err(ApiError::from),
        Err(r) => return r,
    };
    match account {
        Ok(a) => {
            let v = edit_view(&a, a.fields(), FormErrors::default());
            FormPage {
                l: console.layout("accounts"),
                v,
            }
            .into_response()
        }
        Err(e) => error_page(&e),
    }
}

fn edit_view(a: &Account, f: AccountFields, errors: FormErrors) -> FormView {
    FormView {
        title: format!("Edit {} ({})", a.name, a.id),
        action: format!("/admin/accounts/{}/edit", a.id),
        submit: "Save changes".into(),
        f,
        errors,
        placement: false,
        parent_id: String::new(),
        is_super_customer: false,
        clone_label: None,
        supers: Vec::new(),
        policies: policies(),
        cancel: format!("/admin/accounts/{}", a.id),
    }
}

async fn edit(
    StaffCan(mut console, _): StaffCan<perm::AccountsWrite>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AccountForm>,
) -> Response {
    let before = match account_id(&id) {
        Ok(id) => vouch_app::accounts::get_account(&console.state, id)
            .await
            .map_err(ApiError::from),
        Err(r) => return r,
    };
    let before = match before {
        Ok(a) => a,
        Err(e) => return error_page(&e),
    };
    let fields = form.fields();
    match vouch_app::accounts::update_account(&console.state, &console.origin, before.id, &fields)
        .await
        .map_err(ApiError::from)
    {
        Ok(a) => {
            console
                .redirect_with(&format!("/admin/accounts/{}", a.id), "Changes saved.")
                .await
        }
        Err(err) if err.status.is_client_error() => {
            let v = edit_view(
                &before,
                fields,
                FormErrors::from_api(&err, "", ACCOUNT_FIELDS),
            );
            with_status(
                form_status(&err),
                FormPage {
                    l: console.layout("accounts"),
                    v,
                },
            )
        }
        Err(err) => error_page(&err),
    }
}

#[derive(Deserialize, Default)]
struct CloneParams {
    #[serde(default)]
    label: String,
}

fn clone_view(a: &Account, label: String, f: AccountFields, errors: FormErrors) -> FormView {
    FormView {
        title: format!("Clone {} into a referral super customer", a.name),
        action: format!("/admin/accounts/{}/clone", a.id),
        submit: "Save clone".into(),
        f,
        errors,
        placement: false,
        parent_id: String::new(),
        is_super_customer: false,
        clone_label: Some(label),
        supers: Vec::new(),
        policies: policies(),
        cancel: format!("/admin/accounts/{}", a.id),
    }
}

/// The clone form, pre-filled by the naming convention; `?label=Vector` recomputes it for a
/// shorter beneficiary name.
async fn clone_page(
    StaffCan(mut console, _): StaffCan<perm::AccountsWrite>,
    Path(id): Path<String>,
    Query(p): Query<CloneParams>,
) -> Response {
    let account = match account_id(&id) {
        Ok(id) => vouch_app::accounts::get_account(&console.state, id)
            .await
            .map_err(ApiError::from),
        Err(r) => return r,
    };
    let a = match account {
        Ok(a) => a,
        Err(e) => return error_page(&e),
    };
    let label = if p.label.trim().is_empty() {
        a.name.clone()
    } else {
        p.label.trim().to_string()
    };
    let overrides = CloneOverrides {
        beneficiary_label: Some(label.clone()),
        ..Default::default()
    };
    let f = vouch_app::accounts::clone_preview(&console.state, &a, &overrides);
    let v = clone_view(&a, label, f, FormErrors::default());
    FormPage {
        l: console.layout("accounts"),
        v,
    }
    .into_response()
}

async fn clone(
    StaffCan(mut console, _): StaffCan<perm::AccountsWrite>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AccountForm>,
) -> Response {
    let a = match account_id(&id) {
        Ok(id) => vouch_app::accounts::get_account(&console.state, id)
            .await
            .map_err(ApiError::from),
        Err(r) => return r,
    };
    let a = match a {
        Ok(a) => a,
        Err(e) => return error_page(&e),
    };
    // Every field of the form overrides the convention: what the user saw is what is saved.
    let f = form.fields();
    let overrides = CloneOverrides::all_of(&form.beneficiary_label, &f);
    match vouch_app::accounts::clone_account(&console.state, &console.origin, a.id, &overrides)
        .await
        .map_err(ApiError::from)
    {
        Ok(clone) => {
            console
                .redirect_with(
                    &format!("/admin/accounts/{}", clone.id),
                    &format!(
                        "Clone {} created. Designate it as a super customer next.",
                        clone.id
                    ),
                )
                .await
        }
        Err(err) if err.status.is_client_error() => {
            let v = clone_view(
                &a,
                form.beneficiary_label.clone(),
                f,
                FormErrors::from_api(&err, "", ACCOUNT_FIELDS),
            );
            with_status(
                form_status(&err),
                FormPage {
                    l: console.layout("accounts"),
                    v,
                },
            )
        }
        Err(err) => error_page(&err),
    }
}

#[derive(Deserialize, Default)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    value: String,
}

/// Runs a one-button action and comes back to the account page with its outcome.
async fn account_action(
    console: Console,
    id: String,
    form: ActionForm,
    action: Action,
    run: impl AsyncFnOnce(&Console, i64, &str) -> Result<String, ApiError>,
) -> Response {
    if let Err(r) = console.require(action).await {
        return r;
    }
    if let Err(r) = console.check_csrf(&form.csrf) {
        return r;
    }
    let id = match account_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let back = format!("/admin/accounts/{id}");
    console
        .finish(&back, run(&console, id, form.value.trim()).await)
        .await
}

async fn designate(
    console: Console,
    Path(id): Path<String>,
    FormBody(form): FormBody<ActionForm>,
) -> Response {
    account_action(
        console,
        id,
        form,
        Action::AccountsWrite,
        async |c, id, value| {
            let on = value == "on";
            vouch_app::accounts::designate(&c.state, &c.origin, id, on).await?;
            Ok(if on {
                "Designated as a super customer.".into()
            } else {
                "No longer a super customer.".into()
            })
        },
    )
    .await
}

async fn nest(
    console: Console,
    Path(id): Path<String>,
    FormBody(form): FormBody<ActionForm>,
) -> Response {
    account_action(
        console,
        id,
        form,
        Action::AccountsWrite,
        async |c, id, value| {
            let parent = match value {
                "" => None,
                v => Some(
                    v.parse::<i64>()
                        .map_err(|_| ApiError::field("parent_id", "choose a super customer"))?,
                ),
            };
            vouch_app::accounts::set_parent(&c.state, &c.origin, id, parent).await?;
            Ok(match parent {
                Some(p) => format!("Nested under super customer {p}."),
                None => "Removed from its super customer.".into(),
            })
        },
    )
    .await
}

async fn registration(
    console: Console,
    Path(id): Path<String>,
    FormBody(form): FormBody<ActionForm>,
) -> Response {
    account_action(
        console,
        id,
        form,
        Action::SetupsDecide,
        async |c, id, value| {
            let open = value == "open";
            vouch_app::accounts::set_registration(&c.state, &c.origin, id, open).await?;
            Ok(if open {
                "Registration link approved: it now registers accounts.".into()
            } else {
                "Registration link closed.".into()
            })
        },
    )
    .await
}
