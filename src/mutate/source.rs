//! One query's text as the mutator sees it: sqlparser's line/column
//! locations turned into byte offsets (columns count characters, so this is
//! UTF-8 aware), the tokens with their byte ranges (comments and whitespace
//! kept apart, never edited), and the edits that splice a replacement into
//! the original text.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Span, Token, Tokenizer, Whitespace};

/// A token of the query and the bytes it covers.
#[derive(Debug, Clone)]
pub struct Tok {
    pub token: Token,
    pub start: usize,
    pub end: usize,
}

/// The original text, its line starts and its tokens.
pub struct Source<'a> {
    pub text: &'a str,
    line_starts: Vec<usize>,
    /// Code tokens only (no whitespace, no comments), in order.
    pub tokens: Vec<Tok>,
    /// Byte ranges of comments.
    pub comments: Vec<(usize, usize)>,
}

impl<'a> Source<'a> {
    pub fn new(text: &'a str) -> Result<Source<'a>, String> {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        let mut src = Source {
            text,
            line_starts,
            tokens: Vec::new(),
            comments: Vec::new(),
        };
        let dialect = PostgreSqlDialect {};
        let toks = Tokenizer::new(&dialect, text)
            .tokenize_with_location()
            .map_err(|e| e.to_string())?;
        for t in toks {
            let (Some(start), Some(end)) = (src.offset(t.span.start), src.offset(t.span.end))
            else {
                return Err(format!("token {} has no location", t.token));
            };
            match &t.token {
                Token::Whitespace(Whitespace::SingleLineComment { .. })
                | Token::Whitespace(Whitespace::MultiLineComment(_)) => {
                    src.comments.push((start, end))
                }
                Token::Whitespace(_) | Token::EOF => {}
                _ => src.tokens.push(Tok {
                    token: t.token,
                    start,
                    end,
                }),
            }
        }
        Ok(src)
    }

    /// The byte offset of a 1-based line and character column (the end of
    /// the text for the position just past it).
    pub fn offset(&self, loc: Location) -> Option<usize> {
        if loc.line == 0 || loc.column == 0 {
            return None;
        }
        let line_start = *self.line_starts.get(loc.line as usize - 1)?;
        let line_end = self
            .line_starts
            .get(loc.line as usize)
            .copied()
            .unwrap_or(self.text.len());
        let line = &self.text[line_start..line_end];
        let col = loc.column as usize - 1;
        match line.char_indices().nth(col) {
            Some((i, _)) => Some(line_start + i),
            None if line.chars().count() == col => Some(line_end),
            None => None,
        }
    }

    /// A node's span as a byte range (None for the empty span of nodes
    /// sqlparser does not locate).
    pub fn range(&self, span: Span) -> Option<(usize, usize)> {
        if span == Span::empty() {
            return None;
        }
        let (a, b) = (self.offset(span.start)?, self.offset(span.end)?);
        (a < b).then_some((a, b))
    }

    /// 1-based line and character column of a byte offset.
    pub fn line_col(&self, byte: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= byte);
        let start = self.line_starts[line - 1];
        let col = self.text[start..byte.min(self.text.len())].chars().count() + 1;
        (line, col)
    }

    /// Index of the first token starting at or after `byte`.
    pub fn first_at_or_after(&self, byte: usize) -> usize {
        self.tokens.partition_point(|t| t.start < byte)
    }

    /// Index of the token starting exactly at `byte`.
    pub fn token_starting(&self, byte: usize) -> Option<usize> {
        let i = self.first_at_or_after(byte);
        (self.tokens.get(i)?.start == byte).then_some(i)
    }

    /// Index of the last token ending at or before `byte`.
    pub fn last_ending_by(&self, byte: usize) -> Option<usize> {
        let n = self.tokens.partition_point(|t| t.end <= byte);
        n.checked_sub(1)
    }

    /// The tokens lying wholly inside `[start, end)`.
    pub fn tokens_in(&self, start: usize, end: usize) -> &[Tok] {
        let i = self.first_at_or_after(start);
        let j = self.tokens.partition_point(|t| t.end <= end);
        if j <= i {
            &[]
        } else {
            &self.tokens[i..j]
        }
    }

