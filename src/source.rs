//! Reads the input of `generate`: standard input, one file, or a directory walked in lexical
//! order for `*.yaml`, `*.yml` and `*.json`, skipping hidden folders.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::problem::Problem;

/// Where an input came from, which decides how documents without a `kind` are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Standard input: every non-empty document must be an object.
    Stdin,
    /// A file named on the command line or found in a directory.
    File,
}

/// One input text and the name used for it in messages.
#[derive(Debug, Clone)]
pub struct Input {
    /// The path as the user would recognise it, or `<stdin>`.
    pub name: String,
    /// The whole text.
    pub text: String,
    /// Where it came from.
    pub origin: Origin,
}

/// Reads `path` (`-` is standard input).
pub fn load(path: &str, stdin: &mut dyn Read) -> Result<Vec<Input>, Problem> {
    if path == "-" {
        let mut text = String::new();
        stdin
            .read_to_string(&mut text)
            .map_err(|e| Problem::at("<stdin>", format!("cannot read: {e}")))?;
        return Ok(vec![Input {
            name: "<stdin>".into(),
            text,
            origin: Origin::Stdin,
        }]);
    }
    let root = PathBuf::from(path);
    let metadata =
        std::fs::metadata(&root).map_err(|e| Problem::at(path, format!("cannot read: {e}")))?;
    let files = if metadata.is_dir() {
        let mut files = Vec::new();
        walk(&root, &mut files)?;
        files
    } else {
        vec![root]
    };
    files
        .into_iter()
        .map(|file| {
            let name = file.display().to_string();
            let bytes = std::fs::read(&file)
                .map_err(|e| Problem::at(&name, format!("cannot read: {e}")))?;
            let text =
                String::from_utf8(bytes).map_err(|_| Problem::at(&name, "is not UTF-8 text"))?;
            Ok(Input {
                name,
                text,
                origin: Origin::File,
            })
        })
        .collect()
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), Problem> {
    let unreadable =
        |e: std::io::Error| Problem::at(dir.display().to_string(), format!("cannot read: {e}"));
    let mut entries = std::fs::read_dir(dir)
        .map_err(unreadable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable)?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Follows symlinks, as reading the file would.
        let is_dir = std::fs::metadata(&path)
            .map(|m| m.is_dir())
            .unwrap_or(false);
        if is_dir {
            if !name.starts_with('.') {
                walk(&path, files)?;
            }
        } else if [".yaml", ".yml", ".json"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_in_lexical_order_skipping_hidden_folders_and_other_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        for file in [
            "b.yaml",
            "a/z.yml",
            "a/y.json",
            ".git/x.yaml",
            "c.txt",
            "a/.hidden.yaml",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, "x: 1\n").expect("write");
        }
        let inputs = load(&dir.path().display().to_string(), &mut std::io::empty()).expect("loads");
        let names: Vec<_> = inputs
            .iter()
            .map(|i| {
                i.name
                    .strip_prefix(&dir.path().display().to_string())
                    .expect("under dir")
                    .to_owned()
            })
            .collect();
        assert_eq!(
            names,
            ["/a/.hidden.yaml", "/a/y.json", "/a/z.yml", "/b.yaml"]
        );
    }

    #[test]
    fn missing_path() {
        let problem = load("/nonexistent/x.yaml", &mut std::io::empty()).expect_err("missing");
        assert_eq!(
            problem.to_string(),
            "/nonexistent/x.yaml: cannot read: No such file or directory (os error 2)"
        );
    }
}
