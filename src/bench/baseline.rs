//! The committed bench baseline: one human-reviewable YAML file per check
//! (`<dir>/<check>.yaml`) holding the plan fingerprint and time of every
//! parameter set at every scale. Reading and (atomic) writing of those files,
//! and the pure comparison of a measurement with its baseline entry.

use super::fingerprint;
use super::model::{BaselineStatus, Fingerprint, Measurement};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Scales closer than this are the same scale.
const SCALE_TOLERANCE: f64 = 1e-9;

/// The baseline of one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub check: String,
    pub entries: Vec<BaselineEntry>,
}

/// The plan shape and judged time of one parameter set at one scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub param_set: String,
    pub scale: f64,
    /// The measurement's judged time (`p95_ms` in files written before the
    /// figures were named for what they are).
    #[serde(alias = "p95_ms")]
    pub judged_ms: f64,
    /// The median of the timed runs: what a slowdown is judged on, because
    /// one noisy run moves a maximum but not a median. Absent in files
    /// written before it was recorded; those are judged on `judged_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    /// The fingerprint's one-line text, for reading diffs; `fingerprint` is
    /// what is compared.
    pub plan: String,
    #[serde(deserialize_with = "strict_fingerprint")]
    pub fingerprint: Fingerprint,
}

/// `Fingerprint` as written in a baseline file, rejecting unknown fields like
/// the rest of the file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictFingerprint {
    relations: BTreeMap<String, BTreeSet<String>>,
    joins: Vec<String>,
}

fn strict_fingerprint<'de, D: Deserializer<'de>>(d: D) -> Result<Fingerprint, D::Error> {
    let f = StrictFingerprint::deserialize(d)?;
    Ok(Fingerprint {
        relations: f.relations,
        joins: f.joins,
    })
}

impl Baseline {
    /// The entry of a parameter set at a scale.
    pub fn entry(&self, param_set: &str, scale: f64) -> Option<&BaselineEntry> {
        self.entries
            .iter()
            .find(|e| e.param_set == param_set && same_scale(e.scale, scale))
    }
}

fn same_scale(a: f64, b: f64) -> bool {
    (a - b).abs() <= SCALE_TOLERANCE
}

/// The baseline file of a check.
pub fn path(dir: &Path, check: &str) -> PathBuf {
    dir.join(format!("{check}.yaml"))
}

/// Reads the baseline of a check; None when it has none yet.
pub fn load(dir: &Path, check: &str) -> Result<Option<Baseline>, String> {
    let file = path(dir, check);
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot read the baseline: {e}", file.display())),
    };
    let baseline: Baseline = serde_yaml_ng::from_str(&text).map_err(|e| {
        let raw = e.to_string();
        let (at, message) = match e.location() {
            Some(l) => (
                format!(":{}:{}", l.line(), l.column()),
                raw.rsplit_once(" at line ")
                    .map_or(raw.as_str(), |(m, _)| m)
                    .to_string(),
            ),
            None => (String::new(), raw),
        };
        format!(
            "{}{at}: invalid bench baseline: {message}\n  \
             help: fix the file, or delete it and re-save it with `assay bench --save-baseline`",
            file.display()
        )
    })?;
    if baseline.check != check {
        return Err(format!(
            "{}: the baseline is for check `{}`, not `{check}`\n  \
             help: re-save it with `assay bench --save-baseline`",
            file.display(),
            baseline.check
        ));
    }
    Ok(Some(baseline))
}

/// How a measurement compares with its baseline entry. Plans are compared by
/// `fingerprint::strategy` (sequential scan versus index per relation, join
/// methods). A plan change wins over a slowdown; a slowdown needs both the ratio and the absolute delta,
/// and compares medians (p50 of the timed runs) when the baseline recorded one.
pub fn compare(
    entry: Option<&BaselineEntry>,
    m: &Measurement,
    max_slowdown: f64,
    min_slowdown_ms: f64,
) -> BaselineStatus {
    compare_on_machine(entry, m, max_slowdown, min_slowdown_ms, 1.0)
}

