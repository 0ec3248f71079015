//! `assay.yaml`: paths, setup steps, defaults, docker, scale and bench settings.

use super::{read, CONFIG_FILE};
use crate::error::InputError;
use crate::suite::duration::HumanDuration;
use crate::suite::locate::{key_line, line_containing, yaml_error};
use crate::suite::model::*;
use crate::suite::raw::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Reads and validates `assay.yaml`.
pub fn load_config(root: &Path) -> Result<Config, Vec<InputError>> {
    let one = |e: InputError| vec![e];
    let shown = PathBuf::from(CONFIG_FILE);
    let text = read(&root.join(CONFIG_FILE), &shown).map_err(one)?;
    let raw: RawConfig = serde_yaml_ng::from_str(&text)
        .map_err(|e| yaml_error(&shown, &text, &e))
        .map_err(one)?;
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
            vec![InputError::new(&shown, m)
                .at(line.or(Some(after)), None)
                .help(h)]
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
    let bench = bench_config(&text, &shown, raw.bench.unwrap_or_default()).map_err(one)?;
    if let Some(b) = d.budget {
        crate::suite::duration::check_budget(b.0)
            .map_err(|m| {
                InputError::new(&shown, format!("defaults.budget: {m}"))
                    .at(key_line(&text, "budget", 1), None)
            })
            .map_err(one)?;
    }
    if let Some(t) = d.tolerance {
        if !(t >= 0.0 && t.is_finite()) {
            return Err(vec![InputError::new(
                &shown,
                "defaults.tolerance must be a non-negative number",
            )
            .at(key_line(&text, "tolerance", 1), None)]);
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
            timing_runs: match d.timing_runs {
                None | Some(TimingRuns::Auto) => None,
                Some(TimingRuns::Runs(n)) => Some(n),
            },
            tolerance: d.tolerance.unwrap_or(1e-6),
            sample_rows: d.sample_rows.unwrap_or(5),
        },
    })
}

/// Validates `scale:`: SQL files that exist and a data model that holds.
fn scale_config(
    root: &Path,
    text: &str,
    shown: &Path,
    raw: RawScale,
) -> Result<ScaleConfig, Vec<InputError>> {
    let at = |needle: &str| line_containing(text, needle).or_else(|| key_line(text, "scale", 1));
    let files = |list: Vec<String>| -> Result<Vec<PathBuf>, Vec<InputError>> {
        list.into_iter()
            .map(|f| {
                if root.join(&f).is_file() {
                    Ok(PathBuf::from(f))
                } else {
                    Err(vec![InputError::new(
                        shown,
                        format!("scale file `{f}` does not exist"),
                    )
                    .at(at(&f), None)
                    .help("paths in assay.yaml are relative to the suite root")])
                }
            })
            .collect()
    };
    let model_file = files(vec![raw.model.clone()])?.remove(0);
    let model = crate::gen::model::load(root, &model_file)?;
    let volume = match raw.volume {
        Some(v) => v,
        None => default_volume(&model).ok_or_else(|| {
            vec![InputError::new(
                shown,
                "scale.volume is missing and the model loads no table",
            )
            .at(key_line(text, "scale", 1), None)]
        })?,
    };
    let mut errors = Vec::new();
    let scope = crate::gen::versus_psql::scope(&model);
    let mut psql_vars = Vec::new();
    for (name, src) in raw.psql_vars {
        match crate::gen::expr::Compiler::new(&scope).compile(&src) {
            Ok(_) => psql_vars.push((name, src)),
            Err(m) => errors.push(
                InputError::new(shown, format!("scale.psql_vars.{name}: {m}")).at(
                    key_line(text, &name, key_line(text, "psql_vars", 1).unwrap_or(1)),
                    None,
                ),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let before = files(raw.before)?;
    let after = files(raw.after)?;
    let reload = files(raw.reload)?;
    let psql_equivalent = files(raw.psql_equivalent.into_iter().collect())?.pop();
    Ok(ScaleConfig {
        model_file,
        model: std::sync::Arc::new(model),
        volume,
        seed: raw.seed.unwrap_or(20251005),
        before,
        after,
        reload,
        psql_equivalent,
        psql_vars,
    })
}

/// The loaded table with the most rows at scale 1.
fn default_volume(model: &crate::gen::model::Model) -> Option<String> {
    let plan = crate::gen::plan::Plan::new(std::sync::Arc::new(model.clone()), 1.0, 1).ok()?;
    (0..model.tables.len())
        .filter(|&t| model.tables[t].load)
        .max_by_key(|&t| plan.expected_rows(t))
        .map(|t| model.tables[t].name.clone())
}

/// Validates `bench:` (every key optional).
fn bench_config(text: &str, shown: &Path, raw: RawBench) -> Result<BenchConfig, InputError> {
    let ratio = raw.max_slowdown.unwrap_or(1.5);
    if !(ratio.is_finite() && ratio >= 1.0) {
        return Err(
            InputError::new(shown, "bench.max_slowdown must be a number of at least 1")
                .at(
                    key_line(text, "max_slowdown", 1).or(key_line(text, "max_p95_ratio", 1)),
                    None,
                )
                .help("e.g. `max_slowdown: 1.5` fails a query whose time grew by more than half"),
        );
    }
    Ok(BenchConfig {
        baselines_dir: PathBuf::from(raw.baselines.unwrap_or_else(|| "benchmarks".into())),
        max_slowdown: ratio,
        min_slowdown_ms: raw
            .min_slowdown_delta
            .map(|d| d.0.as_secs_f64() * 1e3)
            .unwrap_or(25.0),
        warmup_runs: raw.warmup_runs.unwrap_or(1),
        timed_runs: raw.timed_runs.unwrap_or(5).max(1),
    })
}
