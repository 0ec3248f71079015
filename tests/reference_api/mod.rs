//! A reference API for the probe tests: a small axum server over a real
//! fixture database serving the 13 dashboard routes from `sql/endpoints/`,
//! each running its query with the request's parameters, answering JSON
//! the way the frontend reads it (a list of rows; the KPI card as one
//! object). Variants break one route in one way, or answer in the shape a
//! FastAPI backend would (decimals as strings, wrapped lists, other names).
//!
//! The frontend's code is not in this repository: the plain shapes follow
//! the check files' `expect.columns`, which the suite calls the frontend
//! contract.
#![allow(dead_code)]

// Shared with the other server helper; a test may include both.
#[allow(clippy::duplicate_mod)]
#[path = "../certs/mod.rs"]
mod certs;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// One route: its path, query file, parameters with their SQL types, and
/// whether it answers a single object.
pub struct RouteDef {
    pub path: &'static str,
    pub sql: &'static str,
    pub params: &'static [(&'static str, &'static str)],
    pub single_row: bool,
}

const WINDOW: &[(&str, &str)] = &[("date_from", "date"), ("date_to", "date")];
const FILTERED: &[(&str, &str)] = &[
    ("date_from", "date"),
    ("date_to", "date"),
    ("platform", "text"),
];
const LIMITED: &[(&str, &str)] = &[
    ("date_from", "date"),
    ("date_to", "date"),
    ("limit", "int8"),
];

pub const KPI: &str = "/api/analytics/dashboard/v5/kpi";
pub const LEADS_TREND: &str = "/api/analytics/dashboard/v5/trend/leads";
pub const SPEND_TREND: &str = "/api/analytics/dashboard/v5/trend/spend";
pub const CAMPAIGNS: &str = "/api/analytics/sales/v5/campaigns";
pub const PLATFORM_SHARE: &str = "/api/analytics/sales/v5/share/platforms";
pub const UTM_SOURCES: &str = "/api/analytics/sales/v5/utm-sources";
pub const WOW: &str = "/api/analytics/campaigns/v5/campaigns/wow";
pub const SCATTER: &str = "/api/analytics/campaigns/v5/campaigns/scatter-matrix";
pub const ANOMALIES: &str = "/api/analytics/campaigns/v5/campaigns/anomalies";
pub const BUDGET: &str = "/api/analytics/sales/v6/reco/budget";
pub const INSIGHTS: &str = "/api/analytics/campaigns/v7/insights/campaign-performance";
pub const METRICS_TREND: &str = "/api/analytics/campaigns/v7/metrics/trend";
pub const PAID_SPLIT: &str = "/api/analytics/sales/v6/leads/paid-split/platforms";

pub const ROUTES: &[RouteDef] = &[
    RouteDef {
        path: KPI,
        sql: "kpi.sql",
        params: FILTERED,
        single_row: true,
    },
    RouteDef {
        path: LEADS_TREND,
        sql: "leads_trend.sql",
        params: FILTERED,
        single_row: false,
    },
    RouteDef {
        path: SPEND_TREND,
        sql: "spend_trend.sql",
        params: FILTERED,
        single_row: false,
    },
    RouteDef {
        path: CAMPAIGNS,
        sql: "campaigns.sql",
        params: &[
            ("date_from", "date"),
            ("date_to", "date"),
            ("platform", "text"),
            ("limit", "int8"),
        ],
        single_row: false,
    },
    RouteDef {
        path: PLATFORM_SHARE,
        sql: "platform_share.sql",
        params: WINDOW,
        single_row: false,
    },
    RouteDef {
        path: UTM_SOURCES,
        sql: "utm_sources.sql",
        params: WINDOW,
        single_row: false,
    },
    RouteDef {
        path: WOW,
        sql: "wow.sql",
        params: &[("date_to", "date")],
        single_row: false,
    },
    RouteDef {
        path: SCATTER,
        sql: "scatter_matrix.sql",
        params: WINDOW,
        single_row: false,
    },
    RouteDef {
        path: ANOMALIES,
        sql: "anomalies.sql",
        params: WINDOW,
        single_row: false,
    },
    RouteDef {
        path: BUDGET,
        sql: "budget_recommendations.sql",
        params: LIMITED,
        single_row: false,
    },
    RouteDef {
        path: INSIGHTS,
        sql: "campaign_insights.sql",
        params: LIMITED,
        single_row: false,
    },
    RouteDef {
        path: METRICS_TREND,
        sql: "metrics_trend.sql",
        params: WINDOW,
        single_row: false,
    },
    RouteDef {
        path: PAID_SPLIT,
        sql: "paid_split.sql",
        params: WINDOW,
        single_row: false,
    },
];

