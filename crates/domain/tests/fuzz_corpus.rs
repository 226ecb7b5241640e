//! Replays the fuzz targets' committed corpus (`fuzz/corpus/<target>/`) through the same
//! checks on the stable toolchain, so what fuzzing found stays fixed on every CI run.

use std::path::PathBuf;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus for {target}");
    for file in files {
        let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        check(&data);
    }
}

#[test]
fn csv_import_corpus() {
    replay("csv_import", vouch_domain::fuzzing::csv_imports);
}

#[test]
fn email_template_corpus() {
    replay("email_template", vouch_domain::fuzzing::email_template);
}

#[test]
fn json_body_corpus() {
    replay("json_body", vouch_domain::fuzzing::json_body);
}
