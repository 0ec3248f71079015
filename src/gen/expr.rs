//! The model's small expression language: parsed once into a tree whose
//! names are resolved to slots, then evaluated per row. Pure.
//!
//! ```text
//! if(channel == 'web', 0.7, 0.3) * uniform(0.85, 1.15)
//! days.date + floor(uniform(3, 21))
//! lower(channel) in ('web', 'store')
//! ```
//! Names: earlier columns of the row, `alias.column` of a parent row, the
//! model's `vars` (with `scale`, `history_start`, `history_end`,
//! `history_days`), `index` (the row's key: its position in the table) and
//! `position` (its position among its parent row's children, from 0).

use super::draw::{self, mix, unit};
use super::value::{Kind, Value};
use chrono::{Days, NaiveDate, NaiveTime};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Func {
    Min,
    Max,
    Round,
    Floor,
    Ceil,
    Abs,
    Lower,
    Upper,
    Text,
    Date,
    At,
    Pick,
    Coalesce,
    Pad,
    Int,
    UniformOf,
}

/// Random draws: each call site in a column has its own stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dist {
    Uniform,
    Normal,
    LogNormal,
    Poisson,
    Zipf,
    Chance,
}

#[derive(Debug, Clone)]
pub enum Expr {
    Lit(Value),
    Var(usize),
    Col(usize),
    Parent(usize, usize),
    Key,
    Position,
    Neg(Box<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Vec<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
    Draw(Dist, Vec<Expr>, u64),
    /// Weighted choice: cumulative weights (last = total) and values.
    Choice(Vec<f64>, Vec<Value>, u64),
    /// A `format:` template: the parts' text, concatenated.
    Concat(Vec<Expr>),
    /// A value of a referenced table's column, among the rows whose match
    /// columns equal `keys` (see [`RefIndex`]).
    Ref(usize, Vec<Expr>, u64),
}

/// A referenced column's values grouped by the hash of the match columns.
#[derive(Debug, Default, Clone)]
pub struct RefIndex {
    pub by_key: HashMap<u64, Vec<Value>, BuildHasherDefault<KeyHasher>>,
}

/// The keys of a [`RefIndex`] are hashes already ([`key_hash`]): looked up
/// as they are, without hashing them again per row.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = mix(self.0 ^ b as u64);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub fn key_hash(values: impl Iterator<Item = Value>) -> u64 {
    values.fold(0x4EF5, |h, v| mix(h ^ v.hash()))
}

/// What an expression can see while a row is generated.
pub struct Ctx<'a> {
    pub vars: &'a [Value],
    pub row: &'a [Value],
    pub parents: &'a [&'a [Value]],
    /// The row's key (position in its table, or of the parent combination).
    pub key: u64,
    /// The row's position among the rows of its parent combination.
    pub pos: u64,
    /// hash(seed, table, column): the column's random streams.
    pub site: u64,
    pub seed: u64,
    pub refs: &'a [RefIndex],
}

impl Ctx<'_> {
    fn draw(&self, call: u64, extra: u64) -> f64 {
        unit(self.site ^ mix(call.wrapping_mul(2) + extra), self.key)
    }
}

/// Names an expression may use, with the kinds they hold.
#[derive(Default, Clone)]
pub struct Scope {
    pub vars: Vec<(String, Kind)>,
    pub columns: Vec<(String, Kind)>,
    /// (alias, its columns)
    pub parents: Vec<(String, Vec<(String, Kind)>)>,
}

impl Scope {
    fn resolve(&self, name: &str) -> Result<(Expr, Kind), String> {
        if let Some((alias, col)) = name.split_once('.') {
            if let Some(p) = self.parents.iter().position(|(a, _)| a == alias) {
                let cols = &self.parents[p].1;
                return match cols.iter().position(|(c, _)| c == col) {
                    Some(c) => Ok((Expr::Parent(p, c), cols[c].1)),
                    None => Err(format!(
                        "`{alias}` has no column `{col}` (columns: {})",
                        names(cols)
                    )),
                };
            }
        }
        if let Some(i) = self.columns.iter().position(|(c, _)| c == name) {
            return Ok((Expr::Col(i), self.columns[i].1));
        }
        if let Some(i) = self.vars.iter().position(|(c, _)| c == name) {
            return Ok((Expr::Var(i), self.vars[i].1));
        }
        if name == "index" {
            return Ok((Expr::Key, Kind::INT));
        }
        if name == "position" {
            return Ok((Expr::Position, Kind::INT));
        }
        let mut known: Vec<String> = self.columns.iter().map(|c| c.0.clone()).collect();
        for (a, cols) in &self.parents {
            known.extend(cols.iter().map(|(c, _)| format!("{a}.{c}")));
        }
        known.extend(self.vars.iter().map(|c| c.0.clone()));
        Err(format!(
            "unknown name `{name}` (known here: {}{}index, position)",
            known.join(", "),
            if known.is_empty() { "" } else { ", " }
        ))
    }
}

