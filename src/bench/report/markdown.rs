//! The Markdown report: a GitHub-flavoured summary for a CI step.

use super::*;

/// A GitHub-flavoured summary for a CI step: scales, results, forecast, and
/// the plans in collapsible blocks.
pub fn markdown(r: &BenchReport) -> String {
    let counts = Counts::of(r);
    let mut md = String::new();
    let outcome = if counts.failures == 0 {
        format!("✅ all {} measurements passed", counts.measurements)
    } else {
        format!(
            "❌ {} of {} measurements failed",
            counts.failures, counts.measurements
        )
    };
    md.push_str(&format!(
        "## assay bench: {} — {outcome}\n\n",
        cell(&r.suite)
    ));
    md.push_str(&format!("{}.\n\n{}.\n", counts.summary(), slower_rule(r)));

    section(&mut md, "Scales");
    let headers = scale_headers(r);
    md.push_str(&format!(
        "| {} |\n|{}|\n",
        headers.join(" | "),
        vec!["---:"; headers.len()].join("|")
    ));
    for s in &r.scales {
        md.push_str(&format!("| {} |\n", scale_cells(r, s).join(" | ")));
    }

    section(&mut md, "Results");
    md.push_str(&format!("| {} |\n", RESULT_HEADERS.join(" | ")));
    let rule: Vec<&str> = RESULT_NUMERIC
        .iter()
        .map(|&n| if n { "---:" } else { "---" })
        .collect();
    md.push_str(&format!("|{}|\n", rule.join("|")));
    for row in &r.rows {
        let mark = if row.verdict.is_failure() {
            "❌"
        } else {
            "✅"
        };
        let mut cells = result_cells(
            row,
            &verdict_text(row, &format!("{mark} {}", row.verdict.label())),
        );
        cells[0] = code(&cells[0]);
        cells[1] = code(&cells[1]);
        md.push_str(&format!("| {} |\n", cells.join(" | ")));
    }

    section(&mut md, "Forecast");
    md.push_str("| check | set | growth | fit | at budget |\n|---|---|---|---|---|\n");
    for (check, set, budget) in check_sets(r) {
        let cells = forecast_cells(
            r.forecast(check, set),
            budget,
            largest_scale(r).unwrap_or(1.0),
        );
        md.push_str(&format!(
            "| {} | {} | {} |\n",
            code(check),
            code(set),
            cells
                .iter()
                .map(|c| cell(c))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }

    if let Some(scale) = largest_scale(r) {
        section(&mut md, &format!("Plans at scale {}", fmt_scale(scale)));
        md.push_str("The slowest parameter set of each check.\n\n");
        for row in slowest_at(r, scale) {
            let m = &row.measurement;
            md.push_str(&format!(
                "<details>\n<summary><code>{}</code> · <code>{}</code> · {} ms</summary>\n\n```text\n{}\n```\n\n</details>\n\n",
                html(&m.check),
                html(&m.param_set),
                fmt_ms(m.judged_ms),
                plan_lines(row).join("\n")
            ));
        }
    }

    let changed = plan_changes(r);
    if !changed.is_empty() {
        section(&mut md, "Plan changes");
        for (row, baseline, changes) in changed {
            let m = &row.measurement;
            md.push_str(&format!(
                "- {} · {} at scale {}\n",
                code(&m.check),
                code(&m.param_set),
                fmt_scale(m.scale)
            ));
            md.push_str(&format!("  - was: {}\n", code(&baseline.to_string())));
            if let Some(now) = current_fingerprint(row) {
                md.push_str(&format!("  - now: {}\n", code(&now.to_string())));
            }
            for c in changes {
                md.push_str(&format!("  - {}\n", code(c)));
            }
        }
    }

    let errors = errors(r);
    if !errors.is_empty() {
        section(&mut md, "Errors");
        for (row, error) in errors {
            let m = &row.measurement;
            md.push_str(&format!(
                "- {} · {} at scale {}: {}\n",
                code(&m.check),
                code(&m.param_set),
                fmt_scale(m.scale),
                code(error.trim())
            ));
        }
    }
    md.truncate(md.trim_end().len());
    md.push('\n');
    md
}

/// Starts a `###` section after exactly one blank line.
fn section(md: &mut String, title: &str) {
    md.truncate(md.trim_end().len());
    md.push_str(&format!("\n\n### {title}\n\n"));
}

/// A markdown table cell: no pipes or newlines breaking the row.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Inline code for a table cell or list item.
fn code(s: &str) -> String {
    format!("`{}`", cell(&s.replace('`', "'")))
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
