//! The command line (clap derive). The flags here are a contract documented in README.md.

use crate::report::Format;
use crate::suite::Environment;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "assay",
    version,
    about = "Data-quality and regression tests for the SQL behind an analytics API"
)]
pub struct Cli {
    /// Run as if started in DIR (the suite root, holding assay.yaml).
    #[arg(short = 'C', long = "directory", global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Whether the command has CPU work of its own to spread over threads:
    /// generating data (`gen`, `bench` at generated scales, `diff --scale`,
    /// the generated-data search of `diff` and `mutate`, which blocks a
    /// worker thread per property call). Every other command waits on
    /// databases and servers.
    pub fn command_spreads_cpu_work(&self) -> bool {
        matches!(
            self.command,
            Some(Command::Gen(_) | Command::Bench(_) | Command::Diff(_) | Command::Mutate(_))
        )
    }
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Command {
    /// Run the suite (the default command).
    Run(RunArgs),
    /// List checks and their parameter sets.
    List(SelectArgs),
    /// Load and check every file without a database.
    Validate(ValidateArgs),
    /// Print the JSON Schema of assay.yaml or of check files (for editors).
    Schema(SchemaArgs),
    /// Show pending snapshot changes (.snap.new) as diffs.
    Review(SnapshotArgs),
    /// Keep pending snapshots (.snap.new replaces .snap).
    Accept(SnapshotArgs),
    /// Discard pending snapshots.
    Reject(SnapshotArgs),
    /// Load the suite's schema and fixtures into a writable database you choose.
    Seed(SeedArgs),
    /// Combine JSON reports (e.g. of partitioned CI jobs) into one report.
    Merge(MergeArgs),
    /// Generate the suite's data model (scale.model) at scale N (binary COPY).
    Gen(GenArgs),
    /// Time every endpoint query at one or more data scales: budget headroom,
    /// plan baselines, growth forecast.
    Bench(BenchArgs),
    /// Call the dashboard's HTTP endpoints and compare their answers with the
    /// SQL's (status, shape, time, rows; the page with all its calls at once).
    Probe(ProbeArgs),
    /// Measure how strong the suite is: mutants of the endpoint SQL run
    /// against its checks (caught, missed, timeout, unviable, no difference).
    Mutate(MutateArgs),
    /// The nightly report from a history of runs: a static HTML page
    /// (timeline, changes, metric charts, anomalies), Markdown or JSON.
    Report(ReportArgs),
    /// Verify a rewrite: run the base and the current version of every query
    /// on the same data with every parameter set, and compare columns, rows,
    /// order, speed and plan.
    Diff(DiffArgs),
}

#[derive(Debug, Args, Default, Clone)]
pub struct DiffArgs {
    /// The base version of the query files: a directory holding the same relative file names.
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "base_ref",
        conflicts_with = "base_ref"
    )]
    pub base_sql_dir: Option<PathBuf>,
    /// The base version of the query files: the suite's SQL directory at this
    /// git revision (e.g. origin/main).
    #[arg(long, value_name = "GITREF")]
    pub base_ref: Option<String>,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Where to run: embedded (default) or docker with the suite's fixtures, or url.
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: Option<TargetArg>,
    /// Compare on this existing database (read-only; both sides of a
    /// parameter set read one snapshot).
    #[arg(long = "database-url", value_name = "URL")]
    pub database_url: Option<String>,
    /// Generate the suite's data at N times the fixture volume first (instead of the fixtures).
    #[arg(long, value_name = "N")]
    pub scale: Option<f64>,
    /// Seed of the generated data (default: assay.yaml scale.seed).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Search N small datasets drawn from the data model (scale.model),
    /// aimed at the queries' constants and parameters, for one on which
    /// base and current differ; the first is shrunk and printed as a fixture
    /// (a human report on standard output only: no --format or --output).
    #[arg(
        long,
        value_name = "N",
        conflicts_with_all = ["scale", "database_url", "target", "timing_runs", "max_slowdown", "formats", "output"]
    )]
    pub generated: Option<u64>,
    /// With --generated: besides each check's written parameter sets, K
    /// sets drawn from its declared parameter types, aimed at the same
    /// boundaries as the data (0: the written sets only; at most 100).
    #[arg(
        long,
        value_name = "K",
        default_value_t = 3,
        requires = "generated",
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=100)
    )]
    pub param_draws: usize,
    /// Time each side N more times alone on the server, sides alternated
    /// (A B A B); plans then come from EXPLAIN ANALYZE. Default: the compared
    /// executions only (5 runs with --max-slowdown).
    #[arg(long, value_name = "N")]
    pub timing_runs: Option<u32>,
    /// Fail when the current query's p50 is more than R times the base's
    /// (and slower by more than assay.yaml bench.min_slowdown_delta).
    #[arg(long, value_name = "R")]
    pub max_slowdown: Option<f64>,
    /// This check's output is meant to differ (a fix): its differences are
    /// reported but pass (repeatable).
    #[arg(long = "expect-different", value_name = "CHECK")]
    pub expect_different: Vec<String>,
    /// Parameter sets compared at once (default: number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Report format, optionally with a file: human, json=diff.json, markdown=comment.md, junit=junit.xml (repeatable).
    #[arg(long = "format", value_name = "FORMAT[=FILE]")]
    pub formats: Vec<String>,
    /// Write the (single) --format report to FILE.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Load the fixtures from the setup files, neither using nor filling the
    /// cache of fixture databases.
    #[arg(long)]
    pub no_fixture_cache: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Args, Clone)]