fn names(cols: &[(String, Kind)]) -> String {
    cols.iter()
        .map(|c| c.0.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------- parsing

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64, bool),
    Str(String),
    Ident(String),
    Op(&'static str),
}

fn tokenize(src: &str) -> Result<Vec<Tok>, String> {
    const OPS: [&str; 17] = [
        "||", "==", "!=", "<=", ">=", "<>", "<", ">", "=", "+", "-", "*", "/", "%", "(", ")", ",",
    ];
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("a string is not closed (missing `'`)".into()),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        s.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(s));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            let n: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
            out.push(Tok::Num(n, !s.contains('.')));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            match OPS.iter().find(|o| rest.starts_with(**o)) {
                Some(o) => {
                    out.push(Tok::Op(o));
                    i += o.len();
                }
                None => return Err(format!("unexpected character `{c}`")),
            }
        }
    }
    Ok(out)
}

/// Compiles expressions against a scope; numbers the random call sites.
pub struct Compiler<'a> {
    pub scope: &'a Scope,
    pub next_call: u64,
}

struct Parser<'a, 'b> {
    toks: Vec<Tok>,
    pos: usize,
    c: &'b mut Compiler<'a>,
}

type Typed = (Expr, Kind);

impl<'a> Compiler<'a> {
    pub fn new(scope: &'a Scope) -> Self {
        Compiler {
            scope,
            next_call: 0,
        }
    }
    pub fn call_site(&mut self) -> u64 {
        self.next_call += 1;
        self.next_call
    }
    /// Parses `src` into an expression and the kinds it can yield.
    pub fn compile(&mut self, src: &str) -> Result<Typed, String> {
        let toks = tokenize(src)?;
        if toks.is_empty() {
            return Err("empty expression".into());
        }
        let mut p = Parser {
            toks,
            pos: 0,
            c: self,
        };
        let e = p.expr(0)?;
        if p.pos < p.toks.len() {
            return Err(format!("unexpected `{}`", show(&p.toks[p.pos])));
        }
        Ok(e)
    }
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Num(n, _) => n.to_string(),
        Tok::Str(s) => format!("'{s}'"),
        Tok::Ident(s) => s.clone(),
        Tok::Op(o) => o.to_string(),
    }
}

fn bin_prec(t: &Tok) -> Option<(u8, &'static str)> {
    match t {
        Tok::Ident(s) if s.eq_ignore_ascii_case("or") => Some((1, "or")),
        Tok::Ident(s) if s.eq_ignore_ascii_case("and") => Some((2, "and")),
        Tok::Ident(s) if s.eq_ignore_ascii_case("in") => Some((4, "in")),
        Tok::Op(o @ ("==" | "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=")) => Some((4, o)),
        Tok::Op("||") => Some((5, "||")),
        Tok::Op(o @ ("+" | "-")) => Some((6, o)),
        Tok::Op(o @ ("*" | "/" | "%")) => Some((7, o)),
        _ => None,
    }
}

