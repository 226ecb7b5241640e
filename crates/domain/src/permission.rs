//! Who may do what. This table is the single place where access is decided; `docs/PERMISSIONS.md`
//! renders it for people, and a test keeps the two in step.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Staff roles, from least to most trusted. The order matters: each role may do everything the
/// roles below it may.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Staff,
    Manager,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Viewer,
        Role::Staff,
        Role::Manager,
        Role::Admin,
        Role::Owner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Staff => "staff",
            Role::Manager => "manager",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| "must be one of owner, admin, manager, staff, viewer".to_string())
    }
}

/// Scopes of API keys. `write` includes `read`; `admin` includes both.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    Write,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Scope::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| "must be one of read, write, admin".to_string())
    }
}

/// Everything a caller can ask to do. Each has a minimum staff role and a minimum key scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    AccountsRead,
    AccountsWrite,
    SetupsRead,
    SetupsRequest,
    /// Approve or reject a referral-program setup, or open a super customer's registration
    /// link: "final approval must come from the Management Team".
    SetupsDecide,
    AuditRead,
    UsersRead,
    UsersManage,
    ApiKeysManage,
    /// Webhook endpoints, their messages and secrets, and the job queue's dead jobs.
    WebhooksManage,
    /// Email templates and the outbox of sent and stored messages.
    EmailsManage,
    ProgramsRead,
    /// Create programs, change their settings, pause and end them.
    ProgramsWrite,
    /// Put a program live: a Management Team decision.
    ProgramsPublish,
    /// Clear or junk a referral the fraud checks flagged: clearing one pays its referrer, so it
    /// is the Management Team's.
    ReferralsReview,
    /// Reward rules and coupon pools; deliver and revoke rewards; decide clawbacks. Money moves
    /// here, so it is the Management Team's.
    RewardsManage,
    /// People who refer sales (contacts, employees, vendors): list and view.
    PeopleRead,
    /// Add and edit people who refer sales.
    PeopleWrite,
    /// Agree an employee's or vendor's referral-bonus terms, or a partner's commission per
    /// program: what they are owed, so a Management Team decision.
    TermsManage,
    /// Sales, bonuses, payments and payout batches: list and view, statements and reports.
    SalesRead,
    /// Record sales and their milestone dates; complete bonuses and submit them for review.
    SalesWrite,
    /// Approve and cancel sales, add bonuses by hand, approve, reject and split bonuses, set a
    /// program's bonus policy: what the company owes, so a Management Team decision.
    SalesApprove,
    /// Build payout batches from due payments.
    PayoutsPrepare,
    /// Approve payout batches, export them and mark batches or payments paid.
    PayoutsManage,
    /// Everything held about one email address, and erasing a participant or a person on
    /// request: personal data across every program, so an administrator's.
    PrivacyManage,
    /// Partner companies and their commission terms: list and view.
    PartnersRead,
    /// Add, edit and import partner companies (their commission terms need `TermsManage`).
    PartnersWrite,
}

