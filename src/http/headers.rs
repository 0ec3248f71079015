//! `--header 'NAME: VALUE'`: request headers whose values may reference
//! environment variables (`Authorization: Bearer ${API_TOKEN}`). Values are
//! sent marked sensitive and never shown; only names appear in output.

use super::template::Template;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// One `--header` as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderSpec {
    pub name: String,
    pub value: Template,
}

/// Headers the client sets itself or that would change what a GET means.
const RESERVED: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
];

/// Parses `NAME: VALUE`. The message of an error never contains the value.
pub fn parse_header(text: &str) -> Result<HeaderSpec, String> {
    let Some((name, value)) = text.split_once(':') else {
        return Err(
            "a --header is `NAME: VALUE`, e.g. --header 'Authorization: Bearer ${API_TOKEN}'"
                .into(),
        );
    };
    let name = name.trim();
    if HeaderName::from_bytes(name.as_bytes()).is_err() || name.is_empty() {
        return Err(format!(
            "`{}` is not a header name (letters, digits and - only)",
            name.chars().take(40).collect::<String>()
        ));
    }
    if RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(format!("header `{name}` is set by the HTTP client itself"));
    }
    let value = Template::parse(value.trim()).map_err(|e| format!("header `{name}`: {e}"))?;
    Ok(HeaderSpec {
        name: name.to_string(),
        value,
    })
}

/// The headers to send, values expanded from `lookup` and marked sensitive.
/// An error names the header and the variable, never a value.
pub fn header_map(
    specs: &[HeaderSpec],
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for s in specs {
        let name = HeaderName::from_bytes(s.name.as_bytes())
            .map_err(|_| format!("`{}` is not a header name", s.name))?;
        let expanded = s
            .value
            .expand(&lookup)
            .map_err(|e| format!("header `{}`: {e}", s.name))?;
        let mut value = HeaderValue::from_str(&expanded).map_err(|_| {
            format!(
                "header `{}`: its value (as expanded from {}) holds characters a header cannot carry",
                s.name,
                s.value.shown()
            )
        })?;
        value.set_sensitive(true);
        map.append(name, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_expands_without_showing_values() {
        let h = parse_header("Authorization: Bearer ${TOKEN}").unwrap();
        assert_eq!(h.name, "Authorization");
        assert_eq!(h.value.shown(), "Bearer ${TOKEN}");
        let map = header_map(&[h], |_| Some("s3cret".into())).unwrap();
        let v = &map["authorization"];
        assert!(v.is_sensitive());
        assert_eq!(v.to_str().unwrap(), "Bearer s3cret");
        assert!(!format!("{map:?}").contains("s3cret"));
    }

    #[test]
    fn bad_headers_are_explained() {
        assert!(parse_header("no colon")
            .unwrap_err()
            .contains("NAME: VALUE"));
        assert!(parse_header("bad name: x").is_err());
        assert!(parse_header(": x").is_err());
        assert!(parse_header("Host: example.com").is_err());
        let h = parse_header("X-Key: ${MISSING}").unwrap();
        let e = header_map(&[h], |_| None).unwrap_err();
        assert_eq!(
            e,
            "header `X-Key`: the environment variable MISSING is not set"
        );
        let h = parse_header("X-Key: ${NL}").unwrap();
        let e = header_map(&[h], |_| Some("a\nb".into())).unwrap_err();
        assert!(!e.contains("a\nb"), "{e}");
    }

    proptest! {
        /// Any `NAME: VALUE` with a token name and a printable value parses
        /// back into that name and value.
        #[test]
        fn name_and_value_round_trip(
            name in "[A-Za-z][A-Za-z0-9-]{0,20}",
            value in "[ -#%-~]{0,40}",
        ) {
            prop_assume!(!RESERVED.contains(&name.to_ascii_lowercase().as_str()));
            let h = parse_header(&format!("{name}: {value}")).unwrap();
            prop_assert_eq!(&h.name, &name);
            prop_assert_eq!(h.value.shown(), value.trim());
        }

        /// Parsing never panics.
        #[test]
        fn parse_never_panics(text in ".*") {
            let _ = parse_header(&text);
        }
    }
}
