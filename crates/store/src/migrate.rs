//! The embedded migration history, one folder per engine. The two folders hold the same files
//! with the same tables and columns; a test compares the migrated schemas.

use crate::Backend;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use std::borrow::Cow;

const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/sqlite/0001_foundation.sql"),
    ),
    (
        2,
        "events_jobs_webhooks",
        include_str!("../migrations/sqlite/0002_events_jobs_webhooks.sql"),
    ),
    (
        3,
        "email",
        include_str!("../migrations/sqlite/0003_email.sql"),
    ),
    (
        4,
        "programs",
        include_str!("../migrations/sqlite/0004_programs.sql"),
    ),
    (
        5,
        "participants",
        include_str!("../migrations/sqlite/0005_participants.sql"),
    ),
    (
        6,
        "clicks",
        include_str!("../migrations/sqlite/0006_clicks.sql"),
    ),
    (
        7,
        "referrals",
        include_str!("../migrations/sqlite/0007_referrals.sql"),
    ),
    (
        8,
        "rewards",
        include_str!("../migrations/sqlite/0008_rewards.sql"),
    ),
    (
        9,
        "fraud",
        include_str!("../migrations/sqlite/0009_fraud.sql"),
    ),
    (
        10,
        "participant_access",
        include_str!("../migrations/sqlite/0010_participant_access.sql"),
    ),
    (
        11,
        "leaderboard",
        include_str!("../migrations/sqlite/0011_leaderboard.sql"),
    ),
    (
        12,
        "participant_accounts",
        include_str!("../migrations/sqlite/0012_participant_accounts.sql"),
    ),
];

const POSTGRES: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "events_jobs_webhooks",
        include_str!("../migrations/postgres/0002_events_jobs_webhooks.sql"),
    ),
    (
        3,
        "email",
        include_str!("../migrations/postgres/0003_email.sql"),
    ),
    (
        4,
        "programs",
        include_str!("../migrations/postgres/0004_programs.sql"),
    ),
    (
        5,
        "participants",
        include_str!("../migrations/postgres/0005_participants.sql"),
    ),
    (
        6,
        "clicks",
        include_str!("../migrations/postgres/0006_clicks.sql"),
    ),
    (
        7,
        "referrals",
        include_str!("../migrations/postgres/0007_referrals.sql"),
    ),
    (
        8,
        "rewards",
        include_str!("../migrations/postgres/0008_rewards.sql"),
    ),
    (
        9,
        "fraud",
        include_str!("../migrations/postgres/0009_fraud.sql"),
    ),
    (
        10,
        "participant_access",
        include_str!("../migrations/postgres/0010_participant_access.sql"),
    ),
    (
        11,
        "leaderboard",
        include_str!("../migrations/postgres/0011_leaderboard.sql"),
    ),
    (
        12,
        "participant_accounts",
        include_str!("../migrations/postgres/0012_participant_accounts.sql"),
    ),
];

fn files(backend: Backend) -> &'static [(i64, &'static str, &'static str)] {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

pub(crate) fn migrator(backend: Backend) -> Migrator {
    let migrations = files(backend)
        .iter()
        .map(|(version, name, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*name),
                MigrationType::Simple,
                sqlx::AssertSqlSafe(*sql).into_sql_str(),
                false,
            )
        })
        .collect::<Vec<_>>();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

pub(crate) fn latest_version(backend: Backend) -> i64 {
    files(backend).iter().map(|f| f.0).max().unwrap_or(0)
}
