//! Writing a plan's rows into PostgreSQL with binary COPY: tables in waves
//! (a table starts when the tables it derives from are in), each table split
//! over several connections, every part on its own task. IO.

use super::copy_binary::CopyBuffer;
use super::encode::{self, Enc};
use super::plan::Plan;
use super::schema::Targets;
use super::GenError;
use indicatif::ProgressBar;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, Postgres};
use std::ops::Range;
use std::sync::Arc;

/// Bytes encoded before they are sent to the server.
const CHUNK: usize = 1 << 20;
/// A table smaller than this loads on one connection.
const SPLIT_ABOVE: u64 = 20_000;

fn db_err(e: sqlx::Error) -> GenError {
    GenError::Database(crate::db::describe_error(&e).0)
}

/// The wave of each table: 0 for tables deriving from nothing loaded, else
/// one more than the latest loaded table it derives from.
pub fn waves(plan: &Plan) -> Vec<usize> {
    let m = &plan.model;
    let mut wave = vec![0usize; m.tables.len()];
    for (i, t) in m.tables.iter().enumerate() {
        let mut deps: Vec<usize> = t.parents().to_vec();
        deps.extend(refs_of(plan, i));
        wave[i] = deps
            .iter()
            .map(|&d| wave[d] + usize::from(m.tables[d].load))
            .max()
            .unwrap_or(0);
    }
    wave
}

/// Tables the columns of table `i` refer to (`ref:`).
fn refs_of(plan: &Plan, i: usize) -> Vec<usize> {
    let mut out = Vec::new();
    for c in &plan.model.tables[i].columns {
        collect_refs(&c.expr, &mut |id| out.push(plan.model.refs[id].table));
    }
    out
}

fn collect_refs(e: &super::expr::Expr, f: &mut dyn FnMut(usize)) {
    use super::expr::Expr::*;
    match e {
        Ref(id, keys, _) => {
            f(*id);
            keys.iter().for_each(|k| collect_refs(k, f));
        }
        Neg(a) | Not(a) => collect_refs(a, f),
        And(a, b) | Or(a, b) | Bin(_, a, b) => {
            collect_refs(a, f);
            collect_refs(b, f);
        }
        In(a, l) => {
            collect_refs(a, f);
            l.iter().for_each(|k| collect_refs(k, f));
        }
        If(a, b, c) => {
            collect_refs(a, f);
            collect_refs(b, f);
            collect_refs(c, f);
        }
        Call(_, l) | Draw(_, l, _) | Concat(l) => l.iter().for_each(|k| collect_refs(k, f)),
        Lit(_) | Var(_) | Col(_) | Parent(..) | Key | Position | Choice(..) => {}
    }
}

/// Loads every loaded table of `plan`; returns the rows written. With
/// `without_triggers`, every COPY runs with `session_replication_role =
/// replica` (foreign keys unchecked: the caller checks them afterwards, see
/// [`super::foreign_keys`]).
pub async fn load(
    pool: &PgPool,
    plan: Arc<Plan>,
    targets: Arc<Targets>,
    connections: usize,
    without_triggers: bool,
    bar: &ProgressBar,
) -> Result<u64, GenError> {
    let wave = waves(&plan);
    let last = wave.iter().copied().max().unwrap_or(0);
    let mut written = 0;
    for w in 0..=last {
        let tables: Vec<usize> = (0..plan.model.tables.len())
            .filter(|&t| wave[t] == w && plan.model.tables[t].load)
            .collect();
        let total: u64 = tables
            .iter()
            .map(|&t| plan.expected_rows(t))
            .sum::<u64>()
            .max(1);
        // A JoinSet aborts its tasks when dropped: an interrupted `gen`
        // (Ctrl-C drops this future) stops generating at once.
        let mut tasks = tokio::task::JoinSet::new();
        for &t in &tables {
            let rows = plan.expected_rows(t);
            let parts = if rows < SPLIT_ABOVE {
                1
            } else {
                ((connections as u64 * rows).div_ceil(total)).max(1) as usize
            };
            for range in plan.split(t, parts) {
                let (pool, plan, targets, bar) =
                    (pool.clone(), plan.clone(), targets.clone(), bar.clone());
                tasks.spawn(async move {
                    let mut conn = pool.acquire().await.map_err(db_err)?;
                    let copied =
                        copy_part(&mut conn, &plan, &targets, t, range, without_triggers, &bar)
                            .await;
                    if copied.is_err() {
                        // Its transaction (and the setting) may still be open.
                        conn.close_on_drop();
                    }
                    copied
                });
            }
        }
        while let Some(r) = tasks.join_next().await {
            written +=
                r.map_err(|e| GenError::Database(format!("a loading task failed: {e}")))??;
        }
    }
    Ok(written)
}

