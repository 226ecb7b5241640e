//! The finishing pass over the generated document: what every operation shares is stated
//! once here, from what the operation takes, rather than repeated on 78 annotations.
//!
//! - **Problem statuses.** The extractors and middleware every operation runs through decide
//!   which problems it can answer: 401 and 403 (credentials, role or scope, CSRF) everywhere;
//!   404 where a path names a resource; 400, 413 and 415 where a JSON body is read (malformed
//!   JSON, more than 1 MiB, not JSON); 422 where any input is read; 409 on writes (a value
//!   already taken, a state that changed, an `Idempotency-Key` still in flight).
//! - **Free text.** Every bounded free-text string (one with a `maxLength`) refuses control
//!   characters (tab and line breaks aside), and a required one needs a character that is not
//!   a space: a `pattern` says so on each such string of a request body or query. An `email` is one
//!   address of the shape the server checks; a web address (marked `iri` in the annotations) is
//!   an http(s) address with a host, stated by its pattern alone.
//! - **Pages.** Every list takes `limit` from 1 to 100 (default 20).

use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// Printable text: no control characters except tab, line feed and carriage return.
const TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";
/// A query parameter's text: anything but control characters (C0, DEL and C1).
const QUERY_TEXT: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";
/// Printable text with at least one character that is not a space.
const REQUIRED_TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// An address as `vouch_domain::email::Email` accepts it.
const EMAIL: &str = "^(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$";
/// An http(s) address with a host (no brackets), no spaces and no control characters.
const WEB_URL: &str = "^https?://[^\\s/?#\\[\\]\\u0000-\\u001F\\u007F-\\u009F]+([/?#][^\\s\\u0000-\\u001F\\u007F-\\u009F]*)?$";

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

pub fn finish(mut doc: Value) -> Value {
    let mut request_schemas = BTreeSet::new();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            for method in METHODS {
                if let Some(op) = item.get_mut(method) {
                    add_problems(method, op);
                    if let Some(name) =
                        op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
                    {
                        request_schemas.insert(name.rsplit('/').next().unwrap_or(name).to_string());
                    }
                    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                        for p in params {
                            if p["name"] == "limit" && p["in"] == "query" {
                                p["schema"]["minimum"] = json!(1);
                                p["schema"]["maximum"] = json!(crate::api::MAX_LIMIT);
                                p["description"] = json!(format!(
                                    "How many items: 1 to {}, default {}.",
                                    crate::api::MAX_LIMIT,
                                    crate::api::DEFAULT_LIMIT
                                ));
                            }
                            if p["in"] == "query" {
                                query_text_rule(&mut p["schema"]);
                            }
                            text_rule(&mut p["schema"]);
                        }
                    }
                }
            }
        }
    }
    // Request bodies and what they nest.
    let mut todo: Vec<String> = request_schemas.iter().cloned().collect();
    while let Some(name) = todo.pop() {
        let mut refs = Vec::new();
        collect_refs(&doc["components"]["schemas"][&name], &mut refs);
        for r in refs {
            if request_schemas.insert(r.clone()) {
                todo.push(r);
            }
        }
    }
    for name in &request_schemas {
        text_rule(&mut doc["components"]["schemas"][name]);
    }
    add_examples(&mut doc);
    add_links(&mut doc);
    super::webhooks::add(&mut doc);
    doc
}

/// Recorded exchanges, one per operation (`.ci/examples.py` writes the file from a test run):
/// `{ operationId: { status, request?, response } }`.
const EXAMPLES: &str = include_str!("examples.json");

/// Puts each operation's recorded request and response into the document as the media types'
/// `example`, so the reference and generated clients show real data, and schemathesis sends
/// the request examples (its `examples` phase) and checks the answers.
fn add_examples(doc: &mut Value) {
    let Ok(Value::Object(examples)) = serde_json::from_str::<Value>(EXAMPLES) else {
        return;
    };
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        for method in METHODS {
            let Some(op) = item.get_mut(method) else {
                continue;
            };
            let Some(example) = op["operationId"].as_str().and_then(|id| examples.get(id)) else {
                continue;
            };
            // `pointer_mut`, not indexing: indexing would create what is missing.
            if let Some(request) = example.get("request")
                && let Some(Value::Object(media)) =
                    op.pointer_mut("/requestBody/content/application~1json")
            {
                media.insert("example".into(), request.clone());
            }
            let status = &example["status"];
            if let Some(Value::Object(media)) =
                op.pointer_mut(&format!("/responses/{status}/content/application~1json"))
            {
                media.insert("example".into(), example["response"].clone());
            }
        }
    }
}

/// Links from each creation to the operations on what it created: `POST /api/v1/partners`
/// answers with an `id`, which `GET /api/v1/partners/{id}` (and every other operation under
/// that one path parameter) takes. Clients and schemathesis's stateful phase follow them, so
/// the operations that need an existing id are exercised with real ones.
fn add_links(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object() else {
        return;
    };
    let mut found: Vec<(String, String, Map<String, Value>)> = Vec::new();
    for (path, item) in paths {
        let Some(post) = item.get("post") else {
            continue;
        };
        let Some((status, schema)) = ["201", "200"].iter().find_map(|status| {
            let schema = post.pointer(&format!(
                "/responses/{status}/content/application~1json/schema/$ref"
            ))?;
            Some((
                status.to_string(),
                schema.as_str()?.rsplit('/').next()?.to_string(),
            ))
        }) else {
            continue;
        };
        if doc["components"]["schemas"][&schema]["properties"]
            .get("id")
            .is_none()
        {
            continue;
        }
        let mut links = Map::new();
        let prefix = format!("{path}/{{");
        for (target, target_item) in paths {
            let Some(rest) = target.strip_prefix(&prefix) else {
                continue;
            };
            // Exactly one path parameter, the one the created id fills.
            let Some((param, tail)) = rest.split_once('}') else {
                continue;
            };
            if tail.contains('{') {
                continue;
            }
            for method in METHODS {
                if let Some(id) = target_item
                    .get(method)
                    .and_then(|op| op["operationId"].as_str())
                {
                    links.insert(
                        id.to_string(),
                        json!({
                            "operationId": id,
                            "parameters": { format!("path.{param}"): "$response.body#/id" },
                        }),
                    );
                }
            }
        }
        if !links.is_empty() {
            found.push((path.clone(), status, links));
        }
    }
    for (path, status, links) in found {
        if let Some(Value::Object(response)) = doc.pointer_mut(&format!(
            "/paths/{}/post/responses/{status}",
            pointer_escape(&path)
        )) {
            response.insert("links".into(), Value::Object(links));
        }
    }
}

