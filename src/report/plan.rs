//! A short, readable summary of an `EXPLAIN (FORMAT JSON)` plan.

use serde_json::Value;

/// One line per plan node, indented by depth: `Seq Scan on events (rows 15000, 3.2 ms)`.
pub fn summarize(plan: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let root = plan.get(0).unwrap_or(plan);
    if let Some(t) = root.get("Execution Time").and_then(Value::as_f64) {
        out.push(format!("execution {t:.1} ms"));
    }
    if let Some(p) = root.get("Plan") {
        walk(p, 0, &mut out);
    }
    out
}

fn walk(node: &Value, depth: usize, out: &mut Vec<String>) {
    let kind = node.get("Node Type").and_then(Value::as_str).unwrap_or("?");
    let mut line = format!("{}{kind}", "  ".repeat(depth));
    if let Some(r) = node.get("Relation Name").and_then(Value::as_str) {
        line.push_str(&format!(" on {r}"));
    }
    if let Some(i) = node.get("Index Name").and_then(Value::as_str) {
        line.push_str(&format!(" using {i}"));
    }
    let rows = node.get("Actual Rows").and_then(Value::as_f64);
    let time = node.get("Actual Total Time").and_then(Value::as_f64);
    if let (Some(r), Some(t)) = (rows, time) {
        line.push_str(&format!(" (rows {r}, {t:.1} ms)"));
    }
    out.push(line);
    if let Some(children) = node.get("Plans").and_then(Value::as_array) {
        for c in children {
            walk(c, depth + 1, out);
        }
    }
}