impl Parser<'_, '_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn expect(&mut self, op: &str) -> Result<(), String> {
        match self.peek() {
            Some(Tok::Op(o)) if *o == op => {
                self.pos += 1;
                Ok(())
            }
            Some(t) => Err(format!("expected `{op}`, found `{}`", show(t))),
            None => Err(format!("expected `{op}` at the end")),
        }
    }
    fn expr(&mut self, min: u8) -> Result<Typed, String> {
        let mut lhs = self.prefix()?;
        while let Some((prec, op)) = self.peek().and_then(bin_prec) {
            if prec <= min {
                break;
            }
            self.pos += 1;
            if op == "in" {
                self.expect("(")?;
                let mut list = Vec::new();
                loop {
                    list.push(self.expr(0)?.0);
                    match self.peek() {
                        Some(Tok::Op(",")) => self.pos += 1,
                        _ => break,
                    }
                }
                self.expect(")")?;
                lhs = (Expr::In(Box::new(lhs.0), list), Kind::BOOL.or(Kind::NULL));
                continue;
            }
            let rhs = self.expr(prec)?;
            lhs = binary(op, lhs, rhs);
        }
        Ok(lhs)
    }
    fn prefix(&mut self) -> Result<Typed, String> {
        let t = self
            .peek()
            .cloned()
            .ok_or_else(|| "the expression ends too early".to_string())?;
        self.pos += 1;
        match t {
            Tok::Num(n, true) if n.abs() < 9.0e15 => {
                Ok((Expr::Lit(Value::Int(n as i64)), Kind::INT))
            }
            Tok::Num(n, _) => Ok((Expr::Lit(Value::Float(n)), Kind::FLOAT)),
            Tok::Str(s) => Ok((Expr::Lit(Value::text(&s)), Kind::TEXT)),
            Tok::Op("(") => {
                let e = self.expr(0)?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Op("-") => {
                let (e, k) = self.expr(7)?;
                Ok((Expr::Neg(Box::new(e)), k))
            }
            Tok::Ident(s) if s.eq_ignore_ascii_case("not") => {
                let (e, _) = self.expr(3)?;
                Ok((Expr::Not(Box::new(e)), Kind::BOOL))
            }
            Tok::Ident(s) if s.eq_ignore_ascii_case("true") => {
                Ok((Expr::Lit(Value::Bool(true)), Kind::BOOL))
            }
            Tok::Ident(s) if s.eq_ignore_ascii_case("false") => {
                Ok((Expr::Lit(Value::Bool(false)), Kind::BOOL))
            }
            Tok::Ident(s) if s.eq_ignore_ascii_case("null") => {
                Ok((Expr::Lit(Value::Null), Kind::NULL))
            }
            Tok::Ident(name) => {
                if let Some(Tok::Op("(")) = self.peek() {
                    self.pos += 1;
                    let mut args = Vec::new();
                    if let Some(Tok::Op(")")) = self.peek() {
                        self.pos += 1;
                    } else {
                        loop {
                            args.push(self.expr(0)?);
                            match self.peek() {
                                Some(Tok::Op(",")) => self.pos += 1,
                                _ => break,
                            }
                        }
                        self.expect(")")?;
                    }
                    call(&name, args, self.c)
                } else {
                    self.c.scope.resolve(&name)
                }
            }
            Tok::Op(o) => Err(format!("unexpected `{o}`")),
        }
    }
}

fn binary(op: &str, (l, lk): Typed, (r, rk): Typed) -> Typed {
    let nullable = Kind(lk.or(rk).0 & Kind::NULL.0);
    let (bop, kind) = match op {
        "or" => return (Expr::Or(Box::new(l), Box::new(r)), Kind::BOOL),
        "and" => return (Expr::And(Box::new(l), Box::new(r)), Kind::BOOL),
        "||" => (BinOp::Concat, Kind::TEXT),
        "==" | "=" => (BinOp::Eq, Kind::BOOL.or(nullable)),
        "!=" | "<>" => (BinOp::Ne, Kind::BOOL.or(nullable)),
        "<" => (BinOp::Lt, Kind::BOOL.or(nullable)),
        "<=" => (BinOp::Le, Kind::BOOL.or(nullable)),
        ">" => (BinOp::Gt, Kind::BOOL.or(nullable)),
        ">=" => (BinOp::Ge, Kind::BOOL.or(nullable)),
        "/" => (BinOp::Div, Kind::FLOAT.or(nullable)),
        "%" => (BinOp::Rem, arith_kind(lk, rk)),
        "*" => (BinOp::Mul, arith_kind(lk, rk)),
        "-" => {
            let k = if lk.has(Kind::DATE) && rk.has(Kind::DATE) {
                Kind::INT
            } else {
                arith_kind(lk, rk)
            };
            (BinOp::Sub, k.or(nullable))
        }
        _ => (BinOp::Add, arith_kind(lk, rk)),
    };
    (Expr::Bin(bop, Box::new(l), Box::new(r)), kind)
}

fn arith_kind(l: Kind, r: Kind) -> Kind {
    let both = l.or(r);
    let mut k = Kind(both.0 & Kind::NULL.0);
    if both.has(Kind::DATE) {
        k = k.or(Kind::DATE);
    }
    if both.has(Kind::TIMESTAMP) {
        k = k.or(Kind::TIMESTAMP);
    }
    if both.has(Kind::FLOAT) {
        k = k.or(Kind::FLOAT);
    } else if both.has(Kind::INT) && !both.has(Kind::DATE) && !both.has(Kind::TIMESTAMP) {
        k = k.or(Kind::INT);
    }
    if k.without_null() == Kind::NONE {
        Kind::ANY
    } else {
        k
    }
}

