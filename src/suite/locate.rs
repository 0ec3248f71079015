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

/// Turns a serde_yaml error into an `InputError` with line, column and a hint.
pub fn yaml_error(file: &Path, err: &serde_yaml_ng::Error) -> InputError {
    static AT: OnceLock<Regex> = OnceLock::new();
    let at = AT.get_or_init(|| Regex::new(r" at line \d+ column \d+$").unwrap());
    let raw = err.to_string();
    let message = at.replace(&raw, "").to_string();
    let (line, column) = err
        .location()
        .map(|l| (Some(l.line()), Some(l.column())))
        .unwrap_or((None, None));
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
        let what = &c[1];
        let given = &c[2];
        let valid: Vec<String> = c[3]
            .split(',')
            .map(|s| {
                s.trim()
                    .trim_start_matches("or ")
                    .trim()
                    .trim_matches('`')
                    .to_string()
            })
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
    fn finds_key_lines() {
        let text = "name: a\nparams:\n  sets:\n    - name: b\n";
        assert_eq!(key_line(text, "sets", 1), Some(3));
        assert_eq!(key_line(text, "name", 2), Some(4));
    }
}
