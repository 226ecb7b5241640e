//! Records API exchanges for the OpenAPI document's examples. With `VOUCH_RECORD_EXAMPLES`
//! set to a folder, every JSON exchange with `/api/v1` is appended there as one line of JSON
//! (one file per test binary); `.ci/examples.py` picks one successful exchange per operation,
//! makes ids, times and secrets stable, and writes `crates/server/src/openapi/examples.json`.

use serde_json::{Value, json};
use std::io::Write;
use std::sync::Mutex;

static FILE: Mutex<Option<std::fs::File>> = Mutex::new(None);

pub fn record(method: &str, path: &str, request: Option<&[u8]>, status: u16, response: &str) {
    let Ok(dir) = std::env::var("VOUCH_RECORD_EXAMPLES") else {
        return;
    };
    if !path.starts_with("/api/v1/") || path == "/api/v1/openapi.json" {
        return;
    }
    let request: Value = match request {
        Some(bytes) => match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(_) => return,
        },
        None => Value::Null,
    };
    let Ok(response) = serde_json::from_str::<Value>(response) else {
        return;
    };
    let line = json!({
        "method": method.to_lowercase(),
        "path": path,
        "request": request,
        "status": status,
        "response": response,
    });
    let Ok(mut guard) = FILE.lock() else {
        return;
    };
    if guard.is_none() {
        let binary = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "tests".into());
        let _ = std::fs::create_dir_all(&dir);
        *guard = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(std::path::Path::new(&dir).join(format!("{binary}.jsonl")))
            .ok();
    }
    if let Some(file) = guard.as_mut() {
        let _ = writeln!(file, "{line}");
    }
}
