//! A check's `endpoint:` as a route (`GET /api/items/{id}`) and the request
//! one parameter set makes of it: `{name}` route parameters filled in, the
//! other parameters as a query string. Pure.

use crate::suite::{ApiMapping, ParamSet, ParamValue};
use std::collections::BTreeSet;

/// A GET route with `{name}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The path as written, e.g. `/api/items/{id}`.
    pub path: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// One request: the path (percent-encoded) and the query pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub path: String,
    pub query: Vec<(String, String)>,
}

impl Request {
    /// `/path?a=1&b=2`, encoded as sent.
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let q: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k, false), encode(v, false)))
            .collect();
        format!("{}?{}", self.path, q.join("&"))
    }
    /// `GET /path?query`, for reports.
    pub fn shown(&self) -> String {
        format!("GET {}", self.path_and_query())
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986); `/` too
/// unless `keep_slash`.
fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        let c = b as char;
        if c.is_ascii_alphanumeric() || "-._~".contains(c) || (keep_slash && c == '/') {
            out.push(c);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Route {
    /// Parses `GET /path` (the method may be omitted). Only GET routes are
    /// accepted: the probe never changes anything.
    pub fn parse(endpoint: &str) -> Result<Route, String> {
        let text = endpoint.trim();
        let (method, path) = match text.split_once(char::is_whitespace) {
            Some((m, p)) => (m, p.trim()),
            None => ("GET", text),
        };
        if !method.eq_ignore_ascii_case("GET") {
            return Err(format!(
                "`{endpoint}` is a {method} route; assay probe calls only GET routes"
            ));
        }
        if !path.starts_with('/') || path.contains(char::is_whitespace) {
            return Err(format!(
                "`{endpoint}` is not a route: write `GET /path`, e.g. `GET /api/analytics/kpi`"
            ));
        }
        if path.contains(['?', '#']) {
            return Err(format!(
                "`{endpoint}` holds a query string; the parameters come from the parameter sets"
            ));
        }
        let mut segments = Vec::new();
        let mut rest = path;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                return Err(format!("`{endpoint}`: `{{` without `}}`"));
            };
            if open > 0 {
                segments.push(Segment::Literal(rest[..open].to_string()));
            }
            let name = &rest[open + 1..close];
            if name.is_empty() || name.contains(['{', '/']) {
                return Err(format!(
                    "`{endpoint}`: `{{{name}}}` is not a route parameter"
                ));
            }
            segments.push(Segment::Param(name.to_string()));
            rest = &rest[close + 1..];
        }
        if rest.contains('}') {
            return Err(format!("`{endpoint}`: `}}` without `{{`"));
        }
        if !rest.is_empty() {
            segments.push(Segment::Literal(rest.to_string()));
        }
        Ok(Route {
            path: path.to_string(),
            segments,
        })
    }

    /// The API names of the route parameters (`{name}`), in order.
    pub fn params(&self) -> Vec<&str> {
        self.segments
            .iter()
            .filter_map(|s| match s {
                Segment::Param(p) => Some(p.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The request `set` makes: route parameters filled in, the others as
    /// query pairs under their API names (NULL: left out; a list: the name
    /// repeated). Fails when a route parameter has no value.
    pub fn request(&self, set: &ParamSet, api: &ApiMapping) -> Result<Request, String> {
        let in_route: BTreeSet<&str> = self.params().into_iter().collect();
        let mut path = String::new();
        for s in &self.segments {
            match s {
                Segment::Literal(l) => path.push_str(l),
                Segment::Param(p) => {
                    let value = set
                        .values
                        .iter()
                        .find(|(k, _)| api.param_name(k) == p)
                        .map(|(_, v)| v);
                    match value.map(query_values) {
                        Some(v) if v.len() == 1 => path.push_str(&encode(&v[0], false)),
                        Some(v) if v.is_empty() => {
                            return Err(format!(
                                "route parameter {{{p}}} is null in set `{}`",
                                set.name
                            ))
                        }
                        Some(_) => {
                            return Err(format!(
                                "route parameter {{{p}}} is a list in set `{}`",
                                set.name
                            ))
                        }
                        None => {
                            return Err(format!(
                                "route parameter {{{p}}} has no value in set `{}`",
                                set.name
                            ))
                        }
                    }
                }
            }
        }
        let mut query = Vec::new();
        for (k, v) in &set.values {
            let name = api.param_name(k);
            if in_route.contains(name) {
                continue;
            }
            for text in query_values(v) {
                query.push((name.to_string(), text));
            }
        }
        Ok(Request { path, query })
    }
}

/// A parameter value as query text: nothing for NULL, one entry per item of
/// a list, ISO 8601 for dates and times.
pub fn query_values(v: &ParamValue) -> Vec<String> {
    match v {
        ParamValue::Null => Vec::new(),
        ParamValue::List(items) => items.iter().flat_map(query_values).collect(),
        ParamValue::Numeric(n) => vec![crate::output::normalize_decimal(n)],
        ParamValue::Timestamp(t) => vec![t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()],
        ParamValue::Timestamptz(t) => vec![t.to_rfc3339()],
        other => vec![other.to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn set(values: Vec<(&str, ParamValue)>) -> ParamSet {
        ParamSet {
            name: "s".into(),
            values: values
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn date(s: &str) -> ParamValue {
        ParamValue::Date(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
    }

    #[test]
    fn query_string_with_nulls_left_out() {
        let r = Route::parse("GET /api/kpi").unwrap();
        let s = set(vec![
            ("date_from", date("2025-10-01")),
            ("date_to", date("2025-10-03")),
            ("region", ParamValue::Null),
        ]);
        let req = r.request(&s, &ApiMapping::default()).unwrap();
        assert_eq!(
            req.shown(),
            "GET /api/kpi?date_from=2025-10-01&date_to=2025-10-03"
        );
    }

    #[test]
    fn route_parameters_and_renamed_parameters() {
        let r = Route::parse("GET /api/wow/{end_date}").unwrap();
        assert_eq!(r.params(), vec!["end_date"]);
        let mut api = ApiMapping::default();
        api.params.insert("date_to".into(), "end_date".into());
        api.params.insert("region".into(), "source".into());
        let s = set(vec![
            ("date_to", date("2025-10-03")),
            ("region", ParamValue::Text("a b&c".into())),
            (
                "ids",
                ParamValue::List(vec![ParamValue::Integer(1), ParamValue::Integer(2)]),
            ),
        ]);
        let req = r.request(&s, &api).unwrap();
        assert_eq!(
            req.path_and_query(),
            "/api/wow/2025-10-03?ids=1&ids=2&source=a%20b%26c"
        );
        let null = set(vec![("date_to", ParamValue::Null)]);
        assert!(r.request(&null, &api).unwrap_err().contains("is null"));
        let missing = set(vec![]);
        assert!(r.request(&missing, &api).unwrap_err().contains("no value"));
    }

    #[test]
    fn only_get_routes() {
        assert!(Route::parse("POST /api/x")
            .unwrap_err()
            .contains("only GET"));
        assert!(Route::parse("/api/x").is_ok());
        assert!(Route::parse("GET api/x").is_err());
        assert!(Route::parse("GET /api/x?a=1").is_err());
        assert!(Route::parse("GET /api/{x").is_err());
        assert!(Route::parse("GET /api/x}").is_err());
        assert!(Route::parse("GET /api/{}").is_err());
    }

    proptest! {
        /// Whatever the text of a value, the encoded query decodes back to it.
        #[test]
        fn query_values_survive_encoding(value in ".{0,30}") {
            let r = Route::parse("GET /x").unwrap();
            let s = set(vec![("v", ParamValue::Text(value.clone()))]);
            let pq = r.request(&s, &ApiMapping::default()).unwrap().path_and_query();
            let url = reqwest::Url::parse(&format!("http://h{pq}")).unwrap();
            let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            prop_assert_eq!(pairs, vec![("v".to_string(), value)]);
        }

        /// Route parsing never panics.
        #[test]
        fn parse_never_panics(text in ".*") {
            let _ = Route::parse(&text);
        }
    }
}
