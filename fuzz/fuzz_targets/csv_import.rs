#![no_main]
//! See `vouch_domain::fuzzing::csv_imports` for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_domain::fuzzing::csv_imports(data));
