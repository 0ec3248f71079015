//! Markdown for a CI step summary: the score, tables per query and per
//! family, and each missed mutant with its diff.

use super::{count_cells, scope_line, COUNT_HEADERS};
use crate::mutate::model::{score_text, Counts, Report, Status};
use crate::mutate::operator::Family;
use std::fmt::Write;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let total = r.counts();
    let mark = if r.passes() { "✅" } else { "❌" };
    let _ = writeln!(
        out,
        "## {mark} Mutation score {} (minimum {})\n",
        score_text(total.score()),
        score_text(Some(r.min_score))
    );
    let _ = writeln!(out, "{}: {}.\n", cell(&r.suite), scope_line(r));
    let mut rows: Vec<(String, Counts)> = r
        .per_query()
        .into_iter()
        .map(|(q, c)| (format!("`{}`", q.file), c))
        .collect();
    rows.push(("**total**".into(), total));
    table(&mut out, "query", &rows);
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
    let _ = writeln!(
        out,
        "Score = (caught + timeout) / (caught + timeout + missed). Unviable mutants (PostgreSQL rejected them) and mutants with no difference on the fixtures are not scored.\n"
    );
    for s in &r.skipped {
        let _ = writeln!(out, "- not mutated: `{}`: {}", s.file, cell(&s.reason));
    }
    for b in &r.baseline_failures {
        let _ = writeln!(
            out,
            "- baseline fails: {} (its mutants were not run)",
            cell(b)
        );
    }
    let missed: Vec<_> = r
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Missed)
        .collect();
    if !missed.is_empty() {
        let _ = writeln!(out, "### Missed ({})\n", missed.len());
        for o in missed {
            let _ = writeln!(
                out,
                "- `{}` ({})",
                cell(&o.mutant.name()),
                o.mutant.operator
            );
            for d in o.differences.iter().take(3) {
                let _ = writeln!(
                    out,
                    "  - differs on {} [{}]: {}",
                    d.check,
                    d.param_set,
                    cell(&d.summary)
                );
            }
            if let Some(f) = o.generated.as_ref().and_then(|g| g.fixture.as_ref()) {
                let _ = writeln!(
                    out,
                    "  - same rows on the fixtures; these rows tell it apart (add them to the fixtures):\n\n```sql\n{f}```"
                );
            }
            let _ = writeln!(
                out,
                "\n```diff\n{}```\n",
                o.mutant.diff(r.original_sql(&o.mutant.file))
            );
        }
    }
    let likely: Vec<_> = r
        .outcomes
        .iter()
        .filter_map(|o| o.generated.as_ref().filter(|g| !g.found()).map(|g| (o, g)))
        .collect();
    if !likely.is_empty() {
        let _ = writeln!(
            out,
            "### Likely equivalent ({})
",
            likely.len()
        );
        for (o, g) in likely {
            let _ = writeln!(
                out,
                "- `{}` ({}): no difference in {} generated datasets × {} parameter sets (seed {})",
                cell(&o.mutant.name()),
                o.mutant.operator,
                g.datasets,
                g.param_sets,
                g.seed
            );
        }
        let _ = writeln!(out);
    }
    out
}

fn table(out: &mut String, first: &str, rows: &[(String, Counts)]) {
    let _ = writeln!(out, "| {first} | {} |", COUNT_HEADERS.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(COUNT_HEADERS.len()));
    for (name, c) in rows {
        let _ = writeln!(out, "| {} | {} |", name, count_cells(c).join(" | "));
    }
    let _ = writeln!(out);
}
