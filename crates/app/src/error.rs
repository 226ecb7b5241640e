//! What a use case answers when it does not succeed. The HTTP face maps each variant to a
//! status and a problem+json body (or a page); the CLI prints it. No variant knows HTTP.

use vouch_domain::FieldError;
use vouch_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The thing named does not exist, or the caller may not know that it does.
    #[error("no such {0}")]
    NotFound(String),
    /// The input is wrong; every failing field is named.
    #[error("{}", invalid_detail(.0))]
    Invalid(Vec<FieldError>),
    /// The request is valid but the record's current state (or a concurrent change) refuses
    /// it: a lost race, a decision already taken, a value already taken.
    #[error("{detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts; the caller may try again after this many seconds.
    #[error("too many attempts; try again in {0} s")]
    TooMany(u64),
    /// A fault on our side; the cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

fn invalid_detail(errors: &[FieldError]) -> String {
    match errors {
        [one] => format!("{} {}", one.field, one.message),
        _ => format!("{} fields are invalid", errors.len()),
    }
}

impl AppError {
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(what.to_string())
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        Self::Invalid(errors)
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// The same error with its field paths nested under `prefix` (`email` → `beneficiary.email`),
    /// for input that is one part of a larger request.
    pub fn under(self, prefix: &str) -> Self {
        let nest = |errors: Vec<FieldError>| {
            errors
                .into_iter()
                .map(|e| FieldError {
                    field: format!("{prefix}.{}", e.field),
                    message: e.message,
                })
                .collect::<Vec<_>>()
        };
        match self {
            Self::Invalid(errors) => Self::Invalid(nest(errors)),
            Self::Conflict {
                code,
                detail,
                errors,
            } => Self::Conflict {
                code,
                detail: format!("{prefix}: {detail}"),
                errors: nest(errors),
            },
            other => other,
        }
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::Forbidden(detail.into())
    }

    pub fn internal(cause: impl Into<String>) -> Self {
        let cause = cause.into();
        tracing::error!(error = %cause, "internal error");
        Self::Internal(cause)
    }

    /// The human sentence for this error (never the cause of an internal error).
    pub fn detail(&self) -> String {
        match self {
            Self::Internal(_) => "something went wrong on our side".into(),
            other => other.to_string(),
        }
    }

    /// A stable machine-readable code for the problem.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::Invalid(_) => "validation_failed",
            Self::Conflict { code, .. } => code,
            Self::Forbidden(_) => "forbidden",
            Self::TooMany(_) => "too_many_requests",
            Self::Internal(_) => "internal_error",
        }
    }

    /// Whether the caller can mend this (everything but an internal error).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, Self::Internal(_))
    }

    /// The failing fields of a validation problem or a conflict on a value.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::Invalid(errors) | Self::Conflict { errors, .. } => errors,
            _ => &[],
        }
    }
}

impl From<vouch_domain::Validation> for AppError {
    fn from(v: vouch_domain::Validation) -> Self {
        Self::Invalid(v.errors().to_vec())
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::not_found("resource"),
            StoreError::Conflict { field } => Self::Conflict {
                code: "already_exists",
                detail: format!("{field} is already taken"),
                errors: vec![FieldError {
                    field,
                    message: "is already taken".into(),
                }],
            },
            StoreError::WrongState { code, message } => Self::conflict(code, message),
            StoreError::Invalid { field, message } => Self::field(&field, message),
            StoreError::Forbidden(detail) => Self::Forbidden(detail),
            other => Self::internal(format!("store failure: {other}")),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
