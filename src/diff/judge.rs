//! Verdicts (pure): what a unit's two runs mean — same, different, error on
//! which side — whether an expected difference lets it pass, how fast the
//! rewrite is and whether that fails `--max-slowdown`; the report's counts.

use super::execute::{Compared, SideRun};
use super::model::*;
use super::pair::Unit;
use crate::bench::fingerprint;
use crate::compare::Sameness;
use crate::engine::query_unit::param_json;
use crate::timing::TimingStats;

/// When a slower rewrite fails.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeedRule {
    /// `--max-slowdown R`: current p50 above R × base p50 fails ...
    pub max_slowdown: Option<f64>,
    /// ... when it is also slower by more than this (noise floor).
    pub min_slowdown_ms: f64,
    /// The compared executions ran alongside other units (`--jobs` > 1).
    pub concurrent: bool,
}

/// The parameters of a unit's set as JSON.
pub fn params(u: &Unit) -> std::collections::BTreeMap<String, serde_json::Value> {
    u.set
        .values
        .iter()
        .map(|(k, v)| (k.clone(), param_json(v)))
        .collect()
}

/// An entry for a pair whose two files are the same text (nothing run).
pub fn unchanged(u: &Unit) -> Entry {
    let check = u.pair.check;
    Entry {
        check: check.name.clone(),
        endpoint: check.endpoint.clone(),
        query: check.query.display().to_string(),
        param_set: u.set.name.clone(),
        params: params(u),
        verdict: Verdict::Unchanged,
        acknowledged: None,
        passes: true,
        comparison: None,
        error: None,
        key: None,
        order_keys: None,
        speed: None,
        plan: None,
        notes: Vec::new(),
    }
}

fn speed(c: &Compared, rule: &SpeedRule) -> Option<Speed> {
    let base = TimingStats::of(&c.base.samples_ms)?;
    let current = TimingStats::of(&c.current.samples_ms)?;
    let ratio = current.p50_ms / base.p50_ms.max(1e-3);
    let measured = if c.timed {
        format!("{} solo runs each, sides alternated", base.runs)
    } else if rule.concurrent {
        "1 run each, alongside other units".to_string()
    } else {
        "1 run each".to_string()
    };
    let slower = rule
        .max_slowdown
        .is_some_and(|r| ratio > r && current.p50_ms - base.p50_ms > rule.min_slowdown_ms);
    Some(Speed {
        base,
        current,
        ratio,
        measured,
        slower,
    })
}

fn plan(c: &Compared) -> Option<PlanChange> {
    let (b, cur) = (c.base.plan.as_ref()?, c.current.plan.as_ref()?);
    let (sb, sc) = (
        fingerprint::strategy_on_same_data(b),
        fingerprint::strategy_on_same_data(cur),
    );
    Some(PlanChange {
        base: b.to_string(),
        current: cur.to_string(),
        changed: sb != sc,
        changes: fingerprint::changes(&sb, &sc),
        from: if c.analyzed {
            "explain_analyze"
        } else {
            "explain"
        }
        .into(),
    })
}

fn side_errors(base: &SideRun, current: &SideRun) -> Option<SideErrors> {
    let side = match (&base.error, &current.error) {
        (None, None) => return None,
        (Some(_), None) => Side::Base,
        (None, Some(_)) => Side::Current,
        (Some(_), Some(_)) => Side::Both,
    };
    Some(SideErrors {
        side,
        base: base.error.clone(),
        current: current.error.clone(),
    })
}

