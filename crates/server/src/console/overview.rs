//! `/admin`: the console's home. Per program and in total, the last 30 days (clicks, referred
//! signups, wins, rewards delivered) and what is owed; and each queue where something waits,
//! with a link into it. A staff user sees the parts their role may read.

use super::{Layout, StaffCan, error_page};
use crate::AppState;
use crate::auth::perm;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use vouch_app::overview::{DAYS, Overview};
use vouch_domain::permission::Action;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(show))
        .route("/admin/", get(show))
        .route("/admin/{*rest}", axum::routing::any(not_found))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/not_found.html")]
struct NotFoundPage {
    l: Layout,
}

/// An address under `/admin` that no page answers: the console's frame with a way on, not a
/// blank page (signed out, the sign-in page as everywhere in the console).
async fn not_found(console: Result<super::Console, Response>) -> Response {
    match console {
        Ok(mut console) => (
            axum::http::StatusCode::NOT_FOUND,
            NotFoundPage {
                l: console.layout(""),
            },
        )
            .into_response(),
        Err(to_login) => to_login,
    }
}

/// A link into a queue and how many items wait there.
struct Queue {
    id: &'static str,
    label: &'static str,
    count: i64,
    href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/overview.html")]
struct Page {
    l: Layout,
    days: i64,
    o: Overview,
    queues: Vec<Queue>,
    show_webhooks: bool,
    /// Anything at all waits.
    waiting: bool,
}

impl Page {
    /// `$10.00 + €5.00`, or `—` when nothing.
    fn sums(&self, sums: &[(String, i64)]) -> String {
        crate::view::sums(sums)
    }

    /// `part` as a share of `whole`, `—` when there is no whole.
    fn rate(&self, part: &i64, whole: &i64) -> String {
        crate::view::rate(*part, *whole)
    }
}

async fn show(StaffCan(mut console, _): StaffCan<perm::ProgramsRead>) -> Response {
    let o = match vouch_app::overview::overview(&console.state).await {
        Ok(o) => o,
        Err(e) => return error_page(&e.into()),
    };
    let q = &o.queues;
    let mut queues = Vec::new();
    let mut offer = |action: Action, id, label, count, href: String| {
        if console.may(action) {
            queues.push(Queue {
                id,
                label,
                count,
                href,
            });
        }
    };
    let program_queue = |(count, program): &(i64, Option<String>), tail: &str| {
        let href = program.as_ref().map_or_else(
            || "/admin/programs".to_string(),
            |id| format!("/admin/programs/{id}{tail}"),
        );
        (*count, href)
    };
    let (count, href) = program_queue(&o.to_review, "/referrals?review=pending");
    offer(
        Action::ReferralsReview,
        "q-review",
        "Flagged referrals to review",
        count,
        href,
    );
    let (count, href) = program_queue(&o.clawbacks, "/rewards");
    offer(
        Action::RewardsManage,
        "q-clawbacks",
        "Reward clawbacks to decide",
        count,
        href,
    );
    offer(
        Action::SetupsDecide,
        "q-setups",
        "Super customer setups to approve",
        q.setups,
        "/admin/setups?status=requested".into(),
    );
    offer(
        Action::SalesRead,
        "q-bonuses",
        "Sales bonuses ready for review",
        q.bonuses,
        "/admin/bonuses?status=ready_for_review".into(),
    );
    offer(
        Action::PartnersRead,
        "q-commissions",
        "Partner commissions ready for review (on won referrals from partners)",
        q.commissions,
        "/admin/partner-referrals?direction=to_us&stage=won".into(),
    );
    offer(
        Action::PartnersRead,
        "q-partner-referrals",
        "New referrals from partners",
        q.partner_referrals_new,
        "/admin/partner-referrals?direction=to_us&stage=new".into(),
    );
    offer(
        Action::SalesRead,
        "q-payments",
        "Payments due, not yet in a batch",
        q.payments_due,
        "/admin/payments?status=due".into(),
    );
    offer(
        Action::SalesRead,
        "q-payment-clawbacks",
        "Clawbacks of paid payments to decide (on each sale's or reward's page)",
        q.payment_clawbacks,
        "/admin/payments?status=paid".into(),
    );
    offer(
        Action::SalesRead,
        "q-batches",
        "Payout batches waiting for approval",
        q.batches,
        "/admin/payout-batches".into(),
    );
    offer(
        Action::WebhooksManage,
        "q-dead-jobs",
        "Deliveries and emails that gave up",
        q.dead_jobs,
        "/admin/jobs".into(),
    );
    let show_webhooks = console.may(Action::WebhooksManage);
    let waiting = queues.iter().any(|q| q.count > 0)
        || (show_webhooks && !o.queues.failing_endpoints.is_empty());
    let page = Page {
        l: console.layout("overview"),
        waiting,
        days: DAYS,
        show_webhooks,
        queues,
        o,
    };
    page.into_response()
}
