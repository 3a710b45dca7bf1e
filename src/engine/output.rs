//! Assembles the output stream: every manifest's text, edited where needed, as `---` documents.

use std::fmt;
use std::io::{self, BufWriter, Write};
use std::ops::Range;

use crate::engine::manifest::{Filling, Manifest};
use crate::engine::problem::Problem;
use crate::engine::source::Input;
use crate::yaml::edit::{self, Change, Edit};
use crate::yaml::ending;

/// A run's complete output, assembled in memory so that nothing is printed unless everything
/// succeeded. It keeps the inputs' texts and, for each manifest, the range of its text and
/// the changes filling made to it: no document is copied, so holding the output costs little
/// more than the inputs and the new values themselves.
#[derive(Debug)]
pub struct Output {
    texts: Vec<String>,
    documents: Vec<Document>,
    /// Whether the last document is followed by a line break when it has none of its own
    /// (not when that break would change its value: see [`ending::terminated`]).
    final_break: bool,
}

/// One document of the output. It is no larger than the [`Manifest`] it is made from, so that
/// the documents take the manifests' place in memory instead of a second table beside them.
#[derive(Debug)]
enum Document {
    /// A range of an input's text, with its changes (none for most documents).
    Edited {
        text: u32,
        range: Range<u32>,
        changes: Box<[Change]>,
    },
    /// A document rewritten whole (see [`Output::terminate_documents`]).
    Rewritten(Box<str>),
}

impl Output {
    /// Assembles the output of `manifests`, whose ranges point into `inputs`. `edits_of` turns
    /// each manifest's placeholders (and the text of its input) into its edits just before the
    /// manifest is assembled, so that those of the manifests already assembled are freed
    /// meanwhile.
    ///
    /// # Errors
    ///
    /// A [`Problem`] at the manifest whose edits could not be applied (a bug: edits come from
    /// the manifest's own sites).
    pub fn assemble(
        inputs: Vec<Input>,
        manifests: Vec<Manifest>,
        mut edits_of: impl FnMut(&Filling, &str) -> Vec<Edit>,
    ) -> Result<Self, Problem> {
        let texts: Vec<String> = inputs.into_iter().map(|input| input.text).collect();
        let documents = manifests
            .into_iter()
            .map(|manifest| {
                let changes = match &manifest.filling {
                    None => Box::default(),
                    Some(filling) => {
                        let edits = edits_of(filling, &texts[manifest.input]);
                        edit::changes(&texts[manifest.input], manifest.range.clone(), edits)
                            .map_err(|e| Problem::at(filling.subject.place(), e))?
                    }
                };
                let narrow = |n: usize| {
                    u32::try_from(n).map_err(|_| {
                        Problem::at(
                            "the output",
                            "is larger than 4 GiB, more than vaultplate prints in one run",
                        )
                    })
                };
                Ok(Document::Edited {
                    text: narrow(manifest.input)?,
                    range: narrow(manifest.range.start)?..narrow(manifest.range.end)?,
                    changes,
                })
            })
            .collect::<Result<Vec<_>, Problem>>()?;
        let mut output = Output {
            texts,
            documents,
            final_break: true,
        };
        output.terminate_documents();
        Ok(output)
    }

    /// A document without a final line break gets one after it (a `---` line must follow it),
    /// which would give a block scalar on its last line a trailing `\n` it did not have: such
    /// a document is rewritten to an equivalent text, except the last one, which is printed as
    /// it came, without the break.
    fn terminate_documents(&mut self) {
        let count = self.documents.len();
        for index in 0..count {
            let document = &self.documents[index];
            if self
                .last_piece(document)
                .is_none_or(|last| last.ends_with('\n'))
            {
                continue;
            }
            let whole: String = self.document_pieces(document).collect();
            let Some(terminated) = ending::terminated(&whole) else {
                continue;
            };
            if index + 1 == count {
                self.final_break = false;
            } else {
                self.documents[index] = Document::Rewritten(terminated.into_boxed_str());
            }
        }
    }