pub struct ProbeArgs {
    /// The API's base URL, e.g. https://staging.example.com (`${NAME}` is read from the environment).
    #[arg(long, value_name = "URL")]
    pub api_url: String,
    /// Compare every answer's rows with the SQL's on this database, the one the API reads (read-only).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Endpoint calls judged at once (default: number of CPUs); the page always makes all its calls at once.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// A request header, `NAME: VALUE`; `${NAME}` in VALUE is read from the environment and never shown (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Trust the CA certificates in this PEM file besides the built-in roots.
    #[arg(long, value_name = "FILE", env = "ASSAY_API_CA_CERT")]
    pub api_ca_cert: Option<PathBuf>,
    /// Report format, optionally with a file: human, json=out.json, junit=junit.xml, markdown (repeatable).
    #[arg(long = "format", value_name = "FORMAT[=FILE]")]
    pub formats: Vec<String>,
    /// Write the (single) --format report to FILE.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Solo timed calls per endpoint and parameter set, for every one (default:
    /// the suite's `timing_runs`, else automatic: the first call is timed, and
    /// only an endpoint above half its budget is called again alone, twice).
    #[arg(long, value_name = "N")]
    pub timing_runs: Option<u32>,
    /// How long one call may take (default: 10 x the check's budget, at least 30s).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// How long the page's calls, made at once, may take until the last answer (default: assay.yaml defaults.budget).
    #[arg(long, value_name = "DURATION")]
    pub page_budget: Option<String>,
    /// Differing rows shown per failed comparison.
    #[arg(long, value_name = "N")]
    pub sample_rows: Option<usize>,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Args, Default, Clone)]
