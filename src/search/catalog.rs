//! How each column of the model's tables is written and whether it takes
//! NULL, from the database the search loads into (IO).

use super::domain::ColumnTypes;
use crate::gen::model::Model;
use crate::gen::schema::Targets;
use sqlx::postgres::PgPool;

/// The model's tables checked against the schema in `pool` (the COPY
/// encodings) and their columns' types and nullability.
pub async fn column_types(pool: &PgPool, model: &Model) -> Result<(Targets, ColumnTypes), String> {
    let targets = crate::gen::targets(pool, model)
        .await
        .map_err(|e| match e {
            crate::gen::GenError::Model(errors) => errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            crate::gen::GenError::Database(m) | crate::gen::GenError::Usage(m) => m,
            crate::gen::GenError::Setup(s) => format!("{}: {}", s.file.display(), s.message),
        })?;
    let qualified = |n: &str| {
        if n.contains('.') {
            n.to_string()
        } else {
            format!("public.{n}")
        }
    };
    let names: Vec<String> = model.tables.iter().map(|t| qualified(&t.name)).collect();
    let rows: Vec<(String, String, bool)> = sqlx::query_as(
        "select n.nspname || '.' || c.relname, a.attname::text, a.attnotnull
         from pg_attribute a
         join pg_class c on c.oid = a.attrelid
         join pg_namespace n on n.oid = c.relnamespace
         where n.nspname || '.' || c.relname = any($1) and a.attnum > 0 and not a.attisdropped",
    )
    .bind(&names)
    .fetch_all(pool)
    .await
    .map_err(|e| crate::db::describe_error(&e).0)?;
    let mut types = ColumnTypes::default();
    for (ti, t) in model.tables.iter().enumerate() {
        let Some(encs) = &targets[ti] else { continue };
        for ((_, col), &enc) in t.loaded_columns().zip(encs) {
            let not_null = rows
                .iter()
                .any(|(rel, name, nn)| *rel == names[ti] && *name == col.name && *nn);
            types
                .columns
                .insert((t.name.clone(), col.name.clone()), (enc, !not_null));
        }
    }
    Ok((targets, types))
}
