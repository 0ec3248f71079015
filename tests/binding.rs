//! Property tests against a real server: every parameter type assay binds
//! round-trips — the typed value equals what PostgreSQL parses from the
//! value's own text, carries the declared type (NULLs included) — and every
//! value assay decodes reads back as PostgreSQL prints it.

mod pg_cluster;

use assay::db::bind::{bind_all, Bind};
use assay::suite::{ParamType, ParamValue};
use bigdecimal::BigDecimal;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use pg_cluster::Server;
use proptest::prelude::*;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Row};
use std::sync::OnceLock;

/// One server and one connection for the whole file.
struct Db {
    _server: Server,
    rt: tokio::runtime::Runtime,
    conn: std::sync::Mutex<PgConnection>,
}

fn db() -> &'static Db {
    static DB: OnceLock<Db> = OnceLock::new();
    DB.get_or_init(|| {
        let server = Server::primary();
        server.stop_when_this_process_exits();
        server.psql("create role binder login password 'binder-pw' superuser");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let opts = PgConnectOptions::new()
            .host("127.0.0.1")
            .port(server.port)
            .username("binder")
            .password("binder-pw")
            .database("postgres");
        let conn = rt.block_on(PgConnection::connect_with(&opts)).unwrap();
        Db {
            _server: server,
            rt,
            conn: std::sync::Mutex::new(conn),
        }
    })
}

/// (is the bound value the text's value, the bound parameter's type).
fn round_trip(ty: ParamType, value: ParamValue) -> (bool, String) {
    let db = db();
    let text = value.to_sql_text();
    let sql = format!(
        "select $1::{t} is not distinct from $2::text::{t}, pg_typeof($1)::text",
        t = ty.sql()
    );
    let binds = [
        Bind::new(ty, value),
        Bind::new(
            ParamType::Text,
            text.map(ParamValue::Text).unwrap_or(ParamValue::Null),
        ),
    ];
    let mut conn = db.conn.lock().unwrap_or_else(|e| e.into_inner());
    let row = db
        .rt
        .block_on(bind_all(sqlx::query(&sql), &binds).fetch_one(&mut *conn))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    (row.get::<bool, _>(0), row.get::<String, _>(1))
}

fn pg_type_name(ty: ParamType) -> &'static str {
    match ty {
        ParamType::Date => "date",
        ParamType::Text => "text",
        ParamType::Integer => "bigint",
        ParamType::Numeric => "numeric",
        ParamType::Bool => "boolean",
        ParamType::Timestamp => "timestamp without time zone",
        ParamType::Timestamptz => "timestamp with time zone",
        ParamType::TextList => "text[]",
        ParamType::DateList => "date[]",
        ParamType::IntegerList => "bigint[]",
        ParamType::NumericList => "numeric[]",
    }
}

fn date() -> impl Strategy<Value = NaiveDate> {
    // 1000 BC .. 10028 AD: years with fewer and more than four digits.
    (-1_095_000i64..2_932_532)
        .prop_map(|d| NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Duration::days(d))
}

fn timestamp() -> impl Strategy<Value = NaiveDateTime> {
    (date(), 0i64..86_400_000_000)
        .prop_map(|(d, us)| d.and_hms_opt(0, 0, 0).unwrap() + chrono::Duration::microseconds(us))
}

fn timestamptz() -> impl Strategy<Value = DateTime<FixedOffset>> {
    (timestamp(), -14i32 * 4..=14 * 4).prop_map(|(t, q)| {
        FixedOffset::east_opt(q * 900)
            .unwrap()
            .from_utc_datetime(&t)
    })
}

use chrono::TimeZone;

fn numeric() -> impl Strategy<Value = BigDecimal> {
    (any::<i64>(), 0i64..20).prop_map(|(m, s)| BigDecimal::new(m.into(), s))
}

fn text() -> impl Strategy<Value = String> {
    // Any text PostgreSQL can hold (no NUL), quotes, braces and commas included.
    "[^\u{0}]{0,12}"
}

fn scalar(ty: ParamType) -> BoxedStrategy<ParamValue> {
    let v: BoxedStrategy<ParamValue> = match ty {
        ParamType::Date => date().prop_map(ParamValue::Date).boxed(),
        ParamType::Text => text().prop_map(ParamValue::Text).boxed(),
        ParamType::Integer => any::<i64>().prop_map(ParamValue::Integer).boxed(),
        ParamType::Numeric => numeric().prop_map(ParamValue::Numeric).boxed(),
        ParamType::Bool => any::<bool>().prop_map(ParamValue::Bool).boxed(),
        ParamType::Timestamp => timestamp().prop_map(ParamValue::Timestamp).boxed(),
        ParamType::Timestamptz => timestamptz().prop_map(ParamValue::Timestamptz).boxed(),
        _ => unreachable!("lists are built from scalars"),
    };
    prop_oneof![1 => Just(ParamValue::Null), 8 => v].boxed()
}

