//! The layout ARCHITECTURE.md describes: top-level modules import one way, each using only
//! those below it in [`LAYERS`]. A `crate::x` path in code (not in comments) that points up
//! the list fails here, naming the file.

use std::path::Path;

/// The top-level modules, lowest first.
const LAYERS: &[&str] = &[
    "sensitive",
    "yaml",
    "placeholder",
    "secrets",
    "config",
    "engine",
    "render",
    "watch",
    "shell",
];

#[test]
fn top_level_modules_import_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut upward = Vec::new();
    let mut files = Vec::new();
    collect(&src, &mut files);
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let first = relative.iter().next().expect("a file").to_string_lossy();
        let module = first.trim_end_matches(".rs");
        let Some(level) = LAYERS.iter().position(|l| *l == module) else {
            assert!(
                ["lib", "main"].contains(&module),
                "{module}: a top-level module missing from LAYERS (and ARCHITECTURE.md)"
            );
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("a source file");
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for (at, _) in code.match_indices("crate::") {
                let used: String = code[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if LAYERS
                    .iter()
                    .position(|l| *l == used)
                    .is_some_and(|u| u > level)
                {
                    upward.push(format!(
                        "{}:{}: {module} uses {used}",
                        relative.display(),
                        number + 1
                    ));
                }
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports up the layers:\n{}",
        upward.join("\n")
    );
}

fn collect(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}
