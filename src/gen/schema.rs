//! The model against the database the `before:` SQL created: every loaded
//! table and column exists, and every column can take what its generator
//! yields. Checked before a single row is written.

use super::encode::Enc;
use super::model::Model;
use crate::error::InputError;
use sqlx::postgres::PgPool;

/// One catalog column: name, `pg_type.typname`, `atttypmod`.
pub type CatalogColumn = (String, String, i32);

/// How each loaded table is written: its loaded columns' encodings (in the
/// model's column order), or None for a table that is not loaded.
pub type Targets = Vec<Option<Vec<Enc>>>;

/// Reads the columns of every loaded table (None: no such relation).
pub async fn catalog(
    pool: &PgPool,
    model: &Model,
) -> Result<Vec<Option<Vec<CatalogColumn>>>, sqlx::Error> {
    let mut out = Vec::new();
    for t in &model.tables {
        if !t.load {
            out.push(None);
            continue;
        }
        let exists: Option<String> = sqlx::query_scalar("select to_regclass($1)::text")
            .bind(&t.name)
            .fetch_one(pool)
            .await?;
        if exists.is_none() {
            out.push(None);
            continue;
        }
        let cols: Vec<(String, String, i32)> = sqlx::query_as(
            "select a.attname::text, t.typname::text, a.atttypmod from pg_attribute a \
             join pg_type t on t.oid = a.atttypid \
             where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped \
             order by a.attnum",
        )
        .bind(&t.name)
        .fetch_all(pool)
        .await?;
        out.push(Some(cols));
    }
    Ok(out)
}

/// Judges the model against the catalog (pure): the encodings, or every
/// mismatch with the model file and line.
pub fn check(
    model: &Model,
    catalog: &[Option<Vec<CatalogColumn>>],
) -> Result<Targets, Vec<InputError>> {
    let mut errors = Vec::new();
    let mut targets = Vec::new();
    let file = &model.file;
    for (t, cat) in model.tables.iter().zip(catalog) {
        if !t.load {
            targets.push(None);
            continue;
        }
        let Some(cols) = cat else {
            errors.push(
                InputError::new(
                    file,
                    format!("table `{}` does not exist in the database", t.name),
                )
                .at(t.line, None)
                .help(
                    "the `scale.before` SQL must create it; write the name as `schema.table`, \
                         or mark a helper table `load: false`",
                ),
            );
            targets.push(None);
            continue;
        };
        let mut encs = Vec::new();
        for (_, c) in t.loaded_columns() {
            let Some((_, typ, typmod)) = cols.iter().find(|(n, _, _)| *n == c.name) else {
                let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
                errors.push(
                    InputError::new(
                        file,
                        format!("`{}` has no column `{}` in the database", t.name, c.name),
                    )
                    .at(c.line, None)
                    .help(format!(
                        "its columns: {}; a column only other columns use can be `hidden: true`",
                        names.join(", ")
                    )),
                );
                continue;
            };
            match Enc::of(typ, *typmod) {
                None => errors.push(
                    InputError::new(
                        file,
                        format!(
                            "column `{}` of `{}` is of type {typ}, which the generator cannot write",
                            c.name, t.name
                        ),
                    )
                    .at(c.line, None)
                    .help("supported: smallint, integer, bigint, real, double precision, numeric, text, varchar, char, boolean, date, timestamp, timestamptz"),
                ),
                Some(enc) => {
                    let yields = c.kind.without_null();
                    if !yields.within(enc.accepts()) {
                        errors.push(
                            InputError::new(
                                file,
                                format!(
                                    "column `{}` of `{}` is {typ} but its generator yields {}",
                                    c.name,
                                    t.name,
                                    yields.describe()
                                ),
                            )
                            .at(c.line, None)
                            .help(format!(
                                "make the generator yield {} (e.g. round() for a whole number, date() for a date)",
                                enc.accepts().without_null().describe()
                            )),
                        );
                    }
                    encs.push(enc);
                }
            }
        }
        targets.push(Some(encs));
    }
    if errors.is_empty() {
        Ok(targets)
    } else {
        Err(errors)
    }
}
