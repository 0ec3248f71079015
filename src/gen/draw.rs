//! Deterministic randomness: every draw is a hash of (seed, call site, row
//! key), so a value never depends on which connection or in which order a row
//! is generated. Pure.

/// splitmix64's finaliser: a cheap, well-mixed 64-bit hash.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable 64-bit hash of a name (FNV-1a, then mixed): call sites are named
/// by table and column, so adding a table does not change another's values.
pub fn name_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

/// A uniform number in [0, 1) from a hash.
pub fn unit_of(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The draw of call site `site` for row `key`, uniform in [0, 1).
pub fn unit(site: u64, key: u64) -> f64 {
    unit_of(mix(site ^ mix(key)))
}

/// A standard normal deviate from two uniforms (Box-Muller).
pub fn std_normal(u1: f64, u2: f64) -> f64 {
    let u1 = u1.max(f64::MIN_POSITIVE);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A Poisson count with the given mean from one uniform (inversion below a
/// mean of 30, a rounded normal above) and a second uniform for the normal.
pub fn poisson(mean: f64, u1: f64, u2: f64) -> i64 {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    if mean >= 30.0 {
        return (mean + mean.sqrt() * std_normal(u1, u2)).round().max(0.0) as i64;
    }
    let mut p = (-mean).exp();
    let mut cdf = p;
    let mut k = 0i64;
    while u1 > cdf && k < 1000 {
        k += 1;
        p *= mean / k as f64;
        cdf += p;
    }
    k
}

/// A Zipf-like rank in 1..=n with exponent `s` (the continuous power law
/// inverted and floored: rank 1 most frequent).
pub fn zipf(n: f64, s: f64, u: f64) -> i64 {
    let n = n.max(1.0);
    let x = if (s - 1.0).abs() < 1e-9 {
        ((n + 1.0).ln() * u).exp()
    } else {
        let a = 1.0 - s;
        (((n + 1.0).powf(a) - 1.0) * u + 1.0).powf(1.0 / a)
    };
    (x.floor() as i64).clamp(1, n as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_uniform_and_stable() {
        let n = 100_000;
        let mean: f64 = (0..n).map(|k| unit(42, k)).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        assert_eq!(unit(42, 7), unit(42, 7));
        assert_ne!(unit(42, 7), unit(43, 7));
    }

    #[test]
    fn poisson_has_its_mean() {
        for m in [0.5, 4.0, 120.0] {
            let n = 50_000;
            let sum: i64 = (0..n).map(|k| poisson(m, unit(1, k), unit(2, k))).sum();
            let got = sum as f64 / n as f64;
            assert!((got / m - 1.0).abs() < 0.03, "mean {m}: {got}");
        }
        assert_eq!(poisson(0.0, 0.5, 0.5), 0);
    }

    #[test]
    fn zipf_favours_rank_one_and_stays_in_range() {
        let n = 20_000;
        let ranks: Vec<i64> = (0..n).map(|k| zipf(10.0, 1.2, unit(3, k))).collect();
        assert!(ranks.iter().all(|r| (1..=10).contains(r)));
        let ones = ranks.iter().filter(|&&r| r == 1).count();
        let tens = ranks.iter().filter(|&&r| r == 10).count();
        assert!(ones > 5 * tens, "{ones} vs {tens}");
    }
}
