//! `assay mutate --generated N`: every mutant that returned the same rows as
//! the original on the fixtures is searched on N generated datasets (the
//! original as base, the mutant as current, every check and parameter set
//! of its query). One that some dataset tells apart is a gap in the
//! fixtures: it becomes missed, with the shrunk dataset (the rows to add);
//! one that none does stays "no difference", likely equivalent, with what
//! was tried. Runs after every mutant was judged on the fixtures: the
//! search replaces the model's tables in the same cluster.

use super::execute::{prepare, Group};
use crate::app::search::{draw_params, progress_bar, with_drawn, Ground};
use crate::db::Database;
use crate::diff;
use crate::error::AppError;
use crate::mutate::model::{Difference, Generated, Outcome, Status};
use crate::search::fixture;
use crate::suite::{QueryCheck, Suite};

#[allow(clippy::too_many_arguments)]
pub(super) async fn search(
    suite: &Suite,
    db: &Database,
    groups: &[Group<'_>],
    outcomes: &mut [Outcome],
    n: u64,
    seed: Option<u64>,
    param_draws: usize,
    jobs: usize,
    no_progress: bool,
) -> Result<(), AppError> {
    let todo: Vec<usize> = (0..outcomes.len())
        .filter(|&i| outcomes[i].status == Status::NoDifference)
        .collect();
    if todo.is_empty() {
        return Ok(());
    }
    let ground = Ground::read(suite, db).await?;
    let seed = seed.unwrap_or(ground.cfg.seed);
    let lab = ground.lab(suite, db, jobs)?;
    let bar = progress_bar(
        n * todo.len() as u64,
        no_progress,
        "search no-difference mutants",
    );
    for (k, &i) in todo.iter().enumerate() {
        let o = &mut outcomes[i];
        let Some(g) = groups.iter().find(|g| g.file == o.mutant.file) else {
            continue;
        };
        let original = &g.checks[0].sql;
        let mutated: Vec<QueryCheck> = g
            .checks
            .iter()
            .map(|c| {
                let mut c = (*c).clone();
                c.statement = prepare(&o.mutant.sql, &c.types);
                c.sql = o.mutant.sql.clone();
                c
            })
            .collect();
        let shown = format!("{} (original)", g.file);
        let pairs: Vec<diff::Pair> = mutated
            .iter()
            .map(|c| diff::pair(c, original, shown.clone(), false))
            .collect();
        let written: Vec<diff::Unit> = pairs.iter().flat_map(|p| p.units()).collect();
        let drawn = draw_params(&written, param_draws, seed);
        let units = with_drawn(&written, &drawn);
        let sets: Vec<_> = units.iter().map(|u| u.set.clone()).collect();
        let domains = ground.domains([original.as_str(), o.mutant.sql.as_str()], &sets);
        let done_before = k as u64 * n;
        let outcome = lab
            .search(domains, &units, n, seed, &|d| {
                bar.set_position(done_before + d)
            })
            .await
            .map_err(|e| {
                AppError::Infrastructure(format!(
                    "the database was unreachable during the search: {e}"
                ))
            })?;
        let t = &outcome.tried;
        if let Some(why) = t.nothing_loaded() {
            return Err(AppError::Usage(why));
        }
        let mut generated = Generated {
            datasets: t.datasets,
            param_sets: t.units,
            seed,
            fixture: None,
            replay_seed: None,
        };
        if let Some(f) = &outcome.found {
            generated.fixture = Some(fixture::inserts(&f.dataset));
            generated.replay_seed = Some(f.replay_seed);
            o.status = Status::Missed;
            o.differences = f
                .differences
                .iter()
                .map(|d| Difference {
                    check: d.check.clone(),
                    param_set: d.param_set.clone(),
                    summary: format!("on a generated dataset: {}", d.summary),
                    details: d.details.clone(),
                })
                .collect();
        }
        o.generated = Some(generated);
    }
    bar.finish_and_clear();
    Ok(())
}
