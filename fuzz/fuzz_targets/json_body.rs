#![no_main]
//! See `vouch_domain::fuzzing::json_body` for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_domain::fuzzing::json_body(data));
