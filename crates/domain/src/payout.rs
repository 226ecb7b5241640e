//! Payout batches: due payments picked together, approved by a manager, exported as a payroll
//! file (employees paid with their salary) or as payables (everyone else), then marked paid.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which payments a batch holds, and so which file it exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayeeGroup {
    /// Payments by payroll (employees): a payroll file.
    Payroll,
    /// Payments by bank transfer or check (contacts, vendors, employees who asked): payables.
    Payables,
}

impl PayeeGroup {
    pub const ALL: [PayeeGroup; 2] = [PayeeGroup::Payroll, PayeeGroup::Payables];

    pub fn as_str(self) -> &'static str {
        match self {
            PayeeGroup::Payroll => "payroll",
            PayeeGroup::Payables => "payables",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PayeeGroup::Payroll => "Payroll",
            PayeeGroup::Payables => "Payables",
        }
    }
}

impl FromStr for PayeeGroup {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PayeeGroup::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| "must be payroll or payables".to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Built; a manager reviews it.
    Draft,
    /// A manager approved it: export it and pay it.
    Approved,
    /// Marked paid: every payment in it is paid.
    Paid,
}

impl BatchStatus {
    pub const ALL: [BatchStatus; 3] =
        [BatchStatus::Draft, BatchStatus::Approved, BatchStatus::Paid];

    pub fn label(self) -> &'static str {
        match self {
            BatchStatus::Draft => "Draft",
            BatchStatus::Approved => "Approved",
            BatchStatus::Paid => "Paid",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Draft => "draft",
            BatchStatus::Approved => "approved",
            BatchStatus::Paid => "paid",
        }
    }
}

impl fmt::Display for BatchStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BatchStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        BatchStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| "must be draft, approved or paid".to_string())
    }
}
