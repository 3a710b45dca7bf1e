//! Tests of `parse_stream`: document ranges, exact node spans, values, errors.

use super::tree::{self, nodes};
use super::{Node, NodeKind, ScalarStyle, SyntaxError, parse_stream, parse_stream_with};

/// Each document's text, then every node's written text (its span) in document order with its
/// value (scalars), name (aliases) or kind (collections).
fn spans(text: &str) -> Vec<String> {
    let docs = parse_stream(text).unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    for doc in docs {
        out.push(format!("doc {:?}", &text[doc.range.clone()]));
        if let Some(root) = &doc.root {
            for node in nodes(root) {
                let kind = match &node.kind {
                    NodeKind::Scalar { value, .. } => format!("= {value:?}"),
                    NodeKind::Alias(name) => format!("*{name}"),
                    NodeKind::Mapping(_) => "map".to_owned(),
                    NodeKind::Sequence(_) => "seq".to_owned(),
                };
                out.push(format!("{:?} {kind}", &text[node.span.clone()]));
            }
        }
    }
    out
}

/// Only the scalar nodes, as `written = value`.
fn scalars(text: &str) -> Vec<String> {
    spans(text)
        .into_iter()
        .filter(|line| line.contains(" = "))
        .collect()
}

fn all_nodes(text: &str) -> Vec<Node> {
    let docs = parse_stream(text).unwrap_or_else(|e| panic!("{e}"));
    docs.iter()
        .filter_map(|doc| doc.root.as_ref())
        .flat_map(|root| nodes(root).cloned().collect::<Vec<_>>())
        .collect()
}