fn arity(name: &str, args: &[Typed], min: usize, max: usize) -> Result<(), String> {
    if args.len() < min || args.len() > max {
        let want = if min == max {
            format!("{min}")
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(format!(
            "{name}() takes {want} argument(s), not {}",
            args.len()
        ));
    }
    Ok(())
}

fn union(args: &[Typed]) -> Kind {
    args.iter().fold(Kind::NONE, |k, a| k.or(a.1))
}

fn call(name: &str, args: Vec<Typed>, c: &mut Compiler<'_>) -> Result<Typed, String> {
    let lname = name.to_ascii_lowercase();
    let draw = |d: Dist, min: usize, max: usize, kind: Kind, c: &mut Compiler<'_>| {
        arity(&lname, &args, min, max)?;
        let call = c.call_site();
        Ok((
            Expr::Draw(d, args.iter().map(|a| a.0.clone()).collect(), call),
            kind,
        ))
    };
    match lname.as_str() {
        "uniform" => {
            if args.len() == 1 {
                return Err("uniform() takes no argument (0..1) or two (min, max)".into());
            }
            return draw(Dist::Uniform, 0, 2, Kind::FLOAT, c);
        }
        "normal" => return draw(Dist::Normal, 2, 2, Kind::FLOAT, c),
        "lognormal" => return draw(Dist::LogNormal, 2, 2, Kind::FLOAT, c),
        "poisson" => return draw(Dist::Poisson, 1, 1, Kind::INT, c),
        "zipf" => return draw(Dist::Zipf, 2, 2, Kind::INT, c),
        "chance" => return draw(Dist::Chance, 1, 1, Kind::BOOL, c),
        "if" => {
            arity(name, &args, 3, 3)?;
            let k = args[1].1.or(args[2].1);
            let mut it = args.into_iter().map(|a| Box::new(a.0));
            let (a, b, d) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
            return Ok((Expr::If(a, b, d), k));
        }
        _ => {}
    }
    let (f, kind) = match lname.as_str() {
        "min" | "max" => {
            arity(name, &args, 1, usize::MAX)?;
            let f = if lname == "min" { Func::Min } else { Func::Max };
            (f, union(&args))
        }
        "round" => {
            arity(name, &args, 1, 2)?;
            let k = if args.len() == 1 {
                Kind::INT
            } else {
                Kind::FLOAT
            };
            (Func::Round, k.or(Kind(args[0].1 .0 & 1)))
        }
        "floor" => (
            Func::Floor,
            Kind::INT.or(Kind(args.first().map_or(0, |a| a.1 .0) & 1)),
        ),
        "ceil" => (
            Func::Ceil,
            Kind::INT.or(Kind(args.first().map_or(0, |a| a.1 .0) & 1)),
        ),
        "abs" => (Func::Abs, union(&args)),
        "lower" => (Func::Lower, Kind::TEXT.or(Kind(union(&args).0 & 1))),
        "upper" => (Func::Upper, Kind::TEXT.or(Kind(union(&args).0 & 1))),
        "text" => (Func::Text, Kind::TEXT.or(Kind(union(&args).0 & 1))),
        "date" => (Func::Date, Kind::DATE),
        "at" => (Func::At, Kind::TIMESTAMP),
        "pick" => {
            arity(name, &args, 2, usize::MAX)?;
            (Func::Pick, union(&args[1..]))
        }
        "coalesce" => {
            arity(name, &args, 1, usize::MAX)?;
            (Func::Coalesce, union(&args))
        }
        "pad" => (Func::Pad, Kind::TEXT),
        "int" => (Func::Int, Kind::INT.or(Kind(union(&args).0 & 1))),
        "uniform_of" => (Func::UniformOf, Kind::FLOAT),
        _ => {
            return Err(format!(
                "unknown function `{name}` (functions: min, max, round, floor, ceil, abs, lower, \
                 upper, text, date, at, pick, coalesce, pad, int, if, uniform, normal, lognormal, \
                 poisson, zipf, chance, uniform_of)"
            ))
        }
    };
    let fixed = |n: usize| arity(name, &args, n, n);
    match f {
        Func::Floor | Func::Ceil | Func::Abs | Func::Lower | Func::Upper | Func::Text => fixed(1)?,
        Func::Date | Func::Int => fixed(1)?,
        Func::At | Func::Pad => fixed(2)?,
        Func::UniformOf => arity(name, &args, 1, usize::MAX)?,
        _ => {}
    }
    let all_lit = args.iter().all(|a| matches!(a.0, Expr::Lit(_)));
    let e = Expr::Call(f, args.into_iter().map(|a| a.0).collect());
    if all_lit && f != Func::UniformOf {
        // Constant folding: `date('2025-10-05')` is parsed once.
        let ctx = Ctx {
            vars: &[],
            row: &[],
            parents: &[],
            key: 0,
            pos: 0,
            site: 0,
            seed: 0,
            refs: &[],
        };
        let v = eval(&e, &ctx);
        if f == Func::Date && v.is_null() {
            return Err("date() needs a date written YYYY-MM-DD".into());
        }
        return Ok((Expr::Lit(v), kind));
    }
    Ok((e, kind))
}

