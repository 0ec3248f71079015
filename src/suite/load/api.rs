//! A query check's `api:` section: how its endpoint's request and answer
//! differ from the query (parameter and field names, where the rows are,
//! decimal strings, the page's parameter set). Read by `assay probe`.

use crate::error::InputError;
use crate::suite::locate::{closest, key_line};
use crate::suite::model::{normalize_type_name, ApiMapping, ColumnSpec};
use crate::suite::params::ParamSet;
use crate::suite::raw::RawApi;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Column types whose values are numbers (and so may come as decimal strings).
const NUMERIC_TYPES: &[&str] = &["int2", "int4", "int8", "numeric", "float4", "float8"];

/// A name the API may use for a parameter or field: no spaces, no characters
/// with a meaning in a URL or a field path.
fn valid_api_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || "&=?#/{}.%+".contains(c) || c.is_control())
}

pub(super) fn api_mapping(
    file: &Path,
    text: &str,
    raw: Option<RawApi>,
    endpoint: Option<&str>,
    sets: &[ParamSet],
    columns: Option<&[ColumnSpec]>,
    errors: &mut Vec<InputError>,
) -> ApiMapping {
    let Some(raw) = raw else {
        return ApiMapping::default();
    };
    let section = key_line(text, "api", 1).unwrap_or(1);
    let at = |key: &str| key_line(text, key, section).or(Some(section));
    let err = |key: &str, m: String| InputError::new(file, m).at(at(key), None);

    if endpoint.is_none() {
        errors.push(
            err(
                "api",
                "`api` describes an endpoint, but the check names no `endpoint`".into(),
            )
            .help("add `endpoint: GET /api/...` or remove `api`"),
        );
    }

    // Parameters: known to the check, named validly, no two onto one name.
    let known: BTreeSet<&String> = sets.iter().flat_map(|s| s.values.keys()).collect();
    let known_list: Vec<String> = known.iter().map(|k| k.to_string()).collect();
    let params = raw.params.unwrap_or_default();
    let mut api_names: BTreeMap<String, String> = BTreeMap::new();
    for (param, name) in &params {
        if !known.contains(param) {
            let mut e = err(
                param,
                format!("api.params: `{param}` is not a parameter of this check"),
            );
            e = match closest(param, &known_list) {
                Some(c) => e.help(format!(
                    "did you mean `{c}`? parameters: {}",
                    known_list.join(", ")
                )),
                None => e.help(format!("parameters: {}", known_list.join(", "))),
            };
            errors.push(e);
        }
        if !valid_api_name(name) {
            errors.push(
                err(
                    param,
                    format!("api.params: `{name}` is not a usable parameter name"),
                )
                .help("use a plain name without spaces or any of & = ? # / { } . % +"),
            );
        }
    }
    for k in &known_list {
        let name = params.get(k).cloned().unwrap_or_else(|| k.clone());
        if let Some(first) = api_names.insert(name.clone(), k.clone()) {
            errors.push(
                err(
                    k,
                    format!(
                        "api.params: parameters `{first}` and `{k}` would both be sent as `{name}`"
                    ),
                )
                .help("give each parameter its own name on the API"),
            );
        }
    }

    // Where the rows are.
    let rows: Vec<String> = match raw.rows.as_deref().map(str::trim) {
        None | Some("") | Some(".") => Vec::new(),
        Some(path) => {
            let parts: Vec<String> = path.split('.').map(|p| p.trim().to_string()).collect();
            if parts.iter().any(|p| p.is_empty()) {
                errors.push(
                    err("rows", format!("api.rows: `{path}` is not a field path"))
                        .help("write field names joined by dots, e.g. `data` or `result.items`; omit `rows` for the top level"),
                );
            }
            parts
        }
    };

    // Fields and decimal strings name output columns.
    let column_names: Vec<String> = columns
        .map(|c| c.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    let unknown_column = |key: &str, what: &str, col: &str| -> Option<InputError> {
        if columns.is_none() || column_names.iter().any(|c| c == col) {
            return None;
        }
        let e = err(
            key,
            format!("{what}: `{col}` is not a column in expect.columns"),
        );
        Some(match closest(col, &column_names) {
            Some(c) => e.help(format!(
                "did you mean `{c}`? columns: {}",
                column_names.join(", ")
            )),
            None => e.help(format!("columns: {}", column_names.join(", "))),
        })
    };
    let fields = raw.fields.unwrap_or_default();
    for (col, name) in &fields {
        if let Some(e) = unknown_column(col, "api.fields", col) {
            errors.push(e);
        }
        if !valid_api_name(name) {
            errors.push(
                err(col, format!("api.fields: `{name}` is not a usable field name"))
                    .help("use the field's name as the API spells it (no dots: nested fields are not supported)"),
            );
        }
    }
    let mut field_of: BTreeMap<String, String> = BTreeMap::new();
    for col in &column_names {
        let name = fields.get(col).cloned().unwrap_or_else(|| col.clone());
        if let Some(first) = field_of.insert(name.clone(), col.clone()) {
            errors.push(
                err(
                    "fields",
                    format!("api.fields: columns `{first}` and `{col}` would both be read from field `{name}`"),
                )
                .help("give each column its own field"),
            );
        }
    }
    for col in &raw.decimal_strings {
        if let Some(e) = unknown_column("decimal_strings", "api.decimal_strings", col) {
            errors.push(e);
            continue;
        }
        let ty = columns
            .and_then(|cs| cs.iter().find(|c| &c.name == col))
            .and_then(|c| c.ty.clone());
        if let Some(ty) = ty {
            let ty = normalize_type_name(&ty);
            if !NUMERIC_TYPES.contains(&ty.as_str()) {
                errors.push(
                    err(
                        "decimal_strings",
                        format!("api.decimal_strings: `{col}` is {ty}; only number columns may come as decimal strings"),
                    )
                    .help("remove it from decimal_strings"),
                );
            }
        }
    }

    // The page's parameter set.
    if let Some(name) = &raw.page_set {
        if !sets.iter().any(|s| &s.name == name) {
            let names: Vec<String> = sets.iter().map(|s| s.name.clone()).collect();
            let e = err(
                "page_set",
                format!("api.page_set: no parameter set is named `{name}`"),
            );
            errors.push(match closest(name, &names) {
                Some(c) => e.help(format!("did you mean `{c}`?")),
                None => e.help(format!("sets: {}", names.join("; "))),
            });
        }
    }

    ApiMapping {
        params: params.into_iter().filter(|(k, v)| k != v).collect(),
        rows,
        fields: fields.into_iter().filter(|(k, v)| k != v).collect(),
        decimal_strings: raw.decimal_strings,
        page_set: raw.page_set,
    }
}
