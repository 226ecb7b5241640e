//! Access control: every API route and console action, tried with no credentials and with
//! every role and key scope, against the permission table.

mod common;

use common::{Api, TestApp, each_backend};
use reqwest::{Method, StatusCode};
use serde_json::json;
use vouch_domain::permission::{Action, Role, Scope, role_allows, scope_allows};

/// Every API route with the action it needs. `{a}` is an account, `{s}` a setup, `{u}` a user,
/// `{k}` an API key.
const API_ROUTES: &[(&str, &str, Action)] = &[
    ("GET", "/api/v1/accounts", Action::AccountsRead),
    ("POST", "/api/v1/accounts", Action::AccountsWrite),
    ("GET", "/api/v1/accounts/{a}", Action::AccountsRead),
    ("PATCH", "/api/v1/accounts/{a}", Action::AccountsWrite),
    (
        "GET",
        "/api/v1/accounts/{a}/sub-customers",
        Action::AccountsRead,
    ),
    ("POST", "/api/v1/accounts/{a}/clone", Action::AccountsWrite),
    (
        "POST",
        "/api/v1/accounts/{a}/clone-preview",
        Action::AccountsRead,
    ),
    (
        "POST",
        "/api/v1/accounts/{a}/designate",
        Action::AccountsWrite,
    ),
    ("POST", "/api/v1/accounts/{a}/nest", Action::AccountsWrite),
    (
        "POST",
        "/api/v1/accounts/{a}/registration",
        Action::SetupsDecide,
    ),
    ("GET", "/api/v1/referral-setups", Action::SetupsRead),
    ("POST", "/api/v1/referral-setups", Action::SetupsRequest),
    ("GET", "/api/v1/referral-setups/{s}", Action::SetupsRead),
    (
        "POST",
        "/api/v1/referral-setups/{s}/approve",
        Action::SetupsDecide,
    ),
    (
        "POST",
        "/api/v1/referral-setups/{s}/reject",
        Action::SetupsDecide,
    ),
    ("GET", "/api/v1/staff-users", Action::UsersRead),
    ("POST", "/api/v1/staff-users", Action::UsersManage),
    ("GET", "/api/v1/staff-users/{u}", Action::UsersRead),
    ("PATCH", "/api/v1/staff-users/{u}", Action::UsersManage),
    ("GET", "/api/v1/api-keys", Action::ApiKeysManage),
    ("POST", "/api/v1/api-keys", Action::ApiKeysManage),
    ("POST", "/api/v1/api-keys/{k}/revoke", Action::ApiKeysManage),
    ("GET", "/api/v1/audit-events", Action::AuditRead),
    ("GET", "/api/v1/partners", Action::PartnersRead),
    ("POST", "/api/v1/partners", Action::PartnersWrite),
    ("GET", "/api/v1/partners/{t}", Action::PartnersRead),
    ("PATCH", "/api/v1/partners/{t}", Action::PartnersWrite),
    ("POST", "/api/v1/partners/imports", Action::PartnersWrite),
    (
        "GET",
        "/api/v1/partners/{t}/commission-terms",
        Action::PartnersRead,
    ),
    (
        "PUT",
        "/api/v1/partners/{t}/commission-terms/{p}",
        Action::TermsManage,
    ),
    (
        "DELETE",
        "/api/v1/partners/{t}/commission-terms/{p}",
        Action::TermsManage,
    ),
    ("GET", "/api/v1/partners/{t}/users", Action::PartnersRead),
    ("POST", "/api/v1/partners/{t}/users", Action::PartnersWrite),
    (
        "DELETE",
        "/api/v1/partners/{t}/users/pus_missing",
        Action::PartnersWrite,
    ),
    ("GET", "/api/v1/partner-referrals", Action::PartnersRead),
    ("POST", "/api/v1/partner-referrals", Action::PartnersWrite),
    ("GET", "/api/v1/partner-referrals/{r}", Action::PartnersRead),
    (
        "PATCH",
        "/api/v1/partner-referrals/{r}",
        Action::PartnersWrite,
    ),
    (
        "POST",
        "/api/v1/partner-referrals/{r}/duplicate",
        Action::PartnersWrite,
    ),
    ("GET", "/api/v1/commissions", Action::PartnersRead),
    (
        "GET",
        "/api/v1/commissions/com_missing",
        Action::PartnersRead,
    ),
    (
        "POST",
        "/api/v1/commissions/com_missing/approve",
        Action::SalesApprove,
    ),
    (
        "POST",
        "/api/v1/commissions/com_missing/reject",
        Action::SalesApprove,
    ),
    ("GET", "/api/v1/lead-sales", Action::PartnersRead),
    ("POST", "/api/v1/lead-sales", Action::PartnersWrite),
    ("GET", "/api/v1/lead-sales/{l}", Action::PartnersRead),
    (
        "POST",
        "/api/v1/lead-sales/{l}/retry",
        Action::PartnersWrite,
    ),
    (
        "GET",
        "/api/v1/partners/{t}/lead-statement",
        Action::PartnersRead,
    ),
    (
        "GET",
        "/api/v1/partners/{t}/lead-statement.csv",
        Action::PartnersRead,
    ),
    ("GET", "/api/v1/people", Action::PeopleRead),
    ("POST", "/api/v1/people", Action::PeopleWrite),
    ("GET", "/api/v1/people/{e}", Action::PeopleRead),
    ("PATCH", "/api/v1/people/{e}", Action::PeopleWrite),
    ("GET", "/api/v1/people/{e}/terms", Action::PeopleRead),
    ("POST", "/api/v1/people/{e}/terms", Action::TermsManage),
    ("GET", "/api/v1/people/{e}/statement", Action::SalesRead),
    (
        "POST",
        "/api/v1/people/per_missing/erase",
        Action::PrivacyManage,
    ),
    (
        "POST",
        "/api/v1/participants/par_missing/erase",
        Action::PrivacyManage,
    ),
    ("GET", "/api/v1/personal-data", Action::PrivacyManage),
    ("POST", "/api/v1/people/imports", Action::PeopleWrite),
    ("GET", "/api/v1/sales-referrals", Action::SalesRead),
    ("POST", "/api/v1/sales-referrals", Action::SalesWrite),
    (
        "GET",
        "/api/v1/sales-referrals/srf_missing",
        Action::SalesRead,
    ),
    (
        "PATCH",
        "/api/v1/sales-referrals/srf_missing",
        Action::SalesWrite,
    ),
    (
        "POST",
        "/api/v1/sales-referrals/srf_missing/stage",
        Action::SalesWrite,
    ),
    (
        "POST",
        "/api/v1/sales-referrals/srf_missing/notes",
        Action::SalesWrite,
    ),
    ("GET", "/api/v1/sales", Action::SalesRead),
    ("POST", "/api/v1/sales", Action::SalesWrite),
    ("GET", "/api/v1/sales/sal_missing", Action::SalesRead),
    ("PATCH", "/api/v1/sales/sal_missing", Action::SalesWrite),
    (
        "POST",
        "/api/v1/sales/sal_missing/milestones",
        Action::SalesWrite,
    ),
    (
        "POST",
        "/api/v1/sales/sal_missing/approve",
        Action::SalesApprove,
    ),
    (
        "POST",
        "/api/v1/sales/sal_missing/cancel",
        Action::SalesApprove,
    ),
    (
        "POST",
        "/api/v1/sales/sal_missing/bonuses",
        Action::SalesApprove,
    ),
    (
        "GET",
        "/api/v1/programs/{p}/bonus-policy",
        Action::SalesRead,
    ),
    (
        "PUT",
        "/api/v1/programs/{p}/bonus-policy",
        Action::SalesApprove,
    ),
    ("GET", "/api/v1/bonuses", Action::SalesRead),
    ("GET", "/api/v1/bonuses/bon_missing", Action::SalesRead),
    ("PATCH", "/api/v1/bonuses/bon_missing", Action::SalesWrite),
    (
        "POST",
        "/api/v1/bonuses/bon_missing/submit",
        Action::SalesWrite,
    ),
    (
        "POST",
        "/api/v1/bonuses/bon_missing/approve",
        Action::SalesApprove,
    ),
    (
        "POST",
        "/api/v1/bonuses/bon_missing/reject",
        Action::SalesApprove,
    ),
    (
        "POST",
        "/api/v1/bonuses/bon_missing/split",
        Action::SalesApprove,
    ),
    ("POST", "/api/v1/bonuses/decisions", Action::SalesApprove),
    ("GET", "/api/v1/payments", Action::SalesRead),
    ("GET", "/api/v1/payments/pay_missing", Action::SalesRead),
    (
        "POST",
        "/api/v1/payments/pay_missing/mark-paid",
        Action::PayoutsManage,
    ),
    ("GET", "/api/v1/payment-clawbacks", Action::SalesRead),
    ("GET", "/api/v1/sales-reports", Action::SalesRead),
    (
        "POST",
        "/api/v1/payment-clawbacks/pcb_missing/decide",
        Action::PayoutsManage,
    ),
    ("GET", "/api/v1/payout-batches", Action::SalesRead),
    ("POST", "/api/v1/payout-batches", Action::PayoutsPrepare),
    (
        "GET",
        "/api/v1/payout-batches/pob_missing",
        Action::SalesRead,
    ),
    (
        "POST",
        "/api/v1/payout-batches/pob_missing/approve",
        Action::PayoutsManage,
    ),
    (
        "GET",
        "/api/v1/payout-batches/pob_missing/export",
        Action::PayoutsManage,
    ),
    (
        "POST",
        "/api/v1/payout-batches/pob_missing/mark-paid",
        Action::PayoutsManage,
    ),
    ("GET", "/api/v1/webhook-endpoints", Action::WebhooksManage),
    ("POST", "/api/v1/webhook-endpoints", Action::WebhooksManage),
    (
        "GET",
        "/api/v1/webhook-endpoints/{w}",
        Action::WebhooksManage,
    ),
    (
        "PATCH",
        "/api/v1/webhook-endpoints/{w}",
        Action::WebhooksManage,
    ),
    (
        "GET",
        "/api/v1/webhook-endpoints/{w}/secret",
        Action::WebhooksManage,
    ),
    (
        "POST",
        "/api/v1/webhook-endpoints/{w}/rotate-secret",
        Action::WebhooksManage,
    ),
    (
        "POST",
        "/api/v1/webhook-endpoints/{w}/test",
        Action::WebhooksManage,
    ),
    (
        "POST",
        "/api/v1/webhook-endpoints/{w}/replay",
        Action::WebhooksManage,
    ),
    (
        "GET",
        "/api/v1/webhook-endpoints/{w}/messages",
        Action::WebhooksManage,
    ),
    (
        "GET",
        "/api/v1/webhook-endpoints/{w}/messages/{m}/attempts",
        Action::WebhooksManage,
    ),
    (
        "POST",
        "/api/v1/webhook-endpoints/{w}/messages/{m}/resend",
        Action::WebhooksManage,
    ),
    (
        "DELETE",
        "/api/v1/webhook-endpoints/{w}",
        Action::WebhooksManage,
    ),
    ("GET", "/api/v1/jobs", Action::WebhooksManage),
    ("POST", "/api/v1/jobs/{j}/retry", Action::WebhooksManage),
    ("GET", "/api/v1/programs", Action::ProgramsRead),
    ("POST", "/api/v1/programs", Action::ProgramsWrite),
    ("GET", "/api/v1/programs/{p}", Action::ProgramsRead),
    ("PATCH", "/api/v1/programs/{p}", Action::ProgramsWrite),
    ("POST", "/api/v1/programs/{p}/status", Action::ProgramsWrite),
    (
        "GET",
        "/api/v1/programs/{p}/participants",
        Action::ProgramsRead,
    ),
    (
        "POST",
        "/api/v1/programs/{p}/participants",
        Action::ProgramsWrite,
    ),
    (
        "GET",
        "/api/v1/participants/par_missing",
        Action::ProgramsRead,
    ),
    (
        "PUT",
        "/api/v1/participants/par_missing/code",
        Action::ProgramsWrite,
    ),
    ("POST", "/api/v1/programs/{p}/events", Action::ProgramsWrite),
    (
        "GET",
        "/api/v1/programs/{p}/referrals",
        Action::ProgramsRead,
    ),
    ("GET", "/api/v1/referrals/ref_missing", Action::ProgramsRead),
    (
        "POST",
        "/api/v1/referrals/ref_missing/stage",
        Action::ProgramsWrite,
    ),
    (
        "POST",
        "/api/v1/referrals/ref_missing/review",
        Action::ReferralsReview,
    ),
    (
        "GET",
        "/api/v1/programs/{p}/email-templates",
        Action::EmailsManage,
    ),
    (
        "GET",
        "/api/v1/programs/{p}/email-templates/participant_welcome",
        Action::EmailsManage,
    ),
    (
        "PUT",
        "/api/v1/programs/{p}/email-templates/participant_welcome",
        Action::EmailsManage,
    ),
    (
        "DELETE",
        "/api/v1/programs/{p}/email-templates/participant_welcome",
        Action::EmailsManage,
    ),
    (
        "GET",
        "/api/v1/programs/{p}/reward-rules",
        Action::ProgramsRead,
    ),
    (
        "POST",
        "/api/v1/programs/{p}/reward-rules",
        Action::RewardsManage,
    ),
    (
        "GET",
        "/api/v1/reward-rules/rwr_missing",
        Action::ProgramsRead,
    ),
    (
        "PATCH",
        "/api/v1/reward-rules/rwr_missing",
        Action::RewardsManage,
    ),
    (
        "POST",
        "/api/v1/reward-rules/rwr_missing/coupons",
        Action::RewardsManage,
    ),
    ("GET", "/api/v1/programs/{p}/rewards", Action::ProgramsRead),
    ("GET", "/api/v1/rewards/rwd_missing", Action::ProgramsRead),
    (
        "POST",
        "/api/v1/rewards/rwd_missing/deliver",
        Action::RewardsManage,
    ),
    (
        "POST",
        "/api/v1/rewards/rwd_missing/revoke",
        Action::RewardsManage,
    ),
    (
        "GET",
        "/api/v1/programs/{p}/clawbacks",
        Action::ProgramsRead,
    ),
    (
        "POST",
        "/api/v1/clawbacks/clw_missing/decide",
        Action::RewardsManage,
    ),
    (
        "POST",
        "/api/v1/participants/par_missing/embed-tokens",
        Action::ProgramsWrite,
    ),
    (
        "POST",
        "/api/v1/programs/{p}/imports",
        Action::ProgramsWrite,
    ),
    (
        "GET",
        "/api/v1/programs/{p}/exports/participants",
        Action::ProgramsRead,
    ),
    ("GET", "/api/v1/programs/{p}/stats", Action::ProgramsRead),
    (
        "POST",
        "/api/v1/programs/{p}/instant-signups",
        Action::ProgramsWrite,
    ),
    ("GET", "/api/v1/emails", Action::EmailsManage),
    ("GET", "/api/v1/emails/eml_missing", Action::EmailsManage),
    ("GET", "/api/v1/email-templates", Action::EmailsManage),
    (
        "GET",
        "/api/v1/email-templates/webhook_endpoint_disabled",
        Action::EmailsManage,
    ),
    (
        "PUT",
        "/api/v1/email-templates/webhook_endpoint_disabled",
        Action::EmailsManage,
    ),
    (
        "DELETE",
        "/api/v1/email-templates/webhook_endpoint_disabled",
        Action::EmailsManage,
    ),
];

