//! Timing figures, named for what they are. One module for run, bench, diff
//! and probe: samples in milliseconds become `runs`, `p50_ms`, `max_ms`, and
//! `p95_ms` only when there are enough runs for a 95th percentile to differ
//! from the maximum. Pure.

use serde::{Deserialize, Serialize};

/// Below this many runs a "p95" is the slowest run: it is not reported.
pub const MIN_RUNS_FOR_P95: usize = 20;

/// What a set of timed runs says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimingStats {
    pub runs: usize,
    pub p50_ms: f64,
    pub max_ms: f64,
    /// Nearest-rank 95th percentile; present only with at least
    /// [`MIN_RUNS_FOR_P95`] runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
}

/// The `p`-quantile of sorted samples (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The middle value of `v` (any order; the mean of the two middle values
/// when their number is even), for ratios such as current / base time.
/// None when empty.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

impl TimingStats {
    /// Statistics of `samples` (milliseconds, any order). None when empty.
    pub fn of(samples: &[f64]) -> Option<TimingStats> {
        if samples.is_empty() {
            return None;
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        Some(TimingStats {
            runs: s.len(),
            p50_ms: percentile(&s, 0.5),
            max_ms: *s.last().expect("not empty"),
            p95_ms: (s.len() >= MIN_RUNS_FOR_P95).then(|| percentile(&s, 0.95)),
        })
    }

    /// The figure a budget or a baseline is judged on: the p95 when there
    /// are enough runs for one, else the slowest run.
    pub fn judged_ms(&self) -> f64 {
        self.p95_ms.unwrap_or(self.max_ms)
    }

    /// What [`judged_ms`](Self::judged_ms) is, in words: `p95 of 50 runs`,
    /// `max of 3 runs`, `1 run`.
    pub fn judged_label(&self) -> String {
        match (self.p95_ms, self.runs) {
            (Some(_), n) => format!("p95 of {n} runs"),
            (None, 1) => "1 run".to_string(),
            (None, n) => format!("max of {n} runs"),
        }
    }

    /// The same, saying that the runs had their server to themselves:
    /// `max of 3 solo runs`, `1 solo run`.
    pub fn judged_label_solo(&self) -> String {
        match (self.p95_ms, self.runs) {
            (Some(_), n) => format!("p95 of {n} solo runs"),
            (None, 1) => "1 solo run".to_string(),
            (None, n) => format!("max of {n} solo runs"),
        }
    }

    /// `812.3 ms (max of 3 runs; p50 790.1 ms)`.
    pub fn describe(&self) -> String {
        if self.runs == 1 {
            format!("{:.1} ms (1 run)", self.max_ms)
        } else {
            format!(
                "{:.1} ms ({}; p50 {:.1} ms)",
                self.judged_ms(),
                self.judged_label(),
                self.p50_ms
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_runs_have_no_p95_and_are_judged_on_their_maximum() {
        let t = TimingStats::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((t.runs, t.p50_ms, t.max_ms, t.p95_ms), (3, 2.0, 3.0, None));
        assert_eq!(t.judged_ms(), 3.0);
        assert_eq!(t.judged_label(), "max of 3 runs");
        assert_eq!(TimingStats::of(&[5.0]).unwrap().judged_label(), "1 run");
        assert!(TimingStats::of(&[]).is_none());
    }

    #[test]
    fn twenty_runs_give_a_p95_below_the_maximum() {
        let samples: Vec<f64> = (1..=40).map(f64::from).collect();
        let t = TimingStats::of(&samples).unwrap();
        assert_eq!(t.p95_ms, Some(38.0));
        assert_eq!(t.max_ms, 40.0);
        assert_eq!(t.judged_label(), "p95 of 40 runs");
        let json = serde_json::to_value(TimingStats::of(&[1.0]).unwrap()).unwrap();
        assert!(json.get("p95_ms").is_none(), "{json}");
    }
}
