//! `--notify slack=URL|teams=URL|webhook=URL` against a local HTTP listener:
//! the three payloads (insta snapshots), URLs from the environment that
//! never show, an undeliverable alert that is reported but does not change
//! the verdict, and silence when nothing is new.

mod common;

use common::{suite, Assay};
use regex::Regex;
use serde_json::Value;
use std::sync::{Arc, Mutex};

type Inbox = Arc<Mutex<Vec<(String, Value)>>>;

/// A listener on 127.0.0.1 that records every POST; `/fail/...` answers 500.
struct Listener {
    port: u16,
    inbox: Inbox,
    _rt: tokio::runtime::Runtime,
}

impl Listener {
    fn start() -> Listener {
        use axum::{
            body::Bytes, extract::State, http::StatusCode, http::Uri, routing::post, Router,
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let inbox: Inbox = Arc::default();
        async fn hook(State(inbox): State<Inbox>, uri: Uri, body: Bytes) -> StatusCode {
            let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
            inbox.lock().unwrap().push((uri.path().to_string(), json));
            if uri.path().starts_with("/fail") {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::OK
            }
        }
        let app = Router::new()
            .route("/{*path}", post(hook))
            .with_state(inbox.clone());
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
        Listener {
            port,
            inbox,
            _rt: rt,
        }
    }
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
    fn received(&self) -> Vec<(String, Value)> {
        self.inbox.lock().unwrap().clone()
    }
}

const TOKEN: &str = "T0K3N-do-not-print-8841";

fn redact(v: &Value) -> String {
    let text = serde_json::to_string_pretty(v).unwrap();
    let rules: &[(&str, &str)] = &[
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"\d+(\.\d+)? ms\b", "[t] ms"),
        (r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "[time] UTC"),
        (r#""started_at": "[^"]+""#, r#""started_at": "[time]""#),
        (r#""run_id": "[^"]+""#, r#""run_id": "[id]""#),
    ];
    let mut s = text;
    for (re, with) in rules {
        s = Regex::new(re).unwrap().replace_all(&s, *with).into_owned();
    }
    s
}

#[test]
fn alerts_reach_slack_teams_and_a_webhook_without_showing_their_urls() {
    let hooks = Listener::start();
    let out = Assay::new(suite("fail"))
        .args(["run", "--no-progress", "-j", "1"])
        .args(["--notify", "slack=${ASSAY_TEST_SLACK}"])
        .args([
            "--notify",
            &format!("teams={}", hooks.url("/teams/workflow")),
        ])
        .args(["--notify", "webhook=${ASSAY_TEST_HOOK}"])
        .env("ASSAY_TEST_SLACK", hooks.url(&format!("/slack/{TOKEN}")))
        .env("ASSAY_TEST_HOOK", hooks.url(&format!("/hook/{TOKEN}")))
        .env("ASSAY_NOW", "2025-10-06T02:00:00Z")
        .run();
    out.expect_code(1);
    assert!(!out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN));
    let got = hooks.received();
    let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            format!("/slack/{TOKEN}").as_str(),
            "/teams/workflow",
            format!("/hook/{TOKEN}").as_str()
        ]
    );
    let (slack, teams, hook) = (&got[0].1, &got[1].1, &got[2].1);
    // Slack incoming webhook: a fallback text and Block Kit blocks.
    assert!(slack["text"]
        .as_str()
        .unwrap()
        .starts_with("assay: example-fail — "));
    assert_eq!(slack["blocks"][0]["type"], "header");
    assert!(slack["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["text"]["text"]
            .as_str()
            .unwrap_or("")
            .starts_with("*New failures*")));
    // Teams Workflows: a message carrying one Adaptive Card.
    assert_eq!(teams["type"], "message");
    let card = &teams["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(card["content"]["version"], "1.4");
    // assay's own JSON.
    assert_eq!(hook["schema"], "assay.notification/v1");
    assert_eq!(hook["status"], "failed");
    assert_eq!(hook["exit_code"], 1);
    let new = hook["new_failures"].as_array().unwrap();
    assert!(!new.is_empty());
    assert_eq!(
        new.len() as u64,
        hook["counts"]["failed"].as_u64().unwrap() + hook["counts"]["errored"].as_u64().unwrap()
    );
    insta::assert_snapshot!("slack", redact(slack));
    insta::assert_snapshot!("teams", redact(teams));
    insta::assert_snapshot!("webhook", redact(hook));
}