/// Every console page and form with the action it needs.
const CONSOLE_ROUTES: &[(&str, &str, Action)] = &[
    ("GET", "/admin", Action::ProgramsRead),
    ("GET", "/admin/partners", Action::PartnersRead),
    ("GET", "/admin/partners/new", Action::PartnersWrite),
    ("POST", "/admin/partners/new", Action::PartnersWrite),
    ("GET", "/admin/partners/import", Action::PartnersWrite),
    ("POST", "/admin/partners/import", Action::PartnersWrite),
    ("GET", "/admin/partners/{t}", Action::PartnersRead),
    ("POST", "/admin/partners/{t}", Action::PartnersWrite),
    (
        "POST",
        "/admin/partners/{t}/commission-terms",
        Action::TermsManage,
    ),
    (
        "POST",
        "/admin/partners/{t}/commission-terms/{p}/remove",
        Action::TermsManage,
    ),
    ("POST", "/admin/partners/{t}/users", Action::PartnersWrite),
    (
        "POST",
        "/admin/partners/{t}/users/pus_missing/remove",
        Action::PartnersWrite,
    ),
    ("GET", "/admin/lead-sales", Action::PartnersRead),
    ("GET", "/admin/lead-sales/new", Action::PartnersWrite),
    ("POST", "/admin/lead-sales/new", Action::PartnersWrite),
    ("GET", "/admin/lead-sales/{l}", Action::PartnersRead),
    ("POST", "/admin/lead-sales/{l}/retry", Action::PartnersWrite),
    (
        "GET",
        "/admin/partners/{t}/lead-statement",
        Action::PartnersRead,
    ),
    (
        "GET",
        "/admin/partners/{t}/lead-statement.csv",
        Action::PartnersRead,
    ),
    (
        "POST",
        "/admin/partner-referrals/{r}/commission",
        Action::SalesApprove,
    ),
    ("GET", "/admin/partner-referrals", Action::PartnersRead),
    ("GET", "/admin/partner-referrals/new", Action::PartnersWrite),
    (
        "POST",
        "/admin/partner-referrals/new",
        Action::PartnersWrite,
    ),
    ("GET", "/admin/partner-referrals/{r}", Action::PartnersRead),
    (
        "POST",
        "/admin/partner-referrals/{r}",
        Action::PartnersWrite,
    ),
    (
        "POST",
        "/admin/partner-referrals/{r}/duplicate",
        Action::PartnersWrite,
    ),
    ("GET", "/admin/people", Action::PeopleRead),
    ("GET", "/admin/privacy", Action::PrivacyManage),
    (
        "POST",
        "/admin/privacy/participants/par_missing/erase",
        Action::PrivacyManage,
    ),
    (
        "POST",
        "/admin/privacy/people/per_missing/erase",
        Action::PrivacyManage,
    ),
    ("GET", "/admin/people/new", Action::PeopleWrite),
    ("GET", "/admin/people/import", Action::PeopleWrite),
    ("POST", "/admin/people/import", Action::PeopleWrite),
    ("POST", "/admin/people/new", Action::PeopleWrite),
    ("GET", "/admin/people/{e}", Action::PeopleRead),
    ("POST", "/admin/people/{e}/terms", Action::TermsManage),
    ("GET", "/admin/people/{e}/statement.csv", Action::SalesRead),
    ("GET", "/admin/sales-referrals", Action::SalesRead),
    ("GET", "/admin/sales-referrals/new", Action::SalesWrite),
    ("POST", "/admin/sales-referrals/new", Action::SalesWrite),
    (
        "GET",
        "/admin/sales-referrals/srf_missing",
        Action::SalesRead,
    ),
    (
        "POST",
        "/admin/sales-referrals/srf_missing/meeting",
        Action::SalesWrite,
    ),
    (
        "POST",
        "/admin/sales-referrals/srf_missing/stage",
        Action::SalesWrite,
    ),
    (
        "POST",
        "/admin/sales-referrals/srf_missing/notes",
        Action::SalesWrite,
    ),
    ("GET", "/admin/programs/{p}/bonus-policy", Action::SalesRead),
    (
        "POST",
        "/admin/programs/{p}/bonus-policy",
        Action::SalesApprove,
    ),
    ("GET", "/admin/sales", Action::SalesRead),
    ("GET", "/admin/sales/new", Action::SalesWrite),
    ("POST", "/admin/sales/new", Action::SalesWrite),
    ("GET", "/admin/sales/sal_missing", Action::SalesRead),
    (
        "POST",
        "/admin/sales/sal_missing/milestones",
        Action::SalesWrite,
    ),
    (
        "POST",
        "/admin/sales/sal_missing/approve",
        Action::SalesApprove,
    ),
    (
        "POST",
        "/admin/sales/sal_missing/cancel",
        Action::SalesApprove,
    ),
    (
        "POST",
        "/admin/sales/sal_missing/bonuses",
        Action::SalesApprove,
    ),
    ("GET", "/admin/bonuses", Action::SalesRead),
    ("POST", "/admin/bonuses/decide", Action::SalesApprove),
    ("GET", "/admin/bonuses/bon_missing", Action::SalesRead),
    (
        "POST",
        "/admin/bonuses/bon_missing/step",
        Action::SalesWrite,
    ),
    (
        "POST",
        "/admin/bonuses/bon_missing/submit",
        Action::SalesWrite,
    ),
    (
        "POST",
        "/admin/bonuses/bon_missing/decide",
        Action::SalesApprove,
    ),
    (
        "POST",
        "/admin/bonuses/bon_missing/split",
        Action::SalesApprove,
    ),
    ("GET", "/admin/payments", Action::SalesRead),
    (
        "POST",
        "/admin/payment-clawbacks/pcb_missing/decide",
        Action::PayoutsManage,
    ),
    (
        "POST",
        "/admin/payments/pay_missing/mark-paid",
        Action::PayoutsManage,
    ),
    ("POST", "/admin/payments/mark-paid", Action::PayoutsManage),
    ("GET", "/admin/payout-batches", Action::SalesRead),
    ("POST", "/admin/payout-batches", Action::PayoutsPrepare),
    (
        "GET",
        "/admin/payout-batches/pob_missing",
        Action::SalesRead,
    ),
    (
        "POST",
        "/admin/payout-batches/pob_missing/approve",
        Action::PayoutsManage,
    ),
    (
        "GET",
        "/admin/payout-batches/pob_missing/export",
        Action::PayoutsManage,
    ),
    (
        "POST",
        "/admin/payout-batches/pob_missing/mark-paid",
        Action::PayoutsManage,
    ),
    ("GET", "/admin/sales/reports", Action::SalesRead),
    ("GET", "/admin/accounts", Action::AccountsRead),
    ("GET", "/admin/accounts/new", Action::AccountsWrite),
    ("POST", "/admin/accounts/new", Action::AccountsWrite),
    ("GET", "/admin/accounts/{a}", Action::AccountsRead),
    ("GET", "/admin/accounts/{a}/edit", Action::AccountsWrite),
    ("POST", "/admin/accounts/{a}/edit", Action::AccountsWrite),
    ("GET", "/admin/accounts/{a}/clone", Action::AccountsWrite),
    ("POST", "/admin/accounts/{a}/clone", Action::AccountsWrite),
    (
        "POST",
        "/admin/accounts/{a}/designate",
        Action::AccountsWrite,
    ),
    ("POST", "/admin/accounts/{a}/nest", Action::AccountsWrite),
    (
        "POST",
        "/admin/accounts/{a}/registration",
        Action::SetupsDecide,
    ),
    ("GET", "/admin/setups", Action::SetupsRead),
    ("GET", "/admin/setups/new", Action::SetupsRequest),
    ("POST", "/admin/setups/new", Action::SetupsRequest),
    ("GET", "/admin/setups/{s}", Action::SetupsRead),
    ("POST", "/admin/setups/{s}/decide", Action::SetupsDecide),
    ("GET", "/admin/users", Action::UsersRead),
    ("POST", "/admin/users", Action::UsersManage),
    ("POST", "/admin/users/{u}", Action::UsersManage),
    ("GET", "/admin/api-keys", Action::ApiKeysManage),
    ("POST", "/admin/api-keys", Action::ApiKeysManage),
    ("POST", "/admin/api-keys/{k}/revoke", Action::ApiKeysManage),
    ("GET", "/admin/audit", Action::AuditRead),
    ("GET", "/admin/webhooks", Action::WebhooksManage),
    ("POST", "/admin/webhooks", Action::WebhooksManage),
    ("GET", "/admin/webhooks/{w}", Action::WebhooksManage),
    ("POST", "/admin/webhooks/{w}", Action::WebhooksManage),
    ("POST", "/admin/webhooks/{w}/action", Action::WebhooksManage),
    (
        "GET",
        "/admin/webhooks/{w}/messages/{m}",
        Action::WebhooksManage,
    ),
    (
        "POST",
        "/admin/webhooks/{w}/messages/{m}/resend",
        Action::WebhooksManage,
    ),
    ("GET", "/admin/jobs", Action::WebhooksManage),
    ("POST", "/admin/jobs/{j}/retry", Action::WebhooksManage),
    ("GET", "/admin/programs", Action::ProgramsRead),
    ("GET", "/admin/programs/new", Action::ProgramsWrite),
    ("POST", "/admin/programs/new", Action::ProgramsWrite),
    ("GET", "/admin/programs/{p}", Action::ProgramsRead),
    ("POST", "/admin/programs/{p}", Action::ProgramsWrite),
    ("POST", "/admin/programs/{p}/status", Action::ProgramsWrite),
    (
        "GET",
        "/admin/programs/{p}/email-templates",
        Action::EmailsManage,
    ),
    (
        "GET",
        "/admin/programs/{p}/email-templates/participant_welcome",
        Action::EmailsManage,
    ),
    (
        "POST",
        "/admin/programs/{p}/email-templates/participant_welcome",
        Action::EmailsManage,
    ),
    (
        "GET",
        "/admin/programs/{p}/participants",
        Action::ProgramsRead,
    ),
    (
        "POST",
        "/admin/programs/{p}/participants",
        Action::ProgramsWrite,
    ),
    ("GET", "/admin/programs/{p}/referrals", Action::ProgramsRead),
    ("GET", "/admin/referrals/ref_missing", Action::ProgramsRead),
    (
        "POST",
        "/admin/referrals/ref_missing/review",
        Action::ReferralsReview,
    ),
    (
        "POST",
        "/admin/referrals/ref_missing/stage",
        Action::ProgramsWrite,
    ),
    ("GET", "/admin/programs/{p}/rewards", Action::ProgramsRead),
    (
        "POST",
        "/admin/rewards/rwd_missing/deliver",
        Action::RewardsManage,
    ),
    (
        "POST",
        "/admin/rewards/rwd_missing/revoke",
        Action::RewardsManage,
    ),
    (
        "POST",
        "/admin/clawbacks/clw_missing/decide",
        Action::RewardsManage,
    ),
    (
        "GET",
        "/admin/programs/{p}/reward-rules",
        Action::ProgramsRead,
    ),
    (
        "POST",
        "/admin/programs/{p}/reward-rules",
        Action::RewardsManage,
    ),
    (
        "POST",
        "/admin/reward-rules/rwr_missing/coupons",
        Action::RewardsManage,
    ),
    (
        "POST",
        "/admin/reward-rules/rwr_missing/active",
        Action::RewardsManage,
    ),
    ("GET", "/admin/programs/{p}/import", Action::ProgramsWrite),
    ("POST", "/admin/programs/{p}/import", Action::ProgramsWrite),
    ("GET", "/admin/programs/{p}/dashboard", Action::ProgramsRead),
    ("GET", "/admin/programs/{p}/share", Action::ProgramsRead),
    (
        "POST",
        "/admin/programs/{p}/rewards/deliver",
        Action::RewardsManage,
    ),
    (
        "POST",
        "/admin/programs/{p}/referrals/review",
        Action::ReferralsReview,
    ),
    (
        "GET",
        "/admin/participants/par_missing",
        Action::ProgramsRead,
    ),
    (
        "POST",
        "/admin/participants/par_missing/code",
        Action::ProgramsWrite,
    ),
    (
        "POST",
        "/admin/participants/par_missing/details",
        Action::ProgramsWrite,
    ),
    (
        "POST",
        "/admin/participants/par_missing/notes",
        Action::ProgramsWrite,
    ),
    (
        "POST",
        "/admin/participants/par_missing/block",
        Action::ReferralsReview,
    ),
    (
        "POST",
        "/admin/participants/par_missing/unblock",
        Action::ReferralsReview,
    ),
    (
        "POST",
        "/admin/programs/{p}/share/instant-link",
        Action::ProgramsWrite,
    ),
    ("GET", "/admin/emails", Action::EmailsManage),
    ("GET", "/admin/emails/eml_missing", Action::EmailsManage),
    ("GET", "/admin/email-templates", Action::EmailsManage),
    (
        "GET",
        "/admin/email-templates/webhook_endpoint_disabled",
        Action::EmailsManage,
    ),
    (
        "POST",
        "/admin/email-templates/webhook_endpoint_disabled",
        Action::EmailsManage,
    ),
];

