//! The glob patterns of the operator's policy file: `*` matches any run of characters within a
//! `/`-separated segment, `**` any run of characters across segments; every other character
//! matches itself. Matching is a table walk, linear in pattern times text, so a hostile name
//! or path cannot make it slow.

use std::fmt;

/// One piece of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A character that matches itself.
    Char(char),
    /// `*`: any characters but `/`.
    Star,
    /// `**`: any characters.
    StarStar,
}

/// A pattern of the policy file, as written and compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    text: String,
    tokens: Vec<Token>,
}

impl Glob {
    /// Compiles `text`; every string is a pattern.
    pub fn new(text: &str) -> Self {
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '*' {
                tokens.push(Token::Char(c));
            } else if chars.peek() == Some(&'*') {
                while chars.peek() == Some(&'*') {
                    chars.next();
                }
                tokens.push(Token::StarStar);
            } else {
                tokens.push(Token::Star);
            }
        }
        Glob {
            text: text.to_owned(),
            tokens,
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        // `reach[i]`: the pattern read so far can match exactly `text[..i]`.
        let mut reach = vec![false; text.len() + 1];
        reach[0] = true;
        for token in &self.tokens {
            let mut next = vec![false; text.len() + 1];
            match token {
                Token::Char(c) => {
                    for i in 0..text.len() {
                        next[i + 1] = reach[i] && text[i] == *c;
                    }
                }
                Token::Star | Token::StarStar => {
                    let crosses = *token == Token::StarStar;
                    let mut open = false;
                    for i in 0..=text.len() {
                        open = reach[i] || (open && i > 0 && (crosses || text[i - 1] != '/'));
                        next[i] = open;
                    }
                }
            }
            reach = next;
        }
        reach[text.len()]
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::Glob;

    #[test]
    fn stars_within_and_across_segments() {
        let cases: &[(&str, &str, bool)] = &[
            ("team-a", "team-a", true),
            ("team-a", "team-ab", false),
            ("team-a-*", "team-a-prod", true),
            ("team-a-*", "team-a-", true),
            ("team-a-*", "team-b-prod", false),
            ("*", "", true),
            ("*", "anything", true),
            ("*", "a/b", false),
            ("**", "a/b", true),
            ("secret/data/team-a/*", "secret/data/team-a/db", true),
            ("secret/data/team-a/*", "secret/data/team-a/db/x", false),
            ("secret/data/team-a/*", "secret/data/team-b/db", false),
            ("secret/data/team-a/*", "secret/data/team-a", false),
            ("secret/data/team-a/**", "secret/data/team-a/db/x", true),
            ("secret/**/db", "secret/data/team-a/db", true),
            ("secret/*/db", "secret/data/team-a/db", false),
            ("*/data/*", "kv/data/app", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(Glob::new(pattern).matches(text), *want, "{pattern} {text}");
        }
    }

    #[test]
    fn long_hostile_texts_stay_fast() {
        let pattern = Glob::new("*a*a*a*a*a*a*a*a*a*a*b");
        let text = "a".repeat(20_000);
        assert!(!pattern.matches(&text));
    }
}
