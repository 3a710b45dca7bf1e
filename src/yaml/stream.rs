//! Parses a whole stream: large streams are cut at `---` lines and the pieces parsed in parallel.

use std::ops::Range;

use super::tree;
use super::{Document, SyntaxError};

/// Below this size a stream is parsed in one piece on the calling thread.
const PARALLEL_MIN_BYTES: usize = 1 << 20;
const MAX_THREADS: usize = 8;

/// Parses `text`, each piece (see [`pieces`]) with a state of its own from `start`, which
/// `each` gets with every document of the piece; returns each piece's state and what `each`
/// returned, in stream order.
pub(super) fn parse<S: Send, T: Send>(
    text: &str,
    start: &(dyn Fn() -> S + Sync),
    each: &(dyn Fn(&mut S, Document) -> T + Sync),
) -> Result<Vec<(S, Vec<T>)>, SyntaxError> {
    let threads = if text.len() < PARALLEL_MIN_BYTES {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS))
    };
    let pieces = pieces(text, threads);
    let mut parsed = if pieces.len() < 2 {
        parse_pieces(text, &pieces, start, each)?
    } else {
        // The calling thread parses the first piece itself: what it keeps lives in its own
        // heap, where the memory later freed can be used again.
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = pieces[1..]
                .iter()
                .map(|piece| {
                    scope.spawn(|| parse_pieces(text, std::slice::from_ref(piece), start, each))
                })
                .collect();
            let first = parse_pieces(text, &pieces[..1], start, each);
            std::iter::once(first)
                .chain(handles.into_iter().map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                }))
                .collect()
        });
        let mut parsed = Vec::new();
        for result in results {
            parsed.extend(result?);
        }
        parsed
    };
    if parsed.iter().all(|(_, documents)| documents.is_empty()) {
        let begin = if text.starts_with('\u{feff}') { 3 } else { 0 };
        if !text[begin..].trim().is_empty() {
            let mut state = start();
            let document = each(
                &mut state,
                Document {
                    range: begin..text.len(),
                    root: None,
                },
            );
            parsed.push((state, vec![document]));
        }
    }
    Ok(parsed)
}

/// A piece of the stream and how many line breaks precede it.
type Piece = (Range<usize>, usize);

fn parse_pieces<S, T>(
    text: &str,
    pieces: &[Piece],
    start: &(dyn Fn() -> S + Sync),
    each: &(dyn Fn(&mut S, Document) -> T + Sync),
) -> Result<Vec<(S, Vec<T>)>, SyntaxError> {
    pieces
        .iter()
        .map(|(range, lines)| {
            let mut state = start();
            let documents = tree::parse_piece_with(
                &text[range.clone()],
                range.start,
                *lines,
                &mut state,
                start,
                each,
            )?;
            Ok((state, documents))
        })
        .collect()
}

/// Cuts `text` into about `count` pieces, each starting at a `---` line. No scalar may contain
/// such a line (YAML forbids document markers inside content), so the pieces parse exactly as
/// the whole does. Directives (`%` lines) apply to the next document across the cut, so a stream
/// with any stays whole.
fn pieces(text: &str, count: usize) -> Vec<Piece> {
    let whole = vec![(0..text.len(), 0)];
    if count < 2 || text.starts_with('%') || text.contains("\n%") {
        return whole;
    }
    let mut cuts = vec![0];
    for k in 1..count {
        let target = text.len() / count * k;
        let Some(cut) = document_start_from(text, target.max(cuts[cuts.len() - 1] + 1)) else {
            break;
        };
        if cut > cuts[cuts.len() - 1] {
            cuts.push(cut);
        }
    }
    cuts.push(text.len());
    let mut pieces = Vec::new();
    let mut lines = 0;
    for pair in cuts.windows(2) {
        let (start, end) = (pair[0], pair[1]);
        pieces.push((start..end, lines));
        lines += text.as_bytes()[start..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
    }
    pieces
}

/// The start of the first `---` line at or after byte `from`.
fn document_start_from(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = bytes.get(from..)?.iter().position(|&b| b == b'\n')? + from + 1;
    loop {
        let line = &bytes[at..];
        if line.starts_with(b"---")
            && line
                .get(3)
                .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            return Some(at);
        }
        at += line.iter().position(|&b| b == b'\n')? + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::{document_start_from, pieces};

    #[test]
    fn cuts_only_at_document_markers() {
        let text = "a: 1\n---\nb: |\n  ---x\n--- c\n---x: 1\n--- \n";
        assert_eq!(document_start_from(text, 0), Some(5));
        assert_eq!(document_start_from(text, 6), Some(21));
        assert_eq!(document_start_from(text, 22), Some(35));
        assert_eq!(document_start_from(text, 36), None);
        let cut = pieces(text, 3);
        assert_eq!(cut, vec![(0..21, 0), (21..35, 4), (35..text.len(), 6)]);
        assert_eq!(pieces("%YAML 1.2\n---\na\n---\nb\n", 2).len(), 1);
    }
}
