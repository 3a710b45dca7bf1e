//! Property tests: the invariants of the placeholder grammar, the modifiers and YAML editing
//! (`invariants.rs`), checked on a bounded number of generated inputs on every `cargo test`, so
//! they run on stable and in `scripts/test`.
//!
//! Inputs come from seeded generators (`generate.rs`), not from a property-testing crate: the
//! inputs worth generating are fragments of three grammars, which a few lines of code pick as
//! well as any strategy library would, and the same seed gives the same inputs everywhere. A
//! failure prints the seed and the input; `PROPERTY_CASES=N` runs N cases per property (for a
//! longer local run) and `PROPERTY_SEED=S` starts at another seed.

mod generate;
mod invariants;

use std::panic::{AssertUnwindSafe, catch_unwind};

use generate::Rng;

/// Runs `check` on `cases` generated inputs (or `PROPERTY_CASES`), naming the failing one.
fn for_each_case<T: std::fmt::Debug>(
    cases: usize,
    generate: impl Fn(&mut Rng) -> T,
    check: impl Fn(&T),
) {
    let cases = env_number("PROPERTY_CASES").map_or(cases, |n| usize::try_from(n).unwrap_or(cases));
    let first = env_number("PROPERTY_SEED").unwrap_or(0);
    for seed in first..first + cases as u64 {
        let input = generate(&mut Rng::new(seed));
        if catch_unwind(AssertUnwindSafe(|| check(&input))).is_err() {
            panic!(
                "property failed (above) for seed {seed} (PROPERTY_SEED={seed}), input: {input:?}"
            );
        }
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

#[test]
fn placeholder_grammar_holds_on_generated_strings() {
    for_each_case(20_000, generate::placeholder_text, |text| {
        invariants::check_placeholder_grammar(text);
    });
}

#[test]
fn modifier_chains_stay_bounded_and_never_show_values_in_errors() {
    for_each_case(5_000, generate::modifier_input, |input| {
        invariants::check_modifier_chain(input);
    });
}

#[test]
fn yaml_edits_reparse_and_keep_other_bytes() {
    for_each_case(
        3_000,
        |rng| (rng.next_u64(), generate::yaml_stream(rng)),
        |(choice, text)| invariants::check_yaml_edit(*choice, text),
    );
}

#[test]
fn kustomization_edits_change_only_the_fields_parameters_set() {
    for_each_case(
        3_000,
        |rng| {
            let text = generate::kustomization(rng);
            let (params, components) = generate::kustomize_params(rng);
            (text, params, components)
        },
        |(text, params, components)| {
            invariants::check_kustomization_edit(text, params, components);
        },
    );
}

/// The generators reach what they are meant to: otherwise the properties hold vacuously.
#[test]
fn generators_reach_placeholders_modifiers_and_edits() {
    use vaultplate::placeholder::{Mode, parse};
    let mut rng = Rng::new(1);
    let with_placeholders = (0..1000)
        .filter(|_| {
            matches!(
                parse(
                    &generate::placeholder_text(&mut rng),
                    Mode::InlineAndGeneric
                ),
                Ok(Some(_))
            )
        })
        .count();
    assert!(with_placeholders > 100, "{with_placeholders} of 1000");
    let parsed = (0..1000)
        .filter(|_| vaultplate::yaml::parse_stream(&generate::yaml_stream(&mut rng)).is_ok())
        .count();
    assert!(parsed > 200, "{parsed} of 1000 streams parse");
    let (mut edited, mut appended_first) = (0, 0);
    for _ in 0..1000 {
        let text = generate::kustomization(&mut rng);
        let (params, components) = generate::kustomize_params(&mut rng);
        if let Ok(out) = vaultplate::render::kustomize::edit::edit(&text, &params, &components) {
            edited += usize::from(out != text);
            appended_first +=
                usize::from(!text.is_empty() && out.ends_with(text.trim_start()) && out != text);
        }
    }
    assert!(edited > 300, "{edited} of 1000 kustomizations edited");
    assert!(
        appended_first > 0,
        "no kustomization got its new fields first"
    );
}

/// Inputs the fuzz targets found failing, kept in `regressions/` (named `TARGET-what`) and run
/// through the same invariant as the target, with the target's byte layout.
#[test]
fn inputs_fuzzing_found_stay_fixed() {
    let folder =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/properties/regressions");
    let mut count = 0;
    for entry in std::fs::read_dir(&folder).expect("the regressions folder") {
        let path = entry.expect("an entry").path();
        let name = path
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let data = std::fs::read(&path).expect("a regression input");
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        match name.split('-').next() {
            Some("yaml_edit") => invariants::check_yaml_edit_bytes(&data),
            Some("placeholder_grammar") => invariants::check_placeholder_grammar(&text(&data)),
            Some("modifier_chain") => invariants::check_modifier_chain(&text(&data)),
            Some("kustomization_edit") => invariants::check_kustomization_edit_bytes(&data),
            _ => panic!("{name}: name a regression TARGET-what, TARGET one of the fuzz targets"),
        }
        count += 1;
    }
    assert!(count > 0, "no regression inputs in {}", folder.display());
}