pub struct MutateArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Only these operators or families, comma-separated (families: clauses,
    /// operators, null, identifiers; e.g. --operators relational,limit).
    #[arg(long, value_name = "LIST")]
    pub operators: Option<String>,
    /// Mutants run at once (default: number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Run a deterministic sample of N mutants (chosen with --seed).
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// Seed of the sample (default 0).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Run a deterministic share of the mutants: hash:K/N; `assay merge` joins the JSON reports.
    #[arg(long, value_name = "hash:K/N")]
    pub partition: Option<String>,
    /// Exit 1 when the score is below P percent (default 100).
    #[arg(long, value_name = "P")]
    pub min_score: Option<String>,
    /// statement_timeout of a mutant's query (default: as `assay run`, 5 x the budget, at least 10s).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Read query files from DIR (same relative names).
    #[arg(long, value_name = "DIR")]
    pub sql_dir: Option<PathBuf>,
    /// Report format, optionally with a file: human, json=mutate.json, markdown=summary.md,
    /// stryker=mutation.json (repeatable).
    #[arg(long = "format", value_name = "FORMAT[=FILE]")]
    pub formats: Vec<String>,
    /// Where mutants.out/ goes (default: the suite root); the previous one becomes mutants.out.old.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// List the mutants (after --operators, --sample, --partition) and run nothing.
    #[arg(long)]
    pub list: bool,
    /// Then run the same mutants again, one `assay run` process per mutant,
    /// and print how the two compare (speed, and that they agree).
    #[arg(long)]
    pub versus_spawn: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Search every mutant with no difference on the fixtures on N small
    /// datasets drawn from the data model (scale.model): one that a dataset
    /// tells apart is missed (a gap in the fixtures, shown with the rows to
    /// add); one that none does is likely equivalent. --seed seeds the datasets.
    #[arg(long, value_name = "N")]
    pub generated: Option<u64>,
    /// With --generated: besides each check's written parameter sets, K
    /// sets drawn from its declared parameter types (0: the written sets
    /// only; at most 100).
    #[arg(
        long,
        value_name = "K",
        default_value_t = 3,
        requires = "generated",
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=100)
    )]
    pub param_draws: usize,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ReportArgs {
    /// The history written by `assay run --history`: a directory or a postgres:// URL.
    #[arg(long, value_name = "LOCATION")]
    pub history: String,
    /// Report format, optionally with a file: html=report.html, markdown[=FILE], json[=FILE] (repeatable).
    #[arg(long = "format", value_name = "FORMAT[=FILE]")]
    pub formats: Vec<String>,
    /// Only runs of this recent period (e.g. 30d); default: every run kept.
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Remove runs older than this from the history first (e.g. 90d).
    #[arg(long, value_name = "DURATION")]
    pub keep: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct GenArgs {
    /// Scale of the data model: the row counts its expressions give for `scale` = N.
    #[arg(long, value_name = "N")]
    pub scale: f64,
    /// Generate into this writable database instead of a throwaway embedded cluster.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Drop the suite's schemas first if the database already holds them.
    #[arg(long)]
    pub replace: bool,
    /// Seed of the generator (default: assay.yaml scale.seed).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Connections loading rows at once (default: number of CPUs, at least 2).
    #[arg(long, value_name = "N")]
    pub connections: Option<usize>,
    /// Also produce the same volume with psql + generate_series (scale.psql_equivalent)
    /// in the same cluster and print how the two compare (embedded target only).
    #[arg(long)]
    pub versus_psql: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Args, Clone)]
pub struct BenchArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Data scales to measure at, comma-separated (default 1,10,100).
    #[arg(long = "scale", value_name = "N,N,...", value_delimiter = ',')]
    pub scales: Vec<f64>,
    /// Measure an existing database as it is, read-only (e.g. a production replica), instead of generated scales.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Timed runs per query and parameter set (default: assay.yaml bench.timed_runs, else 5).
    #[arg(long, value_name = "N")]
    pub runs: Option<u32>,
    /// Untimed runs before timing, at least 1: the first fetches the output (default: assay.yaml bench.warmup_runs, else 1).
    #[arg(long, value_name = "N")]
    pub warmup: Option<u32>,
    /// Read query files from DIR (e.g. bench the plan's SQL: --sql-dir sql/plan).
    #[arg(long, value_name = "DIR")]
    pub sql_dir: Option<PathBuf>,
    /// Report format, optionally with a file: human, json=bench.json, markdown (repeatable).
    #[arg(long = "format", value_name = "FORMAT[=FILE]")]
    pub formats: Vec<String>,
    /// Write the (single) --format report to FILE.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write the measured plan shapes and times as the new baseline (they then pass).
    #[arg(long)]
    pub save_baseline: bool,
    /// Fail when a query's median time (p50 of the timed runs) exceeds the
    /// baseline's by more than this ratio (default: assay.yaml
    /// bench.max_slowdown, else 1.5).
    #[arg(long, value_name = "RATIO", alias = "max-p95-ratio")]
    pub max_slowdown: Option<f64>,
    /// Judge slowdowns relative to this machine: each scale's baselines are
    /// scaled by the median ratio of its measurements to them, so a query
    /// fails when it slowed down more than the rest of the suite (for
    /// baselines saved on another machine, e.g. in CI). Not with
    /// --save-baseline (nothing is compared), --database-url (no baselines
    /// at an existing database's volume) or --versus-psql.
    #[arg(long, conflicts_with_all = ["save_baseline", "database_url", "versus_psql"])]
    pub relative_slowdown: bool,
    /// Seed of the generator (default: assay.yaml scale.seed).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// statement_timeout per statement (default: 10 × the query's budget, at least 30s).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Instead of benching queries: time `assay run` against psql running
    /// the very statements it sends, on one warm database (the fixtures, a
    /// --scale, or --database-url), and print the ratios.
    #[arg(long)]
    pub versus_psql: bool,
    /// Rounds of the --versus-psql comparison (each round: psql, then assay).
    #[arg(long, value_name = "N")]
    pub rounds: Option<u32>,
}

