//! What a search found or tried, in words (pure): the shrunk dataset as a
//! fixture with both outputs on it and the seed that replays it, or what
//! was tried when nothing was found.

use super::fixture;
use super::run::{Found, Outcome, Tried};
use crate::compare::rows::render_row;
use crate::output::QueryOutput;

/// Output rows shown per side.
const SHOWN_ROWS: usize = 10;

/// `no difference in 500 datasets × 7 parameter sets: evidence, not proof`.
pub fn nothing_found(t: &Tried) -> String {
    let mut s = format!(
        "no difference in {} datasets × {} parameter sets: evidence, not proof (seed {})",
        t.datasets, t.units, t.seed
    );
    if t.rejected > 0 {
        s.push_str(&format!(
            "; {} datasets not loaded: every draw was refused",
            t.rejected
        ));
        if let Some(why) = &t.last_refusal {
            s.push_str(&format!(" (the last: {why})"));
        }
    }
    s
}

fn rows_word(n: usize) -> &'static str {
    if n == 1 {
        "row"
    } else {
        "rows"
    }
}

fn output(label: &str, o: &Result<QueryOutput, String>, out: &mut String) {
    match o {
        Err(e) => out.push_str(&format!("  {label}: fails: {e}\n")),
        Ok(o) => {
            let names = o.column_names();
            out.push_str(&format!(
                "  {label} ({} {}):\n",
                o.rows.len(),
                rows_word(o.rows.len())
            ));
            for r in o.rows.iter().take(SHOWN_ROWS) {
                out.push_str(&format!("    {}\n", render_row(&names, r)));
            }
            if o.rows.len() > SHOWN_ROWS {
                out.push_str(&format!("    … {} more\n", o.rows.len() - SHOWN_ROWS));
            }
        }
    }
}

/// The counterexample: where it was found, the differences with both
/// outputs, the fixture.
pub fn found(f: &Found, t: &Tried, n: u64) -> String {
    let rows = f.dataset.rows();
    let mut out = format!(
        "difference found on generated dataset {} of {n} (seed {}; replay it alone with --generated 1 --seed {})\n",
        f.case + 1,
        t.seed,
        f.replay_seed
    );
    out.push_str(&format!(
        "shrunk from {} to {rows} {}\n\n",
        f.drawn_rows,
        rows_word(rows)
    ));
    for d in &f.differences {
        out.push_str(&format!("{} [{}]: {}\n", d.check, d.param_set, d.summary));
        for line in &d.details {
            out.push_str(&format!("  {line}\n"));
        }
        output("base", &d.base, &mut out);
        output("current", &d.current, &mut out);
        out.push('\n');
    }
    out.push_str(&format!(
        "fixture: {rows} {} (SQL for a setup file, tables in the model's load order)\n",
        rows_word(rows)
    ));
    out.push_str(&fixture::inserts(&f.dataset));
    out
}

/// The human report of `diff --generated N`.
pub fn human(o: &Outcome, n: u64) -> String {
    match &o.found {
        Some(f) => found(f, &o.tried, n),
        None => nothing_found(&o.tried) + "\n",
    }
}