/// A JSON pointer token (RFC 6901): `~` and `/` escaped.
fn pointer_escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

fn add_problems(method: &str, op: &mut Value) {
    let has_body = op.get("requestBody").is_some();
    let params: Vec<String> = op["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p["in"].as_str())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let has_path = params.iter().any(|p| p == "path");
    let Some(responses) = op["responses"].as_object_mut() else {
        return;
    };
    responses.remove("4XX");
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_string())
            .or_insert_with(|| problem(description));
    };
    if has_body {
        add(
            "400",
            "The body is not JSON that parses, or a header (Idempotency-Key) is malformed: `bad_request`.",
        );
    }
    add(
        "401",
        "No credentials, or an unknown or revoked API key: `unauthenticated`, `invalid_api_key`.",
    );
    add(
        "403",
        "The role or key scope does not allow this (see docs/PERMISSIONS.md), or a cookie-authenticated write lacks its CSRF header: `forbidden`, `csrf_failed`.",
    );
    if has_path {
        add("404", "No such resource, or not yours to see: `not_found`.");
    }
    if matches!(method, "post" | "put" | "patch") {
        add(
            "409",
            "A value is already taken, the resource's state changed meanwhile, or a request with this Idempotency-Key is still running: see `code`.",
        );
    }
    if has_body {
        add("413", "The body is larger than 1 MiB: `payload_too_large`.");
        add(
            "415",
            "The body is not sent as `Content-Type: application/json`: `unsupported_media_type`.",
        );
    }
    if has_body || !params.is_empty() {
        add(
            "422",
            "An input is invalid; `errors` names every failing field: `validation_failed`.",
        );
    }
}

fn collect_refs(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                out.push(r.rsplit('/').next().unwrap_or(r).to_string());
            }
            for v in map.values() {
                collect_refs(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn is_string(map: &Map<String, Value>) -> bool {
    match map.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    }
}

/// Adds the free-text pattern to every plain string (no enum, format or pattern of its own).
/// No query parameter takes a control character (`ApiQuery` refuses them, naming the
/// parameter), so every free string of a query says so.
fn query_text_rule(schema: &mut Value) {
    if let Value::Object(map) = schema
        && is_string(map)
        && !["enum", "format", "pattern", "const"]
            .iter()
            .any(|k| map.contains_key(*k))
    {
        map.insert("pattern".into(), Value::String(QUERY_TEXT.into()));
    }
}

fn text_rule(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if is_string(map) && !map.contains_key("pattern") {
                // `…-or-empty`: an optional field where "" clears the value; no standard format
                // admits the empty string, so the pattern says it alone.
                let shape = match map.get("format").and_then(Value::as_str) {
                    Some("email") => Some(EMAIL.to_string()),
                    Some("iri") => Some(WEB_URL.to_string()),
                    Some("email-or-empty") => Some(format!("^$|{EMAIL}")),
                    Some("iri-or-empty") => Some(format!("^$|{WEB_URL}")),
                    _ => None,
                };
                // The pattern alone states what the server takes: an IRI validator refuses
                // characters (`{`, `^`, a backtick) that the server accepts and encodes, so a
                // web address carries no standard `format`.
                if map
                    .get("format")
                    .and_then(Value::as_str)
                    .is_some_and(|f| f.starts_with("iri") || f.ends_with("-or-empty"))
                {
                    map.remove("format");
                }
                if let Some(shape) = shape {
                    map.insert("pattern".into(), Value::String(shape));
                }
            }
            // Every free-text field the server checks has a length bound; cursors, search
            // text and templates do not, and the server takes any text there.
            let plain = is_string(map)
                && map.contains_key("maxLength")
                && !map.contains_key("enum")
                && !map.contains_key("format")
                && !map.contains_key("pattern")
                && !map.contains_key("const");
            if plain {
                let required = map
                    .get("minLength")
                    .and_then(Value::as_u64)
                    .is_some_and(|n| n >= 1);
                map.insert(
                    "pattern".into(),
                    Value::String(if required { REQUIRED_TEXT } else { TEXT }.into()),
                );
            }
            for v in map.values_mut() {
                text_rule(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(text_rule),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_what_an_operation_takes() {
        let doc = json!({ "paths": {
            "/a/{id}": { "patch": { "parameters": [{ "in": "path", "name": "id" }], "requestBody": {}, "responses": { "200": {}, "4XX": {} } } },
            "/a": { "get": { "responses": { "200": {}, "4XX": {} } } }
        }});
        let doc = finish(doc);
        let keys = |v: &Value| {
            v.as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert_eq!(
            keys(&doc["paths"]["/a/{id}"]["patch"]["responses"]),
            [
                "200", "400", "401", "403", "404", "409", "413", "415", "422"
            ]
        );
        assert_eq!(
            keys(&doc["paths"]["/a"]["get"]["responses"]),
            ["200", "401", "403"]
        );
    }
}