    pub fn slice(&self, start: usize, end: usize) -> &'a str {
        &self.text[start..end]
    }

    pub fn tok(&self, i: usize) -> Option<&Tok> {
        self.tokens.get(i)
    }

    pub fn is_keyword(&self, i: usize, kw: Keyword) -> bool {
        matches!(self.tokens.get(i), Some(Tok { token: Token::Word(w), .. }) if w.keyword == kw && w.quote_style.is_none())
    }

    pub fn is(&self, i: usize, token: &Token) -> bool {
        self.tokens.get(i).is_some_and(|t| &t.token == token)
    }

    /// Index of the `)` matching the `(` at `open`.
    pub fn matching_close(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        for (i, t) in self.tokens.iter().enumerate().skip(open) {
            match t.token {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// Index of the `(` matching the `)` at `close`.
    pub fn matching_open(&self, close: usize) -> Option<usize> {
        let mut depth = 0usize;
        for i in (0..=close).rev() {
            match self.tokens[i].token {
                Token::RParen => depth += 1,
                Token::LParen => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// True when a comment lies (even partly) inside `[start, end)`.
    pub fn has_comment(&self, start: usize, end: usize) -> bool {
        self.comments.iter().any(|&(a, b)| a < end && b > start)
    }

    /// The end of the word at `i` plus the spaces after it on the same line:
    /// what to delete to remove a keyword without leaving a double space.
    pub fn end_with_spaces(&self, i: usize) -> usize {
        let t = &self.tokens[i];
        let rest = &self.text[t.end..];
        let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        match self.tokens.get(i + 1) {
            Some(next) if t.end + spaces <= next.start => t.end + spaces,
            _ => t.end,
        }
    }
}

/// A keyword written in the case of the original text (`like` decides).
pub fn styled(keyword: &str, like: &str) -> String {
    let letters: Vec<char> = like.chars().filter(|c| c.is_alphabetic()).collect();
    if !letters.is_empty() && letters.iter().all(|c| c.is_uppercase()) {
        keyword.to_uppercase()
    } else {
        keyword.to_lowercase()
    }
}

/// One splice: the bytes `[start, end)` of the original become `text`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

impl Edit {
    pub fn replace(start: usize, end: usize, text: impl Into<String>) -> Edit {
        Edit {
            start,
            end,
            text: text.into(),
        }
    }
    pub fn insert(at: usize, text: impl Into<String>) -> Edit {
        Edit::replace(at, at, text)
    }
    pub fn delete(start: usize, end: usize) -> Edit {
        Edit::replace(start, end, "")
    }
}

/// Applies non-overlapping edits to `text`. A replaced range that held line
/// breaks keeps as many in its replacement, so every line after it keeps its
/// number. None when edits overlap or fall outside the text.
pub fn apply(text: &str, edits: &[Edit]) -> Option<String> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort();
    let mut out = String::with_capacity(text.len() + 32);
    let mut last = 0;
    for e in sorted {
        if e.start < last || e.end > text.len() || e.start > e.end {
            return None;
        }
        if !text.is_char_boundary(e.start) || !text.is_char_boundary(e.end) {
            return None;
        }
        out.push_str(&text[last..e.start]);
        out.push_str(&e.text);
        let lost = text[e.start..e.end].matches('\n').count();
        let kept = e.text.matches('\n').count();
        for _ in kept..lost {
            out.push('\n');
        }
        last = e.end;
    }
    out.push_str(&text[last..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_characters_not_bytes() {
        let text = "select 'é', a\nfrom t";
        let src = Source::new(text).unwrap();
        // `a` is the 13th character of line 1 but its 14th byte.
        let a = src.offset(Location::new(1, 13)).unwrap();
        assert_eq!(&text[a..a + 1], "a");
        assert_eq!(src.line_col(a), (1, 13));
        let from = src.offset(Location::new(2, 1)).unwrap();
        assert_eq!(&text[from..from + 4], "from");
        let a_tok = src
            .tokens
            .iter()
            .find(|t| t.token.to_string() == "a")
            .unwrap();
        assert_eq!(a_tok.start, a);
    }

    #[test]
    fn comments_are_kept_apart_from_tokens() {
        let src = Source::new("select 1 -- one\n/* two */ + 2").unwrap();
        assert_eq!(src.comments.len(), 2);
        assert_eq!(src.tokens.len(), 4);
        assert!(src.has_comment(9, 12));
        assert!(!src.has_comment(0, 8));
    }

    #[test]
    fn edits_keep_line_numbers() {
        let text = "a,\n  b,\n  c";
        let out = apply(text, &[Edit::delete(3, 8)]).unwrap();
        assert_eq!(out, "a,\n\n  c");
        assert_eq!(out.lines().count(), text.lines().count());
        assert!(apply(text, &[Edit::delete(0, 3), Edit::delete(2, 4)]).is_none());
    }

    #[test]
    fn keywords_follow_the_case_of_the_original() {
        assert_eq!(styled("left join", "JOIN"), "LEFT JOIN");
        assert_eq!(styled("LEFT JOIN", "join"), "left join");
        assert_eq!(styled("desc", "Order"), "desc");
    }
}
