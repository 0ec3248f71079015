//! The terminal summary: score per query and overall, counts per operator
//! family, and each missed mutant with where it differs and its diff.

use super::{count_cells, scope_line, COUNT_HEADERS};
use crate::mutate::model::{score_text, Counts, Report, Status};
use crate::mutate::operator::Family;
use std::fmt::Write;

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let total = r.counts();
    let _ = writeln!(out, "assay mutate: {} ({})", r.suite, scope_line(r));
    let _ = writeln!(out);
    let mut rows: Vec<(String, Counts)> = r
        .per_query()
        .into_iter()
        .map(|(q, c)| (q.file.clone(), c))
        .collect();
    rows.push(("total".into(), total));
    table(&mut out, "query", &rows);
    let _ = writeln!(out);
    let families: Vec<(String, Counts)> = Family::ALL
        .iter()
        .map(|f| {
            (
                f.name().to_string(),
                Counts::of(r.outcomes.iter().filter(|o| o.mutant.family == *f)),
            )
        })
        .filter(|(_, c)| c.mutants > 0)
        .collect();
    table(&mut out, "family", &families);
    let _ = writeln!(out);
    for s in &r.skipped {
        let _ = writeln!(out, "not mutated: {}: {}", s.file, s.reason);
    }
    for b in &r.baseline_failures {
        let _ = writeln!(
            out,
            "baseline fails: {b} (its mutants were not run; fix the check first)"
        );
    }
    let missed: Vec<_> = r
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Missed && !o.generated.as_ref().is_some_and(|g| g.found()))
        .collect();
    if !missed.is_empty() {
        let _ = writeln!(
            out,
            "Missed ({}): the output changed on the fixtures and every check passed",
            missed.len()
        );
        for o in missed {
            let _ = writeln!(out, "  {} [{}]", o.mutant.name(), o.mutant.operator);
            for d in o.differences.iter().take(3) {
                let _ = writeln!(
                    out,
                    "    differs on {} [{}]: {}",
                    d.check, d.param_set, d.summary
                );
                for line in d.details.iter().take(3) {
                    let _ = writeln!(out, "      {line}");
                }
            }
            for line in o.mutant.diff(r.original_sql(&o.mutant.file)).lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
        let _ = writeln!(out);
    }
    generated(&mut out, r);
    let verdict = if r.passes() { "pass" } else { "FAIL" };
    let _ = writeln!(
        out,
        "score {} = (caught + timeout) / (caught + timeout + missed); --min-score {}: {verdict}",
        score_text(total.score()),
        score_text(Some(r.min_score)),
    );
    let _ = writeln!(
        out,
        "{} unviable (PostgreSQL rejected them) and {} with no difference on the fixtures (equivalent, or a gap in the fixtures) are not scored",
        total.unviable, total.no_difference
    );
    out
}

fn table(out: &mut String, first: &str, rows: &[(String, Counts)]) {
    let w = rows
        .iter()
        .map(|(n, _)| n.chars().count())
        .chain([first.len()])
        .max()
        .unwrap_or(0);
    let _ = write!(out, "{first:<w$}");
    for h in COUNT_HEADERS {
        let _ = write!(out, "  {h:>8}");
    }
    let _ = writeln!(out);
    for (name, c) in rows {
        let _ = write!(out, "{name:<w$}");
        for cell in count_cells(c) {
            let _ = write!(out, "  {cell:>8}");
        }
        let _ = writeln!(out);
    }
}

/// With `--generated`: the mutants a generated dataset told apart (the rows
/// to add to the fixtures) and those none did (likely equivalent).
fn generated(out: &mut String, r: &Report) {
    let searched: Vec<_> = r
        .outcomes
        .iter()
        .filter_map(|o| o.generated.as_ref().map(|g| (o, g)))
        .collect();
    if searched.is_empty() {
        return;
    }
    let (found, none): (Vec<_>, Vec<_>) = searched.into_iter().partition(|(_, g)| g.found());
    if !found.is_empty() {
        let _ = writeln!(
            out,
            "Missed on generated data ({}): the same rows as the original on the fixtures, different on a generated dataset (a gap in the fixtures: add these rows)",
            found.len()
        );
        for (o, g) in found {
            let _ = writeln!(out, "  {} [{}]", o.mutant.name(), o.mutant.operator);
            for d in o.differences.iter().take(3) {
                let _ = writeln!(
                    out,
                    "    differs on {} [{}]: {}",
                    d.check, d.param_set, d.summary
                );
            }
            if let Some(seed) = g.replay_seed {
                let _ = writeln!(out, "    replay: --generated 1 --seed {seed}");
            }
            for line in g.fixture.as_deref().unwrap_or_default().lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
        let _ = writeln!(out);
    }
    if !none.is_empty() {
        let _ = writeln!(
            out,
            "Likely equivalent ({}): no difference on the fixtures nor on generated data (evidence, not proof)",
            none.len()
        );
        for (o, g) in none {
            let _ = writeln!(
                out,
                "  {} [{}]: no difference in {} datasets × {} parameter sets (seed {})",
                o.mutant.name(),
                o.mutant.operator,
                g.datasets,
                g.param_sets,
                g.seed
            );
        }
        let _ = writeln!(out);
    }
}
