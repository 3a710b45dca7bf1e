//! The placeholder grammar on any text: spans in bounds and in order, segments that rebuild the
//! text, references that validate (tests/properties/invariants.rs).
#![no_main]

#[allow(dead_code)]
#[path = "../../tests/properties/invariants.rs"]
mod invariants;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        invariants::check_placeholder_grammar(text);
    }
});
