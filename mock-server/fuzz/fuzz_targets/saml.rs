//! A federated IdP's answer reaches `/login.srf` from any browser: reading it,
//! canonicalizing it and checking its signatures must never panic, overflow
//! the stack (the reader has no recursion) or accept a signature without a key.
#![no_main]

use graphbox_mock::__fuzz::idp_answer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = idp_answer(text);
    }
});
