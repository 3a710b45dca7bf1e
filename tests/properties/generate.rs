//! Seeded generators of inputs that reach deep into each stage: random bytes rarely make a
//! placeholder or a valid YAML document, so inputs are built from fragments of each grammar
//! (valid, nearly valid and hostile), by a small deterministic PRNG.

use std::fmt::Write as _;

/// SplitMix64: tiny, fast, and the same sequence on every machine.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % n as u64).unwrap_or_default()
    }

    pub(crate) fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// Fewer than `most` of `pieces` and random characters (one in five), end to end.
    fn fragments(&mut self, pieces: &[&str], most: usize) -> String {
        let mut out = String::new();
        for _ in 0..self.below(most) {
            if self.chance(5) {
                out.push(self.char());
            } else {
                out.push_str(self.pick(pieces));
            }
        }
        out
    }

    /// Any character, mostly ASCII.
    fn char(&mut self) -> char {
        match self.below(8) {
            0 => char::from_u32(u32::try_from(self.below(0x11_0000)).unwrap_or(0))
                .unwrap_or('\u{fffd}'),
            1 => ['é', '😀', '\u{85}', '\u{2028}', '\u{feff}', '\0', '\t'][self.below(7)],
            _ => char::from(u8::try_from(self.below(0x5f) + 0x20).unwrap_or(b'x')),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Placeholders

const PLACEHOLDER_FRAGMENTS: &[&str] = &[
    "<path:",
    "<path:",
    "< path:",
    "secret/data/app",
    "kv / app ",
    "#",
    "#",
    "password",
    "#2",
    "#99999999999999999999999",
    "#-1",
    ">",
    ">",
    "<",
    "\\",
    "\\\\",
    "|",
    " | ",
    "base64encode",
    "base64decode",
    "jsonParse",
    "yamlParse",
    "sha256sum",
    "indent 4",
    "indent",
    "indent x",
    "jsonPath {.a}",
    "jsonPath $['k.x']",
    "jsonPath {..a}",
    "Base64Encode",
    "<key>",
    "<key_1.x-y>",
    "<a href=\"x\">",
    "</b>",
    "<two words>",
    "<>",
    "path:",
    " ",
    "\t",
    "\n",
    "é",
    "😀",
    "text ",
];

/// A string built from placeholder fragments and random characters.
pub(crate) fn placeholder_text(rng: &mut Rng) -> String {
    rng.fragments(PLACEHOLDER_FRAGMENTS, 12)
}

// ---------------------------------------------------------------------------------------------
// Modifier chains

const MODIFIERS: &[&str] = &[
    "base64encode",
    "base64decode",
    "jsonParse",
    "yamlParse",
    "sha256sum",
    "indent 0",
    "indent 2",
    "indent 12",
    "jsonPath {.a}",
    "jsonPath .a.b",
    "jsonPath {.list[*]}",
    "jsonPath {.list[1:3]}",
    "jsonPath {.list[-1]}",
    "jsonPath {.*}",
    "jsonPath $",
    "jsonPath {$['k.x']}",
    "jsonPath {.list[::2]}",
];

const VALUES: &[&str] = &[
    "",
    "s3cr3t-value!",
    "aGVsbG8=",
    "aGVs\nbG8=",
    "not base64 !!",
    "/w==",
    "{\"a\": {\"b\": \"c\"}, \"list\": [1, \"two\", {\"x\": null}, [3]], \"k.x\": true}",
    "{\"a\": 1e15, \"b\": [1E9, -0.0, 12345678901234567890]}",
    "[1, 2, 3",
    "a: &x [1, 2]\nb: [*x, *x]\nlist: [a, b, c]\n",
    "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c, *c]\n",
    "- a\n- b\n---\n- c\n",
    "key: !!binary aGk=\nn: 0o17\nf: .inf\n",
    "line one\nline two\n\n  indented\r\nlast",
    "-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n",
    "=42",
    "=true",
    "=null",
    "={\"a\": \"secret text\", \"list\": [\"x\", \"y\"]}",
    "=[\"a\", [\"b\"]]",
];

/// `CHAIN\0VALUE` for `check_modifier_chain`: mostly valid chains over varied values.
pub(crate) fn modifier_input(rng: &mut Rng) -> String {
    let mut out = String::new();
    for i in 0..=rng.below(4) {
        if i > 0 {
            out.push_str(if rng.chance(3) { " | " } else { "|" });
        }
        if rng.chance(10) {
            out.push_str(&placeholder_text(rng));
        } else {
            out.push_str(rng.pick(MODIFIERS));
        }
    }
    out.push('\0');
    let mut value = rng.pick(VALUES).to_owned();
    if rng.chance(4) {
        for _ in 0..rng.below(20) {
            value.insert(0, rng.char());
        }
    }
    out.push_str(&value);
    out
}

// ---------------------------------------------------------------------------------------------
// YAML

const SCALARS: &[&str] = &[
    "<path:secret/data/app#password>",
    "<path:kv/app#key | base64encode>",
    "<key>",
    "'<path:a#b>'",
    "\"<path:a#b> and <key | indent 2>\"",
    "\"esc\\n<key>\\t\\u00e9\"",
    "'it''s <key>'",
    "plain text",
    "0644",
    "yes",
    "~",
    "",
    "!!binary aGk=",
    "!!str <key>",
    "&anchor <key>",
    "*anchor",
    "[<key>, b, {c: <path:x#y>}]",
    "{a: <key>, b: [1, 2]}",
    "[]",
    "{}",
    "12345678901234567890123",
    "é😀",
    "\"\"",
    "a # comment",
    "<p> # comment <key>",
];

const BLOCK_HEADERS: &[&str] = &["|", "|-", "|+", ">", ">-", ">+", "|2", "|1-", ">2+"];

/// A YAML stream built from a small grammar: block and flow collections, every scalar style,
/// anchors, aliases, tags, comments, blank lines, several documents, sometimes CRLF; values
/// often hold placeholders. Mostly valid; an invalid one just stops at the parser.
pub(crate) fn yaml_stream(rng: &mut Rng) -> String {
    let mut out = String::new();
    for doc in 0..=rng.below(3) {
        if doc > 0 || rng.chance(3) {
            out.push_str(rng.pick(&["---\n", "--- # c\n", "---\n\n", "...\n---\n"]));
        }
        if rng.chance(8) {
            out.push_str("# only a comment\n");
            continue;
        }
        yaml_node(rng, &mut out, 0, 0);
    }
    if rng.chance(6) {
        out = out.replace('\n', "\r\n");
    }
    if rng.chance(6) {
        // No final line break (a block scalar or plain scalar at the very end).
        while out.ends_with('\n') || out.ends_with('\r') {
            out.pop();
        }
    }
    out
}

fn yaml_node(rng: &mut Rng, out: &mut String, indent: usize, depth: usize) {
    let pad = " ".repeat(indent);
    match (rng.below(if depth > 3 { 1 } else { 3 }), depth) {
        (0, 0) => {
            scalar(rng, out, indent);
        }
        (0, _) => {
            out.push(' ');
            scalar(rng, out, indent);
        }
        (1, _) => {
            if depth > 0 {
                out.push('\n');
            }
            for i in 0..=rng.below(4) {
                out.push_str(&pad);
                let _ = write!(out, "{}{i}:", rng.pick(&["k", "key ", "\"q\"", "'s'", "é"]));
                yaml_node(rng, out, indent + 2, depth + 1);
                if rng.chance(6) {
                    out.push_str(rng.pick(&["\n", "\n  \n", "\n# c\n"]));
                }
            }
        }
        _ => {
            if depth > 0 {
                out.push('\n');
            }
            for _ in 0..=rng.below(4) {
                out.push_str(&pad);
                out.push('-');
                yaml_node(rng, out, indent + 2, depth + 1);
            }
        }
    }
}

/// A scalar (or a flow collection) followed by its line break, or a block scalar.
fn scalar(rng: &mut Rng, out: &mut String, indent: usize) {
    if rng.chance(4) {
        let header = rng.pick(BLOCK_HEADERS);
        out.push_str(if rng.chance(3) { "&b " } else { "" });
        out.push_str(header);
        out.push('\n');
        let pad = " ".repeat(indent.max(1) + usize::from(header.contains('2')));
        for _ in 0..=rng.below(4) {
            match rng.below(5) {
                0 => out.push('\n'),
                1 => {
                    let _ = writeln!(out, "{pad}  more indented <key>");
                }
                _ => {
                    let _ = writeln!(out, "{pad}{}", rng.pick(SCALARS));
                }
            }
        }
        if rng.chance(3) {
            out.push_str(rng.pick(&["\n", "  \n", "\n\n"]));
        }
        return;
    }
    out.push_str(rng.pick(SCALARS));
    if rng.chance(8) {
        // A multi-line plain scalar.
        let _ = write!(out, "\n{}continued <key>", " ".repeat(indent + 1));
    }
    out.push('\n');
}

// ---------------------------------------------------------------------------------------------
// Kustomizations and the Application's kustomize parameters

/// Fields of a kustomization, the ones the parameters edit among them.
const KUSTOMIZATION_KEYS: &[&str] = &[
    "resources",
    "namePrefix",
    "nameSuffix",
    "namespace",
    "images",
    "replicas",
    "commonLabels",
    "commonAnnotations",
    "labels",
    "patches",
    "components",
    "configMapGenerator",
];

/// Values a kustomization field may hold, right and wrong for it, in every style.
const KUSTOMIZATION_VALUES: &[&str] = &[
    " [a.yaml, b.yaml]",
    "\n  - a.yaml\n  - ../base # a comment\n",
    "\n- a.yaml\n",
    " old-",
    " \"quoted-\"",
    " 'single'",
    " |\n  block\n",
    " >-\n  folded\n",
    "",
    " ~",
    " null",
    " [{name: web, newTag: \"1\"}, {name: db, newName: reg/db}]",
    "\n  - name: web\n    newName: reg/web\n    newTag: \"2\"\n",
    "\n  - name: web\n    count: 3\n",
    " {team: a, app: web}",
    "\n  team: a\n  app: web\n",
    "\n- pairs: {team: a}\n  includeSelectors: false\n",
    "\n- pairs:\n    x: y\n  includeTemplates: true\n",
    " [{path: p.yaml}]",
    " [../components/c]",
    " &anchor [x]",
    " *anchor",
    " !!str tagged",
    " 12",
    " {}",
    " []",
    " plain # trailing comment",
];

/// A kustomization text: a mapping of fields (known and unknown, in block or flow style, at
/// any indentation, between comments and document markers), sometimes CRLF or without a
/// final line break; now and then not a mapping at all.
pub(crate) fn kustomization(rng: &mut Rng) -> String {
    let mut out = String::new();
    if rng.chance(4) {
        out.push_str(rng.pick(&[
            "---\n",
            "# header\n",
            "--- # c\n",
            "\n",
            "\u{feff}",
            "# c\n\u{feff}",
        ]));
    }
    let count = rng.below(5);
    let key = |rng: &mut Rng| {
        let name = rng.pick(KUSTOMIZATION_KEYS);
        match rng.below(8) {
            0 => format!("\"{name}\""),
            1 => format!("'{name}'"),
            2 => format!("{name} "),
            _ => name.to_owned(),
        }
    };
    match rng.below(8) {
        0 => {
            // A flow mapping, on one line or several.
            out.push('{');
            for i in 0..count {
                if i > 0 {
                    out.push_str(rng.pick(&[", ", ",\n  ", " , "]));
                }
                let _ = write!(
                    out,
                    "{}: {}",
                    key(rng),
                    rng.pick(&["a", "[x, y]", "{k: v}", "\"q\"", "''"])
                );
            }
            out.push_str(rng.pick(&["}", ",}", "\n}", " } # c"]));
            out.push('\n');
        }
        1 => {
            // Not a mapping.
            out.push_str(rng.pick(&["- a.yaml\n", "just text\n", "[a, b]\n", "&a {x: 1}\n"]));
        }
        _ => {
            let pad = if rng.chance(6) { "  " } else { "" };
            for _ in 0..count {
                let _ = write!(out, "{pad}{}:", key(rng));
                let value = rng.pick(KUSTOMIZATION_VALUES);
                out.push_str(&value.replace('\n', &format!("\n{pad}")));
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                if rng.chance(5) {
                    out.push_str(rng.pick(&["# comment\n", "\n", "  # indented comment\n"]));
                }
            }
        }
    }
    if rng.chance(8) {
        out.push_str(rng.pick(&[
            "...\n",
            "---\n",
            "--- # empty\n",
            "---\nsecond: doc\n",
            "# trailing\n\u{feff}# after a byte order mark\n",
        ]));
    }
    match rng.below(8) {
        0 => out = out.replace('\n', "\r\n"),
        1 => out = out.replace('\n', "\r"),
        _ => {}
    }
    if rng.chance(5) {
        while out.ends_with('\n') || out.ends_with('\r') {
            out.pop();
        }
    }
    out
}

/// Text an Application author may put in a parameter: YAML and JSON syntax, line breaks,
/// document markers, quotes and escapes, and anything else.
pub(crate) fn hostile_text(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "web",
        "-",
        ": ",
        "#",
        " # ",
        "{",
        "}",
        "[",
        "]",
        ",",
        "&a",
        "*a",
        "!!map",
        "|",
        ">",
        "'",
        "\"",
        "\\",
        "\\n",
        "\n",
        "\r\n",
        "\n---\n",
        "...",
        "%YAML 1.2",
        "@",
        "`",
        "? ",
        "\t",
        "  ",
        "~",
        "null",
        "true",
        "0o17",
        "1e3",
        "namePrefix: x",
        "\u{85}",
        "\u{2028}",
        "é",
        "😀",
        "<path:secret/data/a#b>",
    ];
    rng.fragments(PIECES, 6)
}

/// Kustomize parameters with hostile values, and the components to add.
pub(crate) fn kustomize_params(
    rng: &mut Rng,
) -> (
    vaultplate::render::kustomize::params::KustomizeParams,
    Vec<String>,
) {
    use vaultplate::render::kustomize::params::{Image, KustomizeParams};
    let mut params = KustomizeParams::default();
    let maybe = |rng: &mut Rng| (!rng.chance(2)).then(|| hostile_text(rng));
    params.name_prefix = maybe(rng);
    params.name_suffix = maybe(rng);
    params.namespace = maybe(rng);
    let pairs = |rng: &mut Rng| -> Vec<(String, String)> {
        (0..rng.below(3))
            .map(|_| {
                let key = if rng.chance(2) {
                    rng.pick(&["team", "app"]).to_owned()
                } else {
                    hostile_text(rng)
                };
                (key, hostile_text(rng))
            })
            .collect()
    };
    params.common_labels = pairs(rng);
    params.common_annotations = pairs(rng);
    params.force_common_labels = rng.chance(2);
    params.force_common_annotations = rng.chance(2);
    params.label_without_selector = rng.chance(3);
    params.label_include_templates = rng.chance(2);
    for _ in 0..rng.below(3) {
        let part = |rng: &mut Rng| match rng.below(4) {
            0 => None,
            1 => Some("*".to_owned()),
            _ => Some(hostile_text(rng)),
        };
        let name = if rng.chance(2) {
            rng.pick(&["web", "db"]).to_owned()
        } else {
            hostile_text(rng)
        };
        params.images.push(Image {
            name,
            new_name: part(rng),
            new_tag: part(rng),
            digest: part(rng),
        });
    }
    for _ in 0..rng.below(3) {
        let name = if rng.chance(2) {
            "web".to_owned()
        } else {
            hostile_text(rng)
        };
        params
            .replicas
            .push((name, i64::try_from(rng.next_u64() % 5).unwrap_or(0) - 1));
    }
    for _ in 0..rng.below(2) {
        params.patches.push(
            serde_json::json!({"path": hostile_text(rng), "target": {"kind": hostile_text(rng)}}),
        );
    }
    let components = (0..rng.below(3)).map(|_| hostile_text(rng)).collect();
    (params, components)
}
