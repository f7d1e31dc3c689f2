//! An MSOnline request body is unauthenticated input: reading it must never
//! panic or overflow, and a tree the reader accepts must stay within its depth
//! and element bounds (the depth is what keeps the recursive tree safe to
//! clone and drop).
#![no_main]

use graphbox_mock::__fuzz::{msol_request, msol_xml_shape, MSOL_XML_BOUNDS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((depth, elements)) = msol_xml_shape(text) {
            let (max_depth, max_elements) = MSOL_XML_BOUNDS;
            assert!(depth <= max_depth, "depth {depth} passed the bound {max_depth}");
            assert!(elements <= max_elements, "{elements} elements passed the bound {max_elements}");
        }
    }
    let _ = msol_request(data);
});
