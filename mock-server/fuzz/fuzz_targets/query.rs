//! The query string is attacker-controlled (and reaches `$filter` and `$search`
//! through percent-decoding): parsing must never panic.
#![no_main]

use graphbox_mock::odata::parse_query;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = parse_query(text);
});