#[derive(Debug, Args, Default, Clone)]
pub struct SeedArgs {
    /// The database to load (else DATABASE_URL, else the libpq environment).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Drop the suite's schemas first if the database already holds them.
    #[arg(long)]
    pub replace: bool,
}

#[derive(Debug, Args, Default, Clone)]
pub struct MergeArgs {
    /// JSON reports written by `assay run --format json=FILE`.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// Report format, optionally with a file (repeatable), as for `run`.
    #[arg(long = "format", value_name = "FORMAT[=FILE]")]
    pub formats: Vec<String>,
    /// For `assay mutate` reports: also write the merged mutants.out/ under DIR.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Where `run` executes the queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetArg {
    /// A throwaway cluster from local server binaries (default).
    Embedded,
    /// A throwaway container through testcontainers.
    Docker,
    /// Existing databases: --database-url, else DATABASE_URL, else the libpq environment.
    Url,
}

#[derive(Debug, Args, Default, Clone)]
pub struct SelectArgs {
    /// Only checks whose name matches (glob with * or ?, otherwise substring).
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,
    /// Only checks carrying this tag (repeatable: all must match).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
}

#[derive(Debug, Args, Clone)]
pub struct SchemaArgs {
    /// Which document: `config` (assay.yaml) or `check` (a check file).
    #[arg(value_enum)]
    pub kind: crate::suite::schema::SchemaKind,
}

#[derive(Debug, Args, Default, Clone)]
pub struct ValidateArgs {
    /// Read query files from DIR instead of the suite's endpoint SQL directory.
    #[arg(long, value_name = "DIR")]
    pub sql_dir: Option<PathBuf>,
}

