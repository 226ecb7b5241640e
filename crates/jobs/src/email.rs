//! Email delivery: the outbox sink (the default — the message stays in the database and the
//! console shows it) or SMTP through lettre (STARTTLS, TLS or plain, optional login).

use crate::webhook::DeliverySettings;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use vouch_domain::Timestamp;
use vouch_domain::webhook::retry_delay;
use vouch_store::jobs::{AttemptRecord, Job, Next};
use vouch_store::{Store, emails};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpSecurity {
    None,
    StartTls,
    Tls,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// Keep every message in the outbox, visible in the console; send nothing.
    Outbox,
    Smtp(SmtpSettings),
}

#[derive(Debug, Clone)]
pub struct EmailSettings {
    pub transport: Transport,
    /// `Vouch <vouch@example.com>`
    pub from: String,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            transport: Transport::Outbox,
            from: "Vouch <vouch@localhost>".into(),
        }
    }
}

/// Checks a `Name <address>` or bare address.
pub fn parse_mailbox(s: &str) -> Result<(), String> {
    s.parse::<Mailbox>().map(|_| ()).map_err(|e| e.to_string())
}

/// A ready-to-use sender.
pub enum Mailer {
    Outbox,
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
}

impl Mailer {
    pub fn new(settings: &EmailSettings, timeout: Duration) -> Result<Self, String> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| format!("email.from `{}`: {e}", settings.from))?;
        let smtp = match &settings.transport {
            Transport::Outbox => return Ok(Mailer::Outbox),
            Transport::Smtp(s) => s,
        };
        crate::install_crypto_provider();
        let builder = match smtp.security {
            SmtpSecurity::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
            }
            SmtpSecurity::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                    .map_err(|e| e.to_string())?
            }
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                .map_err(|e| e.to_string())?,
        };
        let mut builder = builder.port(smtp.port).timeout(Some(timeout));
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Mailer::Smtp {
            transport: builder.build(),
            from,
        })
    }
}

/// One attempt of an email job.
pub async fn attempt(
    store: &Store,
    mailer: &Mailer,
    delivery: &DeliverySettings,
    job: &Job,
) -> (AttemptRecord, Next) {
    let started = Timestamp::now();
    let clock = Instant::now();
    let result = send(store, mailer, job).await;
    let record = |succeeded: bool, body: Option<String>, error: Option<String>| AttemptRecord {
        started_at: started,
        duration_ms: i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX),
        succeeded,
        response_status: None,
        response_body: body,
        error,
    };
    match result {
        Ok(answer) => (record(true, Some(answer), None), Next::Succeeded),
        Err(error) => {
            let next_attempt = u32::try_from(job.attempts + 1).unwrap_or(u32::MAX);
            let next = match (job.attempts < job.max_attempts)
                .then(|| {
                    retry_delay(
                        &delivery.retry_schedule,
                        next_attempt,
                        rand::random::<f64>(),
                    )
                })
                .flatten()
            {
                Some(delay) => {
                    Next::RetryAt(Timestamp::from_datetime(OffsetDateTime::now_utc() + delay))
                }
                None => {
                    if let Some(id) = job.payload["email_id"].as_str() {
                        let marked = async {
                            let mut conn = store.conn().await?;
                            emails::mark(&mut conn, id, "dead", "smtp").await
                        }
                        .await;
                        if let Err(e) = marked {
                            tracing::warn!(error = %e, "could not mark an email dead");
                        }
                    }
                    Next::Dead
                }
            };
            (record(false, None, Some(error)), next)
        }
    }
}

async fn send(store: &Store, mailer: &Mailer, job: &Job) -> Result<String, String> {
    let id = job.payload["email_id"]
        .as_str()
        .ok_or("the job names no email")?;
    let mut conn = store.conn().await.map_err(|e| e.to_string())?;
    let email = emails::get(&mut conn, id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the email no longer exists")?;
    // A dead email comes back here only when an operator retries its job.
    if email.status != "queued" && email.status != "dead" {
        return Ok(format!("already {}", email.status));
    }
    match mailer {
        Mailer::Outbox => {
            emails::mark(&mut conn, id, "stored", "outbox")
                .await
                .map_err(|e| e.to_string())?;
            Ok("kept in the outbox".into())
        }
        Mailer::Smtp { transport, from } => {
            drop(conn);
            let to: Mailbox = email
                .to_address
                .parse()
                .map_err(|e| format!("the recipient {}: {e}", email.to_address))?;
            let mut builder = lettre::Message::builder()
                .from(from.clone())
                .to(to)
                .subject(email.subject.clone())
                .message_id(Some(format!("<{}@vouch>", email.id)));
            // One-click unsubscribe (RFC 8058): mail clients show a button that POSTs here.
            if let Some(url) = &email.unsubscribe_url {
                builder = builder
                    .raw_header(HeaderValue::new(
                        HeaderName::new_from_ascii_str("List-Unsubscribe"),
                        format!("<{url}>"),
                    ))
                    .raw_header(HeaderValue::new(
                        HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                        "List-Unsubscribe=One-Click".into(),
                    ));
            }
            let message = builder
                .multipart(MultiPart::alternative_plain_html(
                    email.text_body.clone(),
                    email.html_body.clone(),
                ))
                .map_err(|e| e.to_string())?;
            let response = transport
                .send(message)
                .await
                .map_err(|e| format!("SMTP: {e}"))?;
            let mut conn = store.conn().await.map_err(|e| e.to_string())?;
            emails::mark(&mut conn, id, "sent", "smtp")
                .await
                .map_err(|e| e.to_string())?;
            Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            ))
        }
    }
}