/// The entry of a unit that ran.
pub fn entry(u: &Unit, c: Compared, rule: &SpeedRule) -> Entry {
    let check = u.pair.check;
    let error = side_errors(&c.base, &c.current);
    let verdict = match (&error, &c.comparison) {
        (Some(_), _) | (None, None) => Verdict::Error,
        (None, Some(cmp)) => match cmp.verdict {
            Sameness::Same => Verdict::Same,
            Sameness::OrderOnly => Verdict::OrderOnly,
            Sameness::Different => Verdict::Different,
        },
    };
    let speed = if error.is_none() {
        speed(&c, rule)
    } else {
        None
    };
    let acknowledged = u.pair.acknowledged.clone();
    let expected = acknowledged.is_some();
    let passes_output = match verdict {
        Verdict::Unchanged | Verdict::Same => true,
        Verdict::OrderOnly | Verdict::Different => expected,
        // A fix may make a failing base work; a failing current never passes.
        Verdict::Error => expected && error.as_ref().is_some_and(|e| e.side == Side::Base),
    };
    let passes = passes_output && !speed.as_ref().is_some_and(|s| s.slower);
    Entry {
        check: check.name.clone(),
        endpoint: check.endpoint.clone(),
        query: check.query.display().to_string(),
        param_set: u.set.name.clone(),
        params: params(u),
        verdict,
        acknowledged: acknowledged.filter(|_| verdict != Verdict::Same),
        passes,
        plan: plan(&c),
        comparison: c.comparison,
        error,
        key: c.key,
        order_keys: c.order_keys,
        speed,
        notes: c.notes,
    }
}

/// Counts of a list of entries.
pub fn counts(entries: &[Entry]) -> Counts {
    let mut n = Counts::default();
    for e in entries {
        match e.verdict {
            Verdict::Unchanged => n.unchanged += 1,
            Verdict::Same => n.same += 1,
            Verdict::OrderOnly => n.order_only += 1,
            Verdict::Different => n.different += 1,
            Verdict::Error => n.error += 1,
        }
        if e.acknowledged.is_some() && e.passes {
            n.acknowledged += 1;
        }
        if e.speed.as_ref().is_some_and(|s| s.slower) {
            n.slower += 1;
        }
        if !e.passes {
            n.failing += 1;
        }
    }
    n
}

