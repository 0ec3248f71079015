//! Volume forecasts: a least-squares line of the judged time over the volume (rows of the
//! suite's `scale.volume` relation), fitted on
//! the scales a query was measured at, and the volume (and scale) at which
//! that line reaches the query's budget. Pure: no IO.

use super::model::Forecast;

/// A slope at or below this many ms per million rows counts as flat.
const FLAT_MS_PER_MILLION: f64 = 1e-9;

/// Fits `time = intercept + slope × volume` over `(rows, ms)` points.
/// None with fewer than two distinct volumes (no line through them).
/// Points with a non-finite time are ignored.
pub fn fit(points: &[(u64, f64)], budget_ms: f64, volume_per_scale: f64) -> Option<Forecast> {
    let usable: Vec<(f64, f64)> = points
        .iter()
        .filter(|(_, y)| y.is_finite())
        .map(|&(rows, y)| (rows as f64 / 1e6, y))
        .collect();
    let (slope, intercept) = least_squares(&usable)?;
    let r2 = (usable.len() >= 3).then(|| r_squared(&usable, slope, intercept));
    let logs: Vec<(f64, f64)> = usable
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
        .map(|(x, y)| ((x * 1e6).ln(), y.ln()))
        .collect();
    let growth_exponent = least_squares(&logs).map(|(s, _)| s);
    let volume_at_budget =
        (slope > FLAT_MS_PER_MILLION).then(|| ((budget_ms - intercept) / slope).max(0.0) * 1e6);
    let scale_at_budget = volume_at_budget
        .filter(|_| volume_per_scale > 0.0)
        .map(|l| l / volume_per_scale);
    Some(Forecast {
        points: usable.len(),
        intercept_ms: intercept,
        ms_per_million_rows: slope,
        r2,
        growth_exponent,
        volume_at_budget,
        scale_at_budget,
    })
}

/// Ordinary least squares `(slope, intercept)`; None with fewer than two
/// distinct x.
fn least_squares(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let first = points.first()?.0;
    if points.iter().all(|(x, _)| *x == first) {
        return None;
    }
    let n = points.len() as f64;
    let x_mean = points.iter().map(|p| p.0).sum::<f64>() / n;
    let y_mean = points.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (x, y) in points {
        sxx += (x - x_mean) * (x - x_mean);
        sxy += (x - x_mean) * (y - y_mean);
    }
    let slope = sxy / sxx;
    Some((slope, y_mean - slope * x_mean))
}

