//! A query check's `diff:` section: the row key `assay diff` matches the
//! base's and the current query's rows by, and an acknowledged change.

use crate::error::InputError;
use crate::suite::locate::{closest, key_line};
use crate::suite::model::{ColumnSpec, DiffSpec};
use crate::suite::raw::RawDiff;
use std::collections::BTreeSet;
use std::path::Path;

pub(super) fn diff_spec(
    file: &Path,
    text: &str,
    raw: Option<RawDiff>,
    columns: Option<&[ColumnSpec]>,
    errors: &mut Vec<InputError>,
) -> DiffSpec {
    let Some(raw) = raw else {
        return DiffSpec::default();
    };
    let section = key_line(text, "diff", 1).unwrap_or(1);
    let at = |key: &str| key_line(text, key, section).or(Some(section));
    let err = |key: &str, m: String| InputError::new(file, m).at(at(key), None);

    let key = raw.key.map(|k| k.0);
    if let Some(cols) = &key {
        let mut seen = BTreeSet::new();
        for c in cols {
            if c.trim().is_empty() {
                errors.push(
                    err("key", "diff.key: a key column needs a name".into()).help(
                        "write the output columns that identify a row, e.g. `key: [region, sku]`",
                    ),
                );
            } else if !seen.insert(c.as_str()) {
                errors.push(
                    err("key", format!("diff.key: `{c}` is listed twice"))
                        .help("list each key column once"),
                );
            }
        }
        // With the output's columns declared, a key column must be one of them.
        if let Some(declared) = columns {
            let names: Vec<String> = declared.iter().map(|c| c.name.clone()).collect();
            for c in cols.iter().filter(|c| !c.trim().is_empty()) {
                if !names.contains(c) {
                    let e = err(
                        "key",
                        format!("diff.key: `{c}` is not a column of expect.columns"),
                    );
                    errors.push(match closest(c, &names) {
                        Some(best) => e.help(format!(
                            "did you mean `{best}`? columns: {}",
                            names.join(", ")
                        )),
                        None => e.help(format!("columns: {}", names.join(", "))),
                    });
                }
            }
        }
    }
    let expect_different = match raw.expect_different {
        Some(why) if why.trim().is_empty() => {
            errors.push(
                err(
                    "expect_different",
                    "diff.expect_different: say why the output is meant to differ".into(),
                )
                .help("e.g. `expect_different: \"F2: the total follows the channel filter\"`; remove it once the change is merged"),
            );
            None
        }
        other => other,
    };
    DiffSpec {
        key,
        expect_different,
    }
}