impl Action {
    pub const ALL: [Action; 27] = [
        Action::AccountsRead,
        Action::AccountsWrite,
        Action::SetupsRead,
        Action::SetupsRequest,
        Action::SetupsDecide,
        Action::AuditRead,
        Action::UsersRead,
        Action::UsersManage,
        Action::ApiKeysManage,
        Action::WebhooksManage,
        Action::EmailsManage,
        Action::ProgramsRead,
        Action::ProgramsWrite,
        Action::ProgramsPublish,
        Action::ReferralsReview,
        Action::RewardsManage,
        Action::PeopleRead,
        Action::PeopleWrite,
        Action::TermsManage,
        Action::SalesRead,
        Action::SalesWrite,
        Action::SalesApprove,
        Action::PayoutsPrepare,
        Action::PayoutsManage,
        Action::PrivacyManage,
        Action::PartnersRead,
        Action::PartnersWrite,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::AccountsRead => "accounts.read",
            Action::AccountsWrite => "accounts.write",
            Action::SetupsRead => "setups.read",
            Action::SetupsRequest => "setups.request",
            Action::SetupsDecide => "setups.decide",
            Action::AuditRead => "audit.read",
            Action::UsersRead => "users.read",
            Action::UsersManage => "users.manage",
            Action::ApiKeysManage => "api_keys.manage",
            Action::WebhooksManage => "webhooks.manage",
            Action::EmailsManage => "emails.manage",
            Action::ProgramsRead => "programs.read",
            Action::ProgramsWrite => "programs.write",
            Action::ProgramsPublish => "programs.publish",
            Action::ReferralsReview => "referrals.review",
            Action::RewardsManage => "rewards.manage",
            Action::PeopleRead => "people.read",
            Action::PeopleWrite => "people.write",
            Action::TermsManage => "terms.manage",
            Action::SalesRead => "sales.read",
            Action::SalesWrite => "sales.write",
            Action::SalesApprove => "sales.approve",
            Action::PayoutsPrepare => "payouts.prepare",
            Action::PayoutsManage => "payouts.manage",
            Action::PrivacyManage => "privacy.manage",
            Action::PartnersRead => "partners.read",
            Action::PartnersWrite => "partners.write",
        }
    }

    /// The least trusted staff role allowed to perform the action.
    pub fn min_role(self) -> Role {
        match self {
            Action::AccountsRead
            | Action::SetupsRead
            | Action::ProgramsRead
            | Action::PeopleRead
            | Action::SalesRead
            | Action::PartnersRead => Role::Viewer,
            Action::AccountsWrite
            | Action::SetupsRequest
            | Action::ProgramsWrite
            | Action::PeopleWrite
            | Action::SalesWrite
            | Action::PayoutsPrepare
            | Action::PartnersWrite => Role::Staff,
            Action::SetupsDecide
            | Action::AuditRead
            | Action::ProgramsPublish
            | Action::ReferralsReview
            | Action::RewardsManage
            | Action::TermsManage
            | Action::SalesApprove
            | Action::PayoutsManage => Role::Manager,
            Action::UsersRead
            | Action::UsersManage
            | Action::ApiKeysManage
            | Action::WebhooksManage
            | Action::EmailsManage
            | Action::PrivacyManage => Role::Admin,
        }
    }

    /// The least API key scope allowed to perform the action.
    pub fn min_scope(self) -> Scope {
        match self {
            Action::AccountsRead
            | Action::SetupsRead
            | Action::ProgramsRead
            | Action::PeopleRead
            | Action::SalesRead
            | Action::PartnersRead => Scope::Read,
            Action::AccountsWrite
            | Action::SetupsRequest
            | Action::ProgramsWrite
            | Action::PeopleWrite
            | Action::SalesWrite
            | Action::PayoutsPrepare
            | Action::PartnersWrite => Scope::Write,
            Action::SetupsDecide
            | Action::ProgramsPublish
            | Action::ReferralsReview
            | Action::RewardsManage
            | Action::TermsManage
            | Action::SalesApprove
            | Action::PayoutsManage
            | Action::AuditRead
            | Action::UsersRead
            | Action::UsersManage
            | Action::ApiKeysManage
            | Action::WebhooksManage
            | Action::EmailsManage
            | Action::PrivacyManage => Scope::Admin,
        }
    }
}

pub fn role_allows(role: Role, action: Action) -> bool {
    role >= action.min_role()
}

pub fn scope_allows(scope: Scope, action: Action) -> bool {
    scope >= action.min_scope()
}

/// Only an owner may create, change or disable another owner, or make someone an owner.
pub fn may_manage_user(manager: Role, target_current: Option<Role>, target_new: Role) -> bool {
    if !role_allows(manager, Action::UsersManage) {
        return false;
    }
    let touches_owner = target_new == Role::Owner || target_current == Some(Role::Owner);
    !touches_owner || manager == Role::Owner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_managers_and_above_decide_setups() {
        assert!(!role_allows(Role::Staff, Action::SetupsDecide));
        assert!(role_allows(Role::Manager, Action::SetupsDecide));
        assert!(role_allows(Role::Owner, Action::SetupsDecide));
        assert!(!scope_allows(Scope::Write, Action::SetupsDecide));
    }

    #[test]
    fn viewers_only_read() {
        for action in Action::ALL {
            let read_only = matches!(
                action,
                Action::AccountsRead
                    | Action::SetupsRead
                    | Action::ProgramsRead
                    | Action::PeopleRead
                    | Action::SalesRead
                    | Action::PartnersRead
            );
            assert_eq!(
                role_allows(Role::Viewer, action),
                read_only,
                "{}",
                action.name()
            );
        }
    }

    #[test]
    fn admins_cannot_touch_owners() {
        assert!(may_manage_user(
            Role::Admin,
            Some(Role::Staff),
            Role::Manager
        ));
        assert!(!may_manage_user(
            Role::Admin,
            Some(Role::Owner),
            Role::Admin
        ));
        assert!(!may_manage_user(Role::Admin, None, Role::Owner));
        assert!(may_manage_user(Role::Owner, None, Role::Owner));
        assert!(!may_manage_user(Role::Manager, None, Role::Viewer));
    }

    /// docs/PERMISSIONS.md must say what the code does.
    #[test]
    fn permissions_document_matches_table() {
        let doc = include_str!("../../../docs/PERMISSIONS.md");
        for action in Action::ALL {
            let row = format!(
                "| `{}` | {} | {} |",
                action.name(),
                action.min_role(),
                action.min_scope()
            );
            assert!(
                doc.contains(&row),
                "docs/PERMISSIONS.md lacks the row: {row}"
            );
        }
    }
}