struct Ids {
    a: String,
    s: String,
    u: String,
    k: String,
    w: String,
    m: String,
    j: String,
    p: String,
    e: String,
    t: String,
    r: String,
    l: String,
}

impl Ids {
    fn fill(&self, path: &str) -> String {
        path.replace("{a}", &self.a)
            .replace("{s}", &self.s)
            .replace("{u}", &self.u)
            .replace("{k}", &self.k)
            .replace("{w}", &self.w)
            .replace("{m}", &self.m)
            .replace("{j}", &self.j)
            .replace("{p}", &self.p)
            .replace("{e}", &self.e)
            .replace("{t}", &self.t)
            .replace("{r}", &self.r)
            .replace("{l}", &self.l)
    }
}

async fn fixtures(app: &TestApp) -> Ids {
    let owner = app.key_client(Scope::Admin).await;
    let a = owner.account("Target", "target@x.example").await;
    let s = owner
        .post("/api/v1/referral-setups", json!({ "beneficiary_id": a }))
        .await;
    let u = owner.post("/api/v1/staff-users", json!({ "email": "target-user@x.example", "role": "viewer", "password": common::PASSWORD })).await;
    let k = owner
        .post(
            "/api/v1/api-keys",
            json!({ "name": "target", "scope": "read" }),
        )
        .await;
    let w = owner
        .post(
            "/api/v1/webhook-endpoints",
            json!({ "url": "http://127.0.0.1:9/hook" }),
        )
        .await;
    let w = w.body["id"].as_str().expect("endpoint").to_string();
    let m = owner
        .post(&format!("/api/v1/webhook-endpoints/{w}/test"), json!({}))
        .await;
    let p = owner
        .post(
            "/api/v1/programs",
            json!({ "name": "Target program", "landing_url": "https://example.com" }),
        )
        .await;
    let e = owner
        .post(
            "/api/v1/people",
            json!({ "kind": "employee", "name": "Target employee" }),
        )
        .await;
    let t = owner
        .post(
            "/api/v1/partners",
            json!({ "name": "Target partner", "refers_clients": true }),
        )
        .await;
    let t = t.body["id"].as_str().expect("partner").to_string();
    let r = owner
        .post(
            "/api/v1/partner-referrals",
            json!({ "partner_id": t, "direction": "to_us", "client_name": "Target client", "email": "client@target.example" }),
        )
        .await;
    let buyer = owner
        .post(
            "/api/v1/partners",
            json!({ "name": "Target buyer", "buys_customers": true, "delivery_method": "email", "notification_emails": ["leads@target.example"] }),
        )
        .await;
    let l = owner
        .post(
            "/api/v1/lead-sales",
            json!({ "partner_id": buyer.body["id"], "first_name": "Target", "last_name": "Lead", "email": "lead@target.example", "sale_price": 100, "currency": "USD" }),
        )
        .await;
    Ids {
        l: l.body["id"].as_str().expect("lead sale").to_string(),
        r: r.body["id"].as_str().expect("partner referral").to_string(),
        t,
        e: e.body["id"].as_str().expect("person").to_string(),
        p: p.body["id"].as_str().expect("program").to_string(),
        m: m.body["id"].as_str().expect("message").to_string(),
        j: m.body["job_id"].as_str().expect("job").to_string(),
        w,
        a: a.to_string(),
        s: s.body["id"].as_str().expect("setup").to_string(),
        u: u.body["id"].as_str().expect("user").to_string(),
        k: k.body["id"].as_str().expect("key").to_string(),
    }
}

