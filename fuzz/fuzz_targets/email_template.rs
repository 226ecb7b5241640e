#![no_main]
//! See `vouch_domain::fuzzing::email_template` for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vouch_domain::fuzzing::email_template(data));
