//! Reads `assay.yaml` and the check files, and validates them into a [`Suite`].
//!
//! The only IO here is reading files. Every problem becomes an [`InputError`]
//! naming the file, the line and the fix; a broken check file does not stop the
//! others from loading.

use super::duration::HumanDuration;
use super::locate::{closest, key_line, line_containing, yaml_error};
use super::model::*;
use super::params::{self, ParamSet, ParamType, ParamValue};
use super::raw::*;
use crate::error::InputError;
use crate::sql;
use serde_yaml_ng::{Mapping, Value as Yaml};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const CONFIG_FILE: &str = "assay.yaml";

/// Options that change how files are read.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Read query files from this directory instead of `paths.endpoint_sql`.
    pub sql_dir: Option<PathBuf>,
}

/// A suite plus the problems found while loading it. Checks with problems are
/// left out of the suite; the rest can still run.
#[derive(Debug)]
pub struct Loaded {
    pub suite: Suite,
    pub errors: Vec<InputError>,
}

fn read(path: &Path, shown: &Path) -> Result<String, InputError> {
    std::fs::read_to_string(path).map_err(|e| {
        InputError::new(shown, format!("cannot read file: {e}"))
            .help("check the path; paths in assay.yaml are relative to the suite root")
    })
}

/// Loads the suite rooted at `root`. Fails outright only when `assay.yaml`
/// itself cannot be used.
pub fn load_suite(root: &Path, opts: &LoadOptions) -> Result<Loaded, Vec<InputError>> {
    let config_path = root.join(CONFIG_FILE);
    if !config_path.exists() {
        return Err(vec![InputError::new(
            &config_path,
            "no assay.yaml here: this is not an assay suite",
        )
        .help("run from the suite's root or pass -C <suite dir>")]);
    }
    let config = load_config(root).map_err(|e| vec![e])?;
    let mut errors = Vec::new();

    let sql_dir = match &opts.sql_dir {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => std::env::current_dir()
            .map(|c| c.join(d))
            .unwrap_or(d.clone()),
        None => root.join(&config.endpoint_sql_dir),
    };
    if !sql_dir.is_dir() {
        return Err(vec![InputError::new(
            &sql_dir,
            "the SQL directory does not exist",
        )
        .help(
            "pass an existing directory to --sql-dir or fix paths.endpoint_sql",
        )]);
    }

    let mut files = Vec::new();
    let checks_root = root.join(&config.checks_dir);
    if checks_root.is_dir() {
        for entry in walkdir::WalkDir::new(&checks_root).sort_by_file_name() {
            match entry {
                Ok(e) => {
                    let p = e.path();
                    if e.file_type().is_file()
                        && matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml"))
                    {
                        files.push(p.to_path_buf());
                    }
                }
                Err(e) => errors.push(InputError::new(&checks_root, e.to_string())),
            }
        }
    } else {
        errors.push(
            InputError::new(
                root.join(CONFIG_FILE),
                format!(
                    "the checks directory `{}` does not exist",
                    config.checks_dir.display()
                ),
            )
            .help("create it or set paths.checks in assay.yaml"),
        );
    }

    let mut query_checks: Vec<QueryCheck> = Vec::new();
    let mut table_checks: Vec<TableCheck> = Vec::new();
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in files {
        let shown = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let text = match read(&path, &shown) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let loaded = load_check_file(&shown, &text, &config, &sql_dir);
        match loaded {
            Ok(CheckFile::Query(q)) => {
                if let Some(e) = duplicate(&mut seen, &q.name, &shown, &text) {
                    errors.push(e);
                } else {
                    query_checks.push(*q);
                }
            }
            Ok(CheckFile::Table(t)) => {
                if let Some(e) = duplicate(&mut seen, &t.name, &shown, &text) {
                    errors.push(e);
                } else {
                    table_checks.push(t);
                }
            }
            Err(mut es) => errors.append(&mut es),
        }
    }
    Ok(Loaded {
        suite: Suite {
            root: root.to_path_buf(),
            config,
            query_checks,
            table_checks,
        },
        errors,
    })
}

