//! The comparison `assay gen --versus-psql` reports: the same volume produced
//! by `psql` running the suite's generate_series script, in a second database
//! of the same throwaway cluster, timed the same way (rows only: schema SQL
//! before and index/refresh SQL after are outside both timings).

use super::expr::{eval, Compiler, Ctx, Scope};
use super::model::Model;
use super::plan::Plan;
use super::value::{Kind, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;
use tokio::process::Command;

/// Where psql connects: the embedded cluster, as its superuser.
pub struct PsqlTarget<'a> {
    pub psql: &'a Path,
    pub port: u16,
}

#[derive(Debug, Clone)]
pub struct PsqlRun {
    pub rows_ms: f64,
    pub relation_rows: BTreeMap<String, u64>,
}

const DATABASE: &str = "assay_versus_psql";

async fn psql(target: &PsqlTarget<'_>, db: &str, args: &[String]) -> Result<String, String> {
    let out = Command::new(target.psql)
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", db])
        .arg("-p")
        .arg(target.port.to_string())
        .args(args)
        .env_remove("PGPASSWORD")
        .output()
        .await
        .map_err(|e| format!("cannot run {}: {e}", target.psql.display()))?;
    if !out.status.success() {
        return Err(format!(
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// What `scale.psql_vars` expressions can name: the model's vars and
/// `rows_<table>`, each table's row count (by the name after its schema).
pub fn scope(model: &Model) -> Scope {
    let mut vars: Vec<(String, Kind)> = model
        .vars
        .iter()
        .map(|(n, _)| (n.clone(), Kind::ANY))
        .collect();
    for t in &model.tables {
        vars.push((format!("rows_{}", t.alias), Kind::INT));
    }
    Scope {
        vars,
        ..Scope::default()
    }
}

/// The psql variables (`name=value`) for `plan`.
pub fn variables(plan: &Plan, vars: &[(String, String)]) -> Result<Vec<String>, String> {
    let scope = scope(&plan.model);
    let mut values = plan.vars.clone();
    for t in 0..plan.model.tables.len() {
        values.push(Value::Int(plan.expected_rows(t) as i64));
    }
    let mut out = Vec::new();
    for (name, src) in vars {
        let (e, _) = Compiler::new(&scope)
            .compile(src)
            .map_err(|m| format!("scale.psql_vars.{name}: {m}"))?;
        let cx = Ctx {
            vars: &values,
            row: &[],
            parents: &[],
            key: 0,
            pos: 0,
            site: 0,
            seed: plan.seed,
            refs: &[],
        };
        out.push(format!("{name}={}", eval(&e, &cx).to_text()));
    }
    Ok(out)
}

/// Loads the same volume as `plan` with psql and generate_series; returns its timing.
pub async fn run(
    target: &PsqlTarget<'_>,
    root: &std::path::Path,
    cfg: &super::ScaleConfig,
    script: &Path,
    plan: &Plan,
) -> Result<PsqlRun, String> {
    let before = &cfg.before;
    let c = |sql: &str| vec!["-c".to_string(), sql.to_string()];
    psql(
        target,
        "postgres",
        &c(&format!("drop database if exists {DATABASE}")),
    )
    .await?;
    psql(
        target,
        "postgres",
        &c(&format!("create database {DATABASE}")),
    )
    .await?;
    for f in before {
        let path = root.join(f);
        psql(target, DATABASE, &["-f".into(), path.display().to_string()]).await?;
    }
    let vars = variables(plan, &cfg.psql_vars)?;
    let mut args = Vec::new();
    for v in vars {
        args.push("-v".to_string());
        args.push(v);
    }
    args.push("-f".into());
    args.push(root.join(script).display().to_string());
    let started = Instant::now();
    psql(target, DATABASE, &args).await?;
    let rows_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut relation_rows = BTreeMap::new();
    for t in super::loaded_tables(&plan.model) {
        let n = psql(
            target,
            DATABASE,
            &c(&format!(
                "select count(*) from {}",
                super::load::quote_name(&t)
            )),
        )
        .await?;
        let n: u64 = n
            .trim()
            .parse()
            .map_err(|_| format!("unexpected count `{n}`"))?;
        relation_rows.insert(t.to_string(), n);
    }
    psql(target, "postgres", &c(&format!("drop database {DATABASE}"))).await?;
    Ok(PsqlRun {
        rows_ms,
        relation_rows,
    })
}