    /// The pieces of one document's text, in order.
    fn document_pieces<'a>(&'a self, document: &'a Document) -> impl Iterator<Item = &'a str> {
        let (edited, rewritten) = match document {
            Document::Edited {
                text,
                range,
                changes,
            } => (
                Some(edit::pieces(
                    &self.texts[*text as usize],
                    range.start as usize..range.end as usize,
                    changes,
                )),
                None,
            ),
            Document::Rewritten(text) => (None, Some(&**text)),
        };
        edited.into_iter().flatten().chain(rewritten)
    }

    /// The last non-empty piece of a document's text; `None` for an empty document.
    fn last_piece<'a>(&'a self, document: &'a Document) -> Option<&'a str> {
        self.document_pieces(document)
            .filter(|piece| !piece.is_empty())
            .last()
    }

    /// Writes the stream: each document after a `---` line, and ending with a line break.
    ///
    /// # Errors
    ///
    /// The writer's.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        // One write per document would be one system call per document on a line-buffered
        // standard output.
        let mut out = BufWriter::with_capacity(1 << 16, out);
        for piece in self.pieces() {
            out.write_all(piece.as_bytes())?;
        }
        out.flush()
    }

    /// The stream's text, piece by piece: a `---` line, a document, a line break where the
    /// document does not end with one.
    fn pieces(&self) -> impl Iterator<Item = &str> {
        let count = self.documents.len();
        self.documents
            .iter()
            .enumerate()
            .flat_map(move |(index, document)| {
                let last = self.last_piece(document);
                let line_break = last.is_some_and(|last| !last.ends_with('\n'))
                    && (index + 1 < count || self.final_break);
                std::iter::once("---\n")
                    .chain(self.document_pieces(document))
                    .chain(line_break.then_some("\n"))
            })
    }
}

/// The stream as [`Output::write_to`] writes it.
impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.pieces().try_for_each(|piece| f.write_str(piece))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_takes_no_more_room_than_its_manifest() {
        assert!(size_of::<Document>() <= size_of::<Manifest>());
        assert_eq!(align_of::<Document>(), align_of::<Manifest>());
    }
    use crate::engine::sites::Sites;
    use crate::engine::source::InputKind;
    use crate::yaml::ScalarStyle;
    use crate::yaml::edit::Replacement;

    fn input(text: &str) -> Input {
        Input {
            name: "in".into(),
            text: text.into(),
            origin: InputKind::Stdin,
        }
    }

    fn manifest(input: usize, range: Range<usize>) -> Manifest {
        Manifest {
            input,
            range,
            filling: Some(Box::new(Filling {
                kv_version_annotated: false,
                sites: Sites::default(),
                subject: Default::default(),
            })),
        }
    }

    #[test]
    fn documents_are_written_after_markers_and_end_with_a_line_break() {
        let first = "a: 1\n---\nb: x";
        let second = "c: 3\r\n";
        let manifests = vec![manifest(0, 0..5), manifest(0, 9..13), manifest(1, 0..6)];
        let output = Output::assemble(vec![input(first), input(second)], manifests, |_, _| {
            Vec::new()
        })
        .unwrap_or_else(|p| panic!("{p}"));
        let expected = "---\na: 1\n---\nb: x\n---\nc: 3\r\n";
        assert_eq!(output.to_string(), expected);
        let mut written = Vec::new();
        output
            .write_to(&mut written)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(String::from_utf8_lossy(&written), expected);
    }

    #[test]
    fn block_scalars_without_a_final_break_keep_their_value() {
        let first = "s: |\n  echo hi";
        let manifests = vec![manifest(0, 0..first.len()), manifest(1, 0..first.len())];
        let output = Output::assemble(vec![input(first), input(first)], manifests, |_, _| {
            Vec::new()
        })
        .unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(
            output.to_string(),
            "---\ns: |-\n  echo hi\n---\ns: |\n  echo hi"
        );
    }

    #[test]
    fn edited_documents_are_written_edited() {
        let text = "a: <x>\nb: 2\n";
        let output = Output::assemble(vec![input(text)], vec![manifest(0, 0..12)], |_, _| {
            vec![Edit::Scalar {
                span: 3..6,
                style: ScalarStyle::Plain,
                with: Replacement::Str("y".into()),
            }]
        })
        .unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(output.to_string(), "---\na: \"y\"\nb: 2\n");
    }
}