/// One way to break one route.
#[derive(Clone, Debug)]
pub enum Defect {
    /// (a) canned rows instead of the database's.
    MockRows(Value),
    /// (b) the `platform` parameter is dropped.
    IgnorePlatform,
    /// (c) HTTP 500.
    Status500,
    /// (d) the answer comes this much later.
    Slow(Duration),
    /// (e) every number sent as a string.
    NumbersAsStrings,
    /// (f) a field left out of every row.
    MissingColumn(&'static str),
    /// Canned rows for the first request only (data that moved while the
    /// probe read it), the database's after that.
    MockRowsOnce(Value, Arc<std::sync::atomic::AtomicBool>),
}

/// How the API answers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Style {
    /// The contract's names and shapes, numbers as numbers.
    #[default]
    Plain,
    /// What a FastAPI/pydantic v2 backend might serve: the KPI's decimals
    /// as strings, trends wrapped in `{"data": [...]}`, campaigns'
    /// `n_contracts` as `contracts`, the metrics trend taking `start`/`end`,
    /// week-over-week at `/wow/{end_date}`.
    FastApi,
}

#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    pub style: Style,
    /// A defect on one route (by path).
    pub defect: Option<(&'static str, Defect)>,
    /// Every request must carry this header with this value (else 401).
    pub require_header: Option<(String, String)>,
}

struct Prepared {
    def: &'static RouteDef,
    /// `select json_agg(...) from (<query>) t` with `$n::type` parameters.
    sql: String,
    order: Vec<String>,
}

struct App {
    pool: PgPool,
    routes: Vec<Prepared>,
    behaviour: Behaviour,
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn prepare(def: &'static RouteDef) -> Prepared {
    let text = std::fs::read_to_string(repo().join("sql/endpoints").join(def.sql)).unwrap();
    let casts: BTreeMap<String, String> = def
        .params
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    let rewritten = assay::sql::rewrite(assay::sql::strip_trailing_semicolon(&text), &casts);
    Prepared {
        def,
        sql: format!(
            "select coalesce(json_agg(t), '[]'::json)::text from (\n{}\n) t",
            rewritten.sql
        ),
        order: rewritten.order,
    }
}

fn error(status: StatusCode, detail: &str) -> Response {
    (status, Json(json!({ "detail": detail }))).into_response()
}

fn strings_for_numbers(v: &mut Value, only: Option<&[&str]>) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(|i| strings_for_numbers(i, only)),
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if let Value::Number(n) = val {
                    if only.is_none_or(|o| o.contains(&k.as_str())) {
                        *val = Value::String(n.to_string());
                    }
                }
            }
        }
        _ => {}
    }
}

fn rename_field(v: &mut Value, from: &str, to: &str) {
    if let Value::Array(items) = v {
        for i in items {
            if let Value::Object(m) = i {
                if let Some(x) = m.remove(from) {
                    m.insert(to.to_string(), x);
                }
            }
        }
    }
}

async fn handle(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
    Query(mut query): Query<HashMap<String, String>>,
) -> Response {
    if let Some((name, value)) = &app.behaviour.require_header {
        let ok = headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == value);
        if !ok {
            return error(StatusCode::UNAUTHORIZED, "Not authenticated");
        }
    }
    let fastapi = app.behaviour.style == Style::FastApi;
    let mut path = uri.path().to_string();
    if fastapi {
        // Week over week takes its end date in the path; the metrics trend
        // takes `start` and `end`.
        if let Some(end) = path.strip_prefix(&format!("{WOW}/")) {
            query.insert("date_to".into(), end.to_string());
            path = WOW.to_string();
        } else if path == WOW {
            return error(StatusCode::NOT_FOUND, "Not Found");
        }
        if path == METRICS_TREND {
            for (api, sql) in [("start", "date_from"), ("end", "date_to")] {
                match query.remove(api) {
                    Some(v) => {
                        query.insert(sql.into(), v);
                    }
                    None => {
                        return error(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "start and end are required",
                        )
                    }
                }
            }
        }
    }
    let Some(route) = app.routes.iter().find(|r| r.def.path == path) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let defect = app
        .behaviour
        .defect
        .as_ref()
        .filter(|(p, _)| *p == route.def.path)
        .map(|(_, d)| d.clone());
    match &defect {
        Some(Defect::Status500) => {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
        Some(Defect::Slow(d)) => tokio::time::sleep(*d).await,
        Some(Defect::MockRows(rows)) => return Json(rows.clone()).into_response(),
        Some(Defect::MockRowsOnce(rows, served))
            if !served.swap(true, std::sync::atomic::Ordering::SeqCst) =>
        {
            return Json(rows.clone()).into_response();
        }
        Some(Defect::IgnorePlatform) => {
            query.remove("platform");
        }
        _ => {}
    }
    let mut q = sqlx::query_scalar::<_, String>(&route.sql);
    for name in &route.order {
        q = q.bind(query.get(name).cloned());
    }
    let text = match q.fetch_one(&app.pool).await {
        Ok(t) => t,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let mut body: Value = serde_json::from_str(&text).unwrap();
    match &defect {
        Some(Defect::NumbersAsStrings) => strings_for_numbers(&mut body, None),
        Some(Defect::MissingColumn(c)) => {
            if let Value::Array(items) = &mut body {
                for i in items {
                    if let Value::Object(m) = i {
                        m.remove(*c);
                    }
                }
            }
        }
        _ => {}
    }
    if fastapi {
        match route.def.path {
            KPI => strings_for_numbers(&mut body, Some(&["revenue", "spend", "cpl", "roas"])),
            CAMPAIGNS => rename_field(&mut body, "n_contracts", "contracts"),
            _ => {}
        }
    }
    if route.def.single_row {
        body = match body {
            Value::Array(mut items) if items.len() == 1 => items.remove(0),
            other => other,
        };
    }
    if fastapi && (route.def.path == LEADS_TREND || route.def.path == SPEND_TREND) {
        body = json!({ "data": body, "meta": { "generated_by": "reference-api" } });
    }
    Json(body).into_response()
}

/// A certificate authority and a server certificate for 127.0.0.1 (PEM for
/// the client, DER for the server), made with openssl.
pub struct Tls {
    pub dir: tempfile::TempDir,
}

impl Tls {
    pub fn new() -> Tls {
        let dir = tempfile::tempdir().unwrap();
        let openssl = |args: &[&str]| certs::openssl(dir.path(), args);
        certs::ca_and_server(dir.path(), "assay-probe-test-ca");
        openssl(&[
            "x509",
            "-in",
            "server.crt",
            "-outform",
            "DER",
            "-out",
            "server.der",
        ]);
        openssl(&[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            "server.key",
            "-outform",
            "DER",
            "-out",
            "server.key.der",
        ]);
        Tls { dir }
    }
    pub fn ca_pem(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }
    fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        use tokio_rustls::rustls;
        let cert = std::fs::read(self.dir.path().join("server.der")).unwrap();
        let key = std::fs::read(self.dir.path().join("server.key.der")).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.into()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()),
        )
        .unwrap();
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }
}