// ---------------------------------------------------------------- evaluation

/// Evaluates `e` for the row `cx` describes.
///
/// The hot path of generation (every column of every row): leaves (a
/// literal, a column, a var, a parent's column) are read inline by the node
/// that holds them ([`ev`]), conditions are decided without building a
/// value where they can be ([`truth`]), and the rarer nodes (functions,
/// formats, references) are evaluated out of line, so that this function
/// stays small.
pub fn eval(e: &Expr, cx: &Ctx<'_>) -> Value {
    match e {
        Expr::Lit(v) => v.clone(),
        Expr::Var(i) => cx.vars[*i].clone(),
        Expr::Col(i) => cx.row[*i].clone(),
        Expr::Parent(p, c) => cx.parents[*p][*c].clone(),
        Expr::Key => Value::Int(cx.key as i64),
        Expr::Position => Value::Int(cx.pos as i64),
        Expr::Neg(a) => match ev(a, cx) {
            Value::Int(i) => Value::Int(i.wrapping_neg()),
            Value::Float(f) => Value::Float(-f),
            _ => Value::Null,
        },
        Expr::Not(a) => match ev(a, cx) {
            Value::Bool(b) => Value::Bool(!b),
            _ => Value::Null,
        },
        Expr::And(a, b) => Value::Bool(truth(a, cx) && truth(b, cx)),
        Expr::Or(a, b) => Value::Bool(truth(a, cx) || truth(b, cx)),
        Expr::Bin(op, a, b) => bin(*op, ev(a, cx), ev(b, cx)),
        Expr::In(a, list) => {
            let v = ev(a, cx);
            if v.is_null() {
                return Value::Null;
            }
            Value::Bool(
                list.iter()
                    .any(|x| compare(&v, &ev(x, cx)) == Some(std::cmp::Ordering::Equal)),
            )
        }
        Expr::If(c, a, b) => {
            if truth(c, cx) {
                ev(a, cx)
            } else {
                ev(b, cx)
            }
        }
        Expr::Call(f, args) => call_fn(*f, args, cx),
        Expr::Draw(d, args, call) => draw_value(*d, args, *call, cx),
        Expr::Choice(cum, values, call) => {
            let total = *cum.last().unwrap_or(&1.0);
            let u = cx.draw(*call, 0) * total;
            let i = cum.partition_point(|&c| c <= u).min(values.len() - 1);
            values[i].clone()
        }
        Expr::Concat(parts) => concat(parts, cx),
        Expr::Ref(id, keys, call) => reference(*id, keys, *call, cx),
    }
}

/// [`eval`], with the leaves read here rather than through a call.
#[inline(always)]
pub fn ev(e: &Expr, cx: &Ctx<'_>) -> Value {
    match e {
        Expr::Lit(v) => v.clone(),
        Expr::Col(i) => cx.row[*i].clone(),
        Expr::Var(i) => cx.vars[*i].clone(),
        Expr::Parent(p, c) => cx.parents[*p][*c].clone(),
        _ => eval(e, cx),
    }
}

/// Whether `e` is true (`eval(e, cx).truthy()`), without cloning a column
/// or building the value of a `chance()` draw.
#[inline(always)]
fn truth(e: &Expr, cx: &Ctx<'_>) -> bool {
    match e {
        Expr::Col(i) => cx.row[*i].truthy(),
        Expr::Lit(v) => v.truthy(),
        Expr::Parent(p, c) => cx.parents[*p][*c].truthy(),
        // As draw_value: `u < p`, NULL (not true) when p is not a number.
        Expr::Draw(Dist::Chance, args, call) if args.len() == 1 => match num(&ev(&args[0], cx)) {
            Some(p) => cx.draw(*call, 0) < p,
            None => false,
        },
        _ => eval(e, cx).truthy(),
    }
}

