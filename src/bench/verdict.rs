//! The judgement of one bench measurement: its verdict (error, over budget,
//! plan changed, slower, pass, in that order of precedence) and its headroom
//! under the budget. Pure: no IO.

use super::model::{BaselineStatus, BenchRow, BenchVerdict, Measurement};

/// The smallest time headroom is computed against, so a 0 ms time gives a
/// large but finite headroom.
const MIN_JUDGED_MS: f64 = 0.001;

/// The report row of a measurement compared with its baseline.
pub fn judge(m: &Measurement, baseline: &BaselineStatus) -> BenchRow {
    let headroom = m
        .error
        .is_none()
        .then(|| m.budget_ms / m.judged_ms.max(MIN_JUDGED_MS));
    let verdict = if m.error.is_some() {
        BenchVerdict::Error
    } else if m.judged_ms > m.budget_ms {
        BenchVerdict::OverBudget
    } else {
        match baseline {
            BaselineStatus::PlanChanged { .. } => BenchVerdict::PlanChanged,
            BaselineStatus::Slower { .. } => BenchVerdict::Slower,
            BaselineStatus::New | BaselineStatus::Same { .. } => BenchVerdict::Pass,
        }
    };
    BenchRow {
        measurement: m.clone(),
        baseline: baseline.clone(),
        verdict,
        headroom,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::model::Fingerprint;
    use std::collections::BTreeMap;

    fn m(p95: f64, budget: f64) -> Measurement {
        Measurement {
            check: "kpi_cards".into(),
            param_set: "channel=web".into(),
            params: BTreeMap::new(),
            scale: 1.0,
            volume: 15_000,
            budget_ms: budget,
            runs: 10,
            p50_ms: p95 / 2.0,
            judged_ms: p95,
            p95_ms: None,
            judged: "max of 10 runs".into(),
            max_ms: p95 * 2.0,
            server_ms: None,
            buffers: None,
            rows: 1,
            plan: None,
            fingerprint: Some(Fingerprint::default()),
            error: None,
            attempts: 1,
        }
    }

    fn changed() -> BaselineStatus {
        BaselineStatus::PlanChanged {
            baseline: Fingerprint::default(),
            changes: vec!["t: + Seq Scan".into()],
        }
    }

    fn slower() -> BaselineStatus {
        BaselineStatus::Slower {
            baseline_ms: 5.0,
            ratio: 2.0,
        }
    }

    #[test]
    fn verdict_precedence() {
        let same = BaselineStatus::Same { baseline_ms: 10.0 };
        assert_eq!(judge(&m(10.0, 2000.0), &same).verdict, BenchVerdict::Pass);
        assert_eq!(
            judge(&m(10.0, 2000.0), &BaselineStatus::New).verdict,
            BenchVerdict::Pass
        );
        assert_eq!(
            judge(&m(10.0, 2000.0), &changed()).verdict,
            BenchVerdict::PlanChanged
        );
        assert_eq!(
            judge(&m(10.0, 2000.0), &slower()).verdict,
            BenchVerdict::Slower
        );
        assert_eq!(
            judge(&m(2500.0, 2000.0), &changed()).verdict,
            BenchVerdict::OverBudget
        );
        // Exactly at the budget still passes.
        assert_eq!(judge(&m(2000.0, 2000.0), &same).verdict, BenchVerdict::Pass);
        let mut failed = m(9999.0, 2000.0);
        failed.error = Some("canceling statement due to statement timeout".into());
        let row = judge(&failed, &changed());
        assert_eq!(row.verdict, BenchVerdict::Error);
        assert_eq!(row.headroom, None);
    }

    #[test]
    fn headroom_and_row_contents() {
        let row = judge(&m(13.0, 2000.0), &slower());
        assert!((row.headroom.unwrap() - 2000.0 / 13.0).abs() < 1e-12);
        assert_eq!(row.baseline, slower());
        assert_eq!(row.measurement.judged_ms, 13.0);
        assert_eq!(judge(&m(4000.0, 2000.0), &slower()).headroom, Some(0.5));
        assert_eq!(
            judge(&m(0.0, 2000.0), &BaselineStatus::New).headroom,
            Some(2_000_000.0)
        );
    }
}
