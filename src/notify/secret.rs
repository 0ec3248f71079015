//! `${NAME}` in a URL: read from the environment at the last moment, never
//! shown. Messages show the text as written.

/// Replaces every `${NAME}` with the environment variable's value. An unset
/// or empty variable is an error naming the variable (not any value).
pub fn expand(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("`{text}`: `${{` without a closing `}}`"))?;
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "`{text}`: `${{{name}}}` is not a variable name (letters, digits, _)"
            ));
        }
        match std::env::var(name) {
            Ok(v) if !v.is_empty() => out.push_str(&v),
            _ => {
                return Err(format!(
                    "`{text}`: the environment variable {name} is not set"
                ))
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_and_names_missing_variables() {
        std::env::set_var("ASSAY_TEST_SECRET_X", "s3cr3t");
        assert_eq!(
            expand("https://h/${ASSAY_TEST_SECRET_X}/x").unwrap(),
            "https://h/s3cr3t/x"
        );
        let e = expand("https://h/${ASSAY_TEST_SECRET_MISSING}").unwrap_err();
        assert!(e.contains("ASSAY_TEST_SECRET_MISSING is not set"), "{e}");
        assert!(expand("https://h/${A-B}").is_err());
        assert!(expand("https://h/${OPEN").is_err());
        assert_eq!(expand("plain").unwrap(), "plain");
    }
}
