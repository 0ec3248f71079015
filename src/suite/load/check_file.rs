//! One check file: which kind of check it holds, and a query check with its
//! query file, parameter sets and expectations.

use super::api::api_mapping;
use super::diff::diff_spec;
use super::expect::expectations;
use super::param_sets::expand_sets;
use super::table_check::table_check;
use super::text::read_text;
use super::SqlDir;
use crate::error::InputError;
use crate::sql;
use crate::suite::locate::{key_line, line_containing, yaml_error};
use crate::suite::model::*;
use crate::suite::params::{self, ParamSet, ParamType, ParamValue};
use crate::suite::raw::*;
use serde_yaml_ng::Value as Yaml;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub(super) enum CheckFile {
    Query(Box<QueryCheck>),
    Table(TableCheck),
}

pub(super) fn load_check_file(
    file: &Path,
    text: &str,
    config: &Config,
    sql_dir: &SqlDir,
) -> Result<CheckFile, Vec<InputError>> {
    let doc: Yaml = serde_yaml_ng::from_str(text).map_err(|e| vec![yaml_error(file, text, &e)])?;
    let is_table = doc
        .as_mapping()
        .map(|m| m.contains_key("table"))
        .unwrap_or(false);
    if !doc.is_mapping() {
        return Err(vec![InputError::new(
            file,
            "a check file must be a mapping",
        )
        .at(Some(1), Some(1))
        .help("start with `name: my_check` (see docs/check-files.md)")]);
    }
    if is_table {
        let raw: RawTableCheck =
            serde_yaml_ng::from_str(text).map_err(|e| vec![yaml_error(file, text, &e)])?;
        table_check(file, text, raw, config).map(CheckFile::Table)
    } else {
        let raw: RawQueryCheck =
            serde_yaml_ng::from_str(text).map_err(|e| vec![yaml_error(file, text, &e)])?;
        query_check(file, text, raw, config, sql_dir).map(|q| CheckFile::Query(Box::new(q)))
    }
}

