//! Renders a few rows of an output for a failure message.

use crate::output::QueryOutput;

/// Header plus the given rows (by index), one line each: `a=1 b=x`.
pub fn rows(output: &QueryOutput, indices: &[usize]) -> Vec<String> {
    indices
        .iter()
        .filter_map(|&i| output.rows.get(i).map(|r| (i, r)))
        .map(|(i, r)| {
            let cells: Vec<String> = output
                .columns
                .iter()
                .zip(r)
                .map(|(c, v)| format!("{}={}", c.name, v))
                .collect();
            format!("row {}: {}", i + 1, cells.join(" "))
        })
        .collect()
}
