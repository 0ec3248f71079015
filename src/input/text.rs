//! Reading the suite's text files strictly: missing, unreadable, not UTF-8,
//! holding a NUL byte or nested beyond reason — each said with file and line
//! before any parser sees the text. A UTF-8 byte-order mark is dropped.

use crate::error::InputError;
use std::path::Path;

/// Deeper YAML nesting than this is refused before parsing (a real check
/// file nests fewer than ten levels; parsing time grows with the square of
/// the depth).
pub const MAX_YAML_DEPTH: usize = 200;
/// Text files larger than this are refused (a check file or query is a few
/// kilobytes).
pub const MAX_TEXT_BYTES: u64 = 16 << 20;

/// The 1-based line of byte `offset`.
fn line_at(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Reads `path` (shown to the user as `shown`) as UTF-8 text.
pub fn read_text(path: &Path, shown: &Path, what: &str) -> Result<String, InputError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        let message = if e.kind() == std::io::ErrorKind::NotFound {
            if std::fs::symlink_metadata(path).is_ok() {
                format!("{what} is a symbolic link to a file that does not exist")
            } else {
                format!("{what} not found")
            }
        } else {
            format!("cannot read {what}: {e}")
        };
        InputError::new(shown, message)
    })?;
    if meta.is_dir() {
        return Err(InputError::new(
            shown,
            format!("{what} is a directory, not a file"),
        ));
    }
    if meta.len() > MAX_TEXT_BYTES {
        return Err(InputError::new(
            shown,
            format!(
                "{what} is {} MB; assay reads files of at most {} MB",
                meta.len() >> 20,
                MAX_TEXT_BYTES >> 20
            ),
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| InputError::new(shown, format!("cannot read {what}: {e}")))?;
    text_of(bytes, shown, what)
}

/// Checks and decodes the bytes of a text file.
pub fn text_of(bytes: Vec<u8>, shown: &Path, what: &str) -> Result<String, InputError> {
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    if let Some(p) = bytes.iter().position(|&b| b == 0) {
        return Err(InputError::new(shown, format!("{what} holds a NUL byte"))
            .at(Some(line_at(&bytes, p)), None)
            .help("a text file never holds byte 0: the file is binary or damaged"));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        InputError::new(shown, format!("{what} is not valid UTF-8"))
            .at(Some(line_at(e.as_bytes(), at)), None)
            .help("save the file as UTF-8")
    })
}

/// Refuses YAML nested deeper than [`MAX_YAML_DEPTH`] (flow brackets or
/// block indentation), naming the line where it gets too deep.
pub fn check_yaml_depth(text: &str, shown: &Path) -> Result<(), InputError> {
    let too_deep = |line: usize| {
        InputError::new(
            shown,
            format!("the YAML nests more than {MAX_YAML_DEPTH} levels deep"),
        )
        .at(Some(line), None)
        .help("check files nest a few levels; this one is damaged or generated wrongly")
    };
    let mut flow = 0usize;
    let mut indents: Vec<usize> = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let content = l.trim_start_matches([' ', '-']);
        if !content.is_empty() && !content.starts_with('#') {
            let indent = l.len() - content.len();
            while indents.last().is_some_and(|&d| d >= indent) {
                indents.pop();
            }
            indents.push(indent);
            if indents.len() > MAX_YAML_DEPTH {
                return Err(too_deep(i + 1));
            }
        }
        let mut quote: Option<char> = None;
        for c in l.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => {
                    flow += 1;
                    if flow > MAX_YAML_DEPTH {
                        return Err(too_deep(i + 1));
                    }
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown() -> &'static Path {
        Path::new("checks/a.yaml")
    }

    #[test]
    fn bom_dropped_nul_and_bad_utf8_located() {
        assert_eq!(
            text_of(b"\xEF\xBB\xBFname: a\n".to_vec(), shown(), "x").unwrap(),
            "name: a\n"
        );
        let e = text_of(b"a\nb\0\n".to_vec(), shown(), "x").unwrap_err();
        assert_eq!(e.line, Some(2));
        let e = text_of(b"a\nb\nc\xff\n".to_vec(), shown(), "x").unwrap_err();
        assert_eq!((e.line, e.message.contains("UTF-8")), (Some(3), true));
    }

    #[test]
    fn deep_nesting_is_refused_at_its_line() {
        let deep = format!("a: {}{}\n", "[".repeat(300), "]".repeat(300));
        assert_eq!(check_yaml_depth(&deep, shown()).unwrap_err().line, Some(1));
        let mut block = String::new();
        for i in 0..250 {
            block.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
        }
        assert!(check_yaml_depth(&block, shown()).is_err());
        assert!(check_yaml_depth("a:\n  b: [1, {c: '[[['}]\n", shown()).is_ok());
    }
}