pub(super) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub(super) fn scalar_text(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn query_check(
    file: &Path,
    text: &str,
    raw: RawQueryCheck,
    config: &Config,
    sql_dir: &SqlDir,
) -> Result<QueryCheck, Vec<InputError>> {
    let mut errors = Vec::new();
    let at = |key: &str| key_line(text, key, 1);
    let err = |line: Option<usize>, m: String| InputError::new(file, m).at(line, None);

    if !valid_name(&raw.name) {
        errors.push(
            err(at("name"), format!("invalid check name `{}`", raw.name))
                .help("use letters, digits, `_` and `-` only"),
        );
    }

    // The query file.
    let query = PathBuf::from(&raw.query);
    let query_path = sql_dir.path.join(&query);
    let query_shown = sql_dir.shown.join(&query);
    let (sql_text, scanned) = match read_query(&query_path, &query_shown) {
        Ok((t, s)) => (Some(t), Some(s)),
        Err(e) => {
            // A missing file is fixed in the check file; anything else in the query file.
            let e = if e.message.ends_with("not found") {
                err(
                    at("query"),
                    format!("query file `{}` not found", query_shown.display()),
                )
                .help(format!(
                    "`query` is relative to the SQL directory `{}`",
                    sql_dir.shown.display()
                ))
            } else {
                e
            };
            errors.push(e);
            (None, None)
        }
    };

    // Parameter sets.
    let raw_params = raw.params.unwrap_or_default();
    let mut declared: BTreeMap<String, ParamType> = BTreeMap::new();
    for (name, t) in raw_params.types.clone().unwrap_or_default() {
        match ParamType::parse(&t) {
            Some(pt) => {
                declared.insert(name, pt);
            }
            None => errors.push(
                err(
                    line_containing(text, &format!("{name}:")),
                    format!("unknown parameter type `{t}` for `{name}`"),
                )
                .help(format!("use one of: {}", params::TYPE_NAMES.join(", "))),
            ),
        }
    }
    let raw_sets = expand_sets(file, text, &raw_params, &mut errors);

    // Types: declared, else inferred from the first non-null value.
    let mut types = declared.clone();
    for (_, values, _) in &raw_sets {
        for (k, v) in values {
            if !types.contains_key(k) {
                if let Some(t) = params::infer_type(v) {
                    types.insert(k.clone(), t);
                }
            }
        }
    }
    let mut sets = Vec::new();
    for (name, values, line) in &raw_sets {
        let mut converted = BTreeMap::new();
        for (k, v) in values {
            let ty = types.get(k).copied().unwrap_or(ParamType::Text);
            match params::convert(v, ty) {
                Ok(pv) => {
                    converted.insert(k.clone(), pv);
                }
                Err(m) => {
                    let at = key_line(text, k, line.unwrap_or(1)).or(*line);
                    errors.push(
                        err(at, format!("parameter `{k}` in set `{name}`: {m}")).help(format!(
                            "declare its type under params.types or give a value of type {}",
                            params::type_label(ty)
                        )),
                    );
                    // Keep the key so no follow-up "has no value" errors are reported.
                    converted.insert(k.clone(), ParamValue::Null);
                }
            }
        }
        sets.push(ParamSet {
            name: name.clone(),
            values: converted,
        });
    }
    if sets.is_empty() {
        sets.push(ParamSet {
            name: "default".into(),
            values: BTreeMap::new(),
        });
    }

    // Every :name has a value; every value is used.
    if let Some(s) = &scanned {
        for v in &s.psql_variables {
            errors.push(
                InputError::new(
                    &query_shown,
                    format!(
                        "`{}` is written as a psql variable (:'{}' or :\"{}\"), which assay does not expand",
                        v.name, v.name, v.name
                    ),
                )
                    .at(Some(v.line), None)
                    .help(format!(
                        "assay parameters are written :{} (no quotes); assay binds the value with its type",
                        v.name
                    )),
            );
        }
        let used: BTreeSet<&str> = s.params.iter().map(|p| p.name.as_str()).collect();
        let mut first_use: BTreeMap<&str, usize> = BTreeMap::new();
        for p in &s.params {
            first_use.entry(p.name.as_str()).or_insert(p.line);
        }
        for set in &sets {
            for (name, line) in &first_use {
                if !set.values.contains_key(*name) {
                    errors.push(
                        InputError::new(
                            &query_shown,
                            format!(
                                "parameter :{name} has no value in set `{}` of check `{}`",
                                set.name, raw.name
                            ),
                        )
                        .at(Some(*line), None)
                        .help(format!(
                            "add `{name}: <value>` to the set (or to params.fixed) in {}",
                            file.display()
                        )),
                    );
                }
            }
        }
        let unused: BTreeSet<&String> = sets
            .iter()
            .flat_map(|s| s.values.keys())
            .filter(|k| !used.contains(k.as_str()))
            .collect();
        for k in unused {
            errors.push(
                err(
                    line_containing(text, &format!("{k}:")),
                    format!(
                        "parameter `{k}` is given a value but not used by {}",
                        query_shown.display()
                    ),
                )
                .help(format!(
                    "remove `{k}` from the parameter sets or use :{k} in the query"
                )),
            );
        }
    }
    for k in declared.keys() {
        if !sets.iter().any(|s| s.values.contains_key(k)) {
            errors.push(
                err(
                    line_containing(text, &format!("{k}:")),
                    format!("type declared for `{k}`, which no set gives a value"),
                )
                .help("remove the type or give the parameter a value"),
            );
        }
    }

    if let Some(b) = raw.budget {
        if let Err(m) = crate::suite::duration::check_budget(b.0) {
            errors.push(
                err(at("budget"), m).help("a query's budget is its time limit, e.g. `budget: 2s`"),
            );
        }
    }
    let tolerance_default = config.defaults.tolerance;
    let expect = expectations(
        file,
        text,
        raw.expect.unwrap_or_default(),
        &sets,
        &types,
        tolerance_default,
        &mut errors,
    );
    let api = api_mapping(
        file,
        text,
        raw.api,
        raw.endpoint.as_deref(),
        &sets,
        expect.columns.as_deref(),
        &mut errors,
    );

    let diff = diff_spec(file, text, raw.diff, expect.columns.as_deref(), &mut errors);

    if !errors.is_empty() {
        dedup(&mut errors);
        return Err(errors);
    }
    let sql = sql_text.unwrap_or_default();
    let declares_order = scanned.is_some_and(|s| s.top_level_order_by) || expect.order_by.is_some();
    Ok(QueryCheck {
        name: raw.name,
        description: raw.description,
        endpoint: raw.endpoint,
        file: file.to_path_buf(),
        query,
        query_path: query_shown,
        statement: prepare(&sql, &types),
        declares_order,
        sql,
        severity: raw.severity.unwrap_or(config.defaults.severity),
        tags: raw.tags,
        budget: raw.budget.unwrap_or(config.defaults.budget),
        environments: raw
            .environments
            .unwrap_or_else(|| vec![Environment::Fixtures, Environment::Production]),
        types,
        sets,
        expect,
        api,
        diff,
    })
}

/// The statement sent to Postgres: trailing `;` removed, `:name` -> `$n::type`.
pub(super) fn prepare(sql_text: &str, types: &BTreeMap<String, ParamType>) -> sql::Rewritten {
    let casts: BTreeMap<String, String> = types
        .iter()
        .map(|(k, t)| (k.clone(), t.sql().to_string()))
        .collect();
    sql::rewrite(sql::strip_trailing_semicolon(sql_text), &casts)
}

fn dedup(errors: &mut Vec<InputError>) {
    let mut seen = BTreeSet::new();
    errors.retain(|e| seen.insert(e.to_string()));
}

/// Reads and scans a query file: exactly one statement, nothing unclosed.
pub(super) fn read_query(path: &Path, shown: &Path) -> Result<(String, sql::Scan), InputError> {
    let text = read_text(path, shown, "query file")?;
    let scanned = sql::scan(&text);
    if !scanned.has_code {
        return Err(InputError::new(shown, "the query file holds no query")
            .at(Some(1), None)
            .help("write the endpoint's SELECT in it (comments alone are not a query)"));
    }
    if let Some((what, line)) = scanned.unterminated {
        return Err(InputError::new(shown, format!("unterminated {what}"))
            .at(Some(line), None)
            .help("close it; assay reads parameters only outside literals and comments"));
    }
    if scanned.extra_statements > 0 {
        return Err(
            InputError::new(shown, "a query file must hold exactly one statement")
                .at(scanned.extra_statement_line, None)
                .help("split it or remove the extra statements"),
        );
    }
    Ok((text, scanned))
}
