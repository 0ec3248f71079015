//! Finding lines in a file for errors that serde cannot place.

use crate::error::InputError;
use regex::Regex;
use std::path::Path;
use std::sync::OnceLock;

/// The 1-based line of the first line containing `needle`.
pub fn line_containing(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// The 1-based line where YAML key `key` is written (`key:` or `- key:`), first
/// searching after `after_line` (1-based) and falling back to the whole file.
pub fn key_line(text: &str, key: &str, after_line: usize) -> Option<usize> {
    let matches = |l: &str| {
        let t = l.trim_start().trim_start_matches("- ").trim_start();
        t.starts_with(&format!("{key}:"))
            || t.starts_with(&format!("\"{key}\":"))
            || t.starts_with(&format!("{{{key}:"))
            || l.contains(&format!(" {key}:"))
            || l.contains(&format!("{{{key}:"))
    };
    text.lines()
        .enumerate()
        .skip(after_line.saturating_sub(1))
        .find(|(_, l)| matches(l))
        .or_else(|| text.lines().enumerate().find(|(_, l)| matches(l)))
        .map(|(i, _)| i + 1)
}

/// Line and column of the second `key:` among sibling keys (the same
/// indentation), for duplicate-key errors the parser places at 1:1.
fn duplicate_key_at(text: &str, key: &str) -> Option<(usize, usize)> {
    let mut first_indent: Vec<usize> = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let content = l.trim_start();
        let indent = l.len() - content.len();
        let content = content.trim_start_matches("- ");
        let is_key = content.starts_with(&format!("{key}:"))
            || content.starts_with(&format!("\"{key}\":"))
            || content.starts_with(&format!("'{key}':"));
        if is_key {
            if first_indent.contains(&indent) {
                return Some((i + 1, indent + 1));
            }
            first_indent.push(indent);
        }
    }
    None
}

/// Turns a serde_yaml error into an `InputError` with line, column and a hint.
pub fn yaml_error(file: &Path, text: &str, err: &serde_yaml_ng::Error) -> InputError {
    static AT: OnceLock<Regex> = OnceLock::new();
    static DUP: OnceLock<Regex> = OnceLock::new();
    let at = AT.get_or_init(|| Regex::new(r" at line \d+ column \d+$").unwrap());
    let dup = DUP.get_or_init(|| Regex::new(r#"duplicate entry with key "([^"]*)""#).unwrap());
    let raw = err.to_string();
    let message = at.replace(&raw, "").to_string();
    let (mut line, mut column) = err
        .location()
        .map(|l| (Some(l.line()), Some(l.column())))
        .unwrap_or((None, None));
    if let Some(c) = dup.captures(&message) {
        if let Some((l, col)) = duplicate_key_at(text, &c[1]) {
            (line, column) = (Some(l), Some(col));
            return InputError::new(file, format!("`{}` is given twice", &c[1]))
                .at(line, column)
                .help("a key may appear once in a mapping; remove one of them");
        }
    }
    let mut e = InputError::new(file, message.clone()).at(line, column);
    if let Some(h) = hint_for(&message) {
        e = e.help(h);
    }
    e
}

fn hint_for(message: &str) -> Option<String> {
    static UNKNOWN: OnceLock<Regex> = OnceLock::new();
    static MISSING: OnceLock<Regex> = OnceLock::new();
    let unknown = UNKNOWN.get_or_init(|| {
        Regex::new(r"unknown (field|variant) `([^`]*)`, expected (?:one of )?(.*)$").unwrap()
    });
    let missing = MISSING.get_or_init(|| Regex::new(r"missing field `([^`]*)`").unwrap());
    if let Some(c) = unknown.captures(message) {
        static TICKED: OnceLock<Regex> = OnceLock::new();
        let ticked = TICKED.get_or_init(|| Regex::new(r"`([^`]*)`").unwrap());
        let what = &c[1];
        let given = &c[2];
        let valid: Vec<String> = ticked
            .captures_iter(&c[3])
            .map(|m| m[1].to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let noun = if what == "field" { "key" } else { "value" };
        return Some(match closest(given, &valid) {
            Some(best) => format!(
                "did you mean `{best}`? valid {noun}s here: {}",
                valid.join(", ")
            ),
            None => format!("valid {noun}s here: {}", valid.join(", ")),
        });
    }
    if let Some(c) = missing.captures(message) {
        return Some(format!("add the required key `{}`", &c[1]));
    }
    if message.contains("invalid type") {
        return Some("check the value's type against docs/check-files.md".into());
    }
    None
}

/// The candidate closest to `given`, if any is close enough to be a typo.
pub fn closest(given: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(given, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_key() {
        let h = hint_for("unknown field `severty`, expected one of `name`, `severity`, `tags`")
            .unwrap();
        assert!(h.starts_with("did you mean `severity`?"), "{h}");
    }

    #[test]
    fn suggests_in_flow_mappings_and_lists_keys_cleanly() {
        let h = hint_for("expect.rows: unknown field `minn`, expected `min` or `max`").unwrap();
        assert_eq!(h, "did you mean `min`? valid keys here: min, max");
    }

    #[test]
    fn places_a_duplicate_key_on_its_second_line() {
        let text = "name: a\nbudget: 1s\nexpect:\n  budget: x\nbudget: 2s\n";
        assert_eq!(duplicate_key_at(text, "budget"), Some((5, 1)));
    }

    #[test]
    fn finds_key_lines() {
        let text = "name: a\nparams:\n  sets:\n    - name: b\n";
        assert_eq!(key_line(text, "sets", 1), Some(3));
        assert_eq!(key_line(text, "name", 2), Some(4));
    }
}
