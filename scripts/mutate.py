#!/usr/bin/env python3
"""Mutation testing for the endpoint SQL of an assay suite (python3, stdlib only).

For every endpoint query in sql/endpoints/ this script generates small
mutants -- an operator, an aggregate, a dropped filter, a join type, a bound,
a limit, a sort direction, a constant -- writes each one into a temporary copy
of the SQL directory and runs

    $ASSAY_BIN run --sql-dir <tmpdir> --format json

(ASSAY_BIN defaults to target/debug/assay).  A mutant whose run exits 0
"survived": the suite did not notice that the query now returns something
else.  Exit 1 means the checks caught it ("killed"); any other exit status
(e.g. 2, an input error, or a timeout) is reported separately as "errored".

Usage:
    scripts/mutate.py                      # every endpoint, every mutant
    scripts/mutate.py --file kpi.sql       # one endpoint (repeatable)
    scripts/mutate.py --list               # print the mutants, run nothing
    scripts/mutate.py --max 20 --jobs 2    # sample, run two at a time
    scripts/mutate.py --runner 'my-runner {sql_dir}'   # any other command

The script exits 0 when no mutant survived, 1 otherwise.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------
# A tiny SQL lexer: the spans of the text that are code (not comments, not
# string literals, not quoted identifiers, not dollar-quoted bodies).

def code_spans(sql):
    """Yield (start, end, kind) with kind in {'code', 'string', 'other'}."""
    i, n, start = 0, len(sql), 0
    while i < n:
        c = sql[i]
        if c == '-' and sql.startswith('--', i):
            if start < i:
                yield start, i, 'code'
            j = sql.find('\n', i)
            j = n if j < 0 else j
            yield i, j, 'other'
            i = start = j
        elif c == '/' and sql.startswith('/*', i):
            if start < i:
                yield start, i, 'code'
            j = sql.find('*/', i + 2)
            j = n if j < 0 else j + 2
            yield i, j, 'other'
            i = start = j
        elif c in ("'", '"'):
            if start < i:
                yield start, i, 'code'
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            j = min(j + 1, n)
            yield i, j, 'string' if c == "'" else 'other'
            i = start = j
        elif c == '$':
            m = re.match(r'\$([A-Za-z_]\w*)?\$', sql[i:])
            if m:
                if start < i:
                    yield start, i, 'code'
                tag = m.group(0)
                j = sql.find(tag, i + len(tag))
                j = n if j < 0 else j + len(tag)
                yield i, j, 'other'
                i = start = j
            else:
                i += 1
        else:
            i += 1
    if start < n:
        yield start, n, 'code'


def code_matches(sql, pattern, flags=re.IGNORECASE):
    """Regex matches that lie entirely inside code spans."""
    spans = [(a, b) for a, b, k in code_spans(sql) if k == 'code']
    for m in re.finditer(pattern, sql, flags):
        if any(a <= m.start() and m.end() <= b for a, b in spans):
            yield m


def string_matches(sql):
    for a, b, k in code_spans(sql):
        if k == 'string':
            yield a, b


def close_paren(sql, open_idx):
    depth = 0
    for i in range(open_idx, len(sql)):
        if sql[i] == '(':
            depth += 1
        elif sql[i] == ')':
            depth -= 1
            if depth == 0:
                return i
    return -1


def split_top_level_comma(s):
    depth = 0
    for i, c in enumerate(s):
        if c == '(':
            depth += 1
        elif c == ')':
            depth -= 1
        elif c == ',' and depth == 0:
            return s[:i], s[i + 1:]
    return s, None


# --------------------------------------------------------------------------
# Mutation operators.  Each yields (description, mutated_sql).

def replace_at(sql, start, end, new):
    return sql[:start] + new + sql[end:]


def line_of(sql, pos):
    return sql.count('\n', 0, pos) + 1


SIMPLE_SWAPS = [
    # (category, regex, replacements)
    ('operator', r'(?<![<>!=:])>=(?!=)', ['>', '<=']),
    ('operator', r'(?<![<>!=:])<=(?!=)', ['<', '>=']),
    ('operator', r'(?<![<>!=:-])>(?![=>])', ['>=', '<']),
    ('operator', r'(?<![<>!=:])<(?![=>])', ['<=', '>']),
    ('operator', r'<>|!=', ['=']),
    ('operator', r'(?<![<>!=:])=(?![=>])', ['<>']),
    ('operator', r'\bbetween\b', ['not between']),
    ('logic', r'\band\b(?!\s+:)', ['or']),
    ('logic', r'\bor\b', ['and']),
    ('logic', r'\bis\s+not\s+null\b', ['is null']),
    ('logic', r'\bis\s+null\b', ['is not null']),
    ('logic', r'\bis\s+not\s+true\b', ['is true']),
    ('logic', r'\bnot\s+exists\b', ['exists']),
    ('aggregate', r'\bsum(?=\s*\()', ['avg', 'max', 'count']),
    ('aggregate', r'\bavg(?=\s*\()', ['sum', 'max', 'min']),
    ('aggregate', r'\bmin(?=\s*\()', ['max']),
    ('aggregate', r'\bmax(?=\s*\()', ['min']),
    ('aggregate', r'\bstddev(_samp)?(?=\s*\()', ['stddev_pop', 'variance']),
    ('aggregate', r'\bcount\s*\(\s*distinct\s+', ['count(']),
    ('join', r'\bleft\s+join\b', ['join', 'right join']),
    ('join', r'\bfull\s+(outer\s+)?join\b', ['left join', 'join', 'right join']),
    ('join', r'(?<!left )(?<!full )(?<!right )(?<!outer )(?<!cross )\bjoin\b', ['left join']),
    ('join', r'\bcross\s+join\b', ['left join']),
    ('order', r'\bdesc\b', ['asc']),
    ('order', r'\basc\b', ['desc']),
    ('arithmetic', r'(?<=\w|\))\s*\*\s*(?=[\w(])', [' / ']),
    ('arithmetic', r'(?<=\w|\))\s+/\s+(?=[\w(])', [' * ']),
    ('arithmetic', r'(?<=\w|\))\s+-\s+(?=[\w(:])', [' + ']),
    ('arithmetic', r'(?<=\w|\))\s+\+\s+(?=[\w(:])', [' - ']),
    ('set', r'\bunion\s+all\b', ['union']),
    ('function', r'\blower(?=\s*\()', ['upper']),
    ('function', r'\babs(?=\s*\()', ['']),
]


def mutate_simple(sql):
    for cat, pattern, repls in SIMPLE_SWAPS:
        for m in code_matches(sql, pattern):
            if cat == 'arithmetic' and m.group(0).strip() == '*':
                # skip count(*) and select *
                before = sql[:m.start()].rstrip()
                if before.endswith('(') or before.lower().endswith('select'):
                    continue
            for r in repls:
                yield (cat, line_of(sql, m.start()), f'{m.group(0).strip()!r} -> {r!r}',
                       replace_at(sql, m.start(), m.end(), r if cat != 'arithmetic' else r))


def mutate_order_direction(sql):
    """ORDER BY items without a direction get DESC; the first sort key is dropped."""
    for m in code_matches(sql, r'\border\s+by\s+'):
        rest = sql[m.end():]
        depth, i = 0, 0
        items, start = [], 0
        while i < len(rest):
            c = rest[i]
            if c == '(':
                depth += 1
            elif c == ')':
                if depth == 0:
                    break
                depth -= 1
            elif c == ',' and depth == 0:
                items.append((start, i))
                start = i + 1
            elif depth == 0 and (c == ';' or re.match(r'\s*\n\s*(limit|\)|$)', rest[i:], re.I) and c == '\n'
                                 or re.match(r'\s+limit\b', rest[i:], re.I)):
                break
            i += 1
        items.append((start, i))
        for a, b in items:
            item = rest[a:b]
            if not item.strip() or re.search(r'\b(asc|desc)\b', item, re.I):
                continue
            end = m.end() + a + len(item.rstrip())
            yield ('order', line_of(sql, m.start()), f'order by {item.strip()!r} -> desc',
                   replace_at(sql, end, end, ' desc'))
        if len(items) > 1:
            a, b = items[0]
            na, nb = items[1]
            yield ('order', line_of(sql, m.start()), f'first sort key {rest[a:b].strip()!r} dropped',
                   replace_at(sql, m.end() + a, m.end() + na, ''))


def mutate_numbers(sql):
    """Integer and decimal constants: +-1 (or +-10% for decimals), 0 <-> 1."""
    for m in code_matches(sql, r'(?<![\w.$:])(\d+(?:\.\d+)?)(?![\w.])'):
        text = m.group(1)
        # skip the digits of a date literal or a type modifier like numeric(12,2)
        if sql[max(0, m.start() - 1)] in "-'" and re.match(r'\d{2}\b', text) and sql[m.start() - 3:m.start()].count('-'):
            continue
        cands = []
        if '.' in text:
            v = float(text)
            dec = len(text.split('.')[1])
            cands = [f'{v * 1.1:.{max(dec, 2)}f}', f'{v * 0.9:.{max(dec, 2)}f}']
        else:
            v = int(text)
            cands = [str(v + 1), str(max(v - 1, 0))]
            if v == 0:
                cands = ['1']
        for c in dict.fromkeys(cands):
            if c != text:
                yield ('constant', line_of(sql, m.start()), f'{text} -> {c}', replace_at(sql, m.start(), m.end(), c))


def mutate_limits(sql):
    for m in code_matches(sql, r'\blimit\s+(:\w+|\d+)'):
        arg = m.group(1)
        if arg.startswith(':'):
            for new in (f'{arg} - 1', f'{arg} + 1'):
                yield ('limit', line_of(sql, m.start()), f'limit {arg} -> limit {new}',
                       replace_at(sql, m.start(1), m.end(1), new))
        yield ('limit', line_of(sql, m.start()), 'limit dropped', replace_at(sql, m.start(), m.end(), ''))


def mutate_strings(sql):
    """Swap a string constant for another one of the same file (category labels)."""
    lits = []
    for a, b in string_matches(sql):
        lit = sql[a:b]
        if re.fullmatch(r"'[a-z_]+'", lit):
            lits.append((a, b, lit))
    values = sorted({lit for _, _, lit in lits})
    for a, b, lit in lits:
        for other in values:
            if other != lit:
                yield ('constant', line_of(sql, a), f'{lit} -> {other}', replace_at(sql, a, b, other))
                break


def mutate_drop_conditions(sql):
    """Drop one condition of a WHERE / HAVING / ON / WHEN conjunction."""
    lines = sql.split('\n')
    for i, line in enumerate(lines):
        stripped = line.strip().lower()
        if re.match(r'(and|or)\b', stripped) and not stripped.startswith('order'):
            # a continuation line of a condition: drop it (and its parenthesised tail)
            rest = lines[i + 1:]
            new = '\n'.join(lines[:i] + rest)
            yield ('filter', i + 1, f'dropped condition {line.strip()!r}', new)
    for m in code_matches(sql, r'\b(where|having)\b'):
        # replace the whole first condition by true (keeps any AND tail)
        tail = sql[m.end():]
        mm = re.match(r'\s*(.+?)(?=\n\s*(and|or)\b|\n\s*(group|order|limit|window)\b|\)|$)', tail, re.S | re.I)
        if mm and mm.group(1).strip():
            start = m.end() + mm.start(1)
            end = m.end() + mm.end(1)
            yield ('filter', line_of(sql, m.start()), f'{m.group(1)} condition {mm.group(1).strip()[:40]!r} -> true',
                   replace_at(sql, start, end, 'true'))


def mutate_wrappers(sql):
    """coalesce(x, d) -> x ; nullif(x, 0) -> x ; distinct dropped."""
    for m in code_matches(sql, r'\b(coalesce|nullif)\s*\('):
        open_idx = m.end() - 1
        close_idx = close_paren(sql, open_idx)
        if close_idx < 0:
            continue
        first, rest = split_top_level_comma(sql[open_idx + 1:close_idx])
        if rest is None:
            continue
        yield ('null', line_of(sql, m.start()), f'{m.group(1)}(...) -> its first argument',
               replace_at(sql, m.start(), close_idx + 1, '(' + first.strip() + ')'))


GENERATORS = [mutate_simple, mutate_order_direction, mutate_numbers, mutate_limits, mutate_strings,
              mutate_drop_conditions, mutate_wrappers]


def mutants_for(sql):
    seen = set()
    for gen in GENERATORS:
        for cat, line, desc, new in gen(sql):
            if new == sql or new in seen:
                continue
            seen.add(new)
            yield {'category': cat, 'line': line, 'change': desc, 'sql': new}


# --------------------------------------------------------------------------

def run_one(args, sql_dir, file_name, mutant):
    tmp = tempfile.mkdtemp(prefix='assay-mutant-')
    try:
        dst = os.path.join(tmp, 'sql')
        shutil.copytree(sql_dir, dst)
        with open(os.path.join(dst, file_name), 'w') as f:
            f.write(mutant['sql'])
        if args.runner:
            cmd = shlex.split(args.runner.replace('{sql_dir}', dst))
        else:
            cmd = [args.assay_bin, 'run', '--sql-dir', dst, '--format', 'json'] + args.extra
        t0 = time.time()
        try:
            p = subprocess.run(cmd, cwd=args.suite, capture_output=True, text=True, timeout=args.timeout,
                               env=dict(os.environ, CI="true"))  # never write .snap.new for a mutant
            code = p.returncode
            out = p.stdout
        except subprocess.TimeoutExpired:
            code, out = None, ''
        except FileNotFoundError:
            sys.exit(f'mutate.py: cannot run {cmd[0]!r} (set ASSAY_BIN or build the engine first)')
        status = 'survived' if code == 0 else 'killed' if code == 1 else 'errored'
        failed = []
        if status == 'killed' and out:
            failed = failing_checks(out)
        return dict(mutant, file=file_name, status=status, exit=code,
                    seconds=round(time.time() - t0, 2), failed=failed[:5])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def failing_checks(out):
    """Best effort: names of failing checks from the JSON report (any shape)."""
    names = []
    try:
        doc = json.loads(out)
    except ValueError:
        lines = [l for l in out.splitlines() if l.strip().startswith('{')]
        doc = []
        for l in lines:
            try:
                doc.append(json.loads(l))
            except ValueError:
                pass

    def walk(x):
        if isinstance(x, dict):
            st = str(x.get('status', x.get('outcome', ''))).lower()
            if st in ('fail', 'failed', 'error') and 'name' in x:
                names.append(str(x['name']))
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(doc)
    return list(dict.fromkeys(names))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--suite', default=ROOT, help='suite root (where assay.yaml is)')
    ap.add_argument('--sql-dir', default=None, help='endpoint SQL directory (default: <suite>/sql/endpoints)')
    ap.add_argument('--file', action='append', default=[], help='only this endpoint file (repeatable)')
    ap.add_argument('--category', action='append', default=[],
                    help='only these mutation categories: operator logic aggregate join order arithmetic '
                         'set function constant limit filter null')
    ap.add_argument('--max', type=int, default=0, help='at most this many mutants per file (evenly sampled)')
    ap.add_argument('--jobs', type=int, default=1, help='mutants run in parallel')
    ap.add_argument('--timeout', type=float, default=300, help='seconds per assay run')
    ap.add_argument('--assay-bin', default=os.environ.get('ASSAY_BIN', 'target/debug/assay'))
    ap.add_argument('--runner', default=os.environ.get('ASSAY_MUTATE_RUNNER'),
                    help="command to run instead of assay; '{sql_dir}' is replaced by the mutant's directory")
    ap.add_argument('--list', action='store_true', help='list the mutants and exit')
    ap.add_argument('--json', help='write every result to this file')
    ap.add_argument('extra', nargs='*', help='extra arguments for assay run (after --)')
    args = ap.parse_args()
    args.suite = os.path.abspath(args.suite)
    sql_dir = os.path.abspath(args.sql_dir or os.path.join(args.suite, 'sql', 'endpoints'))
    if not os.path.isabs(args.assay_bin) and os.sep in args.assay_bin:
        args.assay_bin = os.path.join(args.suite, args.assay_bin)

    files = sorted(f for f in os.listdir(sql_dir) if f.endswith('.sql'))
    if args.file:
        files = [f for f in files if f in args.file]
    jobs = []
    for f in files:
        with open(os.path.join(sql_dir, f)) as fh:
            sql = fh.read()
        ms = [m for m in mutants_for(sql) if not args.category or m['category'] in args.category]
        if args.max and len(ms) > args.max:
            step = len(ms) / args.max
            ms = [ms[int(i * step)] for i in range(args.max)]
        jobs += [(f, m) for m in ms]

    if args.list:
        for f, m in jobs:
            print(f"{f}:{m['line']}: [{m['category']}] {m['change']}")
        print(f'{len(jobs)} mutants')
        return 0

    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = [ex.submit(run_one, args, sql_dir, f, m) for f, m in jobs]
        for i, fut in enumerate(concurrent.futures.as_completed(futs), 1):
            r = fut.result()
            results.append(r)
            mark = {'survived': 'SURVIVED', 'killed': 'killed', 'errored': 'errored'}[r['status']]
            print(f"[{i}/{len(jobs)}] {mark:8} {r['file']}:{r['line']} [{r['category']}] {r['change']}", flush=True)

    print()
    print(f"{'file':32} {'mutants':>7} {'killed':>7} {'errored':>7} {'survived':>8}")
    for f in files:
        rs = [r for r in results if r['file'] == f]
        if not rs:
            continue
        c = {s: sum(r['status'] == s for r in rs) for s in ('killed', 'errored', 'survived')}
        print(f"{f:32} {len(rs):7} {c['killed']:7} {c['errored']:7} {c['survived']:8}")
    survivors = sorted((r for r in results if r['status'] == 'survived'), key=lambda r: (r['file'], r['line']))
    if survivors:
        print('\nSurvivors (the suite did not notice these changes):')
        for r in survivors:
            print(f"  {r['file']}:{r['line']} [{r['category']}] {r['change']}")
    if args.json:
        with open(args.json, 'w') as fh:
            json.dump([{k: v for k, v in r.items() if k != 'sql'} for r in results], fh, indent=2)
    return 1 if survivors else 0


if __name__ == '__main__':
    sys.exit(main())