/// Encodes one kept row's loaded columns.
fn encode_row(
    buf: &mut CopyBuffer,
    plan: &Plan,
    ti: usize,
    cols: &[(usize, Enc)],
    row: &[super::value::Value],
) -> Result<(), GenError> {
    buf.row(cols.len() as i16);
    for &(i, enc) in cols {
        if let Err(m) = encode::put(buf, enc, &row[i]) {
            let t = &plan.model.tables[ti];
            let c = &t.columns[i];
            return Err(GenError::Model(vec![crate::error::InputError::new(
                &plan.model.file,
                format!("column `{}` of `{}`: {m}", c.name, t.name),
            )
            .at(c.line, None)]));
        }
    }
    Ok(())
}

fn columns_of(plan: &Plan, targets: &Targets, ti: usize) -> Vec<(usize, Enc)> {
    let encs = targets[ti].as_ref().expect("loaded tables have targets");
    plan.model.tables[ti]
        .loaded_columns()
        .map(|(i, _)| i)
        .zip(encs.iter().copied())
        .collect()
}

fn copy_sql(plan: &Plan, ti: usize) -> String {
    let t = &plan.model.tables[ti];
    let cols: Vec<String> = t
        .loaded_columns()
        .map(|(_, c)| quote_ident(&c.name))
        .collect();
    format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        quote_name(&t.name),
        cols.join(", ")
    )
}

/// `schema.table` with each part quoted when it needs to be.
pub fn quote_name(name: &str) -> String {
    name.split('.')
        .map(quote_ident)
        .collect::<Vec<_>>()
        .join(".")
}

