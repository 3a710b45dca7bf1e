//! YAML parse + edit on any text: edits re-parse, bytes outside the edited spans stay identical
//! (tests/properties/invariants.rs). The first eight bytes choose which scalars are edited.
#![no_main]

#[allow(dead_code)]
#[path = "../../tests/properties/invariants.rs"]
mod invariants;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    invariants::check_yaml_edit_bytes(data);
});