/// `compare` on a machine `machine_factor` times as slow as the one that
/// saved the baseline: the baseline's time is scaled by the factor before
/// the ratio and the delta are judged (1.0: the same machine).
pub fn compare_on_machine(
    entry: Option<&BaselineEntry>,
    m: &Measurement,
    max_slowdown: f64,
    min_slowdown_ms: f64,
    machine_factor: f64,
) -> BaselineStatus {
    let Some(entry) = entry else {
        return BaselineStatus::New;
    };
    let current = match (&m.error, &m.fingerprint) {
        (None, Some(f)) => f,
        _ => return BaselineStatus::New,
    };
    let (was, now) = (
        fingerprint::strategy(&entry.fingerprint),
        fingerprint::strategy(current),
    );
    if was != now {
        return BaselineStatus::PlanChanged {
            baseline: entry.fingerprint.clone(),
            changes: fingerprint::changes(&was, &now),
        };
    }
    let (now, base) = compared_times(entry, m);
    let expected = base * machine_factor;
    if now > expected * max_slowdown && now - expected > min_slowdown_ms {
        BaselineStatus::Slower {
            baseline_ms: base,
            // A baseline rounded to 0 ms would make the ratio infinite.
            ratio: now / expected.max(0.001),
        }
    } else {
        BaselineStatus::Same { baseline_ms: base }
    }
}

/// (now, baseline): medians against medians where the baseline has one; the
/// judged figures (maxima of a few runs) against each other in older files.
fn compared_times(entry: &BaselineEntry, m: &Measurement) -> (f64, f64) {
    match entry.p50_ms {
        Some(base) => (m.p50_ms, base),
        None => (m.judged_ms, entry.judged_ms),
    }
}

/// The measurement's time over its baseline's, when the two can stand for
/// the machine's speed: no error, the same plan strategy, a baseline time
/// above zero. The input of the machine factor.
pub fn same_plan_ratio(entry: Option<&BaselineEntry>, m: &Measurement) -> Option<f64> {
    let entry = entry?;
    let current = m.fingerprint.as_ref().filter(|_| m.error.is_none())?;
    if fingerprint::strategy(&entry.fingerprint) != fingerprint::strategy(current) {
        return None;
    }
    let (now, base) = compared_times(entry, m);
    (base > 0.0 && now.is_finite()).then(|| now / base)
}

/// Writes the measurements of `check` into its baseline file: entries with the
/// same parameter set and scale are replaced, the others kept; failed or
/// unfingerprinted measurements are skipped. A baseline that no longer parses
/// is replaced (that is how one repairs it). Returns the file written.
pub fn save(dir: &Path, check: &str, measurements: &[&Measurement]) -> Result<PathBuf, String> {
    if let Some(m) = measurements.iter().find(|m| m.check != check) {
        return Err(format!(
            "cannot save a measurement of `{}` into the baseline of `{check}`",
            m.check
        ));
    }
    let mut entries = load(dir, check)
        .ok()
        .flatten()
        .map(|b| b.entries)
        .unwrap_or_default();
    for m in measurements {
        let (None, Some(fp)) = (&m.error, &m.fingerprint) else {
            continue;
        };
        entries.retain(|e| !(e.param_set == m.param_set && same_scale(e.scale, m.scale)));
        entries.push(BaselineEntry {
            param_set: m.param_set.clone(),
            scale: m.scale,
            judged_ms: (m.judged_ms * 1000.0).round() / 1000.0,
            p50_ms: Some((m.p50_ms * 1000.0).round() / 1000.0),
            plan: fp.to_string(),
            fingerprint: fp.clone(),
        });
    }
    entries.sort_by(|a, b| {
        a.param_set
            .cmp(&b.param_set)
            .then(a.scale.total_cmp(&b.scale))
    });
    let baseline = Baseline {
        check: check.to_string(),
        entries,
    };
    let file = path(dir, check);
    write_atomic(&file, &render(&baseline)?)
        .map_err(|e| format!("{}: cannot write the baseline: {e}", file.display()))?;
    Ok(file)
}