fn duplicate(
    seen: &mut BTreeMap<String, PathBuf>,
    name: &str,
    file: &Path,
    text: &str,
) -> Option<InputError> {
    if let Some(first) = seen.get(name) {
        return Some(
            InputError::new(file, format!("duplicate check name `{name}`"))
                .at(key_line(text, "name", 1), None)
                .help(format!(
                    "`{name}` is already defined in {}; check names must be unique",
                    first.display()
                )),
        );
    }
    seen.insert(name.to_string(), file.to_path_buf());
    None
}

/// Reads and validates `assay.yaml`.
pub fn load_config(root: &Path) -> Result<Config, InputError> {
    let shown = PathBuf::from(CONFIG_FILE);
    let text = read(&root.join(CONFIG_FILE), &shown)?;
    let raw: RawConfig = serde_yaml_ng::from_str(&text).map_err(|e| yaml_error(&shown, &e))?;
    let paths = raw.paths.unwrap_or_default();
    let d = raw.defaults.unwrap_or_default();
    let docker = raw.docker.unwrap_or_default();
    let postgres_version = raw.postgres_version.unwrap_or(15);
    let mut setup = Vec::new();
    let mut after = key_line(&text, "setup", 1).unwrap_or(1);
    for step in raw.setup {
        let line = step
            .sql
            .as_deref()
            .or(step.csv.as_deref())
            .and_then(|v| line_containing(&text, v));
        after = line.unwrap_or(after);
        let err = |m: &str, h: &str| {
            InputError::new(&shown, m)
                .at(line.or(Some(after)), None)
                .help(h)
        };
        let s = match (step.sql, step.csv, step.table) {
            (Some(sql), None, None) => SetupStep::Sql(PathBuf::from(sql)),
            (None, Some(csv), Some(table)) => SetupStep::Csv {
                file: PathBuf::from(csv),
                table,
            },
            (None, Some(_), None) => {
                return Err(err(
                    "a csv setup step needs a `table`",
                    "add `table: schema.table`",
                ))
            }
            _ => {
                return Err(err(
                    "a setup step is either `sql: file` or `csv: file` with `table: name`",
                    "write `- sql: sql/schema.sql` or `- csv: fixtures/x.csv` + `table: s.t`",
                ))
            }
        };
        let file = match &s {
            SetupStep::Sql(f) => f,
            SetupStep::Csv { file, .. } => file,
        };
        if !root.join(file).is_file() {
            return Err(err(
                &format!("setup file `{}` does not exist", file.display()),
                "paths in assay.yaml are relative to the suite root",
            ));
        }
        setup.push(s);
    }
    let scale = match raw.scale {
        None => None,
        Some(sc) => Some(scale_config(root, &text, &shown, sc)?),
    };
    let bench = bench_config(&text, &shown, raw.bench.unwrap_or_default())?;
    if let Some(t) = d.tolerance {
        if !(t >= 0.0 && t.is_finite()) {
            return Err(InputError::new(
                &shown,
                "defaults.tolerance must be a non-negative number",
            )
            .at(key_line(&text, "tolerance", 1), None));
        }
    }
    Ok(Config {
        name: raw.name,
        postgres_version,
        docker_image: docker.image.unwrap_or_else(|| "postgres".into()),
        docker_tag: docker.tag.unwrap_or_else(|| postgres_version.to_string()),
        checks_dir: PathBuf::from(paths.checks.unwrap_or_else(|| "checks".into())),
        endpoint_sql_dir: PathBuf::from(
            paths.endpoint_sql.unwrap_or_else(|| "sql/endpoints".into()),
        ),
        snapshots_dir: PathBuf::from(paths.snapshots.unwrap_or_else(|| "snapshots".into())),
        setup,
        scale,
        bench,
        defaults: Defaults {
            budget: d.budget.unwrap_or(HumanDuration(Duration::from_secs(2))),
            severity: d.severity.unwrap_or(Severity::Error),
            timing_runs: d.timing_runs.unwrap_or(3),
            tolerance: d.tolerance.unwrap_or(1e-6),
            sample_rows: d.sample_rows.unwrap_or(5),
        },
    })
}