/// TCP connections that complete a TLS handshake (failed handshakes, such
/// as a client refusing the certificate, are dropped).
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;
    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            let handshake = self.acceptor.accept(tcp);
            if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_secs(5), handshake).await {
                return (s, addr);
            }
        }
    }
    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// A running server; dropping it stops it and waits for its thread.
pub struct Server {
    pub url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves `router` on 127.0.0.1 (over TLS with `tls`) on its own runtime.
fn serve(
    make_router: impl FnOnce() -> axum::Router + Send + 'static,
    tls: Option<tokio_rustls::TlsAcceptor>,
    before: impl std::future::Future<Output = ()> + Send + 'static,
) -> Server {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            before.await;
            let router = make_router();
            let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            port_tx.send(tcp.local_addr().unwrap().port()).unwrap();
            let stop = async {
                let _ = rx.await;
            };
            match tls {
                None => axum::serve(tcp, router)
                    .with_graceful_shutdown(stop)
                    .await
                    .unwrap(),
                Some(acceptor) => axum::serve(TlsListener { tcp, acceptor }, router)
                    .with_graceful_shutdown(stop)
                    .await
                    .unwrap(),
            }
        });
    });
    let port = port_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the reference API did not start");
    Server {
        url: format!("127.0.0.1:{port}"),
        shutdown: Some(tx),
        thread: Some(thread),
    }
}

/// The reference API over `database_url`.
pub fn start(database_url: &str, behaviour: Behaviour) -> Server {
    start_with(database_url, behaviour, None)
}

/// The reference API over `database_url`, over TLS with `tls` when given.
pub fn start_with(database_url: &str, behaviour: Behaviour, tls: Option<&Tls>) -> Server {
    let url = database_url.to_string();
    let (pool_tx, pool_rx) = std::sync::mpsc::channel::<PgPool>();
    let https = tls.is_some();
    let before = async move {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect(&url)
            .await
            .expect("the reference API cannot reach its database");
        pool_tx.send(pool).unwrap();
    };
    let mut s = serve(
        move || {
            let pool = pool_rx.recv().unwrap();
            let app = Arc::new(App {
                pool,
                routes: ROUTES.iter().map(prepare).collect(),
                behaviour,
            });
            axum::Router::new().fallback(handle).with_state(app)
        },
        tls.map(Tls::acceptor),
        before,
    );
    s.url = format!("{}://{}", if https { "https" } else { "http" }, s.url);
    s
}

/// A server answering `body` at `path` (for suites without a database).
pub fn fixed(path: &'static str, body: Value, tls: Option<&Tls>) -> Server {
    let https = tls.is_some();
    let mut s = serve(
        move || {
            axum::Router::new().route(
                path,
                axum::routing::get(move || {
                    let b = body.clone();
                    async move { Json(b) }
                }),
            )
        },
        tls.map(Tls::acceptor),
        async {},
    );
    s.url = format!("{}://{}", if https { "https" } else { "http" }, s.url);
    s
}