/// The file text: a comment saying what the file is, then the YAML.
fn render(b: &Baseline) -> Result<String, String> {
    let yaml = serde_yaml_ng::to_string(b).map_err(|e| e.to_string())?;
    Ok(format!(
        "# assay bench baseline for `{}`: plan shape and time per parameter set and scale.\n\
         # Written by `assay bench --save-baseline`; review changes in diffs like snapshots.\n\
         {yaml}",
        b.check
    ))
}

/// Writes a temp file in the same directory, then renames it over `file`, so
/// readers never see half a baseline.
fn write_atomic(file: &Path, text: &str) -> std::io::Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".assay-baseline-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    // Temp files are private (0600); a committed file should be like the others.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(file).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(relation: &str, method: &str, joins: &[&str]) -> Fingerprint {
        let mut f = Fingerprint::default();
        f.relations
            .entry(relation.into())
            .or_default()
            .insert(method.into());
        f.joins = joins.iter().map(|j| j.to_string()).collect();
        f
    }

    fn measurement(set: &str, scale: f64, p95: f64, f: Option<Fingerprint>) -> Measurement {
        Measurement {
            check: "kpi_cards".into(),
            param_set: set.into(),
            params: BTreeMap::new(),
            scale,
            volume: (scale * 15_000.0) as u64,
            budget_ms: 2000.0,
            runs: 20,
            p50_ms: p95 * 0.8,
            judged_ms: p95,
            p95_ms: Some(p95),
            judged: "p95 of 20 runs".into(),
            max_ms: p95 * 1.2,
            server_ms: Some(p95 * 0.9),
            buffers: Some(100),
            rows: 4,
            plan: None,
            fingerprint: f,
            error: None,
            attempts: 1,
        }
    }

    fn entry(p95: f64, f: Fingerprint) -> BaselineEntry {
        BaselineEntry {
            param_set: "channel=web".into(),
            scale: 10.0,
            judged_ms: p95,
            p50_ms: None,
            plan: f.to_string(),
            fingerprint: f,
        }
    }

    #[test]
    fn medians_are_compared_when_the_baseline_has_one() {
        let f = fp("t", "Seq Scan", &[]);
        let mut e = entry(10.0, f.clone());
        e.p50_ms = Some(8.0);
        // A maximum 10× the baseline's with a median (0.8 × 100 = 80 ms)
        // 10× the baseline median: slower, judged on the medians.
        let m = measurement("channel=web", 10.0, 100.0, Some(f.clone()));
        assert_eq!(
            compare(Some(&e), &m, 1.5, 5.0),
            BaselineStatus::Slower {
                baseline_ms: 8.0,
                ratio: 10.0
            }
        );
        // One spike: the maximum is 30× the baseline's, the median is not.
        let mut spiky = measurement("channel=web", 10.0, 300.0, Some(f));
        spiky.p50_ms = 9.0;
        assert_eq!(
            compare(Some(&e), &spiky, 1.5, 5.0),
            BaselineStatus::Same { baseline_ms: 8.0 }
        );
        // Saved entries record the median.
        let dir = std::env::temp_dir().join(format!("assay-baseline-p50-{}", std::process::id()));
        let file = save(&dir, "kpi_cards", &[&spiky]).unwrap();
        let loaded = load(&dir, "kpi_cards").unwrap().unwrap();
        assert_eq!(loaded.entries[0].p50_ms, Some(9.0));
        std::fs::remove_file(file).unwrap();
        std::fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn compare_judges_new_plan_slower_same() {
        let seq = fp("events", "Seq Scan", &["Hash Join (Inner)"]);
        let idx = fp("events", "Index Scan using x", &["Hash Join (Inner)"]);
        let e = entry(10.0, idx.clone());
        let m = |p95: f64, f: &Fingerprint| measurement("channel=web", 10.0, p95, Some(f.clone()));

        assert_eq!(compare(None, &m(10.0, &idx), 1.5, 5.0), BaselineStatus::New);
        let mut failed = m(10.0, &idx);
        failed.error = Some("timeout".into());
        assert_eq!(compare(Some(&e), &failed, 1.5, 5.0), BaselineStatus::New);
        let unplanned = measurement("channel=web", 10.0, 10.0, None);
        assert_eq!(compare(Some(&e), &unplanned, 1.5, 5.0), BaselineStatus::New);

        assert_eq!(
            compare(Some(&e), &m(10.0, &seq), 1.5, 5.0),
            BaselineStatus::PlanChanged {
                baseline: idx.clone(),
                changes: vec!["events: - index x, + Seq Scan".into()],
            }
        );
        // A bitmap scan over the same index is the same strategy.
        let bitmap = fp("events", "Bitmap Heap Scan using x", &["Hash Join (Inner)"]);
        assert_eq!(
            compare(Some(&e), &m(10.0, &bitmap), 1.5, 5.0),
            BaselineStatus::Same { baseline_ms: 10.0 }
        );
        // The plan change wins over the slowdown.
        assert!(matches!(
            compare(Some(&e), &m(100.0, &seq), 1.5, 5.0),
            BaselineStatus::PlanChanged { .. }
        ));
        assert_eq!(
            compare(Some(&e), &m(18.0, &idx), 1.5, 5.0),
            BaselineStatus::Slower {
                baseline_ms: 10.0,
                ratio: 1.8
            }
        );
        // Over the ratio but under the noise floor, and the reverse.
        let same = BaselineStatus::Same { baseline_ms: 10.0 };
        assert_eq!(compare(Some(&e), &m(18.0, &idx), 1.5, 10.0), same);
        assert_eq!(compare(Some(&e), &m(14.0, &idx), 1.5, 1.0), same);
        assert_eq!(compare(Some(&e), &m(15.0, &idx), 1.5, 1.0), same);
        assert_eq!(compare(Some(&e), &m(5.0, &idx), 1.5, 1.0), same);
    }

    #[test]
    fn zero_baseline_gives_a_finite_ratio() {
        let f = fp("t", "Seq Scan", &[]);
        let e = entry(0.0, f.clone());
        let m = measurement("channel=web", 10.0, 20.0, Some(f));
        match compare(Some(&e), &m, 1.5, 5.0) {
            BaselineStatus::Slower { ratio, .. } => assert_eq!(ratio, 20_000.0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn entry_matches_set_and_scale() {
        let b = Baseline {
            check: "kpi_cards".into(),
            entries: vec![entry(1.0, Fingerprint::default())],
        };
        assert!(b.entry("channel=web", 10.0).is_some());
        assert!(b.entry("channel=web", 10.0 + 1e-12).is_some());
        assert!(b.entry("channel=web", 10.1).is_none());
        assert!(b.entry("channel=store", 10.0).is_none());
    }

    #[test]
    fn save_merges_sorts_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("bench").join("baselines");
        assert_eq!(load(&base, "kpi_cards").unwrap(), None);

        let seq = fp("events", "Seq Scan", &["Hash Join (Inner)"]);
        let idx = fp("events", "Index Scan using events_date_idx", &[]);
        let a10 = measurement("window=7", 10.0, 12.3456, Some(seq.clone()));
        let a1 = measurement("window=7", 1.0, 2.0, Some(seq.clone()));
        let b1 = measurement("channel=web,window=1", 1.0, 3.0, Some(idx.clone()));
        let mut broken = measurement("window=30", 1.0, 1.0, Some(seq.clone()));
        broken.error = Some("boom".into());
        let unplanned = measurement("window=90", 1.0, 1.0, None);
        let written = save(&base, "kpi_cards", &[&a10, &a1, &b1, &broken, &unplanned]).unwrap();
        assert_eq!(written, base.join("kpi_cards.yaml"));

        let text = std::fs::read_to_string(&written).unwrap();
        assert!(text.starts_with(
            "# assay bench baseline for `kpi_cards`: plan shape and time per parameter set and scale.\n\
             # Written by `assay bench --save-baseline`; review changes in diffs like snapshots.\n\
             check: kpi_cards\n"
        ), "{text}");
        assert!(text.contains("judged_ms: 12.346\n"), "{text}");
        assert!(
            text.contains(&format!("plan: '{seq}'")) || text.contains(&format!("plan: {seq}")),
            "{text}"
        );

        let loaded = load(&base, "kpi_cards").unwrap().unwrap();
        let keys: Vec<(&str, f64)> = loaded
            .entries
            .iter()
            .map(|e| (e.param_set.as_str(), e.scale))
            .collect();
        assert_eq!(
            keys,
            [
                ("channel=web,window=1", 1.0),
                ("window=7", 1.0),
                ("window=7", 10.0)
            ]
        );
        assert_eq!(loaded.entry("window=7", 10.0).unwrap().fingerprint, seq);
        assert_eq!(loaded.entry("window=7", 10.0).unwrap().judged_ms, 12.346);

        // Re-saving one entry replaces it and keeps the others.
        let a10_idx = measurement("window=7", 10.0, 4.0, Some(idx.clone()));
        save(&base, "kpi_cards", &[&a10_idx]).unwrap();
        let again = load(&base, "kpi_cards").unwrap().unwrap();
        assert_eq!(again.entries.len(), 3);
        let e = again.entry("window=7", 10.0).unwrap();
        assert_eq!((e.judged_ms, &e.fingerprint), (4.0, &idx));
        assert_eq!(e.plan, idx.to_string());
        assert_eq!(again.entry("window=7", 1.0).unwrap().fingerprint, seq);

        // No temp file left behind.
        let names: Vec<String> = std::fs::read_dir(&base)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["kpi_cards.yaml"]);
    }

    #[test]
    fn save_refuses_another_checks_measurement() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = measurement("a", 1.0, 1.0, Some(Fingerprint::default()));
        m.check = "other".into();
        let err = save(dir.path(), "kpi_cards", &[&m]).unwrap_err();
        assert!(err.contains("`other`"), "{err}");
        assert!(!path(dir.path(), "kpi_cards").exists());
    }

    #[test]
    fn parse_errors_name_file_position_and_fix() {
        let dir = tempfile::tempdir().unwrap();
        let file = path(dir.path(), "kpi_cards");
        std::fs::write(
            &file,
            "check: kpi_cards\nentries:\n  - param_set: a\n    scale: 1\n    p95: 2\n",
        )
        .unwrap();
        let err = load(dir.path(), "kpi_cards").unwrap_err();
        assert!(err.starts_with(&format!("{}:5:", file.display())), "{err}");
        assert!(err.contains("unknown field `p95`"), "{err}");
        assert!(!err.contains(" at line "), "{err}");
        assert!(err.contains("assay bench --save-baseline"), "{err}");

        // Unknown fields inside the fingerprint are rejected too.
        std::fs::write(
            &file,
            "check: kpi_cards\nentries:\n  - param_set: a\n    scale: 1\n    judged_ms: 2\n    plan: x\n    \
             fingerprint:\n      relations: {}\n      joins: []\n      cost: 3\n",
        )
        .unwrap();
        let err = load(dir.path(), "kpi_cards").unwrap_err();
        assert!(err.contains("unknown field `cost`"), "{err}");

        // Re-saving repairs it.
        let m = measurement("a", 1.0, 2.0, Some(Fingerprint::default()));
        save(dir.path(), "kpi_cards", &[&m]).unwrap();
        assert_eq!(
            load(dir.path(), "kpi_cards")
                .unwrap()
                .unwrap()
                .entries
                .len(),
            1
        );
    }

    #[test]
    fn a_file_for_another_check_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path(dir.path(), "kpi_cards"), "check: other\nentries: []\n").unwrap();
        let err = load(dir.path(), "kpi_cards").unwrap_err();
        assert!(err.contains("for check `other`"), "{err}");
    }
}
