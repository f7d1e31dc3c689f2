//! The request path is attacker-controlled: parsing must never panic.
#![no_main]

use graphbox_mock::odata::parse_path;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = parse_path(text);
});
