//! The probe's HTTP client: GET only, to one API, with the headers given,
//! TLS through rustls (plus a CA of your own), timeouts, and retries while
//! the API cannot be reached. Secrets in the URL or headers never leave it:
//! errors are rendered without URLs, and the API is shown as written.

use super::headers::{header_map, HeaderSpec};
use super::route::Request;
use super::template::Template;
use regex::Regex;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Waits between attempts while the API cannot be reached (as the engine
/// waits for a database): four attempts over about three seconds.
pub const BACKOFF_MS: [u64; 3] = [200, 800, 2000];

/// How to reach the API.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The API's base URL; `${NAME}` references are read from the environment.
    pub base_url: Template,
    pub headers: Vec<HeaderSpec>,
    /// A PEM file of CA certificates to trust besides the built-in roots.
    pub ca_cert: Option<PathBuf>,
    pub connect_timeout: Duration,
}

/// One answer, read to the end.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// `404 Not Found`
    pub status_text: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// From sending the request to the last byte of the body.
    pub elapsed: Duration,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// The start of the body as text, for messages.
    pub fn body_excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if one_line.chars().count() > 120 {
            format!("{}…", one_line.chars().take(120).collect::<String>())
        } else {
            one_line
        }
    }
}

/// Why a call got no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// No connection after every retry: the API is down or unreachable.
    Unreachable { attempts: usize, message: String },
    /// Connected, but no complete answer within the timeout.
    Timeout { after: Duration },
    /// Connected, but the exchange failed (connection reset, bad HTTP).
    Failed(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Unreachable { attempts, message } => {
                write!(f, "unreachable after {attempts} attempts: {message}")
            }
            CallError::Timeout { after } => {
                write!(f, "no answer within {:.1} s", after.as_secs_f64())
            }
            CallError::Failed(m) => f.write_str(m),
        }
    }
}

pub struct ApiClient {
    client: reqwest::Client,
    /// scheme://authority + base path, without a trailing slash (may hold secrets).
    prefix: String,
    /// The base URL's own query, if any (may hold secrets).
    base_query: Option<String>,
    shown: String,
}

/// `https://user:pw@host` -> `https://[redacted]@host`.
fn redact_userinfo(text: &str) -> String {
    static USERINFO: OnceLock<Regex> = OnceLock::new();
    let re = USERINFO.get_or_init(|| Regex::new(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@").unwrap());
    re.replace(text, "$1[redacted]@").to_string()
}

/// An error's message and its causes, without any URL.
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let m = s.to_string();
        if !parts.iter().any(|p| p.contains(&m)) {
            parts.push(m);
        }
        source = s.source();
    }
    parts.join(": ")
}