#[test]
fn an_alert_that_cannot_be_delivered_is_reported_and_recorded() {
    let hooks = Listener::start();
    let tmp = tempfile::tempdir().unwrap();
    let history = tmp.path().join("history");
    let out = Assay::new(suite("fail"))
        .args(["run", "--no-progress", "--history"])
        .args([history.as_os_str()])
        .args(["--notify", "webhook=${ASSAY_TEST_FAIL}"])
        .env("ASSAY_TEST_FAIL", hooks.url(&format!("/fail/{TOKEN}")))
        .env("ASSAY_NOW", "2025-10-06T02:00:00Z")
        .run();
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("warning: alert not delivered: webhook=${ASSAY_TEST_FAIL}: HTTP 500"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN));
    assert_eq!(
        hooks.received().len(),
        2,
        "tried twice (a 5xx is retried once)"
    );
    let file = std::fs::read_dir(history.join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let record = std::fs::read_to_string(file).unwrap();
    assert!(!record.contains(TOKEN));
    let rec: Value = serde_json::from_str(&record).unwrap();
    assert_eq!(
        rec["notify_errors"][0],
        "webhook=${ASSAY_TEST_FAIL}: HTTP 500 Internal Server Error"
    );
    // A connection refused is reported the same way, without the URL.
    let out = Assay::new(suite("fail"))
        .args(["run", "--no-progress"])
        .args(["--notify", &format!("slack=http://127.0.0.1:9/{TOKEN}")])
        .run();
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("warning: alert not delivered: slack=http://127.0.0.1:9/…: "),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(TOKEN), "{}", out.stderr);
}

#[test]
fn nothing_new_means_no_alert() {
    let hooks = Listener::start();
    let tmp = tempfile::tempdir().unwrap();
    let history = tmp.path().join("history");
    let notify = format!("webhook={}", hooks.url("/hook"));
    // A passing suite: nothing to say.
    Assay::new(suite("pass"))
        .args(["run", "--no-progress", "--notify", &notify])
        .run()
        .expect_code(0);
    assert_eq!(hooks.received().len(), 0);
    // A failing suite: the first night alerts, the second (still failing, nothing new) does not.
    for (now, want) in [("2025-10-06T02:00:00Z", 1), ("2025-10-07T02:00:00Z", 1)] {
        Assay::new(suite("fail"))
            .args(["run", "--no-progress", "--notify", &notify, "--history"])
            .args([history.as_os_str()])
            .env("ASSAY_NOW", now)
            .run()
            .expect_code(1);
        assert_eq!(hooks.received().len(), want, "after the run of {now}");
    }
}

#[test]
fn a_missing_secret_is_an_input_error_naming_the_variable() {
    let out = Assay::new(suite("pass"))
        .args([
            "run",
            "--no-progress",
            "--notify",
            "teams=${ASSAY_TEST_UNSET_HOOK}",
        ])
        .env_remove("ASSAY_TEST_UNSET_HOOK")
        .run();
    out.expect_code(2);
    assert!(
        out.stderr.contains("--notify teams=${ASSAY_TEST_UNSET_HOOK}: the environment variable ASSAY_TEST_UNSET_HOOK is not set"),
        "{}",
        out.stderr
    );
    let out = Assay::new(suite("pass"))
        .args([
            "run",
            "--no-progress",
            "--notify",
            "pager=https://example.com",
        ])
        .run();
    out.expect_code(2);
    assert!(
        out.stderr.contains("unknown receiver `pager`"),
        "{}",
        out.stderr
    );
}

mod notify_specs {
    use assay::notify::Receiver;
    use proptest::prelude::*;

    proptest! {
        /// Any `--notify` value either parses or says what is wrong, and
        /// what is shown of it never holds the expanded secret.
        #[test]
        fn receivers_parse_or_explain_and_never_show_the_secret(kind in "(slack|teams|webhook|pager)", rest in "[ -~]{0,40}") {
            std::env::set_var("ASSAY_PROP_SECRET", "https://hooks.example/s3cr3t-Pr0p");
            for spec in [format!("{kind}={rest}"), format!("{kind}=${{ASSAY_PROP_SECRET}}{rest}")] {
                match Receiver::parse(&spec) {
                    Ok(r) => {
                        let debug = format!("{:?}", r);
                        prop_assert!(!r.shown().contains("s3cr3t-Pr0p") && !debug.contains("s3cr3t-Pr0p"));
                    }
                    Err(e) => prop_assert!(!e.contains("s3cr3t-Pr0p"), "{}", e),
                }
            }
        }
    }
}
