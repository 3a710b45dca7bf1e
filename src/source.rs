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

/// Reads `path` (`-` is standard input, read from `stdin`; `stdin_size` is its size when known,
/// see [`regular_file_size`]).
pub fn load(
    path: &str,
    stdin: &mut dyn Read,
    stdin_size: Option<u64>,
) -> Result<Vec<Input>, Problem> {
    if path == "-" {
        // Without a size, the buffer grows by doubling: at its last step the old and the new
        // buffer are both held, two to three times the input at once.
        let mut text = String::new();
        if let Some(size) = stdin_size.and_then(|size| usize::try_from(size).ok()) {
            // Only a hint: a size that cannot be had is left to the reading to find out.
            let _ = text.try_reserve_exact(size.saturating_add(1));
        }
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

/// The size of the file behind `fd` when it is a regular file (standard input redirected from
/// a file), `None` for a pipe, a terminal or anything else.
pub fn regular_file_size(fd: impl std::os::fd::AsFd) -> Option<u64> {
    let file = std::fs::File::from(fd.as_fd().try_clone_to_owned().ok()?);
    let metadata = file.metadata().ok()?;
    metadata.is_file().then_some(metadata.len())
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
        let inputs = load(
            &dir.path().display().to_string(),
            &mut std::io::empty(),
            None,
        )
        .expect("loads");
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
    fn standard_input_is_read_whole_with_or_without_its_size() {
        let text = "a: 1\n".repeat(1000);
        for size in [None, Some(text.len() as u64), Some(3), Some(u64::MAX)] {
            let inputs = load("-", &mut text.as_bytes(), size).expect("reads");
            assert_eq!(inputs[0].text, text, "size {size:?}");
        }
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), &text).expect("write");
        assert_eq!(regular_file_size(file.as_file()), Some(text.len() as u64));
        let (reader, _writer) = std::io::pipe().expect("pipe");
        assert_eq!(regular_file_size(&reader), None);
    }

    #[test]
    fn missing_path() {
        let problem =
            load("/nonexistent/x.yaml", &mut std::io::empty(), None).expect_err("missing");
        assert_eq!(
            problem.to_string(),
            "/nonexistent/x.yaml: cannot read: No such file or directory (os error 2)"
        );
    }
}
