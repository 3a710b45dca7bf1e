//! Modifier chains on any value: bounded output, no panic, no value in an error
//! (tests/properties/invariants.rs reads the chain and the value from the text).
#![no_main]

#[allow(dead_code)]
#[path = "../../tests/properties/invariants.rs"]
mod invariants;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        invariants::check_modifier_chain(text);
    }
});