/// Validates `scale:`: a known generator and SQL files that exist.
fn scale_config(
    root: &Path,
    text: &str,
    shown: &Path,
    raw: super::raw::RawScale,
) -> Result<ScaleConfig, InputError> {
    let at = |needle: &str| line_containing(text, needle).or_else(|| key_line(text, "scale", 1));
    if !crate::gen::GENERATORS.contains(&raw.generator.as_str()) {
        let mut e = InputError::new(
            shown,
            format!("unknown scale.generator `{}`", raw.generator),
        )
        .at(at(&raw.generator), None);
        let known: Vec<String> = crate::gen::GENERATORS
            .iter()
            .map(|g| g.to_string())
            .collect();
        e = match closest(&raw.generator, &known) {
            Some(s) => e.help(format!("did you mean `{s}`?")),
            None => e.help(format!("generators: {}", crate::gen::GENERATORS.join(", "))),
        };
        return Err(e);
    }
    let files = |list: Vec<String>| -> Result<Vec<PathBuf>, InputError> {
        list.into_iter()
            .map(|f| {
                if root.join(&f).is_file() {
                    Ok(PathBuf::from(f))
                } else {
                    Err(
                        InputError::new(shown, format!("scale file `{f}` does not exist"))
                            .at(at(&f), None)
                            .help("paths in assay.yaml are relative to the suite root"),
                    )
                }
            })
            .collect()
    };
    let before = files(raw.before)?;
    let after = files(raw.after)?;
    let psql_equivalent = files(raw.psql_equivalent.into_iter().collect())?.pop();
    Ok(ScaleConfig {
        generator: raw.generator,
        seed: raw.seed.unwrap_or(20251005),
        before,
        after,
        psql_equivalent,
    })
}

/// Validates `bench:` (every key optional).
fn bench_config(
    text: &str,
    shown: &Path,
    raw: super::raw::RawBench,
) -> Result<BenchConfig, InputError> {
    let ratio = raw.max_p95_ratio.unwrap_or(1.5);
    if !(ratio.is_finite() && ratio >= 1.0) {
        return Err(
            InputError::new(shown, "bench.max_p95_ratio must be a number of at least 1")
                .at(key_line(text, "max_p95_ratio", 1), None)
                .help("e.g. `max_p95_ratio: 1.5` fails a query whose p95 grew by more than half"),
        );
    }
    Ok(BenchConfig {
        baselines_dir: PathBuf::from(raw.baselines.unwrap_or_else(|| "benchmarks".into())),
        max_p95_ratio: ratio,
        min_p95_delta_ms: raw
            .min_p95_delta
            .map(|d| d.0.as_secs_f64() * 1e3)
            .unwrap_or(25.0),
        warmup_runs: raw.warmup_runs.unwrap_or(1),
        timed_runs: raw.timed_runs.unwrap_or(5).max(1),
    })
}

enum CheckFile {
    Query(Box<QueryCheck>),
    Table(TableCheck),
}

