//! The page as the frontend loads it: every endpoint of the page requested
//! at once, timed until the last answer.

use super::judge::PageLoad;
use super::plan::Unit;
use super::Probe;
use crate::http::CallError;
use std::time::Instant;

/// One load of the page: all `calls` at once.
pub async fn load(probe: &Probe<'_>, calls: &[&Unit<'_>]) -> PageLoad {
    let start = Instant::now();
    let answers = futures::future::join_all(calls.iter().map(|u| async move {
        let got = probe.client.get(&u.request, probe.timeout(u.check)).await;
        (u, got, start.elapsed())
    }))
    .await;
    let elapsed = start.elapsed();
    let mut failures = Vec::new();
    let mut slowest: Option<(String, f64)> = None;
    for (u, got, done_at) in answers {
        let shown = u.request.shown();
        let ms = done_at.as_secs_f64() * 1000.0;
        if slowest.as_ref().is_none_or(|(_, s)| ms > *s) {
            slowest = Some((shown.clone(), ms));
        }
        match got {
            Ok(a) if !a.is_success() => {
                failures.push(format!("{shown} answered {}", a.status_text))
            }
            Ok(a) => {
                if serde_json::from_slice::<serde_json::Value>(&a.body).is_err() {
                    failures.push(format!("{shown} answered {} but not JSON", a.status_text));
                }
            }
            Err(e) => {
                if let CallError::Unreachable { .. } = &e {
                    probe.api_failed(&e);
                }
                failures.push(format!("{shown}: {e}"));
            }
        }
    }
    PageLoad {
        elapsed_ms: elapsed.as_secs_f64() * 1000.0,
        slowest,
        failures,
    }
}
