//! Foreign keys of the loaded tables, checked once per load instead of once
//! per row.
//!
//! PostgreSQL checks a foreign key with a trigger that runs a query for
//! every inserted row; for a generated table of 100k rows that is most of
//! the server's work for the whole table (a `COPY` of 135k rows into a
//! table with one foreign key: 1.9 s, 0.55 s with the trigger skipped). Where
//! that can be done without changing what the load does, `gen` loads with
//! `session_replication_role = replica` (as `pg_restore --disable-triggers`
//! does) and then checks every foreign key of the loaded tables with one
//! anti-join each ([`violation_query`]). A violation is the same error the
//! trigger would have raised, and the loaded tables are emptied again, so
//! no row that breaks a constraint is left behind.
//!
//! Only when it changes nothing else: the role is superuser (the setting
//! needs it) and no loaded table has a trigger but its foreign keys' own
//! (the setting would silence a trigger of the suite's too, and the
//! recheck of a deferrable unique or exclusion constraint). Otherwise rows
//! load with every trigger, as before.

use super::load::{quote_ident, quote_name};
use super::model::Model;
use super::GenError;
use sqlx::postgres::PgPool;

/// One foreign key of a loaded table.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    pub name: String,
    /// The referencing (loaded) table, schema-qualified.
    pub table: String,
    pub columns: Vec<String>,
    /// The referenced table, schema-qualified.
    pub referenced: String,
    pub referenced_columns: Vec<String>,
    /// `MATCH FULL`: a key with some NULL columns and some not is a
    /// violation (the default, `MATCH SIMPLE`, lets any NULL pass).
    pub match_full: bool,
}

/// A query returning the first row of `fk.table` whose key has no match in
/// the referenced table, as text (`(a, b)=(1, x)`), or no row. Pure.
pub fn violation_query(fk: &ForeignKey) -> String {
    let col = |alias: &str, c: &str| format!("{alias}.{}", quote_ident(c));
    let mine: Vec<String> = fk.columns.iter().map(|c| col("c", c)).collect();
    let equal: Vec<String> = fk
        .columns
        .iter()
        .zip(&fk.referenced_columns)
        .map(|(c, p)| format!("{} = {}", col("p", p), col("c", c)))
        .collect();
    let all_set: Vec<String> = mine.iter().map(|c| format!("{c} is not null")).collect();
    let broken = format!(
        "({}) and not exists (select 1 from {} p where {})",
        all_set.join(" and "),
        quote_name(&fk.referenced),
        equal.join(" and ")
    );
    let broken = if fk.match_full && mine.len() > 1 {
        // Partly NULL keys break MATCH FULL whatever the referenced table holds.
        let nulls = mine
            .iter()
            .map(|c| format!("({c} is null)::int"))
            .collect::<Vec<_>>()
            .join(" + ");
        format!("({broken}) or ({nulls}) between 1 and {}", mine.len() - 1)
    } else {
        broken
    };
    let names: Vec<String> = fk.columns.iter().map(|c| quote_ident(c)).collect();
    let values: Vec<String> = mine
        .iter()
        .map(|c| format!("coalesce({c}::text, 'NULL')"))
        .collect();
    format!(
        "select '({})=(' || {} || ')' from {} c where {broken} limit 1",
        names.join(", ").replace('\'', "''"),
        values.join(" || ', ' || "),
        quote_name(&fk.table),
    )
}

/// A catalog row of [`ForeignKey`]: its fields in order.
type KeyRow = (String, String, Vec<String>, String, Vec<String>, bool);

/// How a load keeps the loaded tables' foreign keys.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyChecks {
    /// Rows load without triggers; these keys are checked once afterwards.
    Deferred(Vec<ForeignKey>),
    /// Rows load with every trigger (the keys checked row by row), for this
    /// reason.
    PerRow(String),
}

impl KeyChecks {
    /// One line for `gen`'s report.
    pub fn describe(&self) -> String {
        match self {
            KeyChecks::Deferred(k) if k.is_empty() => "no foreign keys on the loaded tables".into(),
            KeyChecks::Deferred(k) => format!(
                "{} foreign key{} checked once after the load, not row by row",
                k.len(),
                if k.len() == 1 { "" } else { "s" }
            ),
            KeyChecks::PerRow(why) => format!("foreign keys checked row by row: {why}"),
        }
    }
}