async fn call(api: &Api, method: &str, path: &str) -> StatusCode {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let req = api.request(method.clone(), path);
    let req = if method == Method::GET {
        req
    } else {
        req.json(&json!({}))
    };
    api.send(req).await.status
}

#[tokio::test]
async fn api_routes_refuse_missing_and_insufficient_credentials() {
    each_backend(|app| async move {
        let ids = fixtures(&app).await;
        let anon = app.anonymous();
        for (method, path, _) in API_ROUTES {
            let path = ids.fill(path);
            assert_eq!(
                call(&anon, method, &path).await,
                StatusCode::UNAUTHORIZED,
                "{method} {path} without credentials"
            );
        }
        let mut bogus = app.anonymous();
        bogus.bearer = Some("vouch_sk_not_a_key".into());
        assert_eq!(
            call(&bogus, "GET", "/api/v1/accounts").await,
            StatusCode::UNAUTHORIZED
        );

        for role in Role::ALL {
            let api = app.staff(role).await;
            for (method, path, action) in API_ROUTES {
                let path = ids.fill(path);
                let status = call(&api, method, &path).await;
                if role_allows(role, *action) {
                    assert!(
                        status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                        "{role} {method} {path}: {status}"
                    );
                } else {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{role} {method} {path}");
                }
            }
        }
        for scope in Scope::ALL {
            let api = app.key_client(scope).await;
            for (method, path, action) in API_ROUTES {
                let path = ids.fill(path);
                let status = call(&api, method, &path).await;
                if scope_allows(scope, *action) {
                    assert!(
                        status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                        "{scope} {method} {path}: {status}"
                    );
                } else {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{scope} {method} {path}");
                }
            }
        }
        // Refusals are audited.
        let admin = app.key_client(Scope::Admin).await;
        let denied = admin
            .get("/api/v1/audit-events?action=access.denied&limit=100")
            .await;
        assert!(
            denied.body["data"]
                .as_array()
                .is_some_and(|d| !d.is_empty())
        );
        app.stop().await;
    })
    .await;
}