impl ApiClient {
    /// Builds the client. Errors are bad input: an unset variable, a bad
    /// URL, a header that cannot be sent, an unreadable CA file.
    pub fn new(opts: &ClientOptions) -> Result<ApiClient, String> {
        let shown = redact_userinfo(opts.base_url.shown());
        let expanded = opts
            .base_url
            .expand_env()
            .map_err(|e| format!("--api-url {shown}: {e}"))?;
        let url = reqwest::Url::parse(&expanded)
            .map_err(|e| format!("--api-url {shown} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "--api-url {shown}: only http and https APIs can be probed"
            ));
        }
        if url.fragment().is_some() {
            return Err(format!("--api-url {shown}: remove the #fragment"));
        }
        let mut prefix = url.clone();
        prefix.set_query(None);
        let prefix = prefix.as_str().trim_end_matches('/').to_string();
        let headers = header_map(&opts.headers, |n| std::env::var(n).ok())?;
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(opts.connect_timeout)
            .user_agent(concat!("assay-probe/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers);
        if let Some(path) = &opts.ca_cert {
            let pem = std::fs::read(path)
                .map_err(|e| format!("--api-ca-cert {}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                format!(
                    "--api-ca-cert {}: not PEM certificates: {}",
                    path.display(),
                    describe(e)
                )
            })?;
            if certs.is_empty() {
                return Err(format!(
                    "--api-ca-cert {}: no certificate in the file",
                    path.display()
                ));
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {}", describe(e)))?;
        Ok(ApiClient {
            client,
            prefix,
            base_query: url.query().map(str::to_string),
            shown,
        })
    }

    /// The API as written on the command line (`${NAME}` unexpanded, no password).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    fn url(&self, req: &Request) -> String {
        let mut url = format!("{}{}", self.prefix, req.path_and_query());
        if let Some(q) = &self.base_query {
            url.push(if req.query.is_empty() { '?' } else { '&' });
            url.push_str(q);
        }
        url
    }

    /// One GET, once.
    async fn get_once(&self, url: &str, timeout: Duration) -> Result<Answer, (bool, CallError)> {
        let start = Instant::now();
        let sent = self.client.get(url).timeout(timeout).send().await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Err((false, CallError::Timeout { after: timeout })),
            Err(e) if e.is_connect() => {
                return Err((
                    true,
                    CallError::Unreachable {
                        attempts: 1,
                        message: describe(e),
                    },
                ))
            }
            Err(e) => return Err((false, CallError::Failed(describe(e)))),
        };
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = match resp.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) if e.is_timeout() => return Err((false, CallError::Timeout { after: timeout })),
            Err(e) => {
                return Err((
                    false,
                    CallError::Failed(format!("reading the answer: {}", describe(e))),
                ))
            }
        };
        Ok(Answer {
            status: status.as_u16(),
            status_text: match status.canonical_reason() {
                Some(r) => format!("{} {r}", status.as_u16()),
                None => status.as_u16().to_string(),
            },
            content_type,
            body,
            elapsed: start.elapsed(),
        })
    }

    /// GET `req`, again after a backoff while the API cannot be reached.
    pub async fn get(&self, req: &Request, timeout: Duration) -> Result<Answer, CallError> {
        let url = self.url(req);
        let mut attempt = 0;
        loop {
            match self.get_once(&url, timeout).await {
                Ok(a) => return Ok(a),
                Err((true, CallError::Unreachable { message, .. }))
                    if attempt < BACKOFF_MS.len() =>
                {
                    let _ = message;
                    tokio::time::sleep(Duration::from_millis(BACKOFF_MS[attempt])).await;
                    attempt += 1;
                }
                Err((_, CallError::Unreachable { message, .. })) => {
                    return Err(CallError::Unreachable {
                        attempts: attempt + 1,
                        message,
                    })
                }
                Err((_, e)) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_the_url_are_not_shown() {
        assert_eq!(
            redact_userinfo("https://bob:pw@api.example.com/x"),
            "https://[redacted]@api.example.com/x"
        );
        assert_eq!(
            redact_userinfo("https://api.example.com/x@y"),
            "https://api.example.com/x@y"
        );
    }

    #[test]
    fn requests_go_under_the_base_path_with_its_query_kept() {
        std::env::set_var("ASSAY_TEST_CLIENT_KEY", "k3y");
        let opts = ClientOptions {
            base_url: Template::parse("https://api.example.com/v1/?key=${ASSAY_TEST_CLIENT_KEY}")
                .unwrap(),
            headers: vec![],
            ca_cert: None,
            connect_timeout: Duration::from_secs(1),
        };
        let c = ApiClient::new(&opts).unwrap();
        assert_eq!(
            c.shown(),
            "https://api.example.com/v1/?key=${ASSAY_TEST_CLIENT_KEY}"
        );
        let req = Request {
            path: "/api/kpi".into(),
            query: vec![("a".into(), "1".into())],
        };
        assert_eq!(
            c.url(&req),
            "https://api.example.com/v1/api/kpi?a=1&key=k3y"
        );
        let bare = Request {
            path: "/api/kpi".into(),
            query: vec![],
        };
        assert_eq!(c.url(&bare), "https://api.example.com/v1/api/kpi?key=k3y");
        let ftp = ClientOptions {
            base_url: Template::parse("ftp://x").unwrap(),
            ..opts
        };
        assert!(ApiClient::new(&ftp)
            .err()
            .unwrap()
            .contains("only http and https"));
    }
}
