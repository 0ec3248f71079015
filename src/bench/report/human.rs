//! The terminal report: scales, an aligned results table, forecasts, the
//! plans of the slowest parameter sets, plan changes, errors, a summary.

use super::*;

/// The terminal report; `color` adds ANSI colours to verdicts and the summary.
pub fn human(r: &BenchReport, color: bool) -> String {
    let paint = |text: &str, good: bool| -> String {
        if !color {
            return text.to_string();
        }
        let s = console::style(text).force_styling(true);
        if good {
            s.green().to_string()
        } else {
            s.red().to_string()
        }
    };
    let mut out = String::new();
    out.push_str(&format!("assay bench: {}\n", r.suite));
    out.push_str(&format!("{}\n\n", slower_rule(r)));

    let mut scales = vec![scale_headers(r)];
    scales.extend(r.scales.iter().map(|s| scale_cells(r, s)));
    for line in align(&scales, &[true, true, true, true]) {
        out.push_str(&format!("{}\n", line.join("  ").trim_end()));
    }
    out.push('\n');

    let mut table = vec![RESULT_HEADERS.iter().map(|h| h.to_string()).collect()];
    table.extend(
        r.rows
            .iter()
            .map(|row| result_cells(row, &verdict_text(row, row.verdict.label()))),
    );
    for (i, mut line) in align(&table, &RESULT_NUMERIC).into_iter().enumerate() {
        if i > 0 {
            let verdict = r.rows[i - 1].verdict;
            line[VERDICT_COLUMN] = paint(&line[VERDICT_COLUMN], !verdict.is_failure());
        }
        out.push_str(&format!("{}\n", line.join("  ").trim_end()));
    }

    out.push_str("\nforecast\n");
    let lines: Vec<Vec<String>> = check_sets(r)
        .into_iter()
        .map(|(check, set, budget)| {
            let mut cells = vec![check.to_string(), set.to_string()];
            cells.extend(forecast_cells(
                r.forecast(check, set),
                budget,
                largest_scale(r).unwrap_or(1.0),
            ));
            cells
        })
        .collect();
    for line in align(&lines, &[false; 5]) {
        out.push_str(&format!("  {}\n", line.join("  ").trim_end()));
    }

    if let Some(scale) = largest_scale(r) {
        out.push_str(&format!(
            "\nplans at scale {} (slowest parameter set of each check)\n",
            fmt_scale(scale)
        ));
        for row in slowest_at(r, scale) {
            let m = &row.measurement;
            out.push_str(&format!(
                "  {} · {} ({} ms)\n",
                m.check,
                m.param_set,
                fmt_ms(m.judged_ms)
            ));
            for line in plan_lines(row) {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }

    let changed = plan_changes(r);
    if !changed.is_empty() {
        out.push_str("\nplan changes\n");
        for (row, baseline, changes) in changed {
            out.push_str(&format!("  {}\n", row_label(row)));
            out.push_str(&format!("    was: {baseline}\n"));
            if let Some(now) = current_fingerprint(row) {
                out.push_str(&format!("    now: {now}\n"));
            }
            for c in changes {
                out.push_str(&format!("    {c}\n"));
            }
        }
    }

    let errors: Vec<(&BenchRow, &str)> = errors(r);
    if !errors.is_empty() {
        out.push_str("\nerrors\n");
        for (row, error) in errors {
            let error = error.trim_end().replace('\n', "\n    ");
            out.push_str(&format!("  {}: {error}\n", row_label(row)));
        }
    }

    let counts = Counts::of(r);
    out.push('\n');
    out.push_str(&paint(&counts.summary(), counts.failures == 0));
    out.push('\n');
    out
}