fn load_check_file(
    file: &Path,
    text: &str,
    config: &Config,
    sql_dir: &Path,
) -> Result<CheckFile, Vec<InputError>> {
    let doc: Yaml = serde_yaml_ng::from_str(text).map_err(|e| vec![yaml_error(file, &e)])?;
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
            serde_yaml_ng::from_str(text).map_err(|e| vec![yaml_error(file, &e)])?;
        table_check(file, text, raw, config).map(CheckFile::Table)
    } else {
        let raw: RawQueryCheck =
            serde_yaml_ng::from_str(text).map_err(|e| vec![yaml_error(file, &e)])?;
        query_check(file, text, raw, config, sql_dir).map(|q| CheckFile::Query(Box::new(q)))
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn scalar_text(v: &Yaml) -> Option<String> {
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
    sql_dir: &Path,
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
    let query_path = sql_dir.join(&query);
    let sql_text = match std::fs::read_to_string(&query_path) {
        Ok(t) => Some(t),
        Err(_) => {
            errors.push(
                err(
                    at("query"),
                    format!("query file `{}` not found", query_path.display()),
                )
                .help(format!(
                    "`query` is relative to the SQL directory `{}`",
                    sql_dir.display()
                )),
            );
            None
        }
    };
    let scanned = sql_text.as_deref().map(sql::scan);
    if let (Some(s), Some(_)) = (&scanned, &sql_text) {
        if let Some(what) = s.unterminated {
            errors.push(
                InputError::new(&query_path, format!("unterminated {what}"))
                    .help("close it; assay reads parameters only outside literals and comments"),
            );
        }
        if s.extra_statements > 0 {
            errors.push(
                InputError::new(&query_path, "a query file must hold exactly one statement")
                    .help("split it or remove the extra statements"),
            );
        }
    }

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
                            &query_path,
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
                        query_path.display()
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
        query_path,
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
    })
}

