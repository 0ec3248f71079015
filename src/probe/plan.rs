//! Which calls a probe makes: every selected query check with an endpoint,
//! once per parameter set, and the page (one set of every such check, all at
//! once). Pure: problems come back as input errors naming the check file.

use crate::engine::Selection;
use crate::error::InputError;
use crate::http::{Request, Route};
use crate::suite::{ParamSet, QueryCheck, Suite};

/// One endpoint called with one parameter set.
#[derive(Debug)]
pub struct Unit<'a> {
    pub check: &'a QueryCheck,
    pub set: &'a ParamSet,
    pub request: Request,
}

#[derive(Debug)]
pub struct Plan<'a> {
    pub units: Vec<Unit<'a>>,
    /// Indices into `units`: the calls the page makes when it loads.
    pub page: Vec<usize>,
    /// Selected checks that name no endpoint (nothing to probe).
    pub without_endpoint: Vec<&'a str>,
}

/// The set the page loads with: `api.page_set`, else a set named
/// `default`, else the first.
pub fn page_set(check: &QueryCheck) -> Option<&ParamSet> {
    match &check.api.page_set {
        Some(name) => check.sets.iter().find(|s| &s.name == name),
        None => check
            .sets
            .iter()
            .find(|s| s.name == "default")
            .or(check.sets.first()),
    }
}

/// The plan, and the problems of checks left out of it (their routes cannot
/// be called).
pub fn plan<'a>(suite: &'a Suite, sel: &Selection) -> (Plan<'a>, Vec<InputError>) {
    let (checks, _) = crate::engine::select_checks(suite, sel);
    let mut errors = Vec::new();
    let mut units = Vec::new();
    let mut page = Vec::new();
    let mut without_endpoint = Vec::new();
    for check in checks {
        let Some(endpoint) = &check.endpoint else {
            without_endpoint.push(check.name.as_str());
            continue;
        };
        let route = match Route::parse(endpoint) {
            Ok(r) => r,
            Err(e) => {
                errors.push(InputError::new(&check.file, format!("endpoint: {e}")).help(
                    "write `endpoint: GET /path`; `{name}` in the path is a route parameter",
                ));
                continue;
            }
        };
        let on_page = page_set(check).map(|s| s.name.clone());
        let mut check_units = Vec::new();
        let mut check_page = None;
        let mut ok = true;
        for set in &check.sets {
            match route.request(set, &check.api) {
                Ok(request) => {
                    if on_page.as_deref() == Some(set.name.as_str()) {
                        check_page = Some(check_units.len());
                    }
                    check_units.push(Unit {
                        check,
                        set,
                        request,
                    });
                }
                Err(e) => {
                    ok = false;
                    errors.push(
                        InputError::new(&check.file, format!("endpoint `{endpoint}`: {e}")).help(
                            "every {name} in the route needs a value in every set; map a parameter to it with `api: {params: {parameter: name}}`",
                        ),
                    );
                }
            }
        }
        if ok {
            if let Some(i) = check_page {
                page.push(units.len() + i);
            }
            units.extend(check_units);
        }
    }
    (
        Plan {
            units,
            page,
            without_endpoint,
        },
        errors,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("assay.yaml"), "name: t\n").unwrap();
        for (p, t) in files {
            let p = dir.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, t).unwrap();
        }
        dir
    }

    #[test]
    fn units_per_set_and_the_page_set() {
        let dir = suite(&[
            ("sql/endpoints/a.sql", "select :d::date as d, :p::text as p"),
            (
                "checks/a.yaml",
                "name: a\nendpoint: GET /api/a/{day}\nquery: a.sql\napi: {params: {d: day}, page_set: two}\nparams:\n  sets:\n    - {name: one, values: {d: 2025-10-01, p: x}}\n    - {name: two, values: {d: 2025-10-02, p: null}}\n",
            ),
            ("sql/endpoints/b.sql", "select 1 as n"),
            ("checks/b.yaml", "name: b\nquery: b.sql\n"),
        ]);
        let loaded = crate::suite::load_suite(dir.path(), &Default::default()).unwrap();
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let (p, errors) = plan(&loaded.suite, &Selection::default());
        assert!(errors.is_empty(), "{errors:?}");
        let shown: Vec<String> = p.units.iter().map(|u| u.request.shown()).collect();
        assert_eq!(
            shown,
            vec!["GET /api/a/2025-10-01?p=x", "GET /api/a/2025-10-02"]
        );
        assert_eq!(p.page, vec![1]);
        assert_eq!(p.without_endpoint, vec!["b"]);
    }

    #[test]
    fn bad_routes_are_input_errors() {
        let dir = suite(&[
            ("sql/endpoints/a.sql", "select :d::date as d"),
            (
                "checks/a.yaml",
                "name: a\nendpoint: POST /api/a\nquery: a.sql\nparams:\n  sets:\n    - {name: one, values: {d: 2025-10-01}}\n",
            ),
            ("sql/endpoints/b.sql", "select :d::date as d"),
            (
                "checks/b.yaml",
                "name: b\nendpoint: GET /api/b/{id}\nquery: b.sql\nparams:\n  sets:\n    - {name: one, values: {d: 2025-10-01}}\n",
            ),
        ]);
        let loaded = crate::suite::load_suite(dir.path(), &Default::default()).unwrap();
        let (p, errors) = plan(&loaded.suite, &Selection::default());
        assert!(p.units.is_empty());
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert!(text[0].contains("checks/a.yaml: endpoint: `POST /api/a` is a POST route; assay probe calls only GET routes"), "{text:?}");
        assert!(text[1].contains("checks/b.yaml: endpoint `GET /api/b/{id}`: route parameter {id} has no value in set `one`"), "{text:?}");
    }
}
