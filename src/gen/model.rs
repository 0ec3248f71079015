//! The data model file (`scale.model`, e.g. `model.yaml`): its YAML shape
//! (serde, unknown keys refused) and its validation into a [`Model`] whose
//! expressions are compiled and whose names are resolved. Pure: the text in,
//! a model or errors naming file and line out.

use super::expr::{Compiler, Expr, Scope};
use super::value::{Kind, Value};
use crate::error::InputError;
use crate::input::locate::{closest, key_line, line_containing, yaml_error};
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------- YAML shape

/// A data model: the tables `assay gen` and `assay bench` fill, in load order.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    /// The window dates are drawn from: `end` (a fixed date) and `days`
    /// (an expression over `scale`). Defines `history_start`, `history_end`
    /// and `history_days`.
    pub history: Option<RawHistory>,
    /// Named expressions evaluated once per scale, in order (`scale` is
    /// always defined).
    #[serde(default)]
    pub vars: Ordered<Scalar>,
    /// Tables in dependency order.
    pub tables: Vec<RawTable>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHistory {
    /// The last day of the history, YYYY-MM-DD.
    pub end: String,
    /// How many days the history holds (an expression, e.g. `min(35 * scale, 1095)`).
    pub days: Scalar,
}

/// One table of the model.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTable {
    /// `schema.table` as the `before:` SQL creates it, or a helper name.
    pub name: String,
    /// false: a helper table (rows other tables fan out from), not loaded.
    pub load: Option<bool>,
    /// How many rows, as an expression over `scale` and the vars.
    pub rows: Option<Scalar>,
    /// One row (or `count` rows) per row of this table, or per combination
    /// of rows of these tables (earlier in the model).
    pub per: Option<OneOrMany>,
    /// With `per`: rows per parent row (an expression over the parent's
    /// columns, e.g. `poisson(days.leads)`).
    pub count: Option<Scalar>,
    /// Only rows where this condition holds are kept (over parents and vars).
    #[serde(rename = "where")]
    pub keep: Option<Scalar>,
    /// Columns in generation order (a column may use the ones above it).
    pub columns: Ordered<RawColumn>,
}

/// How a column's value is made: exactly one generator, optionally wrapped
/// by `null_rate` and `when`.
#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawColumn {
    /// A sequence: start + row index × step.
    pub seq: Option<i64>,
    pub step: Option<i64>,
    /// Weighted choice: `[[meta, 55], [google, 29], [null, 3]]`.
    pub choice: Option<Vec<(Option<Scalar>, f64)>>,
    /// A whole number in a range, with a distribution.
    pub int: Option<RawRange>,
    /// A decimal in a range, with a distribution, rounded (default 2 places).
    pub decimal: Option<RawRange>,
    /// A date between `from` and `to` (default: the history window).
    pub date: Option<RawSpan>,
    /// A timestamp between `from` and `to` (default: the history window).
    pub timestamp: Option<RawSpan>,
    /// A text template: `C{order_id}`, `{category}-{product_id:04}`.
    pub format: Option<String>,
    /// An expression.
    pub expr: Option<Scalar>,
    /// A constant.
    #[serde(rename = "const")]
    pub constant: Option<Scalar>,
    /// A value of another (earlier) table's column: a foreign key.
    #[serde(rename = "ref")]
    pub reference: Option<RawRef>,
    /// The first case whose `when` holds gives the value; else `else` (or NULL).
    pub cases: Option<Vec<RawCase>>,
    #[serde(rename = "else")]
    pub otherwise: Option<Box<RawColumn>>,
    /// NULL unless this condition holds.
    pub when: Option<Scalar>,
    /// Share of rows that get NULL instead (0..1).
    pub null_rate: Option<f64>,
    /// Generated (other columns may use it) but not loaded.
    pub hidden: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCase {
    pub when: Scalar,
    pub value: RawColumn,
}

