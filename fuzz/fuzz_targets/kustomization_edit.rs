//! The kustomization editor on any kustomization text with any parameters: it refuses, or only
//! the fields the parameters set change, each reading back as given
//! (tests/properties/invariants.rs). Layout: the text, a 0xFF byte, one parameter per line.
#![no_main]

#[allow(dead_code)]
#[path = "../../tests/properties/invariants.rs"]
mod invariants;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    invariants::check_kustomization_edit_bytes(data);
});
