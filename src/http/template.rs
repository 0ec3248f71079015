//! Text with `${NAME}` references to environment variables: header values and
//! the API URL. The expanded text holds secrets and is only ever handed to
//! the HTTP client; everything shown to people is the text as written.

use std::fmt;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    /// `${NAME}`
    Var(String),
}

/// Text as written, with its `${NAME}` references found.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    written: String,
    pieces: Vec<Piece>,
}

/// Debug shows only the text as written, never an expansion.
impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Template({:?})", self.written)
    }
}

fn valid_var(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Template {
    /// Parses `text`. A `$` not followed by `{` is itself; `${` must be
    /// followed by a variable name (letters, digits, `_`, not starting with a
    /// digit) and `}`.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            literal.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(end) = after.find('}') else {
                return Err(format!(
                    "`${{` without a closing `}}` in `{}`",
                    shown_prefix(text)
                ));
            };
            let name = &after[..end];
            if !valid_var(name) {
                return Err(format!(
                    "`${{{name}}}` is not a variable reference: write ${{NAME}} with letters, digits and _"
                ));
            }
            if !literal.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Var(name.to_string()));
            rest = &after[end + 1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(Template {
            written: text.to_string(),
            pieces,
        })
    }

    /// The text as written, `${NAME}` and all: safe to show.
    pub fn shown(&self) -> &str {
        &self.written
    }

    /// The variables referenced, in order of first appearance.
    pub fn variables(&self) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        for p in &self.pieces {
            if let Piece::Var(n) = p {
                if !v.contains(&n.as_str()) {
                    v.push(n);
                }
            }
        }
        v
    }

    /// The text with every reference replaced by `lookup(name)`; an error
    /// names the first variable that has no value. The result may hold
    /// secrets: never show it.
    pub fn expand(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Literal(l) => out.push_str(l),
                Piece::Var(n) => match lookup(n) {
                    Some(v) => out.push_str(&v),
                    None => return Err(format!("the environment variable {n} is not set")),
                },
            }
        }
        Ok(out)
    }

    /// `expand` from the process environment.
    pub fn expand_env(&self) -> Result<String, String> {
        self.expand(|n| std::env::var(n).ok())
    }
}

/// The start of a text for messages: never more than 40 characters.
fn shown_prefix(text: &str) -> String {
    let mut s: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |n| {
            pairs
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn expands_references_and_keeps_the_rest() {
        let t = Template::parse("Bearer ${TOKEN}; $5 ${A_1}${TOKEN}").unwrap();
        assert_eq!(t.variables(), vec!["TOKEN", "A_1"]);
        let e = t.expand(env(&[("TOKEN", "s3cret"), ("A_1", "x")])).unwrap();
        assert_eq!(e, "Bearer s3cret; $5 xs3cret");
        assert_eq!(t.shown(), "Bearer ${TOKEN}; $5 ${A_1}${TOKEN}");
        assert!(!format!("{t:?}").contains("s3cret"));
    }

    #[test]
    fn a_missing_variable_is_named_and_bad_references_are_refused() {
        let t = Template::parse("${NOPE}").unwrap();
        assert_eq!(
            t.expand(env(&[])).unwrap_err(),
            "the environment variable NOPE is not set"
        );
        assert!(Template::parse("${1X}").is_err());
        assert!(Template::parse("${}").is_err());
        assert!(Template::parse("abc ${OPEN").is_err());
        assert!(Template::parse("a$b{c}").is_ok());
    }

    proptest! {
        /// Text without `${` is a literal: expanding gives it back unchanged.
        #[test]
        fn literals_round_trip(text in "[^$]*|[a-z$ {}]*") {
            prop_assume!(!text.contains("${"));
            let t = Template::parse(&text).unwrap();
            prop_assert!(t.variables().is_empty());
            prop_assert_eq!(t.expand(|_| None).unwrap(), text.clone());
            prop_assert_eq!(t.shown(), text.as_str());
        }

        /// Literals and references in any mix: the expansion is the literals
        /// with each reference's value in its place, and the shown text never
        /// contains a value.
        #[test]
        fn references_expand_in_place(
            parts in proptest::collection::vec(
                prop_oneof![
                    "[a-zA-Z0-9 :;,/=-]{0,8}".prop_map(|s| (false, s)),
                    "[A-Z_][A-Z0-9_]{0,6}".prop_map(|s| (true, s)),
                ],
                0..8,
            )
        ) {
            let mut text = String::new();
            let mut want = String::new();
            for (is_var, s) in &parts {
                if *is_var {
                    text.push_str(&format!("${{{s}}}"));
                    want.push_str(&format!("<value of {s}>"));
                } else {
                    text.push_str(s);
                    want.push_str(s);
                }
            }
            let t = Template::parse(&text).unwrap();
            let got = t.expand(|n| Some(format!("<value of {n}>"))).unwrap();
            prop_assert_eq!(got, want);
            prop_assert!(!t.shown().contains("<value of"));
        }

        /// Parsing never panics, whatever the text.
        #[test]
        fn parse_never_panics(text in ".*") {
            let _ = Template::parse(&text);
        }
    }
}
