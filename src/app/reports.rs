//! Report outputs shared by the commands: parsing `--format`/`--output`,
//! opening sinks, building reporters.

use crate::cli;
use crate::engine::Reporter;
use crate::error::AppError;
use crate::report::sink::{self, PendingFile};
use crate::report::{self, Format};
use std::io::IsTerminal;
use std::path::PathBuf;

/// The sink of one report: standard output, or a file written atomically
/// (the returned [`PendingFile`] must be committed once the report is done).
pub(super) fn open_sink(
    path: &Option<PathBuf>,
) -> Result<(report::Sink, Option<PendingFile>), AppError> {
    match path {
        None => Ok((Box::new(sink::Stdout), None)),
        Some(p) => {
            let (pending, file) = PendingFile::create(p)
                .map_err(|e| AppError::Usage(format!("cannot write {}: {e}", p.display())))?;
            Ok((Box::new(std::io::BufWriter::new(file)), Some(pending)))
        }
    }
}

/// The reporters of one command and the files they write. Files appear
/// only when [`Reports::finish`] succeeds; until then they are temporary.
pub(super) struct Reports {
    pub reporters: Vec<Box<dyn Reporter>>,
    files: Vec<PendingFile>,
    /// A human report writes to the terminal.
    pub human_on_terminal: bool,
}

impl Reports {
    /// Reports of a command that ran no unit (nothing selected, or the
    /// database could not be reached): started, finished with `summary`,
    /// written.
    pub fn finish_empty(mut self, summary: &crate::engine::RunSummary) -> Result<(), AppError> {
        for r in self.reporters.iter_mut() {
            r.on_event(&crate::engine::Event::RunStarted {
                suite: &summary.suite,
                target: &summary.target,
                units: 0,
                several_targets: false,
            });
            r.on_event(&crate::engine::Event::RunFinished(summary));
        }
        self.finish()
    }

    /// Every reporter's `finish`, then every file moved into place.
    pub fn finish(mut self) -> Result<(), AppError> {
        for r in self.reporters.iter_mut() {
            r.finish()
                .map_err(|e| AppError::Infrastructure(format!("cannot write report: {e}")))?;
        }
        self.reporters.clear(); // closes the files
        for f in self.files.drain(..) {
            let dest = f.dest().to_path_buf();
            f.commit().map_err(|e| {
                AppError::Infrastructure(format!("cannot write {}: {e}", dest.display()))
            })?;
        }
        Ok(())
    }
}

/// The reports asked for by `--format` (repeatable) and `--output`: human on
/// standard output by default, and always one on the terminal when every
/// other report goes to a file. `example` is the `--format` suggested when
/// two reports would share standard output.
pub(super) fn report_specs(
    formats: &[String],
    output: Option<&PathBuf>,
    example: &str,
) -> Result<Vec<cli::FormatSpec>, AppError> {
    let mut specs = Vec::new();
    for f in formats {
        specs.push(cli::parse_format(f).map_err(AppError::Usage)?);
    }
    if specs.is_empty() {
        specs.push(cli::FormatSpec {
            format: Format::Human,
            path: None,
        });
    }
    if let Some(out) = output {
        if specs.len() != 1 || specs[0].path.is_some() {
            return Err(AppError::Usage(
                "--output goes with exactly one --format; with several, write --format json=FILE"
                    .into(),
            ));
        }
        specs[0].path = Some(out.clone());
    }
    // Reports that all go to files still leave the terminal a human report.
    if specs.iter().all(|s| s.path.is_some()) {
        specs.push(cli::FormatSpec {
            format: Format::Human,
            path: None,
        });
    }
    if specs.iter().filter(|s| s.path.is_none()).count() > 1 {
        return Err(AppError::Usage(format!(
            "only one report can go to standard output; give the others a file (--format {example})"
        )));
    }
    Ok(specs)
}

pub(super) fn reporters(
    formats: &[String],
    output: Option<&PathBuf>,
    no_progress: bool,
) -> Result<Reports, AppError> {
    let specs = report_specs(formats, output, "junit=junit.xml")?;
    let no_color = crate::report::no_color();
    let mut reports = Reports {
        reporters: Vec::new(),
        files: Vec::new(),
        human_on_terminal: specs
            .iter()
            .any(|s| s.format == Format::Human && s.path.is_none()),
    };
    for s in specs {
        let to_terminal = s.path.is_none() && std::io::stdout().is_terminal();
        let color = to_terminal && !no_color;
        let progress = s.format == Format::Human && !no_progress && std::io::stderr().is_terminal();
        let (sink, pending) = open_sink(&s.path)?;
        reports
            .reporters
            .push(report::build(s.format, sink, color, progress));
        reports.files.extend(pending);
    }
    Ok(reports)
}
