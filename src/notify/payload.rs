//! What an alert says (built from the digest) and how each receiver wants
//! it: a Slack incoming-webhook message, a Teams Adaptive Card (as Power
//! Automate "Workflows" accept it), or assay's own JSON. Pure.

use crate::engine::Counts;
use crate::history::digest::{Anomaly, Digest, UnitRef};
use crate::metrics::num;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

/// The schema of assay's own webhook body.
pub const SCHEMA: &str = "assay.notification/v1";
/// Items listed per section in chat messages (the JSON webhook has them all).
const LIST: usize = 10;

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub schema: &'static str,
    pub suite: String,
    pub run_id: String,
    pub started_at: DateTime<Utc>,
    pub exit_code: i32,
    /// passed, failed, or broke (exit 2 or 3).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub targets: Vec<String>,
    pub counts: Counts,
    pub new_failures: Vec<UnitRef>,
    pub still_failing: usize,
    pub fixed: Vec<UnitRef>,
    pub anomalies: Vec<Anomaly>,
}

/// The alert for the digest's latest run, or None when there is nothing new
/// to say (no new failure, no anomaly, the run did not break).
pub fn message(d: &Digest) -> Option<Message> {
    let run = d.latest()?;
    let changes = d.changes.clone().unwrap_or_default();
    if changes.new_failures.is_empty() && d.anomalies.is_empty() && !run.broke() {
        return None;
    }
    Some(Message {
        schema: SCHEMA,
        suite: run.suite.clone(),
        run_id: run.run_id.clone(),
        started_at: run.started_at,
        exit_code: run.exit_code,
        status: match run.exit_code {
            0 => "passed",
            1 => "failed",
            _ => "broke",
        },
        error: run.error.clone(),
        targets: run.targets.clone(),
        counts: run.counts.clone(),
        new_failures: changes.new_failures,
        still_failing: changes.still_failing.len(),
        fixed: changes.fixed,
        anomalies: d.anomalies.clone(),
    })
}

fn headline(m: &Message) -> String {
    let mut parts = Vec::new();
    if m.status == "broke" {
        parts.push(format!("the run broke (exit {})", m.exit_code));
    }
    if !m.new_failures.is_empty() {
        parts.push(format!("{} new failures", m.new_failures.len()));
    }
    if !m.anomalies.is_empty() {
        parts.push(format!("{} anomalies", m.anomalies.len()));
    }
    format!("assay: {} — {}", m.suite, parts.join(", "))
}

fn summary(m: &Message) -> String {
    let c = &m.counts;
    format!(
        "Run of {} on {}: {} passed, {} failed, {} errors, {} warnings, {} skipped; {} still failing, {} fixed.",
        m.started_at.format("%Y-%m-%d %H:%M UTC"),
        if m.targets.is_empty() {
            "no database".to_string()
        } else {
            m.targets.join(", ")
        },
        c.passed,
        c.failed,
        c.errored,
        c.warned,
        c.skipped,
        m.still_failing,
        m.fixed.len()
    )
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let t: String = s.chars().take(n).collect();
        format!("{t}…")
    }
}

fn failure_lines(m: &Message) -> Vec<String> {
    let mut v: Vec<String> = m
        .new_failures
        .iter()
        .take(LIST)
        .map(|u| format!("{} — {}", u.label, cut(&u.message, 200)))
        .collect();
    if m.new_failures.len() > LIST {
        v.push(format!("… and {} more", m.new_failures.len() - LIST));
    }
    v
}

fn anomaly_lines(m: &Message) -> Vec<String> {
    let mut v: Vec<String> = m
        .anomalies
        .iter()
        .take(LIST)
        .map(|a| {
            let band = match (a.low, a.high) {
                (Some(lo), Some(hi)) => format!(" (expected {}..{})", num(lo), num(hi)),
                _ => String::new(),
            };
            format!("{}: {}{band}", a.label(), num(a.value))
        })
        .collect();
    if m.anomalies.len() > LIST {
        v.push(format!("… and {} more", m.anomalies.len() - LIST));
    }
    v
}

/// Slack incoming webhook: `text` (notifications, fallback) and Block Kit blocks.
pub fn slack(m: &Message) -> Value {
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&headline(m), 150)}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&summary(m), 2900)}}),
    ];
    if let Some(e) = &m.error {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&format!("*Why it broke*\n{e}"), 2900)}}));
    }
    for (title, lines) in [
        ("New failures", failure_lines(m)),
        ("Anomalies", anomaly_lines(m)),
    ] {
        if lines.is_empty() {
            continue;
        }
        let text = format!(
            "*{title}*\n{}",
            lines
                .iter()
                .map(|l| format!("• {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        blocks
            .push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&text, 2900)}}));
    }
    json!({"text": headline(m), "blocks": blocks})
}

/// Microsoft Teams through a Workflows webhook: a message with one Adaptive Card.
pub fn teams(m: &Message) -> Value {
    let c = &m.counts;
    let mut body = vec![
        json!({"type": "TextBlock", "text": headline(m), "weight": "Bolder", "size": "Medium", "wrap": true}),
        json!({"type": "TextBlock", "text": summary(m), "wrap": true}),
        json!({"type": "FactSet", "facts": [
            {"title": "Passed", "value": c.passed.to_string()},
            {"title": "Failed", "value": c.failed.to_string()},
            {"title": "Errors", "value": c.errored.to_string()},
            {"title": "Warnings", "value": c.warned.to_string()},
            {"title": "Exit code", "value": m.exit_code.to_string()},
        ]}),
    ];
    if let Some(e) = &m.error {
        body.push(json!({"type": "TextBlock", "text": format!("Why it broke: {e}"), "wrap": true, "color": "Attention"}));
    }
    for (title, lines) in [
        ("New failures", failure_lines(m)),
        ("Anomalies", anomaly_lines(m)),
    ] {
        if lines.is_empty() {
            continue;
        }
        body.push(json!({"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": true}));
        body.push(json!({"type": "TextBlock", "text": lines.iter().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n"), "wrap": true}));
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body
            }
        }]
    })
}

/// assay's own JSON: the whole message.
pub fn webhook(m: &Message) -> Value {
    serde_json::to_value(m).unwrap_or(Value::Null)
}