#[derive(Debug, Deserialize, JsonSchema, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum DistName {
    Uniform,
    Normal,
    Lognormal,
    Zipf,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRange {
    pub min: f64,
    pub max: f64,
    /// uniform (default), normal (mean, sd), lognormal (mean, sd of the
    /// logarithm), zipf (s: rank 1 = min is the most frequent).
    pub dist: Option<DistName>,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub s: Option<f64>,
    /// Decimal places (decimal only; default 2).
    pub round: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawSpan {
    pub from: Option<Scalar>,
    pub to: Option<Scalar>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRef {
    pub table: String,
    pub column: String,
    /// Only rows of `table` whose column equals the expression:
    /// `{channel: lower(raw_channel)}`.
    #[serde(default, rename = "match")]
    pub matching: Ordered<Scalar>,
}

/// A YAML scalar taken as written (expressions may be plain numbers).
#[derive(Debug, Deserialize, JsonSchema, Clone)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl Scalar {
    fn source(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => format!("{f:?}"),
            Scalar::Str(s) => s.clone(),
        }
    }
    fn value(&self) -> Value {
        match self {
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Int(i) => Value::Int(*i),
            Scalar::Float(f) => Value::Float(*f),
            Scalar::Str(s) => Value::text(s),
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema, Clone)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// A YAML mapping whose order matters (columns, vars).
#[derive(Debug)]
pub struct Ordered<T>(pub Vec<(String, T)>);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some((k, val)) = m.next_entry::<String, T>()? {
                    v.push((k, val));
                }
                Ok(Ordered(v))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for Ordered<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Ordered_{}", T::schema_name()).into()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        BTreeMap::<String, T>::json_schema(g)
    }
}

// ---------------------------------------------------------------- validated model

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub line: Option<usize>,
    pub expr: Expr,
    pub kind: Kind,
    pub hidden: bool,
}

#[derive(Debug, Clone)]
pub enum Rows {
    /// An expression over the vars.
    Fixed(Expr),
    /// Per combination of rows of these (earlier) tables; `count` rows each.
    Per {
        parents: Vec<usize>,
        count: Option<Expr>,
    },
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    /// The name expressions use for this table's columns (`days.date`): the
    /// part after the last dot.
    pub alias: String,
    pub line: Option<usize>,
    pub load: bool,
    pub rows: Rows,
    pub keep: Option<Expr>,
    pub columns: Vec<Column>,
}

impl Table {
    pub fn loaded_columns(&self) -> impl Iterator<Item = (usize, &Column)> {
        self.columns.iter().enumerate().filter(|(_, c)| !c.hidden)
    }
    /// Tables this one's rows are derived from.
    pub fn parents(&self) -> &[usize] {
        match &self.rows {
            Rows::Per { parents, .. } => parents,
            Rows::Fixed(_) => &[],
        }
    }
}

/// A `ref:`: a column of an earlier table, among the rows matching keys.
#[derive(Debug, Clone)]
pub struct RefSpec {
    pub table: usize,
    pub column: usize,
    pub match_columns: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Model {
    /// The file as shown in messages (relative to the suite root).
    pub file: PathBuf,
    pub history_end: Option<NaiveDate>,
    /// (name, expression): `scale` first (slot 0, no expression).
    pub vars: Vec<(String, Option<Expr>)>,
    pub tables: Vec<Table>,
    pub refs: Vec<RefSpec>,
}

impl Model {
    pub fn table(&self, name: &str) -> Option<usize> {
        self.tables.iter().position(|t| t.name == name)
    }
    /// Tables whose rows other tables need in memory (parents, ref targets).
    pub fn needed_in_memory(&self) -> Vec<bool> {
        let mut v = vec![false; self.tables.len()];
        for t in &self.tables {
            for &p in t.parents() {
                v[p] = true;
            }
        }
        for r in &self.refs {
            v[r.table] = true;
        }
        v
    }
}

/// Parses and validates a model file's text (`shown` names it in errors).
pub fn parse(text: &str, shown: &Path) -> Result<Model, Vec<InputError>> {
    let raw: RawModel =
        serde_yaml_ng::from_str(text).map_err(|e| vec![yaml_error(shown, text, &e)])?;
    Builder {
        text,
        shown,
        errors: Vec::new(),
    }
    .build(raw)
}

/// Reads and validates the model at `root/file`.
pub fn load(root: &Path, file: &Path) -> Result<Model, Vec<InputError>> {
    let text = crate::input::text::read_text(&root.join(file), file, "the data model")
        .map_err(|e| vec![e])?;
    crate::input::text::check_yaml_depth(&text, file).map_err(|e| vec![e])?;
    parse(&text, file)
}

struct Builder<'a> {
    text: &'a str,
    shown: &'a Path,
    errors: Vec<InputError>,
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:?}")
    }
}

