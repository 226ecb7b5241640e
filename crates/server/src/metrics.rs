//! `GET /metrics` in the Prometheus text format (version 0.0.4): requests by route template,
//! method and status with a latency histogram, this process's clicks (counted, written,
//! refused, still buffered), jobs waiting, running or dead per kind with the oldest one's age,
//! the last hour's delivery attempts by outcome, and the database pool.
//!
//! It is off unless `metrics_token` is set (404, like any unknown address), and then answers
//! only a request carrying `Authorization: Bearer <token>` (401 otherwise): the public
//! listener never shows it to strangers. Request series are this process's own; a scraper
//! adds them up across processes.

use crate::AppState;
use crate::auth::constant_time_eq;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Instant;

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    /// Observations at or under each bucket's bound (not yet cumulative).
    buckets: [u64; BUCKETS.len()],
}

/// One route's series, per (method, status).
type ByAnswer = HashMap<(Method, u16), Series>;

/// Requests of this process, per route template, then (method, status): a request of a route
/// already seen allocates nothing.
#[derive(Default)]
pub struct HttpMetrics {
    series: Mutex<HashMap<String, ByAnswer>>,
}

impl HttpMetrics {
    pub fn observe(&self, route: &str, method: &Method, status: u16, seconds: f64) {
        let Ok(mut routes) = self.series.lock() else {
            return;
        };
        let by_answer = match routes.get_mut(route) {
            Some(found) => found,
            None => routes.entry(route.to_string()).or_default(),
        };
        let s = by_answer.entry((method.clone(), status)).or_default();
        s.count += 1;
        s.sum += seconds;
        if let Some(i) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            s.buckets[i] += 1;
        }
    }

    fn render(&self, out: &mut String) {
        out.push_str("# HELP vouch_http_request_duration_seconds Requests answered, by route template, method and status.\n");
        out.push_str("# TYPE vouch_http_request_duration_seconds histogram\n");
        let Ok(routes) = self.series.lock() else {
            return;
        };
        let mut all: Vec<(&String, &Method, u16, &Series)> = routes
            .iter()
            .flat_map(|(route, answers)| {
                answers
                    .iter()
                    .map(move |((method, status), s)| (route, method, *status, s))
            })
            .collect();
        all.sort_by(|a, b| (a.0, a.1.as_str(), a.2).cmp(&(b.0, b.1.as_str(), b.2)));
        for (route, method, status, s) in all {
            let labels = format!(
                "route=\"{}\",method=\"{}\",status=\"{status}\"",
                escape(route),
                escape(method.as_str())
            );
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(s.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "vouch_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "vouch_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "vouch_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "vouch_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
    }
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Times every request under the route template it matched (`/r/{code}`, never the code
/// itself, so series stay few); addresses no route matched count as `unmatched`. Only layered
/// when `/metrics` is on: an installation that does not scrape pays nothing per request.
pub async fn measure(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    // Any method name is valid HTTP: only the standard ones become series of their own.
    let method = match *req.method() {
        Method::GET
        | Method::HEAD
        | Method::POST
        | Method::PUT
        | Method::PATCH
        | Method::DELETE
        | Method::OPTIONS => req.method().clone(),
        _ => Method::from_bytes(b"OTHER").unwrap_or_else(|_| req.method().clone()),
    };
    let started = Instant::now();
    let response = next.run(req).await;
    state.metrics.observe(
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        &method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = state.settings.metrics_token.as_deref() else {
        return crate::error::ApiError::not_found("resource").into_response();
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !constant_time_eq(sent, token) {
        let mut refused = (
            StatusCode::UNAUTHORIZED,
            "Send the metrics token as a bearer token.\n",
        )
            .into_response();
        refused.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
        return refused;
    }
    let mut out = String::with_capacity(16 * 1024);
    state.metrics.render(&mut out);
    render_clicks(&state, &mut out);
    render_group_commit(&state, &mut out);
    render_pool(&state, &mut out);
    match vouch_app::metrics::snapshot(&state).await {
        Ok(snapshot) => render_jobs(&snapshot, &mut out),
        Err(e) => {
            // The process's own counters are still worth a scrape; say the database part failed.
            tracing::warn!(error = %e, "metrics: could not read the job queue");
            out.push_str("# TYPE vouch_metrics_database_up gauge\nvouch_metrics_database_up 0\n");
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

fn gauge(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}

fn render_clicks(state: &AppState, out: &mut String) {
    let counted = state.clicks.counted();
    let tally = state.clicks.tally();
    let written = tally.written.load(Ordering::Relaxed);
    let refused = tally.refused.load(Ordering::Relaxed);
    gauge(
        out,
        "vouch_clicks_counted_total",
        "counter",
        "Clicks this process counted (first per visitor, link and hour).",
        counted,
    );
    gauge(
        out,
        "vouch_clicks_written_total",
        "counter",
        "Clicks this process wrote to the database.",
        written,
    );
    gauge(
        out,
        "vouch_clicks_refused_total",
        "counter",
        "Clicks the database refused for their data.",
        refused,
    );
    gauge(
        out,
        "vouch_clicks_buffered",
        "gauge",
        "Clicks counted and not yet written.",
        counted.saturating_sub(written + refused),
    );
}

fn render_group_commit(state: &AppState, out: &mut String) {
    let stats = &state.writes.stats;
    gauge(
        out,
        "vouch_group_commits_total",
        "counter",
        "Transactions this process committed for grouped writes (signups).",
        stats.groups.load(Ordering::Relaxed),
    );
    gauge(
        out,
        "vouch_group_commit_writes_total",
        "counter",
        "Writes those transactions held; divided by the commits, the mean group size.",
        stats.writes.load(Ordering::Relaxed),
    );
    gauge(
        out,
        "vouch_group_commit_reruns_total",
        "counter",
        "Groups run a second time, each write in a savepoint, because one of their writes failed.",
        stats.reruns.load(Ordering::Relaxed),
    );
}

fn render_pool(state: &AppState, out: &mut String) {
    let pool = state.store.pool();
    let size = pool.size();
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
    out.push_str("# HELP vouch_db_pool_connections Database connections of this process.\n# TYPE vouch_db_pool_connections gauge\n");
    let _ = writeln!(
        out,
        "vouch_db_pool_connections{{state=\"idle\"}} {idle}\nvouch_db_pool_connections{{state=\"busy\"}} {}",
        size.saturating_sub(idle)
    );
    gauge(
        out,
        "vouch_db_pool_max_connections",
        "gauge",
        "The pool's limit (database_max_connections).",
        pool.options().get_max_connections(),
    );
}

fn render_jobs(s: &vouch_app::metrics::Snapshot, out: &mut String) {
    out.push_str("# TYPE vouch_metrics_database_up gauge\nvouch_metrics_database_up 1\n");
    out.push_str("# HELP vouch_jobs Jobs waiting, running or dead, by kind and status.\n# TYPE vouch_jobs gauge\n");
    for q in &s.queues {
        let _ = writeln!(
            out,
            "vouch_jobs{{kind=\"{}\",status=\"{}\"}} {}",
            escape(&q.kind),
            escape(&q.status),
            q.count
        );
    }
    out.push_str("# HELP vouch_jobs_oldest_age_seconds Seconds since the oldest job of each kind and status was due.\n# TYPE vouch_jobs_oldest_age_seconds gauge\n");
    for (q, age) in s.queues.iter().zip(&s.oldest_age_seconds) {
        let _ = writeln!(
            out,
            "vouch_jobs_oldest_age_seconds{{kind=\"{}\",status=\"{}\"}} {age}",
            escape(&q.kind),
            escape(&q.status)
        );
    }
    out.push_str("# HELP vouch_delivery_attempts_last_hour Delivery attempts (webhooks, emails, lead posts) in the last hour, by job kind and outcome.\n# TYPE vouch_delivery_attempts_last_hour gauge\n");
    for (kind, succeeded, n) in &s.attempts_last_hour {
        let _ = writeln!(
            out,
            "vouch_delivery_attempts_last_hour{{kind=\"{}\",outcome=\"{}\"}} {n}",
            escape(kind),
            if *succeeded { "succeeded" } else { "failed" }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_is_cumulative_and_ends_with_inf() {
        let m = HttpMetrics::default();
        m.observe("/r/{code}", &Method::GET, 302, 0.0004);
        m.observe("/r/{code}", &Method::GET, 302, 0.02);
        m.observe("/r/{code}", &Method::GET, 302, 9.0);
        let mut out = String::new();
        m.render(&mut out);
        let labels = "route=\"/r/{code}\",method=\"GET\",status=\"302\"";
        assert!(
            out.contains(&format!("_bucket{{{labels},le=\"0.0005\"}} 1\n")),
            "{out}"
        );
        assert!(
            out.contains(&format!("_bucket{{{labels},le=\"0.025\"}} 2\n")),
            "{out}"
        );
        assert!(
            out.contains(&format!("_bucket{{{labels},le=\"5\"}} 2\n")),
            "{out}"
        );
        assert!(
            out.contains(&format!("_bucket{{{labels},le=\"+Inf\"}} 3\n")),
            "{out}"
        );
        assert!(out.contains(&format!("_count{{{labels}}} 3\n")), "{out}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