#[derive(Debug, Args, Default, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Units run at once (default: number of CPUs, plus one on a server
    /// assay starts itself: embedded or docker).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Where to run: embedded (default), docker, or url (implied by --database-url).
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: Option<TargetArg>,
    /// Run against this existing database (read-only); repeat for several (e.g. every replica).
    #[arg(long = "database-url", value_name = "URL")]
    pub database_urls: Vec<String>,
    /// Docker image for --target docker (default: assay.yaml docker.image, else `postgres`).
    #[arg(long, value_name = "IMAGE")]
    pub docker_image: Option<String>,
    /// Docker image tag (default: assay.yaml docker.tag, else the suite's postgres_version).
    #[arg(long, value_name = "TAG")]
    pub docker_tag: Option<String>,
    /// Refuse to run against a standby further behind its primary than this (e.g. 30s).
    #[arg(long, value_name = "DURATION")]
    pub max_lag: Option<String>,
    /// Run a deterministic share of the checks: hash:K/N (e.g. hash:1/3 on the first of 3 CI jobs).
    #[arg(long, value_name = "hash:K/N")]
    pub partition: Option<String>,
    /// Read query files from DIR (same relative names): old vs new SQL through one gate.
    #[arg(long, value_name = "DIR")]
    pub sql_dir: Option<PathBuf>,
    /// Report format, optionally with a file: human, json=out.json, junit=junit.xml, markdown (repeatable).
    #[arg(long = "format", value_name = "FORMAT[=FILE]")]
    pub formats: Vec<String>,
    /// Write the (single) --format report to FILE.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Solo timed runs per query and parameter set, for every query (default:
    /// the suite's `timing_runs`, else automatic: the checked execution is
    /// timed, and only a query above half its budget is timed again alone).
    #[arg(long, value_name = "N")]
    pub timing_runs: Option<u32>,
    /// Plans of slow queries from EXPLAIN ANALYZE on url targets too (it
    /// executes the query once more); by default they get a plain EXPLAIN.
    #[arg(long)]
    pub explain_analyze: bool,
    /// Failing rows shown per failed check.
    #[arg(long, value_name = "N")]
    pub sample_rows: Option<usize>,
    /// Which checks apply: fixtures (embedded default) or production (url default).
    #[arg(long = "env", value_enum, value_name = "ENV")]
    pub environment: Option<EnvArg>,
    /// Write differing or new snapshots straight to .snap (they then pass).
    #[arg(long)]
    pub accept_snapshots: bool,
    /// Write .snap.new files even when CI is set.
    #[arg(long)]
    pub write_pending: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Exit 0 when --filter/--tag/--partition select no check (default: exit 2).
    #[arg(long)]
    pub allow_empty: bool,
    /// Load the fixtures from the setup files, neither using nor filling the
    /// cache of fixture databases.
    #[arg(long)]
    pub no_fixture_cache: bool,
    /// Write every statement the checks send (with their parameter values as
    /// literals) to FILE as a psql script.
    #[arg(long, value_name = "FILE")]
    pub log_statements: Option<PathBuf>,
    /// Append this run to a history: a directory (created if missing) or a
    /// postgres:// URL (schema assay_history; never a database under test).
    #[arg(long, value_name = "LOCATION")]
    pub history: Option<String>,
    /// Post new failures and anomalies: slack=URL, teams=URL or webhook=URL
    /// (repeatable; write the URL as ${NAME} to read it from the environment).
    #[arg(long = "notify", value_name = "KIND=URL")]
    pub notify: Vec<String>,
    /// With --history: remove runs older than this (e.g. 90d).
    #[arg(long, value_name = "DURATION")]
    pub keep: Option<String>,
    /// With --history: the run's id, shared by the partitioned jobs of one run
    /// (default with --partition: the CI's pipeline id; else unique).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum EnvArg {
    Fixtures,
    Production,
}

impl From<EnvArg> for Environment {
    fn from(e: EnvArg) -> Self {
        match e {
            EnvArg::Fixtures => Environment::Fixtures,
            EnvArg::Production => Environment::Production,
        }
    }
}

#[derive(Debug, Args, Default, Clone)]
pub struct SnapshotArgs {
    /// Only snapshots whose path contains this text.
    pub filter: Option<String>,
}

/// A parsed `--format` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatSpec {
    pub format: Format,
    pub path: Option<PathBuf>,
}

pub fn parse_format(s: &str) -> Result<FormatSpec, String> {
    let (f, p) = match s.split_once('=') {
        Some((f, p)) if !p.is_empty() => (f, Some(PathBuf::from(p))),
        Some((f, _)) => (f, None),
        None => (s, None),
    };
    Ok(FormatSpec {
        format: f.parse()?,
        path: p,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spreads(args: &[&str]) -> bool {
        Cli::try_parse_from(std::iter::once("assay").chain(args.iter().copied()))
            .unwrap()
            .command_spreads_cpu_work()
    }

    #[test]
    fn only_data_generating_commands_get_worker_threads() {
        // Generation spreads CPU work over threads, and the generated-data
        // search blocks a worker thread per property call.
        for cmd in [
            &["gen", "--scale", "1"][..],
            &["bench"],
            &["diff", "--base-sql-dir", "x"],
            &["mutate"],
        ] {
            assert!(spreads(cmd), "{cmd:?}");
        }
        // The rest only wait on databases and servers.
        for cmd in [
            &[][..],
            &["run"],
            &["probe", "--api-url", "http://127.0.0.1:1"],
            &["seed"],
            &["validate"],
            &["report", "--history", "h"],
        ] {
            assert!(!spreads(cmd), "{cmd:?}");
        }
    }
}
