//! Parameter sets: named sets plus the cross product of matrix axes.

use super::check_file::scalar_text;
use crate::error::InputError;
use crate::suite::locate::{key_line, line_containing};
use crate::suite::raw::RawParams;
use serde_yaml_ng::{Mapping, Value as Yaml};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Parameter sets one check may expand to (named sets plus the matrix
/// product), refused before expansion beyond this.
pub const MAX_PARAM_SETS: usize = 10_000;

pub(super) type RawSet = (String, BTreeMap<String, Yaml>, Option<usize>);

fn mapping_to_map(m: &Mapping) -> Result<BTreeMap<String, Yaml>, String> {
    let mut out = BTreeMap::new();
    for (k, v) in m {
        let k = scalar_text(k).ok_or("parameter names must be plain words")?;
        out.insert(k, v.clone());
    }
    Ok(out)
}

/// Named sets plus the cross product of the matrix axes, with `fixed` added.
pub(super) fn expand_sets(
    file: &Path,
    text: &str,
    p: &RawParams,
    errors: &mut Vec<InputError>,
) -> Vec<RawSet> {
    let mut out: Vec<RawSet> = Vec::new();
    let fixed = match p.fixed.as_ref().map(mapping_to_map) {
        Some(Ok(m)) => m,
        Some(Err(e)) => {
            errors.push(InputError::new(file, e).at(key_line(text, "fixed", 1), None));
            BTreeMap::new()
        }
        None => BTreeMap::new(),
    };
    for s in p.sets.iter().flatten() {
        let line = line_containing(text, &format!("name: {}", s.name))
            .or_else(|| key_line(text, "sets", 1));
        match mapping_to_map(&s.values) {
            Ok(mut m) => {
                for (k, v) in &fixed {
                    m.entry(k.clone()).or_insert_with(|| v.clone());
                }
                out.push((s.name.clone(), m, line));
            }
            Err(e) => errors.push(InputError::new(file, e).at(line, None)),
        }
    }
    if out.len() > MAX_PARAM_SETS {
        errors.push(
            InputError::new(
                file,
                format!(
                    "{} named parameter sets; a check may have at most {MAX_PARAM_SETS}",
                    out.len()
                ),
            )
            .at(key_line(text, "sets", 1), None),
        );
        out.truncate(MAX_PARAM_SETS);
    }
    if let Some(matrix) = &p.matrix {
        let line = key_line(text, "matrix", 1);
        // Each axis: list of (name part, values).
        let mut axes: Vec<Vec<(String, BTreeMap<String, Yaml>)>> = Vec::new();
        for (axis, items) in matrix {
            let Some(axis) = scalar_text(axis) else {
                errors.push(InputError::new(file, "matrix axes must be named").at(line, None));
                continue;
            };
            let Yaml::Sequence(items) = items else {
                errors.push(
                    InputError::new(file, format!("matrix axis `{axis}` must be a list"))
                        .at(key_line(text, &axis, line.unwrap_or(1)), None)
                        .help(format!("write `{axis}: [value1, value2]`")),
                );
                continue;
            };
            if items.is_empty() {
                errors.push(
                    InputError::new(file, format!("matrix axis `{axis}` is empty"))
                        .at(key_line(text, &axis, line.unwrap_or(1)), None),
                );
                continue;
            }
            let mut values = Vec::new();
            for item in items {
                match item {
                    Yaml::Mapping(m) => match mapping_to_map(m) {
                        Ok(group) => {
                            let label = group
                                .values()
                                .map(|v| scalar_text(v).unwrap_or_else(|| "null".into()))
                                .collect::<Vec<_>>()
                                .join("..");
                            values.push((format!("{axis}={label}"), group));
                        }
                        Err(e) => errors.push(InputError::new(file, e).at(line, None)),
                    },
                    other => {
                        let label = scalar_text(other).unwrap_or_else(|| {
                            if other.is_null() {
                                "null".into()
                            } else {
                                "list".into()
                            }
                        });
                        let mut g = BTreeMap::new();
                        g.insert(axis.clone(), other.clone());
                        values.push((format!("{axis}={label}"), g));
                    }
                }
            }
            axes.push(values);
        }
        let product = axes
            .iter()
            .try_fold(1usize, |acc, a| acc.checked_mul(a.len()))
            .and_then(|p| p.checked_add(out.len()));
        if product.is_none_or(|n| n > MAX_PARAM_SETS) {
            let sizes: Vec<String> = axes.iter().map(|a| a.len().to_string()).collect();
            errors.push(
                InputError::new(
                    file,
                    format!(
                        "the matrix expands to {} parameter sets ({}); a check may have at most {MAX_PARAM_SETS}",
                        product.map_or("more than 2^64".to_string(), |n| n.to_string()),
                        sizes.join(" × ")
                    ),
                )
                .at(line, None)
                .help("test fewer combinations: pick the values that matter, or split the check"),
            );
            return out;
        }
        let mut combos: Vec<(Vec<String>, BTreeMap<String, Yaml>)> =
            vec![(Vec::new(), fixed.clone())];
        for axis in &axes {
            let mut next = Vec::new();
            for (names, vals) in &combos {
                for (label, group) in axis {
                    let mut n = names.clone();
                    n.push(label.clone());
                    let mut v = vals.clone();
                    for (k, val) in group {
                        v.insert(k.clone(), val.clone());
                    }
                    next.push((n, v));
                }
            }
            combos = next;
        }
        if !axes.is_empty() {
            for (names, vals) in combos {
                out.push((names.join(" "), vals, line));
            }
        }
    }
    let mut names = BTreeSet::new();
    for (n, _, line) in &out {
        if !names.insert(n.clone()) {
            errors.push(
                InputError::new(file, format!("two parameter sets are both named `{n}`"))
                    .at(*line, None)
                    .help("give every set a unique name"),
            );
        }
    }
    out
}