fn any_param() -> impl Strategy<Value = (ParamType, ParamValue)> {
    let scalars = [
        ParamType::Date,
        ParamType::Text,
        ParamType::Integer,
        ParamType::Numeric,
        ParamType::Bool,
        ParamType::Timestamp,
        ParamType::Timestamptz,
    ];
    let lists = [
        (ParamType::TextList, ParamType::Text),
        (ParamType::DateList, ParamType::Date),
        (ParamType::IntegerList, ParamType::Integer),
        (ParamType::NumericList, ParamType::Numeric),
    ];
    let mut options: Vec<BoxedStrategy<(ParamType, ParamValue)>> = scalars
        .into_iter()
        .map(|t| scalar(t).prop_map(move |v| (t, v)).boxed())
        .collect();
    for (list, elem) in lists {
        options.push(
            prop_oneof![
                1 => Just(ParamValue::Null),
                6 => proptest::collection::vec(scalar(elem), 0..5).prop_map(ParamValue::List),
            ]
            .prop_map(move |v| (list, v))
            .boxed(),
        );
    }
    proptest::strategy::Union::new(options)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn every_parameter_type_round_trips((ty, value) in any_param()) {
        let (same, bound_as) = round_trip(ty, value.clone());
        prop_assert!(same, "{} {value:?} is not what PostgreSQL reads from {:?}", ty.sql(), value.to_sql_text());
        prop_assert_eq!(bound_as, pg_type_name(ty), "typed even when NULL: {:?}", value);
    }
}

#[test]
fn null_of_every_type_is_typed() {
    for ty in [
        ParamType::Date,
        ParamType::Text,
        ParamType::Integer,
        ParamType::Numeric,
        ParamType::Bool,
        ParamType::Timestamp,
        ParamType::Timestamptz,
        ParamType::TextList,
        ParamType::DateList,
        ParamType::IntegerList,
        ParamType::NumericList,
    ] {
        let (same, bound_as) = round_trip(ty, ParamValue::Null);
        assert!(same);
        assert_eq!(bound_as, pg_type_name(ty));
    }
}

/// Runs `sql` (one row, columns `v` and `t`) and returns assay's reading of
/// `v` and PostgreSQL's text of it, `t`.
fn decoded_and_printed(sql: &str, binds: &[Bind]) -> (String, String) {
    let db = db();
    let mut conn = db.conn.lock().unwrap_or_else(|e| e.into_inner());
    let rows = db
        .rt
        .block_on(bind_all(sqlx::query(sql), binds).fetch_all(&mut *conn))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let pg_columns = sqlx::Row::columns(&rows[0]).to_vec();
    let columns = assay::db::decode::columns(&pg_columns);
    let out = assay::db::decode::decode(columns, &pg_columns, &rows, &[]).unwrap();
    let printed = match &out.rows[0][1] {
        assay::output::Cell::Text(t) => t.clone(),
        other => panic!("t is not text: {other:?}"),
    };
    (out.rows[0][0].to_string(), printed)
}

fn int(v: i64) -> Bind {
    Bind::new(ParamType::Integer, ParamValue::Integer(v))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn dates_read_as_postgres_prints_them(days in prop_oneof![
        // From 4713 BC to 5874897 AD, the whole date range, and its infinities.
        -2_451_545i64..2_145_031_948,
        Just(i32::MAX as i64),
        Just(i32::MIN as i64),
    ]) {
        let sql = if days == i32::MAX as i64 {
            "select 'infinity'::date as v, 'infinity'::date::text as t, $1::int8 as x".to_string()
        } else if days == i32::MIN as i64 {
            "select '-infinity'::date as v, '-infinity'::date::text as t, $1::int8 as x".to_string()
        } else {
            "select '2000-01-01'::date + $1::int as v, ('2000-01-01'::date + $1::int)::text as t".to_string()
        };
        let (assay, postgres) = decoded_and_printed(&sql, &[int(days)]);
        prop_assert_eq!(assay, postgres);
    }

    #[test]
    fn timestamps_read_as_postgres_prints_them(us in -211_813_488_000_000_000i64..9_200_000_000_000_000_000) {
        // 4713 BC to 291,000 AD.
        let (assay, postgres) = decoded_and_printed(
            "select '2000-01-01'::timestamp + $1::int8 * interval '1 microsecond' as v, \
             ('2000-01-01'::timestamp + $1::int8 * interval '1 microsecond')::text as t",
            &[int(us)],
        );
        prop_assert_eq!(assay, postgres);
    }

    #[test]
    fn intervals_read_as_postgres_prints_them(
        months in -1_000i64..1_000,
        days in -10_000i64..10_000,
        us in -1_000_000_000_000i64..1_000_000_000_000,
    ) {
        let (assay, postgres) = decoded_and_printed(
            "select make_interval(0, $1::int, 0, $2::int) + $3::int8 * interval '1 microsecond' as v, \
             (make_interval(0, $1::int, 0, $2::int) + $3::int8 * interval '1 microsecond')::text as t",
            &[int(months), int(days), int(us)],
        );
        prop_assert_eq!(assay, postgres);
    }

    #[test]
    fn numerics_read_as_postgres_prints_them(mantissa in any::<i64>(), scale in -10i64..30, special in 0u8..12) {
        let text = match special {
            0 => "NaN".to_string(),
            1 => "Infinity".to_string(),
            2 => "-Infinity".to_string(),
            _ => BigDecimal::new(mantissa.into(), scale).to_string(),
        };
        let (assay, postgres) = decoded_and_printed(
            "select $1::text::numeric as v, $1::text::numeric::text as t",
            &[Bind::text(text)],
        );
        // assay keeps the value, not PostgreSQL's trailing zeros (1.50 = 1.5).
        let canonical = |s: &str| match s.parse::<BigDecimal>() {
            Ok(d) => assay::output::normalize_decimal(&d),
            Err(_) => s.to_string(),
        };
        prop_assert_eq!(canonical(&assay), canonical(&postgres));
    }
}