#[inline(never)]
fn concat(parts: &[Expr], cx: &Ctx<'_>) -> Value {
    let mut s = String::new();
    for p in parts {
        match p {
            Expr::Lit(Value::Text(t)) => s.push_str(t),
            other => ev(other, cx).write_text(&mut s),
        }
    }
    Value::owned(s)
}

#[inline(never)]
fn reference(id: usize, keys: &[Expr], call: u64, cx: &Ctx<'_>) -> Value {
    let h = key_hash(keys.iter().map(|k| ev(k, cx)));
    match cx.refs[id].by_key.get(&h) {
        Some(vals) if !vals.is_empty() => {
            let i = ((cx.draw(call, 0) * vals.len() as f64) as usize).min(vals.len() - 1);
            vals[i].clone()
        }
        _ => Value::Null,
    }
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn draw_value(d: Dist, args: &[Expr], call: u64, cx: &Ctx<'_>) -> Value {
    // At most two arguments, evaluated without allocating (the hot path).
    let arg = |i: usize| args.get(i).and_then(|x| num(&ev(x, cx)));
    let (a0, a1) = (arg(0), arg(1));
    let f = |i: usize| if i == 0 { a0 } else { a1 };
    let u = cx.draw(call, 0);
    match d {
        Dist::Uniform => match (f(0), f(1)) {
            (Some(lo), Some(hi)) => Value::Float(lo + (hi - lo) * u),
            _ if args.is_empty() => Value::Float(u),
            _ => Value::Null,
        },
        Dist::Normal => match (f(0), f(1)) {
            (Some(m), Some(s)) => Value::Float(m + s * draw::std_normal(u, cx.draw(call, 1))),
            _ => Value::Null,
        },
        Dist::LogNormal => match (f(0), f(1)) {
            (Some(m), Some(s)) => {
                Value::Float((m + s * draw::std_normal(u, cx.draw(call, 1))).exp())
            }
            _ => Value::Null,
        },
        Dist::Poisson => match f(0) {
            Some(m) => Value::Int(draw::poisson(m, u, cx.draw(call, 1))),
            None => Value::Null,
        },
        Dist::Zipf => match (f(0), f(1)) {
            (Some(n), Some(s)) => Value::Int(draw::zipf(n, s, u)),
            _ => Value::Null,
        },
        Dist::Chance => match f(0) {
            Some(p) => Value::Bool(u < p),
            None => Value::Null,
        },
    }
}

pub fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Text(x), Value::Text(y)) => Some((**x).cmp(&**y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::Timestamp(x), Value::Timestamp(y)) => Some(x.cmp(y)),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => None,
        },
    }
}

fn add_days(d: NaiveDate, n: i64) -> Value {
    let r = if n >= 0 {
        d.checked_add_days(Days::new(n as u64))
    } else {
        d.checked_sub_days(Days::new(n.unsigned_abs()))
    };
    r.map_or(Value::Null, Value::Date)
}

fn bin(op: BinOp, a: Value, b: Value) -> Value {
    use std::cmp::Ordering::*;
    use BinOp::*;
    if op == Concat {
        if a.is_null() || b.is_null() {
            return Value::Null;
        }
        let mut s = a.to_text();
        b.write_text(&mut s);
        return Value::owned(s);
    }
    if a.is_null() || b.is_null() {
        return Value::Null;
    }
    let cmp = |want: &dyn Fn(std::cmp::Ordering) -> bool| match compare(&a, &b) {
        Some(o) => Value::Bool(want(o)),
        None => Value::Bool(matches!(op, Ne)),
    };
    match op {
        Eq => return cmp(&|o| o == Equal),
        Ne => return cmp(&|o| o != Equal),
        Lt => return cmp(&|o| o == Less),
        Le => return cmp(&|o| o != Greater),
        Gt => return cmp(&|o| o == Greater),
        Ge => return cmp(&|o| o != Less),
        _ => {}
    }
    match (&a, &b, op) {
        (Value::Date(d), Value::Int(n), Add) | (Value::Int(n), Value::Date(d), Add) => {
            add_days(*d, *n)
        }
        (Value::Date(d), Value::Int(n), Sub) => add_days(*d, -*n),
        (Value::Date(x), Value::Date(y), Sub) => Value::Int((*x - *y).num_days()),
        (Value::Int(x), Value::Int(y), _) => match op {
            Add => Value::Int(x.wrapping_add(*y)),
            Sub => Value::Int(x.wrapping_sub(*y)),
            Mul => Value::Int(x.wrapping_mul(*y)),
            Div if *y != 0 => Value::Float(*x as f64 / *y as f64),
            Rem if *y != 0 => Value::Int(x.rem_euclid(*y)),
            _ => Value::Null,
        },
        _ => match (num(&a), num(&b)) {
            (Some(x), Some(y)) => {
                let r = match op {
                    Add => x + y,
                    Sub => x - y,
                    Mul => x * y,
                    Div => x / y,
                    _ => x.rem_euclid(y),
                };
                if r.is_finite() {
                    Value::Float(r)
                } else {
                    Value::Null
                }
            }
            _ => Value::Null,
        },
    }
}

