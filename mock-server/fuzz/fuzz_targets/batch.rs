//! A `$batch` body is attacker-controlled: reading it must never panic, every
//! refusal is Graph's 400 BadRequest, and an accepted batch holds Graph's
//! rules: 1 to 20 requests, unique ids, each run after its dependencies.
#![no_main]

use std::collections::HashSet;

use graphbox_mock::__fuzz::batch_plan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match batch_plan(data) {
        Ok(order) => {
            assert!((1..=20).contains(&order.len()), "{} requests accepted", order.len());
            let mut ran = HashSet::new();
            for (id, depends_on) in &order {
                for dep in depends_on {
                    assert!(ran.contains(dep), "'{id}' runs before its dependency '{dep}'");
                }
                assert!(ran.insert(id), "id '{id}' accepted twice");
            }
        }
        Err((status, code, message)) => {
            assert_eq!((status, code.as_str()), (400, "BadRequest"), "{message}");
        }
    }
});