/// A partner's portal session opens no staff route: the API answers 401 and the console sends
/// it to the staff login, whatever the route.
#[tokio::test]
async fn a_partner_session_opens_no_staff_route() {
    each_backend(|app| async move {
        let ids = fixtures(&app).await;
        let partner = common::partner_session(&app, &ids.t, "portal-user@target.example").await;
        assert_eq!(
            partner.get("/portal/referrals").await.status,
            StatusCode::OK
        );
        for (method, path, _) in API_ROUTES {
            let path = ids.fill(path);
            assert_eq!(
                call(&partner, method, &path).await,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with a partner session"
            );
        }
        for (method, path, _) in CONSOLE_ROUTES {
            let path = ids.fill(path);
            let req = partner
                .request(Method::from_bytes(method.as_bytes()).expect("m"), &path)
                .form(&[("csrf", "x")]);
            let r = partner.send(req).await;
            assert_eq!(
                r.status,
                StatusCode::SEE_OTHER,
                "{method} {path} with a partner session"
            );
            assert!(
                r.headers["location"]
                    .to_str()
                    .expect("loc")
                    .starts_with("/admin/login"),
                "{method} {path}"
            );
        }
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn console_routes_refuse_missing_and_insufficient_roles() {
    each_backend(|app| async move {
        let ids = fixtures(&app).await;
        let anon = app.anonymous();
        for (method, path, _) in CONSOLE_ROUTES {
            let path = ids.fill(path);
            let req = anon
                .request(Method::from_bytes(method.as_bytes()).expect("m"), &path)
                .form(&[("csrf", "x")]);
            let r = anon.send(req).await;
            assert_eq!(
                r.status,
                StatusCode::SEE_OTHER,
                "{method} {path} without a session"
            );
            assert!(
                r.headers["location"]
                    .to_str()
                    .expect("loc")
                    .starts_with("/admin/login")
            );
        }
        for role in Role::ALL {
            let api = app.staff(role).await;
            let csrf = api.csrf.clone().expect("csrf");
            for (method, path, action) in CONSOLE_ROUTES {
                let path = ids.fill(path);
                let req = api
                    .request(Method::from_bytes(method.as_bytes()).expect("m"), &path)
                    .form(&[("csrf", csrf.as_str())]);
                let r = api.send(req).await;
                if role_allows(role, *action) {
                    assert!(
                        r.status != StatusCode::FORBIDDEN,
                        "{role} {method} {path}: {}",
                        r.status
                    );
                    let to_login = r.headers.get("location").is_some_and(|l| {
                        l.to_str().unwrap_or_default().starts_with("/admin/login")
                    });
                    assert!(!to_login, "{role} {method} {path} was sent to log in");
                } else {
                    assert_eq!(r.status, StatusCode::FORBIDDEN, "{role} {method} {path}");
                }
            }
        }
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn cookie_writes_need_the_csrf_token() {
    each_backend(|app| async move {
        let mut staff = app.staff(Role::Owner).await;
        staff.csrf = None;
        let r = staff.post("/api/v1/accounts", json!({})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(r.body["code"], "csrf_failed");
        staff.csrf = Some("wrong".into());
        assert_eq!(
            staff.post("/api/v1/accounts", json!({})).await.status,
            StatusCode::FORBIDDEN
        );
        // Console forms without the token change nothing.
        let r = staff
            .send(staff.request(Method::POST, "/admin/accounts/new").form(&[
                ("name", "Sneaky"),
                ("email", "s@x.example"),
                ("owner_first_name", "S"),
                ("owner_last_name", "N"),
            ]))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let admin = app.key_client(Scope::Admin).await;
        assert_eq!(
            admin.get("/api/v1/accounts").await.body["data"]
                .as_array()
                .map(Vec::len),
            Some(0)
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn owners_are_managed_only_by_owners() {
    each_backend(|app| async move {
        let admin = app.staff(Role::Admin).await;
        let r = admin.post("/api/v1/staff-users", json!({ "email": "new-owner@x.example", "role": "owner", "password": common::PASSWORD })).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let owner = app.staff(Role::Owner).await;
        let r = owner.post("/api/v1/staff-users", json!({ "email": "new-owner@x.example", "role": "owner", "password": common::PASSWORD })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let id = r.body["id"].as_str().expect("id");
        assert_eq!(admin.patch(&format!("/api/v1/staff-users/{id}"), json!({ "disabled": true })).await.status, StatusCode::FORBIDDEN);
        let weak = owner.post("/api/v1/staff-users", json!({ "email": "weak@x.example", "role": "staff", "password": "password123" })).await;
        assert_eq!(weak.fields(), vec!["password".to_string()]);
        app.stop().await;
    })
    .await;
}

/// Every operation the OpenAPI document lists is in [`API_ROUTES`], so none escapes the
/// matrix above.
#[tokio::test]
async fn every_documented_operation_is_in_the_access_matrix() {
    let app = TestApp::spawn(vouch_store::Backend::Sqlite).await;
    let spec = app.anonymous().get("/api/v1/openapi.json").await.body;
    let matches = |template: &str, path: &str| {
        let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
        t.len() == p.len()
            && t.iter()
                .zip(&p)
                .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
    };
    let mut missing = Vec::new();
    for (template, ops) in spec["paths"].as_object().expect("paths") {
        for method in ops.as_object().expect("operations").keys() {
            let method = method.to_uppercase();
            // Who am I: any signed-in caller, whatever the role (tested in tests/sessions.rs).
            if template == "/api/v1/me" {
                continue;
            }
            if !API_ROUTES
                .iter()
                .any(|(m, p, _)| *m == method && matches(template, p))
            {
                missing.push(format!("{method} {template}"));
            }
        }
    }
    assert!(missing.is_empty(), "not in API_ROUTES: {missing:#?}");
    app.stop().await;
}
