//! Finds `:name` parameters in SQL and rewrites them to `$n::type`.
//!
//! A small lexer skips what must never be read as a parameter: string literals
//! ('...', E'...' with backslash escapes), quoted identifiers ("..."), dollar
//! quotes ($tag$...$tag$), line and (nested) block comments, and `::` casts.
//! Rewriting never adds or removes a newline, so a line number reported by
//! Postgres for the rewritten text is the line in the original file.

use std::collections::BTreeMap;

/// One occurrence of `:name` in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamRef {
    pub name: String,
    /// Byte offset of the `:`.
    pub offset: usize,
    /// 1-based line of the occurrence.
    pub line: usize,
}

/// What the lexer learned about a statement.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scan {
    pub params: Vec<ParamRef>,
    /// `ORDER BY` at parenthesis depth 0: the statement declares its row order.
    pub top_level_order_by: bool,
    /// Statements after the first (a `;` at depth 0 followed by more SQL).
    pub extra_statements: usize,
    /// 1-based line where the second statement starts.
    pub extra_statement_line: Option<usize>,
    /// What is not closed (a literal, identifier, dollar quote or comment)
    /// and the 1-based line where it opens.
    pub unterminated: Option<(&'static str, usize)>,
    /// psql variables (`:'name'`, `:"name"`), which assay does not expand.
    pub psql_variables: Vec<ParamRef>,
    /// Anything besides whitespace and comments.
    pub has_code: bool,
    /// Positional parameters `$n`: (start, end) byte range and n.
    pub positional: Vec<(usize, usize, usize)>,
    /// Byte offsets of the `;` that end statements (depth 0, outside
    /// literals, comments and `BEGIN ATOMIC ... END` bodies).
    pub statement_ends: Vec<usize>,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}
fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// Scans SQL text for named parameters and statement structure.
pub fn scan(sql: &str) -> Scan {
    let b = sql.as_bytes();
    let n = b.len();
    let mut i = 0;
    let mut line = 1;
    let mut depth: i32 = 0;
    let mut out = Scan::default();
    let mut prev_word: Option<String> = None;
    let mut pending_semicolon = false;
    // `BEGIN ATOMIC ... END` bodies (SQL-standard function bodies) and the
    // CASE ... END expressions inside them.
    let mut atomic_depth = 0usize;
    let mut case_depth = 0usize;

    // Advances over `len` bytes, counting newlines.
    macro_rules! skip_to {
        ($end:expr) => {{
            let end = $end;
            line += b[i..end].iter().filter(|&&c| c == b'\n').count();
            i = end;
        }};
    }

    while i < n {
        let c = b[i];
        if pending_semicolon && !c.is_ascii_whitespace() {
            // Something other than whitespace or comments after a top-level `;`.
            let comment = (c == b'-' && b.get(i + 1) == Some(&b'-'))
                || (c == b'/' && b.get(i + 1) == Some(&b'*'));
            if !comment {
                out.extra_statements += 1;
                out.extra_statement_line.get_or_insert(line);
                pending_semicolon = false;
            }
        }
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                let end = sql[i..].find('\n').map(|p| i + p).unwrap_or(n);
                skip_to!(end);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut level = 0;
                let mut j = i;
                let mut closed = false;
                while j < n {
                    if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                        level += 1;
                        j += 2;
                    } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                        level -= 1;
                        j += 2;
                        if level == 0 {
                            closed = true;
                            break;
                        }
                    } else {
                        j += 1;
                    }
                }
                if !closed {
                    out.unterminated.get_or_insert(("block comment", line));
                }
                skip_to!(j.min(n));
            }
            b'\'' => {
                // E'...' (escape string) if the previous char is a lone E/e.
                let escape = i > 0
                    && (b[i - 1] == b'e' || b[i - 1] == b'E')
                    && (i < 2 || !is_ident_char(b[i - 2]));
                let mut j = i + 1;
                let mut closed = false;
                while j < n {
                    if escape && b[j] == b'\\' {
                        j += 2;
                        continue;
                    }
                    if b[j] == b'\'' {
                        if b.get(j + 1) == Some(&b'\'') {
                            j += 2;
                            continue;
                        }
                        closed = true;
                        j += 1;
                        break;
                    }
                    j += 1;
                }
                if !closed {
                    out.unterminated.get_or_insert(("string literal", line));
                }
                out.has_code = true;
                skip_to!(j.min(n));
                prev_word = None;
            }
            b'"' => {
                let mut j = i + 1;
                let mut closed = false;
                while j < n {
                    if b[j] == b'"' {
                        if b.get(j + 1) == Some(&b'"') {
                            j += 2;
                            continue;
                        }
                        closed = true;
                        j += 1;
                        break;
                    }
                    j += 1;
                }
                if !closed {
                    out.unterminated.get_or_insert(("quoted identifier", line));
                }
                out.has_code = true;
                skip_to!(j.min(n));
                prev_word = None;
            }
            b'$' => {
                out.has_code = true;
                // $n positional parameter, or a dollar quote $tag$...$tag$.
                let mut j = i + 1;
                if j < n && b[j].is_ascii_digit() {
                    while j < n && b[j].is_ascii_digit() {
                        j += 1;
                    }
                    if let Ok(number) = sql[i + 1..j].parse() {
                        out.positional.push((i, j, number));
                    }
                    i = j;
                    continue;
                }
                while j < n && (is_ident_char(b[j]) && b[j] != b'$') {
                    j += 1;
                }
                if j < n && b[j] == b'$' && (j == i + 1 || is_ident_start(b[i + 1])) {
                    let tag = &sql[i..=j];
                    match sql[j + 1..].find(tag) {
                        Some(p) => {
                            let end = j + 1 + p + tag.len();
                            skip_to!(end);
                        }
                        None => {
                            out.unterminated
                                .get_or_insert(("dollar-quoted string", line));
                            skip_to!(n);
                        }
                    }
                } else {
                    i += 1;
                }
                prev_word = None;
            }
            b':' => {
                out.has_code = true;
                if matches!(b.get(i + 1), Some(b'\'') | Some(b'"')) {
                    // psql's :'name' / :"name": record it, skip the quoted name.
                    let q = b[i + 1];
                    let mut j = i + 2;
                    while j < n && b[j] != q && b[j] != b'\n' {
                        j += 1;
                    }
                    if j < n && b[j] == q && j > i + 2 {
                        out.psql_variables.push(ParamRef {
                            name: sql[i + 2..j].to_string(),
                            offset: i,
                            line,
                        });
                        i = j + 1;
                        prev_word = None;
                        continue;
                    }
                }
                if b.get(i + 1) == Some(&b':') {
                    // A cast: skip `::` and the type name that follows.
                    i += 2;
                    continue;
                }
                if i + 1 < n && is_ident_start(b[i + 1]) {
                    let mut j = i + 1;
                    while j < n && is_ident_char(b[j]) && b[j] != b'$' {
                        j += 1;
                    }
                    out.params.push(ParamRef {
                        name: sql[i + 1..j].to_string(),
                        offset: i,
                        line,
                    });
                    i = j;
                } else {
                    i += 1;
                }
                prev_word = None;
            }
            b'(' | b'[' => {
                out.has_code = true;
                depth += 1;
                i += 1;
                prev_word = None;
            }
            b')' | b']' => {
                out.has_code = true;
                depth -= 1;
                i += 1;
                prev_word = None;
            }
            b';' => {
                if depth == 0 && atomic_depth == 0 {
                    pending_semicolon = true;
                    out.statement_ends.push(i);
                }
                i += 1;
                prev_word = None;
            }
            c if is_ident_start(c) => {
                out.has_code = true;
                let mut j = i;
                while j < n && is_ident_char(b[j]) {
                    j += 1;
                }
                let word = sql[i..j].to_ascii_lowercase();
                if depth == 0 && word == "by" && prev_word.as_deref() == Some("order") {
                    out.top_level_order_by = true;
                }
                match word.as_str() {
                    "atomic" if prev_word.as_deref() == Some("begin") => atomic_depth += 1,
                    "case" if atomic_depth > 0 => case_depth += 1,
                    "end" if case_depth > 0 => case_depth -= 1,
                    "end" if atomic_depth > 0 => atomic_depth -= 1,
                    _ => {}
                }
                prev_word = Some(word);
                i = j;
            }
            c if c.is_ascii_whitespace() => {
                i += 1;
            }
            _ => {
                out.has_code = true;
                i += 1;
                prev_word = None;
            }
        }
    }
    out
}

/// `sql` with every positional parameter `$n` (outside literals and
/// comments) replaced by `value(n)`.
pub fn inline_positional(sql: &str, value: impl Fn(usize) -> String) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut last = 0;
    for (start, end, n) in scan(sql).positional {
        out.push_str(&sql[last..start]);
        out.push_str(&value(n));
        last = end;
    }
    out.push_str(&sql[last..]);
    out
}

/// Byte offset of the first character that is neither whitespace nor
/// inside a comment (the length of `sql` when there is none).
pub fn first_code_offset(sql: &str) -> usize {
    let b = sql.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
        } else if b[i] == b'-' && b.get(i + 1) == Some(&b'-') {
            i = sql[i..].find('\n').map(|p| i + p + 1).unwrap_or(b.len());
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i = sql[i + 2..]
                .find("*/")
                .map(|p| i + 2 + p + 2)
                .unwrap_or(b.len());
        } else {
            return i;
        }
    }
    b.len()
}

/// The statements of a script: (byte offset of the statement's start,
/// its text without the `;`), skipping empty ones.
pub fn split_statements(sql: &str) -> Vec<(usize, &str)> {
    let ends = scan(sql).statement_ends;
    let mut out = Vec::new();
    let mut start = 0;
    for end in ends.into_iter().chain(std::iter::once(sql.len())) {
        let stmt = &sql[start..end];
        if scan(stmt).has_code {
            out.push((start, stmt));
        }
        start = (end + 1).min(sql.len());
    }
    out
}

