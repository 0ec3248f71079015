//! A table check: data-quality rules on one relation.

use super::check_file::{scalar_text, valid_name};
use crate::error::InputError;
use crate::suite::locate::{key_line, line_containing};
use crate::suite::model::*;
use crate::suite::raw::*;
use std::path::Path;

pub(super) fn table_check(
    file: &Path,
    text: &str,
    raw: RawTableCheck,
    config: &Config,
) -> Result<TableCheck, Vec<InputError>> {
    let mut errors = Vec::new();
    let severity = raw.severity.unwrap_or(config.defaults.severity);
    if !valid_name(&raw.name) {
        errors.push(
            InputError::new(file, format!("invalid check name `{}`", raw.name))
                .at(key_line(text, "name", 1), None)
                .help("use letters, digits, `_` and `-` only"),
        );
    }
    let mut rules = Vec::new();
    let mut after = key_line(text, "checks", 1).unwrap_or(1);
    for r in raw.checks {
        let mut kinds: Vec<(String, TableRuleKind)> = Vec::new();
        let mut metric_sev = None;
        let mut metric_name = None;
        if let Some(b) = r.row_count {
            kinds.push((
                "row_count".into(),
                TableRuleKind::RowCount {
                    min: b.min,
                    max: b.max,
                },
            ));
        }
        for c in r.not_null.iter().flatten() {
            kinds.push((format!("not_null({c})"), TableRuleKind::NotNull(c.clone())));
        }
        for k in r.unique.iter().flatten() {
            kinds.push((
                format!("unique({})", k.0.join(", ")),
                TableRuleKind::Unique(k.0.clone()),
            ));
        }
        if let Some(c) = &r.valid_date {
            kinds.push((
                format!("valid_date({c})"),
                TableRuleKind::ValidDate(c.clone()),
            ));
        }
        if let Some(p) = &r.pattern {
            if let Err(e) = regex::Regex::new(&p.regex) {
                errors.push(
                    InputError::new(file, format!("invalid regex `{}`: {e}", p.regex))
                        .at(line_containing(text, "regex"), None),
                );
            }
            kinds.push((
                format!("pattern({})", p.column),
                TableRuleKind::Pattern {
                    column: p.column.clone(),
                    regex: p.regex.clone(),
                },
            ));
        }
        if let Some(a) = &r.accepted_values {
            kinds.push((
                format!("accepted_values({})", a.column),
                TableRuleKind::AcceptedValues {
                    column: a.column.clone(),
                    values: a.values.iter().filter_map(scalar_text).collect(),
                    allow_null: a.allow_null,
                },
            ));
        }
        for c in r.non_negative.iter().flatten() {
            kinds.push((
                format!("non_negative({c})"),
                TableRuleKind::NonNegative(c.clone()),
            ));
        }
        if let Some(f) = &r.freshness {
            kinds.push((
                format!("freshness({})", f.column),
                TableRuleKind::Freshness {
                    column: f.column.clone(),
                    max_age: f.max_age,
                    as_of: f.as_of.clone().unwrap_or_else(|| "now()".into()),
                },
            ));
        }
        if let Some(m) = &r.metric {
            if let Some(kind) =
                super::metric_rules::metric_kind(file, text, m, r.anomaly.as_ref(), &mut errors)
            {
                kinds.push((
                    m.name
                        .clone()
                        .unwrap_or_else(|| format!("metric({})", m.sql)),
                    kind,
                ));
            }
            metric_sev = m.severity;
            metric_name = m.name.clone();
        }
        let measures = (r.metric.is_some() || !kinds.is_empty())
            && kinds.iter().all(|(_, k)| {
                matches!(
                    k,
                    TableRuleKind::Metric { .. }
                        | TableRuleKind::RowCount { .. }
                        | TableRuleKind::Freshness { .. }
                )
            });
        let watch = super::metric_rules::watch(file, text, after, &r, measures, &mut errors);
        if kinds.is_empty() && r.metric.is_none() {
            errors.push(
                InputError::new(file, "a table check entry needs one rule")
                    .at(Some(after), None)
                    .help("one of row_count, not_null, unique, valid_date, pattern, accepted_values, non_negative, freshness, metric"),
            );
            continue;
        }
        after += 1;
        let multi = kinds.len() > 1;
        for (default_name, kind) in kinds {
            let name = match (&r.name, &metric_name) {
                (Some(n), _) if !multi => n.clone(),
                (_, Some(n)) if matches!(kind, TableRuleKind::Metric { .. }) => n.clone(),
                _ => default_name,
            };
            let sev = match kind {
                TableRuleKind::Metric { .. } => metric_sev.or(r.severity),
                _ => r.severity,
            };
            rules.push(TableRule {
                name,
                severity: sev.unwrap_or(severity),
                kind,
                watch: watch.clone(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(TableCheck {
        name: raw.name,
        description: raw.description,
        file: file.to_path_buf(),
        table: raw.table,
        severity,
        tags: raw.tags,
        environments: raw
            .environments
            .unwrap_or_else(|| vec![Environment::Fixtures, Environment::Production]),
        rules,
    })
}