impl Builder<'_> {
    fn err(&mut self, line: Option<usize>, msg: impl Into<String>, help: Option<&str>) {
        let mut e = InputError::new(self.shown, msg).at(line, None);
        if let Some(h) = help {
            e = e.help(h);
        }
        self.errors.push(e);
    }

    fn build(mut self, raw: RawModel) -> Result<Model, Vec<InputError>> {
        let mut scope = Scope::default();
        let mut vars: Vec<(String, Option<Expr>)> = vec![("scale".into(), None)];
        scope.vars.push(("scale".into(), Kind::FLOAT));
        let mut history_end = None;
        if let Some(h) = &raw.history {
            let line = key_line(self.text, "history", 1);
            match NaiveDate::parse_from_str(h.end.trim(), "%Y-%m-%d") {
                Ok(d) => history_end = Some(d),
                Err(_) => self.err(
                    key_line(self.text, "end", line.unwrap_or(1)),
                    format!("history.end `{}` is not a date", h.end),
                    Some("write it YYYY-MM-DD, e.g. `end: 2025-10-05`"),
                ),
            }
            let days_src = h.days.source();
            let days_line = key_line(self.text, "days", line.unwrap_or(1));
            match Compiler::new(&scope).compile(&days_src) {
                Ok((days, _)) => {
                    let end = Value::Date(history_end.unwrap_or(NaiveDate::MIN));
                    // history_start = end - days + 1
                    let start = "history_end - history_days + 1".to_string();
                    vars.push(("history_end".into(), Some(Expr::Lit(end))));
                    scope.vars.push(("history_end".into(), Kind::DATE));
                    vars.push(("history_days".into(), Some(days)));
                    scope.vars.push(("history_days".into(), Kind::INT));
                    let (s, _) = Compiler::new(&scope)
                        .compile(&start)
                        .expect("a fixed expression over defined names");
                    vars.push(("history_start".into(), Some(s)));
                    scope.vars.push(("history_start".into(), Kind::DATE));
                }
                Err(m) => self.err(days_line, format!("history.days: {m}"), None),
            }
        }
        for (name, src) in &raw.vars.0 {
            let line = key_line(self.text, name, key_line(self.text, "vars", 1).unwrap_or(1));
            if scope.vars.iter().any(|(v, _)| v == name) {
                self.err(
                    line,
                    format!("var `{name}` is defined twice (or shadows a built-in)"),
                    None,
                );
                continue;
            }
            match Compiler::new(&scope).compile(&src.source()) {
                Ok((e, k)) => {
                    vars.push((name.clone(), Some(e)));
                    scope.vars.push((name.clone(), k));
                }
                Err(m) => self.err(line, format!("var `{name}`: {m}"), None),
            }
        }

        let mut tables: Vec<Table> = Vec::new();
        let mut refs = Vec::new();
        let mut kinds: Vec<Vec<(String, Kind)>> = Vec::new();
        let names: Vec<String> = raw.tables.iter().map(|t| t.name.clone()).collect();
        let mut after = 1;
        for rt in &raw.tables {
            let line = line_containing(self.text, &format!("name: {}", rt.name))
                .or_else(|| key_line(self.text, "name", after));
            after = line.unwrap_or(after);
            let table = self.table(rt, line, &names, &tables, &kinds, &scope, &mut refs);
            if let Some(t) = table {
                kinds.push(t.columns.iter().map(|c| (c.name.clone(), c.kind)).collect());
                tables.push(t);
            } else {
                // Keep positions aligned with the raw list.
                kinds.push(Vec::new());
                tables.push(Table {
                    name: rt.name.clone(),
                    alias: alias_of(&rt.name),
                    line,
                    load: false,
                    rows: Rows::Fixed(Expr::Lit(Value::Int(0))),
                    keep: None,
                    columns: Vec::new(),
                });
            }
        }
        if raw.tables.iter().all(|t| t.load == Some(false)) {
            self.err(
                key_line(self.text, "tables", 1),
                "the model loads no table",
                Some("list the tables the `before:` SQL creates under `tables:`"),
            );
        }
        if self.errors.is_empty() {
            Ok(Model {
                file: self.shown.to_path_buf(),
                history_end,
                vars,
                tables,
                refs,
            })
        } else {
            Err(self.errors)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn table(
        &mut self,
        rt: &RawTable,
        line: Option<usize>,
        names: &[String],
        done: &[Table],
        kinds: &[Vec<(String, Kind)>],
        vars: &Scope,
        refs: &mut Vec<RefSpec>,
    ) -> Option<Table> {
        let before = self.errors.len();
        let name = &rt.name;
        let alias = alias_of(name);
        if done.iter().any(|t| t.name == *name) {
            self.err(line, format!("table `{name}` is listed twice"), None);
        } else if done.iter().any(|t| t.alias == alias) {
            self.err(
                line,
                format!("two tables are called `{alias}` (expressions name a table by the part after its schema)"),
                Some("rename one of them"),
            );
        }
        // Which earlier table is `n`? (A later one is an error that says so.)
        let earlier = |this: &mut Self, n: &str, what: &str, at: Option<usize>| -> Option<usize> {
            if let Some(i) = done.iter().position(|t| t.name == n || t.alias == n) {
                return Some(i);
            }
            if names.iter().any(|t| t == n || alias_of(t) == n) {
                this.err(
                    at,
                    format!("{what} `{n}` is generated later than `{name}`"),
                    Some("list tables in dependency order: move it above this table"),
                );
            } else {
                let known: Vec<String> = names.to_vec();
                let help = closest(n, &known).map(|s| format!("did you mean `{s}`?"));
                this.err(
                    at,
                    format!("{what} `{n}` is not a table of the model"),
                    help.as_deref(),
                );
            }
            None
        };
        let mut scope = Scope {
            vars: vars.vars.clone(),
            ..Scope::default()
        };
        let rows = match (&rt.rows, &rt.per) {
            (Some(_), Some(_)) | (None, None) => {
                self.err(
                    line,
                    format!("table `{name}` needs exactly one of `rows:` (a count) or `per:` (parent tables)"),
                    Some("e.g. `rows: 48 * scale` or `per: days` with `count: poisson(20)`"),
                );
                None
            }
            (Some(n), None) => {
                if rt.count.is_some() {
                    self.err(
                        line,
                        "`count:` goes with `per:` (rows per parent row)",
                        None,
                    );
                }
                let at = key_line(self.text, "rows", line.unwrap_or(1));
                match Compiler::new(&scope).compile(&n.source()) {
                    Ok((e, k)) => {
                        if !k.within(Kind::NUMBER.or(Kind::NULL)) {
                            self.err(
                                at,
                                format!("rows of `{name}` must be a number, not {}", k.describe()),
                                None,
                            );
                        }
                        Some(Rows::Fixed(e))
                    }
                    Err(m) => {
                        self.err(at, format!("rows of `{name}`: {m}"), None);
                        None
                    }
                }
            }
            (None, Some(per)) => {
                let at = key_line(self.text, "per", line.unwrap_or(1));
                let list = match per {
                    OneOrMany::One(s) => vec![s.clone()],
                    OneOrMany::Many(v) => v.clone(),
                };
                let mut parents = Vec::new();
                for p in &list {
                    if let Some(i) = earlier(self, p, "parent table", at) {
                        parents.push(i);
                        scope
                            .parents
                            .push((done[i].alias.clone(), kinds[i].clone()));
                    }
                }
                let count = match &rt.count {
                    None => None,
                    Some(c) => {
                        let at = key_line(self.text, "count", line.unwrap_or(1));
                        match Compiler::new(&scope).compile(&c.source()) {
                            Ok((e, _)) => Some(e),
                            Err(m) => {
                                self.err(at, format!("count of `{name}`: {m}"), None);
                                None
                            }
                        }
                    }
                };
                Some(Rows::Per { parents, count })
            }
        };
        let keep = rt.keep.as_ref().and_then(|w| {
            let at = key_line(self.text, "where", line.unwrap_or(1));
            match Compiler::new(&scope).compile(&w.source()) {
                Ok((e, _)) => Some(e),
                Err(m) => {
                    self.err(at, format!("where of `{name}`: {m}"), None);
                    None
                }
            }
        });
        let mut columns: Vec<Column> = Vec::new();
        if rt.columns.0.is_empty() {
            self.err(line, format!("table `{name}` has no columns"), None);
        }
        for (cname, rc) in &rt.columns.0 {
            let cline = key_line(self.text, cname, line.unwrap_or(1));
            if columns.iter().any(|c| c.name == *cname) {
                self.err(
                    cline,
                    format!("column `{cname}` of `{name}` is listed twice"),
                    None,
                );
                continue;
            }
            let mut compiler = Compiler::new(&scope);
            let ctx = ColumnCtx {
                table: name,
                column: cname,
                line: cline,
                done,
                kinds,
                names,
            };
            match self.generator(rc, &ctx, &mut compiler, refs, true) {
                Some((expr, kind)) => {
                    scope.columns.push((cname.clone(), kind));
                    columns.push(Column {
                        name: cname.clone(),
                        line: cline,
                        expr,
                        kind,
                        hidden: rc.hidden.unwrap_or(false),
                    });
                }
                None => scope.columns.push((cname.clone(), Kind::ANY)),
            }
        }
        if self.errors.len() > before {
            return None;
        }
        Some(Table {
            name: name.clone(),
            alias,
            line,
            load: rt.load.unwrap_or(true),
            rows: rows?,
            keep,
            columns,
        })
    }

    /// Compiles one column generator (and its wrappers) into an expression.
    fn generator(
        &mut self,
        rc: &RawColumn,
        cx: &ColumnCtx<'_>,
        c: &mut Compiler<'_>,
        refs: &mut Vec<RefSpec>,
        top: bool,
    ) -> Option<(Expr, Kind)> {
        let where_ = format!("column `{}` of `{}`", cx.column, cx.table);
        let at = cx.line;
        let set: Vec<&str> = [
            ("seq", rc.seq.is_some()),
            ("choice", rc.choice.is_some()),
            ("int", rc.int.is_some()),
            ("decimal", rc.decimal.is_some()),
            ("date", rc.date.is_some()),
            ("timestamp", rc.timestamp.is_some()),
            ("format", rc.format.is_some()),
            ("expr", rc.expr.is_some()),
            ("const", rc.constant.is_some()),
            ("ref", rc.reference.is_some()),
            ("cases", rc.cases.is_some()),
        ]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(k, _)| *k)
        .collect();
        if set.len() != 1 {
            let msg = if set.is_empty() {
                format!("{where_} has no generator")
            } else {
                format!("{where_} has several generators ({})", set.join(", "))
            };
            self.err(
                at,
                msg,
                Some("give exactly one of seq, choice, int, decimal, date, timestamp, format, expr, const, ref, cases"),
            );
            return None;
        }
        if !top && (rc.hidden.is_some()) {
            self.err(
                at,
                format!("{where_}: `hidden` applies to a whole column, not a case"),
                None,
            );
        }
        if rc.step.is_some() && rc.seq.is_none() {
            self.err(at, format!("{where_}: `step` goes with `seq`"), None);
        }
        if rc.otherwise.is_some() && rc.cases.is_none() {
            self.err(at, format!("{where_}: `else` goes with `cases`"), None);
        }
        let compile = |this: &mut Self,
                       c: &mut Compiler<'_>,
                       src: &str,
                       what: &str|
         -> Option<(Expr, Kind)> {
            match c.compile(src) {
                Ok(e) => Some(e),
                Err(m) => {
                    this.err(at, format!("{where_}, {what}: {m}"), None);
                    None
                }
            }
        };
        let (mut expr, mut kind) = if let Some(start) = rc.seq {
            let step = rc.step.unwrap_or(1);
            compile(self, c, &format!("{start} + index * {step}"), "seq")?
        } else if let Some(list) = &rc.choice {
            if list.is_empty() {
                self.err(
                    at,
                    format!("{where_}: choice needs at least one [value, weight]"),
                    None,
                );
                return None;
            }
            let mut cum = Vec::new();
            let mut values = Vec::new();
            let mut kind = Kind::NONE;
            let mut total = 0.0;
            for (v, w) in list {
                if !(w.is_finite() && *w > 0.0) {
                    let shown = v.as_ref().map_or("null".to_string(), |s| s.source());
                    self.err(
                        at,
                        format!(
                            "{where_}: the weight of `{shown}` is {w}; weights must be above 0"
                        ),
                        Some("drop the value, or give it a positive weight"),
                    );
                    return None;
                }
                total += w;
                cum.push(total);
                let val = v.as_ref().map_or(Value::Null, Scalar::value);
                kind = kind.or(val.kind());
                values.push(val);
            }
            (Expr::Choice(cum, values, c.call_site()), kind)
        } else if let Some(r) = rc.int.as_ref().or(rc.decimal.as_ref()) {
            let decimal = rc.decimal.is_some();
            let src = self.range(r, decimal, &where_, at)?;
            compile(self, c, &src, if decimal { "decimal" } else { "int" })?
        } else if let Some(span) = rc.date.as_ref().or(rc.timestamp.as_ref()) {
            let from = span
                .from
                .as_ref()
                .map_or("history_start".to_string(), Scalar::source);
            let to = span
                .to
                .as_ref()
                .map_or("history_end".to_string(), Scalar::source);
            if (span.from.is_none() || span.to.is_none())
                && !c.scope.vars.iter().any(|(v, _)| v == "history_start")
            {
                self.err(
                    at,
                    format!("{where_}: a date needs `from` and `to`, or a `history:` window in the model"),
                    Some("add `history: {end: 2025-10-05, days: 365}` at the top of the model"),
                );
                return None;
            }
            let day = format!("(({from}) + floor(uniform(0, (({to}) - ({from})) + 1)))");
            let src = if rc.timestamp.is_some() {
                format!("at({day}, floor(uniform(0, 86400)))")
            } else {
                day
            };
            compile(self, c, &src, "date range")?
        } else if let Some(t) = &rc.format {
            let mut parts = Vec::new();
            match template_parts(t) {
                Ok(ps) => {
                    for p in ps {
                        match p {
                            Part::Lit(s) => parts.push(Expr::Lit(Value::text(&s))),
                            Part::Expr(src, pad) => {
                                let src = match pad {
                                    Some(w) => format!("pad({src}, {w})"),
                                    None => src,
                                };
                                parts.push(compile(self, c, &src, "format")?.0);
                            }
                        }
                    }
                }
                Err(m) => {
                    self.err(at, format!("{where_}, format: {m}"), None);
                    return None;
                }
            }
            (Expr::Concat(parts), Kind::TEXT)
        } else if let Some(e) = &rc.expr {
            compile(self, c, &e.source(), "expr")?
        } else if let Some(v) = &rc.constant {
            let v = v.value();
            let k = v.kind();
            (Expr::Lit(v), k)
        } else if let Some(r) = &rc.reference {
            self.reference(r, cx, c, refs, &where_)?
        } else if let Some(cases) = &rc.cases {
            let mut arms = Vec::new();
            let mut kind = Kind::NONE;
            for case in cases {
                let (cond, _) = compile(self, c, &case.when.source(), "when")?;
                let (e, k) = self.generator(&case.value, cx, c, refs, false)?;
                kind = kind.or(k);
                arms.push((cond, e));
            }
            let (mut e, k) = match &rc.otherwise {
                Some(o) => self.generator(o, cx, c, refs, false)?,
                None => (Expr::Lit(Value::Null), Kind::NULL),
            };
            kind = kind.or(k);
            for (cond, v) in arms.into_iter().rev() {
                e = Expr::If(Box::new(cond), Box::new(v), Box::new(e));
            }
            (e, kind)
        } else {
            unreachable!("exactly one generator is set")
        };
        if let Some(r) = rc.null_rate {
            if !(0.0..=1.0).contains(&r) {
                self.err(
                    at,
                    format!("{where_}: null_rate is {r}; it is a share between 0 and 1"),
                    None,
                );
                return None;
            }
            let (chance, _) = compile(self, c, &format!("chance({})", fmt_num(r)), "null_rate")?;
            expr = Expr::If(
                Box::new(chance),
                Box::new(Expr::Lit(Value::Null)),
                Box::new(expr),
            );
            kind = kind.or(Kind::NULL);
        }
        if let Some(w) = &rc.when {
            let (cond, _) = compile(self, c, &w.source(), "when")?;
            expr = Expr::If(
                Box::new(cond),
                Box::new(expr),
                Box::new(Expr::Lit(Value::Null)),
            );
            kind = kind.or(Kind::NULL);
        }
        Some((expr, kind))
    }

    /// The expression source of an `int:`/`decimal:` range.
    fn range(
        &mut self,
        r: &RawRange,
        decimal: bool,
        where_: &str,
        at: Option<usize>,
    ) -> Option<String> {
        if !(r.min.is_finite() && r.max.is_finite()) || r.min > r.max {
            self.err(
                at,
                format!(
                    "{where_}: min {} is above max {}",
                    fmt_num(r.min),
                    fmt_num(r.max)
                ),
                Some("swap them, or fix the one that is wrong"),
            );
            return None;
        }
        if !decimal && r.round.is_some() {
            self.err(
                at,
                format!("{where_}: `round` is for decimals (an int is whole already)"),
                None,
            );
            return None;
        }
        let places = r.round.unwrap_or(2);
        if places > 12 {
            self.err(
                at,
                format!("{where_}: round is {places}; at most 12 decimal places"),
                None,
            );
            return None;
        }
        let (lo, hi) = (fmt_num(r.min), fmt_num(r.max));
        let need = |this: &mut Self, v: Option<f64>, what: &str| -> Option<String> {
            match v {
                Some(x) if x.is_finite() => Some(fmt_num(x)),
                _ => {
                    this.err(
                        at,
                        format!("{where_}: this distribution needs `{what}`"),
                        None,
                    );
                    None
                }
            }
        };
        let dist = r.dist.unwrap_or(DistName::Uniform);
        if dist != DistName::Zipf && r.s.is_some() {
            self.err(
                at,
                format!("{where_}: `s` is the exponent of dist: zipf"),
                None,
            );
            return None;
        }
        if matches!(dist, DistName::Uniform | DistName::Zipf)
            && (r.mean.is_some() || r.sd.is_some())
        {
            self.err(
                at,
                format!("{where_}: `mean` and `sd` go with dist: normal or lognormal"),
                None,
            );
            return None;
        }
        if let Some(sd) = r.sd {
            if sd < 0.0 {
                self.err(
                    at,
                    format!("{where_}: sd is {sd}; it cannot be negative"),
                    None,
                );
                return None;
            }
        }
        let raw = match dist {
            DistName::Uniform if decimal => format!("uniform({lo}, {hi})"),
            DistName::Uniform => format!("floor(uniform({lo}, {hi} + 1))"),
            DistName::Normal => format!(
                "normal({}, {})",
                need(self, r.mean, "mean")?,
                need(self, r.sd, "sd")?
            ),
            DistName::Lognormal => format!(
                "lognormal({}, {})",
                need(self, r.mean, "mean")?,
                need(self, r.sd, "sd")?
            ),
            DistName::Zipf => {
                let s = need(self, r.s, "s")?;
                format!("({lo} - 1 + zipf({hi} - {lo} + 1, {s}))")
            }
        };
        let shaped = if decimal {
            format!("round({raw}, {places})")
        } else {
            format!("round({raw})")
        };
        Some(format!("min({hi}, max({lo}, {shaped}))"))
    }

    fn reference(
        &mut self,
        r: &RawRef,
        cx: &ColumnCtx<'_>,
        c: &mut Compiler<'_>,
        refs: &mut Vec<RefSpec>,
        where_: &str,
    ) -> Option<(Expr, Kind)> {
        let at = cx.line;
        let Some(t) = cx
            .done
            .iter()
            .position(|t| t.name == r.table || t.alias == r.table)
        else {
            if cx
                .names
                .iter()
                .any(|n| *n == r.table || alias_of(n) == r.table)
            {
                self.err(
                    at,
                    format!("{where_} refers to `{}`, which is generated later", r.table),
                    Some(
                        "list tables in dependency order: move the referenced table above this one",
                    ),
                );
            } else {
                let help = closest(&r.table, cx.names).map(|s| format!("did you mean `{s}`?"));
                self.err(
                    at,
                    format!("{where_} refers to `{}`, not a table of the model", r.table),
                    help.as_deref(),
                );
            }
            return None;
        };
        let cols = &cx.kinds[t];
        let find = |this: &mut Self, name: &str| -> Option<usize> {
            let i = cols.iter().position(|(c, _)| c == name);
            if i.is_none() {
                let known: Vec<String> = cols.iter().map(|c| c.0.clone()).collect();
                this.err(
                    at,
                    format!(
                        "{where_}: `{}` has no column `{name}` (columns: {})",
                        r.table,
                        known.join(", ")
                    ),
                    None,
                );
            }
            i
        };
        let column = find(self, &r.column)?;
        let mut match_columns = Vec::new();
        let mut keys = Vec::new();
        for (mc, src) in &r.matching.0 {
            match_columns.push(find(self, mc)?);
            match c.compile(&src.source()) {
                Ok((e, _)) => keys.push(e),
                Err(m) => {
                    self.err(at, format!("{where_}, match `{mc}`: {m}"), None);
                    return None;
                }
            }
        }
        refs.push(RefSpec {
            table: t,
            column,
            match_columns,
        });
        Some((
            Expr::Ref(refs.len() - 1, keys, c.call_site()),
            cols[column].1.or(Kind::NULL),
        ))
    }
}