/// The statement with `:name` replaced by `$n::type`, and the names in `$n` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    pub sql: String,
    pub order: Vec<String>,
}

/// Rewrites every named parameter found by [`scan`]. `type_of` gives the SQL
/// type used in the cast; a parameter it does not know is cast to `text`.
pub fn rewrite(sql: &str, type_of: &BTreeMap<String, String>) -> Rewritten {
    rewrite_after(sql, type_of, 0)
}

/// Like [`rewrite`], numbering the parameters after `taken` positional
/// parameters the statement already uses (`$1` .. `$taken`).
pub fn rewrite_after(sql: &str, type_of: &BTreeMap<String, String>, taken: usize) -> Rewritten {
    let scan = scan(sql);
    let mut out = String::with_capacity(sql.len() + 16);
    let mut order: Vec<String> = Vec::new();
    let mut last = 0;
    for p in &scan.params {
        out.push_str(&sql[last..p.offset]);
        let idx = taken
            + match order.iter().position(|n| n == &p.name) {
                Some(i) => i + 1,
                None => {
                    order.push(p.name.clone());
                    order.len()
                }
            };
        let ty = type_of.get(&p.name).map(String::as_str).unwrap_or("text");
        out.push_str(&format!("${idx}::{ty}"));
        last = p.offset + 1 + p.name.len();
    }
    out.push_str(&sql[last..]);
    Rewritten { sql: out, order }
}

/// Removes a trailing `;` (and whitespace/comments after it) from one statement.
pub fn strip_trailing_semicolon(sql: &str) -> &str {
    let trimmed = sql.trim_end();
    trimmed
        .strip_suffix(';')
        .map(str::trim_end)
        .unwrap_or(trimmed)
}

/// The 1-based line of a 1-based character position (as Postgres reports it).
pub fn line_of_position(sql: &str, position: usize) -> usize {
    sql.chars()
        .take(position.saturating_sub(1))
        .filter(|&c| c == '\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sql: &str) -> Vec<String> {
        scan(sql).params.into_iter().map(|p| p.name).collect()
    }

    #[test]
    fn finds_parameters_and_skips_the_rest() {
        let sql = "select ':no', \"a:no\", $x$ :no $x$, $$:no$$, x::date, E'\\':no' -- :no\n\
                   /* :no /* nested :no */ */ from t where a = :yes and b between :from and :to";
        assert_eq!(names(sql), vec!["yes", "from", "to"]);
    }

    #[test]
    fn rewrites_with_types_and_reuses_positions() {
        let mut types = BTreeMap::new();
        types.insert("d".to_string(), "date".to_string());
        let r = rewrite("select :d, :p, :d - interval '1 day'", &types);
        assert_eq!(
            r.sql,
            "select $1::date, $2::text, $1::date - interval '1 day'"
        );
        assert_eq!(r.order, vec!["d", "p"]);
    }

    #[test]
    fn detects_order_and_extra_statements() {
        assert!(scan("select 1 order by 1").top_level_order_by);
        assert!(!scan("select row_number() over (order by a) from t").top_level_order_by);
        assert_eq!(scan("select 1; -- end\n").extra_statements, 0);
        assert_eq!(scan("select 1; select 2").extra_statements, 1);
        assert_eq!(
            scan("select\n'abc").unterminated,
            Some(("string literal", 2))
        );
        assert_eq!(scan("select 1;\n\nselect 2").extra_statement_line, Some(3));
        assert!(!scan("-- only a comment\n/* and this */\n").has_code);
        assert!(!scan(" ;\n").has_code, "an empty statement is no query");
        let psql = scan("select :'date_from', :\"col\", :ok");
        assert_eq!(psql.psql_variables.len(), 2);
        assert_eq!(psql.psql_variables[0].name, "date_from");
        assert_eq!(psql.params.len(), 1);
    }

    #[test]
    fn inlines_positional_parameters_only_outside_literals() {
        let sql = "select $1::date, '$1', $$ $2 $$, $2 -- $1\n";
        assert_eq!(
            inline_positional(sql, |n| format!("<{n}>")),
            "select <1>::date, '$1', $$ $2 $$, <2> -- $1\n"
        );
    }

    #[test]
    fn splits_scripts_into_statements() {
        let script = "create table t (a int);\n-- c;\ninsert into t values (';');\n\
                      create function f() returns int begin atomic select case when true then 1 end; end;\n";
        let parts: Vec<&str> = split_statements(script)
            .into_iter()
            .map(|(_, s)| s.trim())
            .collect();
        assert_eq!(parts.len(), 3, "{parts:?}");
        assert!(parts[1].ends_with("values (';')"));
        assert!(parts[2].ends_with("end; end"));
    }

    #[test]
    fn lines_are_kept() {
        let sql = "select\n:a,\n:b";
        let s = scan(sql);
        assert_eq!(s.params[1].line, 3);
        let r = rewrite(sql, &BTreeMap::new());
        assert_eq!(r.sql.lines().count(), 3);
        assert_eq!(line_of_position(&r.sql, r.sql.find("$2").unwrap() + 1), 3);
    }
}