fn to_int(f: f64) -> Value {
    if f.is_finite() && f.abs() < 9.2e18 {
        Value::Int(f as i64)
    } else {
        Value::Null
    }
}

#[inline(never)]
fn call_fn(f: Func, args: &[Expr], cx: &Ctx<'_>) -> Value {
    let arg = |i: usize| ev(&args[i], cx);
    match f {
        Func::Min | Func::Max => {
            let mut best: Option<Value> = None;
            for a in args {
                let v = ev(a, cx);
                if v.is_null() {
                    continue;
                }
                best = match best {
                    None => Some(v),
                    Some(b) => {
                        let o = compare(&v, &b);
                        let take = if f == Func::Min {
                            o == Some(std::cmp::Ordering::Less)
                        } else {
                            o == Some(std::cmp::Ordering::Greater)
                        };
                        Some(if take { v } else { b })
                    }
                };
            }
            best.unwrap_or(Value::Null)
        }
        Func::Round => {
            let v = arg(0);
            if args.len() == 1 {
                return match v {
                    Value::Int(_) => v,
                    other => num(&other).map_or(Value::Null, |x| to_int(x.round())),
                };
            }
            match (num(&v), num(&arg(1))) {
                (Some(x), Some(d)) => {
                    let p = 10f64.powi(d as i32);
                    Value::Float((x * p).round() / p)
                }
                _ => Value::Null,
            }
        }
        Func::Floor | Func::Ceil | Func::Int => match arg(0) {
            Value::Int(i) => Value::Int(i),
            Value::Text(t) if f == Func::Int => t.trim().parse().map_or(Value::Null, Value::Int),
            Value::Bool(b) if f == Func::Int => Value::Int(b as i64),
            v => num(&v).map_or(Value::Null, |x| {
                to_int(match f {
                    Func::Ceil => x.ceil(),
                    Func::Floor => x.floor(),
                    _ => x.trunc(),
                })
            }),
        },
        Func::Abs => match arg(0) {
            Value::Int(i) => Value::Int(i.wrapping_abs()),
            Value::Float(x) => Value::Float(x.abs()),
            _ => Value::Null,
        },
        Func::Lower | Func::Upper => match arg(0) {
            // Already in the asked case: the same text, no allocation.
            Value::Text(t)
                if (f == Func::Lower && !t.chars().any(char::is_uppercase))
                    || (f == Func::Upper && !t.chars().any(char::is_lowercase)) =>
            {
                Value::Text(t)
            }
            Value::Text(t) => Value::owned(if f == Func::Lower {
                t.to_lowercase()
            } else {
                t.to_uppercase()
            }),
            Value::Null => Value::Null,
            v => Value::owned(v.to_text()),
        },
        Func::Text => match arg(0) {
            Value::Null => Value::Null,
            v @ Value::Text(_) => v,
            v => Value::owned(v.to_text()),
        },
        Func::Date => match arg(0) {
            Value::Text(t) => {
                NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d").map_or(Value::Null, Value::Date)
            }
            Value::Timestamp(t) => Value::Date(t.date()),
            v @ Value::Date(_) => v,
            _ => Value::Null,
        },
        Func::At => match (arg(0), num(&arg(1))) {
            (Value::Date(d), Some(secs)) => {
                let base = d.and_time(NaiveTime::MIN);
                let micros = (secs * 1e6).round() as i64;
                base.checked_add_signed(chrono::TimeDelta::microseconds(micros))
                    .map_or(Value::Null, Value::Timestamp)
            }
            _ => Value::Null,
        },
        Func::Pick => match arg(0) {
            Value::Int(i) => {
                let n = (args.len() - 1) as i64;
                ev(&args[1 + i.rem_euclid(n) as usize], cx)
            }
            _ => Value::Null,
        },
        Func::Coalesce => args
            .iter()
            .map(|a| ev(a, cx))
            .find(|v| !v.is_null())
            .unwrap_or(Value::Null),
        Func::Pad => match (arg(0), num(&arg(1))) {
            (Value::Null, _) => Value::Null,
            (v, Some(w)) => {
                let s = v.to_text();
                let w = (w.max(0.0) as usize).min(64);
                let s = if s.len() < w {
                    format!("{}{s}", "0".repeat(w - s.len()))
                } else {
                    s
                };
                Value::owned(s)
            }
            _ => Value::Null,
        },
        Func::UniformOf => {
            let h = key_hash(args.iter().map(|a| ev(a, cx)));
            Value::Float(draw::unit_of(mix(h ^ mix(cx.seed))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            vars: vec![("scale".into(), Kind::FLOAT)],
            columns: vec![("channel".into(), Kind::TEXT), ("n".into(), Kind::INT)],
            parents: vec![("days".into(), vec![("date".into(), Kind::DATE)])],
        }
    }

    fn run(src: &str) -> Value {
        let s = scope();
        let (e, _) = Compiler::new(&s).compile(src).unwrap();
        let d = NaiveDate::from_ymd_opt(2025, 10, 5).unwrap();
        let parent = [Value::Date(d)];
        let parents: [&[Value]; 1] = [&parent];
        let cx = Ctx {
            vars: &[Value::Float(2.0)],
            row: &[Value::text("Web"), Value::Int(7)],
            parents: &parents,
            key: 3,
            pos: 0,
            site: 99,
            seed: 1,
            refs: &[],
        };
        eval(&e, &cx)
    }

    #[test]
    fn arithmetic_precedence_and_types() {
        assert_eq!(run("1 + 2 * 3"), Value::Int(7));
        assert_eq!(run("(1 + 2) * 3"), Value::Int(9));
        assert_eq!(run("7 / 2"), Value::Float(3.5));
        assert_eq!(run("-n % 5"), Value::Int(3));
        assert_eq!(run("round(35 * scale)"), Value::Int(70));
        assert_eq!(run("round(2.345, 2)"), Value::Float(2.35));
        assert_eq!(run("min(3, n, 10)"), Value::Int(3));
    }

    #[test]
    fn text_dates_and_conditions() {
        assert_eq!(run("lower(channel) in ('web', 'store')"), Value::Bool(true));
        assert_eq!(run("channel == 'web' or n > 6"), Value::Bool(true));
        assert_eq!(run("not (n >= 7)"), Value::Bool(false));
        assert_eq!(run("text(days.date - 4)"), Value::text("2025-10-01"));
        assert_eq!(run("days.date - date('2025-10-01')"), Value::Int(4));
        assert_eq!(run("'C' || pad(n, 3)"), Value::text("C007"));
        assert_eq!(run("if(null == 1, 'y', 'n')"), Value::text("n"));
        assert_eq!(run("pick(n, 'a', 'b', 'c')"), Value::text("b"));
        assert_eq!(run("coalesce(null, 'x')"), Value::text("x"));
    }

    #[test]
    fn draws_are_stable_and_distinct_per_call_site() {
        let a = run("uniform()");
        assert_eq!(a, run("uniform()"));
        let Value::Float(x) = run("uniform() - uniform()") else {
            panic!()
        };
        assert!(x != 0.0);
        assert!(matches!(run("poisson(4)"), Value::Int(_)));
        assert!(matches!(run("zipf(10, 1.1)"), Value::Int(1..=10)));
    }

    #[test]
    fn errors_name_the_problem() {
        let s = scope();
        let err = |src: &str| Compiler::new(&s).compile(src).unwrap_err();
        assert!(err("platfrom").contains("unknown name `platfrom`"));
        assert!(err("days.datum").contains("`days` has no column `datum`"));
        assert!(err("foo(1)").contains("unknown function `foo`"));
        assert!(err("round()").contains("round() takes 1 to 2"));
        assert!(err("'open").contains("not closed"));
        assert!(err("1 +").contains("ends too early"));
        assert!(err("date('soon')").contains("YYYY-MM-DD"));
        assert!(err("1 2").contains("unexpected `2`"));
    }
}