struct ColumnCtx<'a> {
    table: &'a str,
    column: &'a str,
    line: Option<usize>,
    done: &'a [Table],
    kinds: &'a [Vec<(String, Kind)>],
    names: &'a [String],
}

pub fn alias_of(name: &str) -> String {
    name.rsplit('.').next().unwrap_or(name).to_string()
}

enum Part {
    Lit(String),
    /// An expression and an optional zero-padded width (`{n:04}`).
    Expr(String, Option<usize>),
}

fn template_parts(t: &str) -> Result<Vec<Part>, String> {
    let chars: Vec<char> = t.chars().collect();
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '{' if chars.get(i + 1) == Some(&'{') => {
                lit.push('{');
                i += 2;
            }
            '}' if chars.get(i + 1) == Some(&'}') => {
                lit.push('}');
                i += 2;
            }
            '{' => {
                let start = i + 1;
                let mut j = start;
                let mut quoted = false;
                while j < chars.len() && (quoted || chars[j] != '}') {
                    if chars[j] == '\'' {
                        quoted = !quoted;
                    }
                    j += 1;
                }
                if j >= chars.len() {
                    return Err("a `{` is not closed (write `{{` for a brace)".into());
                }
                let inner: String = chars[start..j].iter().collect();
                let (src, pad) = match inner.rsplit_once(":0") {
                    Some((e, w)) if !w.is_empty() && w.chars().all(|c| c.is_ascii_digit()) => {
                        (e.to_string(), w.parse().ok())
                    }
                    _ => (inner, None),
                };
                if !lit.is_empty() {
                    out.push(Part::Lit(std::mem::take(&mut lit)));
                }
                out.push(Part::Expr(src, pad));
                i = j + 1;
            }
            '}' => return Err("a `}` has no `{` (write `}}` for a brace)".into()),
            c => {
                lit.push(c);
                i += 1;
            }
        }
    }
    if !lit.is_empty() {
        out.push(Part::Lit(lit));
    }
    Ok(out)
}