#[test]
fn scalar_spans_cover_exactly_what_is_written() {
    let cases: &[(&str, &[&str])] = &[
        ("k: v", &[r#""k" = "k""#, r#""v" = "v""#]),
        ("k: 'it''s'", &[r#""k" = "k""#, r#""'it''s'" = "it's""#]),
        (
            r#"k: "a\"b""#,
            &[r#""k" = "k""#, r#""\"a\\\"b\"" = "a\"b""#],
        ),
        (
            "k: two\n  words\n",
            &[r#""k" = "k""#, r#""two\n  words" = "two words""#],
        ),
        (
            "k: \"two\n  lines\"\n",
            &[r#""k" = "k""#, r#""\"two\n  lines\"" = "two lines""#],
        ),
        ("\"k\" : v # c\n", &[r#""\"k\"" = "k""#, r#""v" = "v""#]),
        (
            "é: ü\nk: \"😀\"\n",
            &[
                r#""é" = "é""#,
                r#""ü" = "ü""#,
                r#""k" = "k""#,
                r#""\"😀\"" = "😀""#,
            ],
        ),
        (
            "- 0644\n- \"yes\"\n- on\n",
            &[
                r#""0644" = "0644""#,
                r#""\"yes\"" = "yes""#,
                r#""on" = "on""#,
            ],
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(scalars(text), *expected, "{text:?}");
    }
}

#[test]
fn block_scalar_spans_run_from_header_to_last_content_line() {
    let cases: &[(&str, &[&str])] = &[
        ("a: |\n  x\n  y\nb: 1\n", &[r#""|\n  x\n  y" = "x\ny\n""#]),
        ("a: |-\n  x\n\nb: 1\n", &[r#""|-\n  x" = "x""#]),
        ("a: |+\n  x\n\n\nb: 1\n", &[r#""|+\n  x\n\n" = "x\n\n\n""#]),
        (
            "a: >\n  x\n  y\n\n  z\nb: 1\n",
            &[r#"">\n  x\n  y\n\n  z" = "x y\nz\n""#],
        ),
        (
            "a: >-\n    deep\n  # not a comment? no: less indented ends it\n",
            &[r#"">-\n    deep" = "deep""#],
        ),
        (
            "a: |2\n    x\n  y\nb: 1\n",
            &[r#""|2\n    x\n  y" = "  x\ny\n""#],
        ),
        ("a: | # comment\n  x\n", &[r#""| # comment\n  x" = "x\n""#]),
        // No line break after the last line: none in the value (YAML 1.2, 8.1.1.2).
        ("a: |\n  x", &[r#""|\n  x" = "x""#]),
        ("a: |\nb: 1\n", &[r#""|" = """#]),
        ("a: |- # c\nb: 1\n", &[r#""|- # c" = """#]),
        ("a: |", &[r#""|" = """#]),
        (
            "a: |\n  x\n     \nb: 1\n",
            &[r#""|\n  x\n     " = "x\n   \n""#],
        ),
        (
            "a: !!binary |\n  aGk=\nb: 1\n",
            &[r#""|\n  aGk=" = "aGk=\n""#],
        ),
        ("a: &x\n  |\n   x\n", &[r#""|\n   x" = "x\n""#]),
        (
            "- |\n  é\n- >\n  😀\n",
            &[r#""|\n  é" = "é\n""#, r#"">\n  😀" = "😀\n""#],
        ),
        ("--- |\n  t\n...\n", &[r#""|\n  t" = "t\n""#]),
        (
            "? |\n  k\n: |\n  v\n",
            &[r#""|\n  k" = "k\n""#, r#""|\n  v" = "v\n""#],
        ),
        (
            "a: |\r\n  x\r\n  y\r\nb: 1\r\n",
            &[r#""|\r\n  x\r\n  y" = "x\ny\n""#],
        ),
    ];
    for (text, expected) in cases {
        let found: Vec<String> = scalars(text)
            .into_iter()
            .filter(|line| line.starts_with("\"|") || line.starts_with("\">"))
            .collect();
        assert_eq!(found, *expected, "{text:?}");
    }
}

#[test]
fn collection_spans_and_empty_scalars() {
    let text = "a:\n  - x\n  -\n  - &e\n  - - y\n    - z\nb: {k: [1, 2], e}\nc:\nd: [p: q]\n- 1\n";
    let text = &text[..text.len() - 4]; // (no trailing sequence at the root)
    assert_eq!(
        spans(text),
        [
            r#"doc "a:\n  - x\n  -\n  - &e\n  - - y\n    - z\nb: {k: [1, 2], e}\nc:\nd: [p: q]\n""#,
            r#""a:\n  - x\n  -\n  - &e\n  - - y\n    - z\nb: {k: [1, 2], e}\nc:\nd: [p: q]" map"#,
            r#""a" = "a""#,
            r#""- x\n  -\n  - &e\n  - - y\n    - z" seq"#,
            r#""x" = "x""#,
            r#""" = """#,
            r#""" = """#,
            r#""- y\n    - z" seq"#,
            r#""y" = "y""#,
            r#""z" = "z""#,
            r#""b" = "b""#,
            r#""{k: [1, 2], e}" map"#,
            r#""k" = "k""#,
            r#""[1, 2]" seq"#,
            r#""1" = "1""#,
            r#""2" = "2""#,
            r#""e" = "e""#,
            r#""" = """#,
            r#""c" = "c""#,
            r#""" = """#,
            r#""d" = "d""#,
            r#""[p: q]" seq"#,
            r#""p: q" map"#,
            r#""p" = "p""#,
            r#""q" = "q""#,
        ]
    );
    // Empty scalars sit right after the indicator that introduced them.
    let nodes = all_nodes("c:\nl:\n- # note\n- &e\n");
    let empties: Vec<_> = nodes
        .iter()
        .filter(|n| n.as_scalar() == Some(""))
        .map(|n| n.span.clone())
        .collect();
    assert_eq!(empties, [2..2, 7..7, 19..19]);
    // Indentless sequences start at their dash, also when a flow collection comes first.
    assert_eq!(spans("k:\n- a\n- b\n")[3], r#""- a\n- b" seq"#);
    assert_eq!(spans("k:\n- {}\n- [a]\nl: 1\n")[3], r#""- {}\n- [a]" seq"#);
    assert_eq!(spans("k:\n- [a] # c\nl: 1\n")[3], r#""- [a]" seq"#);
}

#[test]
fn anchors_tags_and_aliases() {
    let text = "base: &b {x: 1}\nd:\n  <<: *b\n  bin: !!binary aGk=\n  c: !custom &n 5\n  v: !<tag:yaml.org,2002:str> 7\n  s: &s\n    - 1\n";
    let nodes = all_nodes(text);
    let show: Vec<String> = nodes
        .iter()
        .filter(|n| {
            n.anchor.is_some()
                || matches!(
                    &n.kind,
                    NodeKind::Alias(_) | NodeKind::Scalar { tag: Some(_), .. }
                )
        })
        .map(|n| {
            let tag = match &n.kind {
                NodeKind::Scalar { tag: Some(tag), .. } => tag.as_str(),
                _ => "",
            };
            format!(
                "{:?} &{} {tag}",
                &text[n.span.clone()],
                n.anchor.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        show,
        [
            r#""{x: 1}" &b "#,
            r#""*b" & "#,
            r#""aGk=" & !!binary"#,
            r#""5" &n !custom"#,
            r#""7" & !<tag:yaml.org,2002:str>"#,
            r#""- 1" &s "#,
        ]
    );
    assert!(
        nodes
            .iter()
            .any(|n| matches!(&n.kind, NodeKind::Alias(name) if name == "b"))
    );
}

#[test]
fn document_ranges() {
    let cases: &[(&str, &[&str])] = &[
        ("", &[]),
        ("\n  \n", &[]),
        ("# only a comment\n", &["# only a comment\n"]),
        ("a: 1", &["a: 1"]),
        ("# lead\na: 1\n", &["# lead\na: 1\n"]),
        ("---\na: 1\n", &["a: 1\n"]),
        ("--- \r\na: 1\r\n", &["a: 1\r\n"]),
        ("a: 1\n---\nb: 2\n", &["a: 1\n", "b: 2\n"]),
        ("a: 1\n...\nb: 2\n...\n", &["a: 1\n", "b: 2\n"]),
        (
            "a: 1\n...\n# c\n---\n# d\nb: 2\n# tail\n",
            &["a: 1\n", "# d\nb: 2\n# tail\n"],
        ),
        (
            "--- |\n  x\n--- \"q\"\n--- # c\nk: v\n",
            &["|\n  x\n", "\"q\"\n", "# c\nk: v\n"],
        ),
        ("---\n---\n# nothing\n---\nz\n", &["", "# nothing\n", "z\n"]),
        ("\u{feff}a: 1\n", &["a: 1\n"]),
        ("%YAML 1.2\n---\na: 1\n", &["a: 1\n"]),
        (
            "{\"a\": [1, 2],\n \"b\": {\"c\": null}}\n",
            &["{\"a\": [1, 2],\n \"b\": {\"c\": null}}\n"],
        ),
    ];
    for (text, expected) in cases {
        let docs = parse_stream(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let found: Vec<&str> = docs.iter().map(|doc| &text[doc.range.clone()]).collect();
        assert_eq!(found, *expected, "{text:?}");
    }
    let roots: Vec<bool> = parse_stream("---\n---\n# c\n---\n~\n---\n\"\"\n")
        .unwrap_or_default()
        .iter()
        .map(|doc| doc.root.is_some())
        .collect();
    assert_eq!(roots, [false, false, true, true]);
}

#[test]
fn styles_are_recorded() {
    let text = "- a\n- 'b'\n- \"c\"\n- |\n  d\n- >\n  e\n";
    let styles: Vec<ScalarStyle> = all_nodes(text)
        .iter()
        .filter_map(|n| match &n.kind {
            NodeKind::Scalar { style, .. } => Some(*style),
            _ => None,
        })
        .collect();
    use ScalarStyle::*;
    assert_eq!(styles, [Plain, SingleQuoted, DoubleQuoted, Literal, Folded]);
}

#[test]
fn tabs_parse() {
    let cases: &[(&str, &[&str])] = &[
        ("k:\tv\n", &[r#""k" = "k""#, r#""v" = "v""#]),
        ("k:\t1\n", &[r#""k" = "k""#, r#""1" = "1""#]),
        ("k: \tv\t# c\n", &[r#""k" = "k""#, r#""v" = "v""#]),
        ("k: b\tc\n", &[r#""k" = "k""#, r#""b\tc" = "b\tc""#]),
        ("{a:\tb}\n", &[r#""a" = "a""#, r#""b" = "b""#]),
        (
            "k:\t\"x:\ty\"\nl:\tz\n",
            &[
                r#""k" = "k""#,
                r#""\"x:\ty\"" = "x:\ty""#,
                r#""l" = "l""#,
                r#""z" = "z""#,
            ],
        ),
        (
            "k: |\n  a:\tb\nl:\tz\n",
            &[
                r#""k" = "k""#,
                r#""|\n  a:\tb" = "a:\tb\n""#,
                r#""l" = "l""#,
                r#""z" = "z""#,
            ],
        ),
        (
            "{\n\t\"a\": [1,\n\t\t2]\n}\n",
            &[r#""\"a\"" = "a""#, r#""1" = "1""#, r#""2" = "2""#],
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(scalars(text), *expected, "{text:?}");
    }
}

#[test]
fn crlf_and_multibyte_spans_are_byte_ranges() {
    let text = "é: 1\r\nü:\r\n  - \"😀\"\r\n  - x\r\n";
    let nodes = all_nodes(text);
    let found: Vec<(std::ops::Range<usize>, &str)> = nodes
        .iter()
        .map(|n| (n.span.clone(), &text[n.span.clone()]))
        .collect();
    assert_eq!(
        found,
        [
            (0..29, &text[..29]),
            (0..2, "é"),
            (4..5, "1"),
            (7..9, "ü"),
            (14..29, "- \"😀\"\r\n  - x"),
            (16..22, "\"😀\""),
            (28..29, "x"),
        ]
    );
}

#[test]
fn syntax_errors_are_positioned_and_pinned() {
    let cases: &[(&str, SyntaxError)] = &[
        (
            "a: [1, 2\nb: 3\n",
            error(2, 2, "illegal placement of ':' indicator"),
        ),
        (
            "a: b: c\n",
            error(1, 5, "mapping values are not allowed in this context"),
        ),
        (
            "a: 1\n---\nb: \"unterminated\n",
            error(
                3,
                4,
                "while scanning a quoted scalar, found unexpected end of stream",
            ),
        ),
        (
            "k: *nope\n",
            error(1, 4, "while parsing node, found unknown anchor"),
        ),
        (
            "a:\n\t- x\n",
            error(
                2,
                2,
                "tabs disallowed within this context (block indentation)",
            ),
        ),
        // Tabs after `:` are read as spaces; what remains wrong is reported as such.
        (
            "k:\t- a\n",
            error(
                1,
                4,
                "block sequence entries are not allowed in this context",
            ),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(
            parse_stream(text).err().as_ref(),
            Some(expected),
            "{text:?}"
        );
    }
    // The parser allows 255 nested flow collections; block ones stop at MAX_DEPTH.
    let deep_flow = format!("{}{}", "[".repeat(300), "]".repeat(300));
    assert_eq!(
        parse_stream(&deep_flow).err(),
        Some(error(1, 256, "recursion limit exceeded"))
    );
    let deep_block = format!("{}x\n", "- ".repeat(1001));
    assert_eq!(
        parse_stream(&deep_block).err(),
        Some(error(1, 2001, "collections nest deeper than 1000 levels"))
    );
    assert!(parse_stream(&format!("{}x\n", "- ".repeat(1000))).is_ok());
    assert_eq!(error(3, 7, "x").to_string(), "line 3, column 7: x",);
}

fn error(line: usize, column: usize, message: &str) -> SyntaxError {
    SyntaxError {
        line,
        column,
        message: message.to_owned(),
    }
}

#[test]
fn large_streams_parse_in_pieces_like_the_whole() {
    let mut text = String::from("# head\n");
    let mut n = 0;
    while text.len() < (1 << 20) + 1000 {
        text.push_str(&format!(
            "---\nkind: Secret\nmetadata: {{name: s-{n}}}\ndata:\n  é: \"ü{n}\"\n  b: |\n    line\n...\n"
        ));
        n += 1;
    }
    let whole = tree::parse_piece(&text, 0, 0, false).unwrap_or_else(|e| panic!("{e}"));
    let pieces = parse_stream(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(pieces.len(), n);
    assert_eq!(format!("{:?}", whole.documents), format!("{pieces:?}"));
    // Handed over one by one, on several threads, they come back the same and in order.
    let handed = parse_stream_with(&text, |document| format!("{document:?}"))
        .unwrap_or_else(|e| panic!("{e}"));
    let kept: Vec<String> = pieces.iter().map(|d| format!("{d:?}")).collect();
    assert_eq!(handed, kept);
    // An error in a later piece reports its line in the whole stream.
    let broken = format!("{text}---\na: [\n");
    let lines = broken.lines().count();
    assert_eq!(parse_stream(&broken).err().map(|e| e.line), Some(lines + 1));
}

#[test]
fn many_tabs_after_colons_parse_in_linear_time() {
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&format!("k{i}:\tv{i}\nq{i}: \"a:\tb\"\n"));
    }
    let started = std::time::Instant::now();
    let docs = parse_stream(&text).unwrap_or_else(|e| panic!("{e}"));
    let root = docs[0].root.as_ref().unwrap_or_else(|| panic!("root"));
    assert_eq!(root.get("k19999").and_then(Node::as_scalar), Some("v19999"));
    assert_eq!(root.get("q7").and_then(Node::as_scalar), Some("a:\tb"));
    assert!(started.elapsed().as_secs() < 20);
}

#[test]
fn byte_order_marks_are_outside_documents() {
    assert_eq!(
        spans("\u{feff}a: é\n"),
        [
            r#"doc "a: é\n""#,
            r#""a: é" map"#,
            r#""a" = "a""#,
            r#""é" = "é""#
        ]
    );
    assert_eq!(
        spans("a: 1\n...\n\u{feff}---\nb: ü\n"),
        [
            r#"doc "a: 1\n""#,
            r#""a: 1" map"#,
            r#""a" = "a""#,
            r#""1" = "1""#,
            r#"doc "b: ü\n""#,
            r#""b: ü" map"#,
            r#""b" = "b""#,
            r#""ü" = "ü""#,
        ]
    );
}

#[test]
fn complex_keys_and_merge_keys() {
    assert_eq!(
        spans("? [a, b]\n: v\n? {x: 1}\n: w\n[c]: d\n<<: {m: 1}\n"),
        [
            r#"doc "? [a, b]\n: v\n? {x: 1}\n: w\n[c]: d\n<<: {m: 1}\n""#,
            r#""? [a, b]\n: v\n? {x: 1}\n: w\n[c]: d\n<<: {m: 1}" map"#,
            r#""[a, b]" seq"#,
            r#""a" = "a""#,
            r#""b" = "b""#,
            r#""v" = "v""#,
            r#""{x: 1}" map"#,
            r#""x" = "x""#,
            r#""1" = "1""#,
            r#""w" = "w""#,
            r#""[c]" seq"#,
            r#""c" = "c""#,
            r#""d" = "d""#,
            r#""<<" = "<<""#,
            r#""{m: 1}" map"#,
            r#""m" = "m""#,
            r#""1" = "1""#,
        ]
    );
}

#[test]
fn documents_are_handed_over_also_when_tabs_after_colons_are_read_again() {
    let text = "a:\tb\n---\nc: \"x:\ty\"\nd:\t1\n---\n";
    let kept: Vec<String> = parse_stream(text)
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|d| format!("{d:?}"))
        .collect();
    let handed = parse_stream_with(text, |document| format!("{document:?}"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kept.len(), 3);
    assert_eq!(handed, kept);
}

/// The parser gives a clip (`|`, `>`) block scalar followed by a last line of blanks without a
/// line break one break too many ("two\n\n"); YAML keeps one break, as Kubernetes reads it.
#[test]
fn a_clipped_block_scalar_before_a_last_line_of_blanks_keeps_one_break() {
    for (text, value) in [
        ("|\n two\n lines\n ", "two\nlines\n"),
        ("s: |\n  two\n  ", "two\n"),
        (">\n two\n\n ", "two\n"),
        ("|-\n two\n ", "two"),
        ("|+\n two\n ", "two\n"),
        ("|\n two\n   ", "two\n  "),
        ("|\n two\n lines\n \n", "two\nlines\n"),
    ] {
        let docs = parse_stream(text).unwrap_or_else(|e| panic!("{e}"));
        let scalar = nodes(docs[0].root.as_ref().expect("a root"))
            .filter_map(|node| match &node.kind {
                NodeKind::Scalar {
                    value,
                    style: ScalarStyle::Literal | ScalarStyle::Folded,
                    ..
                } => Some(value.clone()),
                _ => None,
            })
            .last();
        assert_eq!(scalar.as_deref(), Some(value), "{text:?}");
    }
}

/// A stream may start with a document end marker (`...`); the parser reports no document for
/// it, and a block scalar right after it must still span its header (found by fuzzing).
#[test]
fn a_block_scalar_after_a_leading_document_end_marker_starts_at_its_header() {
    for (text, header) in [
        ("...\n|-\n foo\n", "|-"),
        ("...\n\n# c\n>\n foo\n", ">"),
        ("...\n...\n|\n foo\n", "|"),
        ("... # c\n|\n foo\n", "|"),
        ("\r\r...\r>\r\r foo\r", ">"),
        ("\u{feff}...\n|\n foo\n", "|"),
    ] {
        let docs = parse_stream(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let root = docs[0].root.as_ref().expect("a root");
        assert!(
            text[root.span.clone()].starts_with(header),
            "{text:?}: {:?}",
            &text[root.span.clone()]
        );
    }
}

/// An item of a block sequence that starts with a dash of its own (`-1`, `--flag`, `-|`) is not
/// the sequence's dash: the sequence starts at its own `-` (found by fuzzing).
#[test]
fn a_sequence_whose_first_item_starts_with_a_dash_starts_at_its_own_dash() {
    for (text, sequence) in [
        ("- -1\n- 2\n", "- -1\n- 2"),
        ("args:\n- --password=x\n", "- --password=x"),
        ("args:\n  - --password=x\n", "- --password=x"),
        ("a:\n- -|\n", "- -|"),
        ("- - a\n", "- - a"),
    ] {
        let docs = parse_stream(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let root = docs[0].root.as_ref().expect("a root");
        let node = match &root.kind {
            NodeKind::Mapping(entries) => &entries[0].1,
            _ => root,
        };
        assert!(matches!(node.kind, NodeKind::Sequence(_)), "{text:?}");
        assert_eq!(&text[node.span.clone()], sequence, "{text:?}");
    }
}

/// saphyr-parser miscounts the characters of a directive line that holds non-ASCII text, which
/// would shift every span after it: such a stream is refused (found by fuzzing); ASCII
/// directives keep working.
#[test]
fn a_directive_line_with_non_ascii_text_is_refused_and_ascii_ones_work() {
    for text in [
        "%X \u{e9}\n---\nab cd\n",
        "%+>2 A\u{eeff} (@\n---\n\u{eeff} \u{eeff}\n",
    ] {
        let error = parse_stream(text).expect_err(text);
        assert!(error.message.contains("directive"), "{text:?}: {error}");
    }
    let text = "%YAML 1.2\n---\nab cd\n";
    let docs = parse_stream(text).unwrap_or_else(|e| panic!("{e}"));
    let root = docs[0].root.as_ref().expect("a root");
    assert_eq!(&text[root.span.clone()], "ab cd");
}

/// The parser takes `|+` in a flow sequence for a plain scalar, which YAML's indicators cannot
/// start and an edit would take for a block scalar's header: refused (found by fuzzing).
#[test]
fn a_plain_scalar_cannot_start_with_a_block_indicator() {
    for text in ["[\t|+]", "{a: >x}"] {
        let error = parse_stream(text).expect_err(text);
        assert!(
            error.message.contains("cannot start with"),
            "{text:?}: {error}"
        );
    }
    assert!(parse_stream("a: |\n x\nb: [x|y, 'z']\n").is_ok());
}