/// Whether rows can load with their foreign keys checked once by [`verify`]
/// (and which keys), or must load with every trigger: not superuser, or a
/// loaded table has a trigger of its own.
pub async fn plan_checks(pool: &PgPool, model: &Model) -> Result<KeyChecks, GenError> {
    let names = super::loaded_tables(model);
    let superuser: bool =
        sqlx::query_scalar("select rolsuper from pg_roles where rolname = current_user")
            .fetch_optional(pool)
            .await
            .map_err(super::db_err)?
            .unwrap_or(false);
    if !superuser {
        return Ok(KeyChecks::PerRow(
            "the role is not superuser (skipping the triggers needs it)".into(),
        ));
    }
    // Every trigger but a foreign key's own: triggers of the suite's, and
    // the internal ones of deferrable unique or exclusion constraints.
    let own_triggers: Option<String> = sqlx::query_scalar(
        "select string_agg(distinct n.nspname || '.' || c.relname, ', ') from pg_trigger t \
         join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace \
         where not (t.tgisinternal and exists \
                    (select 1 from pg_constraint k where k.oid = t.tgconstraint and k.contype = 'f')) \
           and t.tgrelid = any(select to_regclass(n) from unnest($1::text[]) n)",
    )
    .bind(&names)
    .fetch_one(pool)
    .await
    .map_err(super::db_err)?;
    if let Some(tables) = own_triggers {
        return Ok(KeyChecks::PerRow(format!(
            "{tables} has triggers of its own (or a deferrable constraint's), which must fire"
        )));
    }
    let rows: Vec<KeyRow> = sqlx::query_as(
        "select k.conname::text, \
                cn.nspname || '.' || c.relname, \
                array(select a.attname::text from unnest(k.conkey) with ordinality u(n, i) \
                      join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.n order by u.i), \
                pn.nspname || '.' || p.relname, \
                array(select a.attname::text from unnest(k.confkey) with ordinality u(n, i) \
                      join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.n order by u.i), \
                k.confmatchtype = 'f' \
         from pg_constraint k \
         join pg_class c on c.oid = k.conrelid join pg_namespace cn on cn.oid = c.relnamespace \
         join pg_class p on p.oid = k.confrelid join pg_namespace pn on pn.oid = p.relnamespace \
         where k.contype = 'f' \
           and k.conrelid = any(select to_regclass(n) from unnest($1::text[]) n) \
         order by 2, 1",
    )
    .bind(&names)
    .fetch_all(pool)
    .await
    .map_err(super::db_err)?;
    Ok(KeyChecks::Deferred(
        rows.into_iter()
            .map(
                |(name, table, columns, referenced, referenced_columns, match_full)| ForeignKey {
                    name,
                    table,
                    columns,
                    referenced,
                    referenced_columns,
                    match_full,
                },
            )
            .collect(),
    ))
}

/// Checks every foreign key after a load without their triggers. On a
/// violation the model's loaded tables are emptied (no row that breaks a
/// constraint stays) and the error names the constraint and the key, as
/// the trigger would have.
pub async fn verify(pool: &PgPool, model: &Model, fks: &[ForeignKey]) -> Result<(), GenError> {
    for fk in fks {
        let found: Option<String> = sqlx::query_scalar(&violation_query(fk))
            .fetch_optional(pool)
            .await
            .map_err(super::db_err)?;
        if let Some(key) = found {
            let emptied = match empty_loaded(pool, model).await {
                Ok(()) => "the loaded tables were emptied again".to_string(),
                Err(GenError::Database(m)) => {
                    format!("the loaded tables could not be emptied: {m}")
                }
                Err(other) => format!("the loaded tables could not be emptied: {other:?}"),
            };
            return Err(GenError::Database(format!(
                "insert or update on table \"{}\" violates foreign key constraint \"{}\": \
                 Key {key} is not present in table \"{}\" (the model's rows for `{}` refer to \
                 rows it did not generate; {emptied})",
                fk.table, fk.name, fk.referenced, fk.table
            )));
        }
    }
    Ok(())
}

/// The loaded tables emptied with the loader's own TRUNCATE.
async fn empty_loaded(pool: &PgPool, model: &Model) -> Result<(), GenError> {
    let mut conn = pool.acquire().await.map_err(super::db_err)?;
    super::load::truncate_loaded(&mut conn, model)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fk(cols: &[&str], full: bool) -> ForeignKey {
        ForeignKey {
            name: "f".into(),
            table: "app.lines".into(),
            columns: cols.iter().map(|s| s.to_string()).collect(),
            referenced: "app.orders".into(),
            referenced_columns: cols.iter().map(|s| format!("{s}_ref")).collect(),
            match_full: full,
        }
    }

    #[test]
    fn one_column_keys_let_null_pass() {
        let q = violation_query(&fk(&["order_id"], false));
        assert_eq!(
            q,
            "select '(order_id)=(' || coalesce(c.order_id::text, 'NULL') || ')' from app.lines c \
             where (c.order_id is not null) and not exists \
             (select 1 from app.orders p where p.order_id_ref = c.order_id) limit 1"
        );
    }

    #[test]
    fn match_full_keys_reject_partly_null_keys() {
        let q = violation_query(&fk(&["a", "Shop"], true));
        assert!(
            q.contains("(c.a is null)::int + (c.\"Shop\" is null)::int) between 1 and 1"),
            "{q}"
        );
        assert!(
            q.contains("p.a_ref = c.a and p.\"Shop_ref\" = c.\"Shop\""),
            "{q}"
        );
        let simple = violation_query(&fk(&["a", "b"], false));
        assert!(!simple.contains("between"), "{simple}");
    }
}