/// Coefficient of determination; 1 when all y are equal (the line fits exactly).
fn r_squared(points: &[(f64, f64)], slope: f64, intercept: f64) -> f64 {
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    // "No variance", tolerant of the rounding in the mean of equal values.
    if hi - lo <= 1e-12 * hi.abs().max(lo.abs()) {
        return 1.0;
    }
    let n = points.len() as f64;
    let y_mean = points.iter().map(|p| p.1).sum::<f64>() / n;
    let total: f64 = points.iter().map(|p| (p.1 - y_mean).powi(2)).sum();
    let residual: f64 = points
        .iter()
        .map(|(x, y)| (y - (intercept + slope * x)).powi(2))
        .sum();
    1.0 - residual / total
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn linear_series_crosses_the_budget() {
        // 2 ms + 100 ms per million rows; 15k rows per scale.
        let pts = [(15_000, 3.5), (150_000, 17.0), (1_500_000, 152.0)];
        let f = fit(&pts, 2000.0, 15_000.0).unwrap();
        assert_eq!(f.points, 3);
        assert!(close(f.ms_per_million_rows, 100.0, 1e-9), "{f:?}");
        assert!(close(f.intercept_ms, 2.0, 1e-9), "{f:?}");
        assert!(close(f.r2.unwrap(), 1.0, 1e-12), "{f:?}");
        assert!(
            close(f.volume_at_budget.unwrap(), 19_980_000.0, 1e-9),
            "{f:?}"
        );
        assert!(close(f.scale_at_budget.unwrap(), 1332.0, 1e-9), "{f:?}");
        // Nearly linear: the log-log slope is a bit under 1 (the intercept).
        let g = f.growth_exponent.unwrap();
        assert!(g > 0.8 && g < 1.0, "{g}");
    }

    #[test]
    fn power_law_growth_exponent() {
        let pts: Vec<(u64, f64)> = [1_000u64, 10_000, 100_000]
            .iter()
            .map(|&n| (n, 1e-6 * (n as f64).powi(2)))
            .collect();
        let f = fit(&pts, 1e9, 1_000.0).unwrap();
        assert!(close(f.growth_exponent.unwrap(), 2.0, 1e-9), "{f:?}");
        // A line through a parabola is not a perfect fit.
        assert!(f.r2.unwrap() < 0.999, "{f:?}");
    }

    #[test]
    fn too_few_points() {
        assert_eq!(fit(&[], 10.0, 1.0), None);
        assert_eq!(fit(&[(1000, 5.0)], 10.0, 1.0), None);
        assert_eq!(fit(&[(1000, 5.0), (1000, 7.0)], 10.0, 1.0), None);
        assert_eq!(fit(&[(1000, 5.0), (2000, f64::NAN)], 10.0, 1.0), None);
        let two = fit(&[(1000, 5.0), (2000, 7.0)], 10.0, 1.0).unwrap();
        assert_eq!(two.r2, None);
        assert_eq!(two.points, 2);
    }

    #[test]
    fn already_over_budget_crosses_at_zero() {
        let f = fit(&[(1000, 50.0), (2000, 60.0), (3000, 70.0)], 10.0, 1000.0).unwrap();
        assert_eq!(f.volume_at_budget, Some(0.0));
        assert_eq!(f.scale_at_budget, Some(0.0));
    }

    #[test]
    fn shrinking_or_zero_volume_series() {
        let f = fit(&[(0, 9.0), (1000, 5.0), (2000, 1.0)], 10.0, 1000.0).unwrap();
        assert!(f.ms_per_million_rows < 0.0);
        assert_eq!(f.volume_at_budget, None);
        // Only two points have a volume > 0: the exponent uses those.
        assert!(f.growth_exponent.unwrap() < 0.0);
        let one_positive = fit(&[(0, 1.0), (1000, 1.0)], 10.0, 1000.0).unwrap();
        assert_eq!(one_positive.growth_exponent, None);
    }

    /// 2 to 6 distinct volumes (row counts), multiples of 10k up to 100M.
    fn volume_sets() -> impl Strategy<Value = Vec<u64>> {
        proptest::collection::btree_set(1u64..10_000, 2..=6)
            .prop_map(|s| s.into_iter().map(|k| k * 10_000).collect())
    }

    proptest! {
        #[test]
        fn exact_line_is_recovered(
            volumes in volume_sets(),
            intercept in 0.0f64..1000.0,
            slope in 0.01f64..1000.0,
            budget in 0.0f64..200_000.0,
            per_scale in 1_000.0f64..1e6,
        ) {
            let line = |l: f64| intercept + slope * l / 1e6;
            let pts: Vec<(u64, f64)> = volumes.iter().map(|&l| (l, line(l as f64))).collect();
            let f = fit(&pts, budget, per_scale).unwrap();
            prop_assert!(close(f.ms_per_million_rows, slope, 1e-6), "{:?}", f);
            prop_assert!(close(f.intercept_ms, intercept, 1e-6), "{:?}", f);
            match f.r2 {
                Some(r2) => prop_assert!((r2 - 1.0).abs() < 1e-6, "{:?}", f),
                None => prop_assert_eq!(pts.len(), 2),
            }
            let at = f.volume_at_budget.unwrap();
            if budget >= intercept {
                prop_assert!(close(line(at), budget, 1e-6), "{:?}", f);
            } else {
                prop_assert_eq!(at, 0.0);
            }
            prop_assert!(close(f.scale_at_budget.unwrap(), at / per_scale, 1e-12));
        }

        #[test]
        fn flat_series_never_crosses(
            volumes in volume_sets(),
            p95 in 0.01f64..100_000.0,
            budget in 0.0f64..200_000.0,
        ) {
            let pts: Vec<(u64, f64)> = volumes.iter().map(|&l| (l, p95)).collect();
            let f = fit(&pts, budget, 15_000.0).unwrap();
            prop_assert_eq!(f.volume_at_budget, None);
            prop_assert_eq!(f.scale_at_budget, None);
            prop_assert!(f.ms_per_million_rows.abs() <= FLAT_MS_PER_MILLION, "{:?}", f);
            prop_assert!(f.growth_exponent.unwrap().abs() < 1e-9, "{:?}", f);
            if pts.len() >= 3 {
                prop_assert_eq!(f.r2, Some(1.0));
            }
        }
    }
}
