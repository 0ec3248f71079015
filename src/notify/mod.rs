//! Alerts after a run: `--notify slack=URL`, `teams=URL`, `webhook=URL`.
//! The URL is a secret: `${NAME}` is read from the environment when the
//! alert is sent, and nothing assay prints contains the expanded URL.

pub mod payload;

pub use payload::Message;

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Slack,
    Teams,
    Webhook,
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Slack => "slack",
            Kind::Teams => "teams",
            Kind::Webhook => "webhook",
        }
    }
}

/// One `--notify` value: its kind, the URL as written (shown in messages)
/// and the URL to use (never shown).
#[derive(Clone)]
pub struct Receiver {
    pub kind: Kind,
    pub written: String,
    url: String,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.kind.name(), self.written)
    }
}

impl Receiver {
    /// Parses `slack=URL` and expands `${NAME}` from the environment.
    pub fn parse(spec: &str) -> Result<Receiver, String> {
        let help = "write --notify slack=URL, teams=URL or webhook=URL (e.g. slack='${SLACK_WEBHOOK_URL}')";
        let (kind, written) = spec
            .split_once('=')
            .ok_or_else(|| format!("--notify `{}`: {help}", shown(spec)))?;
        let kind = match kind.trim() {
            "slack" => Kind::Slack,
            "teams" => Kind::Teams,
            "webhook" => Kind::Webhook,
            other => return Err(format!("--notify: unknown receiver `{other}`; {help}")),
        };
        let written = written.trim().to_string();
        // `${NAME}` as the probe's headers and URL: one template mechanism.
        let url = crate::http::template::Template::parse(&written)
            .and_then(|t| t.expand_env())
            .map_err(|e| format!("--notify {}={}: {e}", kind.name(), shown(&written)))?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "--notify {}={}: not an http(s) URL",
                kind.name(),
                shown(&written)
            ));
        }
        Ok(Receiver { kind, written, url })
    }

    /// How the receiver is shown: `slack=${SLACK_WEBHOOK_URL}`, or for a URL
    /// written out, its scheme and host only.
    pub fn shown(&self) -> String {
        format!("{}={}", self.kind.name(), shown(&self.written))
    }
}

/// A URL as it may be shown: with `${NAME}` kept, else up to the host.
fn shown(written: &str) -> String {
    if written.contains("${") {
        return written.to_string();
    }
    match written.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split('/').next().unwrap_or("");
            let host = host.rsplit('@').next().unwrap_or(host);
            format!("{scheme}://{host}/…")
        }
        None => "…".into(),
    }
}

fn body(kind: Kind, m: &Message) -> serde_json::Value {
    match kind {
        Kind::Slack => payload::slack(m),
        Kind::Teams => payload::teams(m),
        Kind::Webhook => payload::webhook(m),
    }
}

/// Posts the message to every receiver (two attempts each); returns what
/// failed, without URLs.
pub async fn send(receivers: &[Receiver], m: &Message) -> Vec<String> {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("assay/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => return vec![format!("cannot start the HTTP client: {}", e.without_url())],
    };
    let mut errors = Vec::new();
    for r in receivers {
        let json = body(r.kind, m);
        let mut last = String::new();
        let mut delivered = false;
        for attempt in 0..2 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            match client.post(&r.url).json(&json).send().await {
                Ok(resp) if resp.status().is_success() => {
                    delivered = true;
                    break;
                }
                Ok(resp) => {
                    last = format!("HTTP {}", resp.status());
                    if !(resp.status().is_server_error() || resp.status().as_u16() == 429) {
                        break;
                    }
                }
                Err(e) => last = e.without_url().to_string(),
            }
        }
        if !delivered {
            errors.push(format!("{}: {last}", r.shown()));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receivers_never_show_the_expanded_url() {
        std::env::set_var("ASSAY_TEST_HOOK", "https://hooks.example/T000/B000/XYZ");
        let r = Receiver::parse("slack=${ASSAY_TEST_HOOK}").unwrap();
        assert_eq!(r.shown(), "slack=${ASSAY_TEST_HOOK}");
        assert!(!format!("{r:?}").contains("XYZ"));
        let r = Receiver::parse("webhook=https://user:pw@example.com/hook/secret").unwrap();
        assert_eq!(r.shown(), "webhook=https://example.com/…");
        assert!(Receiver::parse("pager=https://x").is_err());
        let e = Receiver::parse("teams=${ASSAY_TEST_HOOK_UNSET}").unwrap_err();
        assert!(e.contains("ASSAY_TEST_HOOK_UNSET is not set"), "{e}");
        assert!(Receiver::parse("slack=ftp://x").is_err());
    }
}
