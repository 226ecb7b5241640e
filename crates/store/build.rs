//! Embeds the migration folders: every `NNNN_name.sql` under `migrations/sqlite` and
//! `migrations/postgres` becomes an entry of a generated table, so adding a migration is
//! adding a file. Both folders must hold the same versions and names; a mismatch fails the build
//! rather than a deployment.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let root = Path::new(&root).join("migrations");
    println!("cargo:rerun-if-changed={}", root.display());
    let sqlite = list(&root.join("sqlite"));
    let postgres = list(&root.join("postgres"));
    let names = |files: &[(i64, String, String)]| {
        files
            .iter()
            .map(|(v, n, _)| (*v, n.clone()))
            .collect::<Vec<_>>()
    };
    if names(&sqlite) != names(&postgres) {
        panic!(
            "migrations/sqlite and migrations/postgres must hold the same versions and names:\n\
             sqlite:   {:?}\npostgres: {:?}",
            names(&sqlite),
            names(&postgres)
        );
    }
    let mut out = String::new();
    for (constant, files) in [("SQLITE", &sqlite), ("POSTGRES", &postgres)] {
        let _ = writeln!(
            out,
            "pub(crate) const {constant}: &[(i64, &str, &str)] = &["
        );
        for (version, name, path) in files.iter() {
            let _ = writeln!(out, "    ({version}, {name:?}, include_str!({path:?})),");
        }
        out.push_str("];\n");
    }
    let dest =
        Path::new(&std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("migrations.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("cannot write {}: {e}", dest.display());
    }
}

/// `(version, name, absolute path)` of each `NNNN_name.sql` in `dir`, in version order.
fn list(dir: &Path) -> Vec<(i64, String, String)> {
    println!("cargo:rerun-if-changed={}", dir.display());
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => panic!("cannot read {}: {e}", dir.display()),
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".sql") else {
            continue;
        };
        let Some((version, name)) = stem.split_once('_') else {
            panic!("{file}: a migration is named NNNN_name.sql");
        };
        let Ok(version) = version.parse::<i64>() else {
            panic!("{file}: a migration is named NNNN_name.sql");
        };
        println!("cargo:rerun-if-changed={}", path.display());
        files.push((version, name.to_string(), path.display().to_string()));
    }
    files.sort();
    files
}
