//! YAML parse + edit on any text: edits re-parse, bytes outside the edited spans stay identical
//! (tests/properties/invariants.rs). The first eight bytes choose which scalars are edited.
#![no_main]

#[allow(dead_code)]
#[path = "../../tests/properties/invariants.rs"]
mod invariants;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (choice, text) = data.split_at(data.len().min(8));
    let mut bytes = [0u8; 8];
    bytes[..choice.len()].copy_from_slice(choice);
    if let Ok(text) = std::str::from_utf8(text) {
        invariants::check_yaml_edit(u64::from_le_bytes(bytes), text);
    }
});
