//! docs/WEBHOOKS.md documents exactly the catalogued event types, each with its `data`.

use vouch_app::resources::EVENT_TYPES;

#[test]
fn webhooks_doc_lists_every_event_type_and_nothing_else() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/WEBHOOKS.md");
    let doc = std::fs::read_to_string(&path).expect("docs/WEBHOOKS.md");
    let rows: Vec<(&str, &str)> = doc
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let data = cells.get(2)?.strip_prefix("[`")?.split('`').next()?;
            Some((name, data))
        })
        .collect();
    let catalogue: Vec<(&str, &str)> = EVENT_TYPES.iter().map(|e| (e.name, e.data)).collect();
    assert_eq!(rows, catalogue, "docs/WEBHOOKS.md and EVENT_TYPES differ");
}