/// One identifier, quoted when it needs to be.
pub fn quote_ident(s: &str) -> String {
    let plain = s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit());
    if plain && !s.is_empty() {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// One part in one transaction: `BEGIN` (with triggers off for this
/// transaction only, when asked), one COPY, `COMMIT`.
async fn copy_part(
    conn: &mut PoolConnection<Postgres>,
    plan: &Plan,
    targets: &Targets,
    ti: usize,
    combos: Range<u64>,
    without_triggers: bool,
    bar: &ProgressBar,
) -> Result<u64, GenError> {
    let cols = columns_of(plan, targets, ti);
    let begin = if without_triggers {
        "BEGIN; SET LOCAL session_replication_role = replica"
    } else {
        "BEGIN"
    };
    simple(conn, begin).await?;
    let mut sink = conn
        .copy_in_raw(&copy_sql(plan, ti))
        .await
        .map_err(db_err)?;
    let mut buf = CopyBuffer::with_capacity(CHUNK + (2 << 20));
    buf.header();
    let tp = &plan.tables[ti];
    // Batches of parent combinations of about 8k rows.
    let step = ((8192 * tp.combos) / tp.candidates.max(1)).max(1);
    let (mut written, mut pending) = (0u64, 0u64);
    let mut c = combos.start;
    while c < combos.end {
        let end = (c + step).min(combos.end);
        let n = plan.generate(ti, c..end, |row| encode_row(&mut buf, plan, ti, &cols, row))?;
        pending += n;
        c = end;
        // A batch is a few milliseconds of work: let the runtime see a
        // signal (and abort this task) between batches.
        tokio::task::yield_now().await;
        if buf.len() >= CHUNK {
            sink.send(buf.take()).await.map_err(db_err)?;
            bar.inc(pending);
            written += pending;
            pending = 0;
        }
    }
    buf.trailer();
    sink.send(buf.take()).await.map_err(db_err)?;
    sink.finish().await.map_err(db_err)?;
    simple(conn, "COMMIT").await?;
    bar.inc(pending);
    Ok(written + pending)
}

/// Sends statements as one simple query (no result rows).
async fn simple(conn: &mut PoolConnection<Postgres>, sql: &str) -> Result<(), GenError> {
    use sqlx::Executor;
    conn.execute(sql).await.map(|_| ()).map_err(db_err)
}

/// Empties every table the model loads with one TRUNCATE (a DELETE would
/// leave dead rows that every later reload scans); returns their indexes in
/// load order.
pub(super) async fn truncate_loaded(
    conn: &mut sqlx::PgConnection,
    model: &super::model::Model,
) -> Result<Vec<usize>, GenError> {
    let loaded: Vec<usize> = (0..model.tables.len())
        .filter(|&t| model.tables[t].load)
        .collect();
    let names: Vec<String> = loaded
        .iter()
        .map(|&t| quote_name(&model.tables[t].name))
        .collect();
    sqlx::raw_sql(&format!("TRUNCATE {}", names.join(", ")))
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(loaded)
}

/// Replaces the data of every loaded table with `plan`'s rows on one
/// connection: one TRUNCATE of them all (a DELETE would leave dead rows that
/// every later reload scans), then one COPY per table in load order. For
/// small datasets, where the waves and tasks of [`load`] cost more than they
/// save.
pub async fn replace(
    conn: &mut sqlx::PgConnection,
    plan: &Plan,
    targets: &Targets,
) -> Result<u64, GenError> {
    let loaded = truncate_loaded(conn, &plan.model).await?;
    let mut written = 0;
    for &ti in &loaded {
        let cols = columns_of(plan, targets, ti);
        let mut buf = CopyBuffer::default();
        buf.header();
        written += plan.generate(ti, 0..plan.tables[ti].combos, |row| {
            encode_row(&mut buf, plan, ti, &cols, row)
        })?;
        buf.trailer();
        let mut sink = conn
            .copy_in_raw(&copy_sql(plan, ti))
            .await
            .map_err(db_err)?;
        sink.send(buf.take()).await.map_err(db_err)?;
        sink.finish().await.map_err(db_err)?;
    }
    Ok(written)
}

/// Replaces the data of every loaded table of `model` with the rows of
/// `dataset` (an in-memory dataset, e.g. one the generated-data search
/// drew) on one connection, as [`replace`] does: one TRUNCATE, one COPY per
/// table in load order. `dataset` holds the loaded tables in load order
/// with their loaded columns ([`super::plan::Dataset`]).
pub async fn replace_dataset(
    conn: &mut sqlx::PgConnection,
    model: &super::model::Model,
    targets: &Targets,
    dataset: &super::plan::Dataset,
) -> Result<u64, GenError> {
    let loaded = truncate_loaded(conn, model).await?;
    let mut written = 0;
    for (&ti, table) in loaded.iter().zip(&dataset.tables) {
        let t = &model.tables[ti];
        let encs = targets[ti].as_ref().expect("loaded tables have targets");
        let mut buf = CopyBuffer::default();
        buf.header();
        for row in &table.rows {
            buf.row(encs.len() as i16);
            for ((&enc, v), name) in encs.iter().zip(row).zip(&table.columns) {
                encode::put(&mut buf, enc, v).map_err(|m| {
                    GenError::Usage(format!("column `{name}` of `{}`: {m}", t.name))
                })?;
            }
        }
        buf.trailer();
        let cols: Vec<String> = t
            .loaded_columns()
            .map(|(_, c)| quote_ident(&c.name))
            .collect();
        let sql = format!(
            "COPY {} ({}) FROM STDIN (FORMAT binary)",
            quote_name(&t.name),
            cols.join(", ")
        );
        let mut sink = conn.copy_in_raw(&sql).await.map_err(db_err)?;
        sink.send(buf.take()).await.map_err(db_err)?;
        sink.finish().await.map_err(db_err)?;
        written += table.rows.len() as u64;
    }
    Ok(written)
}