/// The statement sent to Postgres: trailing `;` removed, `:name` -> `$n::type`.
fn prepare(sql_text: &str, types: &BTreeMap<String, ParamType>) -> sql::Rewritten {
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

type RawSet = (String, BTreeMap<String, Yaml>, Option<usize>);

fn mapping_to_map(m: &Mapping) -> Result<BTreeMap<String, Yaml>, String> {
    let mut out = BTreeMap::new();
    for (k, v) in m {
        let k = scalar_text(k).ok_or("parameter names must be plain words")?;
        out.insert(k, v.clone());
    }
    Ok(out)
}

/// Named sets plus the cross product of the matrix axes, with `fixed` added.
fn expand_sets(
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

#[allow(clippy::too_many_arguments)]
fn expectations(
    file: &Path,
    text: &str,
    e: RawExpect,
    sets: &[ParamSet],
    types: &BTreeMap<String, ParamType>,
    default_tolerance: f64,
    errors: &mut Vec<InputError>,
) -> Expect {
    let err = |key: &str, m: String| InputError::new(file, m).at(line_containing(text, key), None);
    let scope = |severity: Option<Severity>, environments: Option<Vec<Environment>>| Scope {
        severity,
        environments,
    };
    let tol = |t: Option<f64>, key: &str, errors: &mut Vec<InputError>| match t {
        Some(t) if !(t >= 0.0 && t.is_finite()) => {
            errors.push(err(
                key,
                format!("tolerance of `{key}` must be a non-negative number"),
            ));
            default_tolerance
        }
        Some(t) => t,
        None => default_tolerance,
    };
    let mut names = BTreeSet::new();
    let mut unique_name = |n: &str, errors: &mut Vec<InputError>| {
        if !names.insert(n.to_string()) {
            errors.push(
                err(
                    &format!("name: {n}"),
                    format!("two expectations are both named `{n}`"),
                )
                .help("give each a unique name"),
            );
        }
    };

    let columns = e.columns.map(|cols| {
        cols.into_iter()
            .map(|c| ColumnSpec {
                name: c.name,
                ty: c.ty.map(|t| normalize_type_name(&t)),
                nullable: c.nullable,
            })
            .collect()
    });
    if let Some(b) = e.rows {
        if let (Some(lo), Some(hi)) = (b.min, b.max) {
            if lo > hi {
                errors.push(err(
                    "rows:",
                    format!("rows.min ({lo}) is greater than rows.max ({hi})"),
                ));
            }
        }
    }

    let mut row_checks = Vec::new();
    for r in e.row_checks {
        unique_name(&r.name, errors);
        let predicate = match (r.sql, r.left, r.right) {
            (Some(sql), None, None) => {
                if r.tolerance.is_some() {
                    errors.push(err(
                        &format!("name: {}", r.name),
                        format!(
                            "row check `{}`: `tolerance` needs `left` and `right`",
                            r.name
                        ),
                    ));
                }
                sql
            }
            (None, Some(l), Some(rt)) => {
                let t = tol(r.tolerance, &r.name, errors);
                format!("((({l}) is null and ({rt}) is null) or abs(({l}) - ({rt})) <= {t})")
            }
            _ => {
                errors.push(
                    err(
                        &format!("name: {}", r.name),
                        format!(
                            "row check `{}` needs either `sql` or both `left` and `right`",
                            r.name
                        ),
                    )
                    .help("write `sql: \"a = b\"` or `left: a` + `right: b` (+ `tolerance`)"),
                );
                continue;
            }
        };
        row_checks.push(RowCheck {
            name: r.name,
            predicate,
            scope: scope(r.severity, r.environments),
        });
    }
    let mut aggregate_checks = Vec::new();
    for a in e.aggregate_checks {
        unique_name(&a.name, errors);
        aggregate_checks.push(AggregateCheck {
            name: a.name,
            predicate: a.sql,
            scope: scope(a.severity, a.environments),
        });
    }
    let mut reconcile = Vec::new();
    for r in e.reconcile {
        unique_name(&r.name, errors);
        let scanned = sql::scan(&r.sql);
        for p in &scanned.params {
            for s in sets {
                if !s.values.contains_key(&p.name) {
                    errors.push(
                        err(
                            &format!(":{}", p.name),
                            format!(
                                "reconcile `{}` uses :{} which has no value in set `{}`",
                                r.name, p.name, s.name
                            ),
                        )
                        .help("verification queries may use only the check's parameters"),
                    );
                }
            }
        }
        if scanned.extra_statements > 0 {
            errors.push(err(
                &format!("name: {}", r.name),
                format!("reconcile `{}` must be one statement", r.name),
            ));
        }
        let columns = r.columns.clone().unwrap_or_default();
        match r.compare {
            CompareKind::Scalar if r.column.is_none() => errors.push(
                err(
                    &format!("name: {}", r.name),
                    format!(
                        "reconcile `{}` compares a scalar but names no `column`",
                        r.name
                    ),
                )
                .help("add `column: <output column>`"),
            ),
            CompareKind::Rows if columns.is_empty() => errors.push(
                err(
                    &format!("name: {}", r.name),
                    format!(
                        "reconcile `{}` compares rows but lists no `columns`",
                        r.name
                    ),
                )
                .help("add `columns: [a, b]`"),
            ),
            _ => {}
        }
        let t = tol(r.tolerance, &r.name, errors);
        reconcile.push(Reconcile {
            name: r.name,
            statement: prepare(&r.sql, types),
            sql: r.sql,
            compare: r.compare,
            column: r.column,
            columns,
            tolerance: t,
            exact: r.exact,
            scope: scope(r.severity, r.environments),
        });
    }
    let mut relations = Vec::new();
    for r in e.relations {
        unique_name(&r.name, errors);
        let here = format!("name: {}", r.name);
        let param_known = |p: &str| sets.iter().any(|s| s.values.contains_key(p));
        let total = |param: &str, errors: &mut Vec<InputError>| -> ParamValue {
            let ty = types.get(param).copied().unwrap_or(ParamType::Text);
            params::convert(&r.total, ty).unwrap_or_else(|m| {
                errors.push(err(&here, format!("relation `{}`: total: {m}", r.name)));
                ParamValue::Null
            })
        };
        let kind = match (&r.partition, &r.subset, &r.narrower) {
            (Some(p), None, None) => {
                if r.measures.is_empty() {
                    errors.push(
                        err(&here, format!("relation `{}` needs `measures`", r.name))
                            .help("list the columns to sum, e.g. `measures: [leads]`"),
                    );
                }
                RelationKind::Partition {
                    param: p.clone(),
                    total: total(p, errors),
                    measures: r.measures.clone(),
                    by: r.by.clone(),
                    complete: r.complete.unwrap_or(true),
                }
            }
            (None, Some(p), None) => RelationKind::Subset {
                param: p.clone(),
                total: total(p, errors),
                columns: r.columns.clone(),
            },
            (None, None, Some(pair)) => {
                if pair.len() != 2 {
                    errors.push(err(
                        &here,
                        format!(
                            "relation `{}`: `narrower` takes two parameters [from, to]",
                            r.name
                        ),
                    ));
                    continue;
                }
                for p in pair {
                    if types.get(p).is_some_and(|t| {
                        *t != ParamType::Date
                            && *t != ParamType::Integer
                            && *t != ParamType::Numeric
                    }) {
                        errors.push(err(
                            &here,
                            format!("relation `{}`: `{p}` must be a date or a number", r.name),
                        ));
                    }
                }
                let measures = if r.measures.is_empty() {
                    vec!["rows".to_string()]
                } else {
                    r.measures.clone()
                };
                RelationKind::Narrower {
                    from: pair[0].clone(),
                    to: pair[1].clone(),
                    measures,
                }
            }
            _ => {
                errors.push(
                    err(
                        &here,
                        format!(
                            "relation `{}` needs exactly one of `partition`, `subset`, `narrower`",
                            r.name
                        ),
                    )
                    .help("see docs/check-files.md, section relations"),
                );
                continue;
            }
        };
        let used: Vec<&String> = match &kind {
            RelationKind::Partition { param, .. } | RelationKind::Subset { param, .. } => {
                vec![param]
            }
            RelationKind::Narrower { from, to, .. } => vec![from, to],
        };
        for p in used {
            if !param_known(p) {
                let known: Vec<String> = types.keys().cloned().collect();
                let mut e = err(
                    &here,
                    format!(
                        "relation `{}` refers to parameter `{p}`, which no set has",
                        r.name
                    ),
                );
                if let Some(c) = closest(p, &known) {
                    e = e.help(format!("did you mean `{c}`?"));
                }
                errors.push(e);
            }
        }
        relations.push(Relation {
            name: r.name,
            kind,
            tolerance: tol(r.tolerance, "relations", errors),
            scope: scope(r.severity, r.environments),
        });
    }
    let snap = e.snapshot.unwrap_or_default();
    if let Some(p) = snap.precision {
        if p > 30 {
            errors.push(err(
                "precision",
                "snapshot precision must be at most 30 decimal places".into(),
            ));
        }
    }
    Expect {
        columns,
        row_bounds: e.rows.map(|b| (b.min, b.max)),
        not_null: e.not_null,
        unique: e.unique.into_iter().map(|k| k.0).collect(),
        accepted_values: e
            .accepted_values
            .into_iter()
            .map(|a| AcceptedValues {
                column: a.column,
                values: a.values.iter().filter_map(scalar_text).collect(),
                allow_null: a.allow_null,
                severity: a.severity,
            })
            .collect(),
        order_by: e.order_by,
        row_checks,
        aggregate_checks,
        reconcile,
        relations,
        snapshot: SnapshotSpec {
            enabled: snap.enabled.unwrap_or(true),
            precision: snap.precision,
            redact: snap.redact,
        },
    }
}

fn table_check(
    file: &Path,
    text: &str,
    raw: RawTableCheck,
    config: &Config,
) -> Result<TableCheck, Vec<InputError>> {
    let mut errors = Vec::new();
    let severity = raw.severity.unwrap_or(config.defaults.severity);
    if !valid_name(&raw.name) {
        errors.push(
            InputError::new(file, format!("invalid check name `{}`", raw.name))
                .at(key_line(text, "name", 1), None)
                .help("use letters, digits, `_` and `-` only"),
        );
    }
    let mut rules = Vec::new();
    let mut after = key_line(text, "checks", 1).unwrap_or(1);
    for r in raw.checks {
        let mut kinds: Vec<(String, TableRuleKind)> = Vec::new();
        let mut metric_sev = None;
        let mut metric_name = None;
        if let Some(b) = r.row_count {
            kinds.push((
                "row_count".into(),
                TableRuleKind::RowCount {
                    min: b.min,
                    max: b.max,
                },
            ));
        }
        for c in r.not_null.iter().flatten() {
            kinds.push((format!("not_null({c})"), TableRuleKind::NotNull(c.clone())));
        }
        for k in r.unique.iter().flatten() {
            kinds.push((
                format!("unique({})", k.0.join(", ")),
                TableRuleKind::Unique(k.0.clone()),
            ));
        }
        if let Some(c) = &r.valid_date {
            kinds.push((
                format!("valid_date({c})"),
                TableRuleKind::ValidDate(c.clone()),
            ));
        }
        if let Some(p) = &r.pattern {
            if let Err(e) = regex::Regex::new(&p.regex) {
                errors.push(
                    InputError::new(file, format!("invalid regex `{}`: {e}", p.regex))
                        .at(line_containing(text, "regex"), None),
                );
            }
            kinds.push((
                format!("pattern({})", p.column),
                TableRuleKind::Pattern {
                    column: p.column.clone(),
                    regex: p.regex.clone(),
                },
            ));
        }
        if let Some(a) = &r.accepted_values {
            kinds.push((
                format!("accepted_values({})", a.column),
                TableRuleKind::AcceptedValues {
                    column: a.column.clone(),
                    values: a.values.iter().filter_map(scalar_text).collect(),
                    allow_null: a.allow_null,
                },
            ));
        }
        for c in r.non_negative.iter().flatten() {
            kinds.push((
                format!("non_negative({c})"),
                TableRuleKind::NonNegative(c.clone()),
            ));
        }
        if let Some(f) = &r.freshness {
            kinds.push((
                format!("freshness({})", f.column),
                TableRuleKind::Freshness {
                    column: f.column.clone(),
                    max_age: f.max_age,
                    as_of: f.as_of.clone().unwrap_or_else(|| "now()".into()),
                },
            ));
        }
        if let Some(m) = &r.metric {
            let line = line_containing(text, &m.sql);
            match CompareOp::parse(&m.op) {
                Some(op) => kinds.push((
                    m.name
                        .clone()
                        .unwrap_or_else(|| format!("metric({})", m.sql)),
                    TableRuleKind::Metric {
                        sql: m.sql.clone(),
                        filter: m.filter.clone(),
                        op,
                        value: m.value,
                    },
                )),
                None => errors.push(
                    InputError::new(file, format!("unknown operator `{}`", m.op))
                        .at(line, None)
                        .help("use one of <, <=, =, >=, >, !="),
                ),
            }
            metric_sev = m.severity;
            metric_name = m.name.clone();
        }
        if kinds.is_empty() {
            errors.push(
                InputError::new(file, "a table check entry needs one rule")
                    .at(Some(after), None)
                    .help("one of row_count, not_null, unique, valid_date, pattern, accepted_values, non_negative, freshness, metric"),
            );
            continue;
        }
        after += 1;
        let multi = kinds.len() > 1;
        for (default_name, kind) in kinds {
            let name = match (&r.name, &metric_name) {
                (Some(n), _) if !multi => n.clone(),
                (_, Some(n)) if matches!(kind, TableRuleKind::Metric { .. }) => n.clone(),
                _ => default_name,
            };
            let sev = match kind {
                TableRuleKind::Metric { .. } => metric_sev.or(r.severity),
                _ => r.severity,
            };
            rules.push(TableRule {
                name,
                severity: sev.unwrap_or(severity),
                kind,
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(TableCheck {
        name: raw.name,
        description: raw.description,
        file: file.to_path_buf(),
        table: raw.table,
        severity,
        tags: raw.tags,
        environments: raw
            .environments
            .unwrap_or_else(|| vec![Environment::Fixtures, Environment::Production]),
        rules,
    })
}