/// Checks named by `--expect-different` whose every entry came out the same.
pub fn expected_but_same(named: &[String], entries: &[Entry]) -> Vec<String> {
    named
        .iter()
        .filter(|name| {
            let mine: Vec<&Entry> = entries.iter().filter(|e| &e.check == *name).collect();
            !mine.is_empty()
                && mine
                    .iter()
                    .all(|e| matches!(e.verdict, Verdict::Same | Verdict::Unchanged))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{compare, CompareOptions};
    use crate::diff::order::Ordering;
    use crate::diff::pair::Pair;
    use crate::output::{Cell, Column, QueryOutput};
    use crate::suite::ParamSet;

    fn check() -> crate::suite::QueryCheck {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("assay.yaml"), "name: t\nsetup: []\n").unwrap();
        std::fs::create_dir_all(dir.path().join("checks")).unwrap();
        std::fs::create_dir_all(dir.path().join("sql/endpoints")).unwrap();
        std::fs::write(dir.path().join("sql/endpoints/q.sql"), "select 1 as a").unwrap();
        std::fs::write(dir.path().join("checks/q.yaml"), "name: q\nquery: q.sql\n").unwrap();
        let loaded =
            crate::suite::load_suite(dir.path(), &crate::suite::LoadOptions::default()).unwrap();
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        loaded.suite.query_checks[0].clone()
    }

    fn out(v: i64) -> QueryOutput {
        QueryOutput {
            columns: vec![Column {
                name: "a".into(),
                ty: "int8".into(),
            }],
            rows: vec![vec![Cell::Int(v)]],
        }
    }

    fn ran(base: Result<i64, &str>, current: Result<i64, &str>) -> Compared {
        let side = |r: Result<i64, &str>, ms: f64| match r {
            Ok(_) => SideRun {
                rows: Some(1),
                samples_ms: vec![ms],
                ..Default::default()
            },
            Err(e) => SideRun {
                error: Some(e.into()),
                ..Default::default()
            },
        };
        let comparison = match (base, current) {
            (Ok(b), Ok(c)) => Some(compare(&out(b), &out(c), &CompareOptions::default())),
            _ => None,
        };
        Compared {
            base: side(base, 100.0),
            current: side(current, 300.0),
            comparison,
            ..Default::default()
        }
    }

    fn judge(ack: Option<&str>, c: Compared, rule: SpeedRule) -> Entry {
        let check = check();
        let set = ParamSet {
            name: "default".into(),
            values: Default::default(),
        };
        let pair = Pair {
            check: &check,
            base_file: "old/q.sql".into(),
            base: Err("unused".into()),
            unchanged: false,
            key: None,
            ordering: Ordering::Unordered,
            acknowledged: ack.map(str::to_string),
        };
        entry(
            &Unit {
                pair: &pair,
                set: &set,
            },
            c,
            &rule,
        )
    }

    const NO_RULE: SpeedRule = SpeedRule {
        max_slowdown: None,
        min_slowdown_ms: 25.0,
        concurrent: false,
    };

    #[test]
    fn differences_fail_unless_acknowledged_and_current_errors_always_fail() {
        let e = judge(None, ran(Ok(1), Ok(2)), NO_RULE);
        assert_eq!((e.verdict, e.passes), (Verdict::Different, false));
        let e = judge(Some("fix"), ran(Ok(1), Ok(2)), NO_RULE);
        assert_eq!((e.verdict, e.passes), (Verdict::Different, true));
        assert_eq!(e.acknowledged.as_deref(), Some("fix"));
        let e = judge(Some("fix"), ran(Err("boom"), Ok(2)), NO_RULE);
        assert_eq!((e.verdict, e.passes), (Verdict::Error, true));
        assert_eq!(e.error.as_ref().unwrap().side, Side::Base);
        let e = judge(Some("fix"), ran(Ok(1), Err("boom")), NO_RULE);
        assert_eq!((e.verdict, e.passes), (Verdict::Error, false));
        let e = judge(None, ran(Err("a"), Err("b")), NO_RULE);
        assert_eq!(e.error.unwrap().side, Side::Both);
        let e = judge(Some("fix"), ran(Ok(1), Ok(1)), NO_RULE);
        assert_eq!(
            (e.verdict, e.passes, e.acknowledged),
            (Verdict::Same, true, None)
        );
    }

    #[test]
    fn slower_fails_only_past_an_explicit_ratio_and_its_noise_floor() {
        let e = judge(None, ran(Ok(1), Ok(1)), NO_RULE);
        let s = e.speed.unwrap();
        assert_eq!((s.ratio, s.slower, e.passes), (3.0, false, true));
        assert_eq!(s.measured, "1 run each");
        let rule = SpeedRule {
            max_slowdown: Some(2.0),
            ..NO_RULE
        };
        let e = judge(None, ran(Ok(1), Ok(1)), rule);
        assert!(e.speed.as_ref().unwrap().slower && !e.passes);
        let floor = SpeedRule {
            max_slowdown: Some(2.0),
            min_slowdown_ms: 500.0,
            concurrent: true,
        };
        let e = judge(None, ran(Ok(1), Ok(1)), floor);
        assert!(!e.speed.as_ref().unwrap().slower && e.passes);
        assert_eq!(
            e.speed.unwrap().measured,
            "1 run each, alongside other units"
        );
        // Acknowledging a difference does not excuse a slowdown.
        let e = judge(Some("fix"), ran(Ok(1), Ok(2)), rule);
        assert!(!e.passes);
    }

    #[test]
    fn counts_and_expected_but_same() {
        let entries = vec![
            judge(None, ran(Ok(1), Ok(1)), NO_RULE),
            judge(None, ran(Ok(1), Ok(2)), NO_RULE),
            judge(Some("x"), ran(Ok(1), Ok(2)), NO_RULE),
        ];
        let n = counts(&entries);
        assert_eq!(
            (n.same, n.different, n.acknowledged, n.failing),
            (1, 2, 1, 1)
        );
        assert_eq!(expected_but_same(&["q".into()], &entries[..1]), vec!["q"]);
        assert!(expected_but_same(&["q".into()], &entries).is_empty());
    }
}
