"""`modelcheck mutate SPEC...`: does the spec's property set notice a broken design?

Each spec that checks clean (every verdict as its `expect` lines say) is mutated, one
change at a time: drop a flush_work, swap two adjacent statements, negate an if
condition, make a driver prefer_async, remove a `uses` line. Each mutant that still
compiles is checked with the same engine; it is killed when the check no longer comes out
clean (a property violated unexpectedly, an expected violation gone, a vacuous or
inconclusive verdict). The mutation score is killed / checked mutants; the surviving
mutants are the changes the properties cannot see. The score and the survivors go to the
`mutate` section of a markdown file such as results/soundness.md, when asked with -o.
"""
from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..checker import CheckerError, check_model, exit_code
from ..errors import SpecError
from ..frontend import load_text
from ..report.results import write_section
from ..result import EngineOptions
from .common import spec_paths
from .options import seconds


@dataclass(frozen=True)
class Mutant:
    operator: str
    line: int
    description: str
    text: str


_SIMPLE = r"[A-Za-z_][^;{}]*;"


def _mask_comments(text: str) -> str:
    """The text with every comment blanked (same length), so no mutation lands in one."""
    return re.sub(r"(#|//)[^\n]*", lambda m: " " * len(m.group(0)), text)


def mutants(text: str) -> list[Mutant]:
    out: list[Mutant] = []
    code = _mask_comments(text)

    def add(op, start, desc, new_text):
        out.append(Mutant(op, text.count("\n", 0, start) + 1, desc, new_text))

    for m in re.finditer(r"\bflush_work\s*\([^;]*\)\s*;", code):
        add("drop flush_work", m.start(), f"dropped `{text[m.start():m.end()]}`",
            text[:m.start()] + text[m.end():])
    for m in re.finditer(rf"(?<=[{{;}}])(\s*)({_SIMPLE})(\s*)({_SIMPLE})", code):
        first, second = text[m.start(2):m.end(2)], text[m.start(4):m.end(4)]
        if re.match(r"(var|work|workqueue|device|uses|softdep|level|manual|async_probe|"
                    r"invariant|final|expect|disable|config|platform|range|window|region|require|"
                    r"dax_regions|case|kconfig|return)\b", first + " " + second) or \
                re.match(r"return\b", second):
            continue   # declarations, and nothing moves across a return
        new = text[:m.start(2)] + second + text[m.start(3):m.end(3)] + first + text[m.end(4):]
        add("swap statements", m.start(2), f"swapped `{first}` and `{second}`", new)
    for m in re.finditer(r"\bif\s+(.+?)\s*\{", code):
        cond = text[m.start(1):m.end(1)]
        if re.search(r"\bmodule\s+\w+\s*$", code[text.rfind("\n", 0, m.start()) + 1:m.start()]):
            continue   # `module NAME if CONFIG`: not a condition
        new = text[:m.start(1)] + f"not ({cond})" + text[m.end(1):]
        add("negate if", m.start(), f"negated `if {cond}`", new)
    for m in re.finditer(r"\bdriver\s+(\w+)\s*\{", code):
        new = text[:m.end(1)] + " : prefer_async" + text[m.end(1):]
        add("prefer_async", m.start(), f"driver {m.group(1)} made prefer_async", new)
    for m in re.finditer(r"\buses\s+[^;]*;", code):
        add("remove uses", m.start(), f"removed `{text[m.start():m.end()]}`", text[:m.start()] + text[m.end():])
    return out


def clean(text: str, file: str, engine: str, options: EngineOptions) -> bool:
    model = load_text(text, file)
    return exit_code([o.status for o in check_model(model, engine, options)]) == 0


def mutate_spec(path: str, engine: str, options: EngineOptions, limit: int) -> dict:
    text = Path(path).read_text(encoding="utf-8")
    report = dict(path=path, clean=False, killed=0, survived=[], stillborn=0, errors=[], skipped=0)
    try:
        report["clean"] = clean(text, path, engine, options)
    except (SpecError, CheckerError) as exc:
        report["errors"].append(str(exc))
        return report
    if not report["clean"]:
        return report
    all_mutants = mutants(text)
    report["skipped"] = max(0, len(all_mutants) - limit)
    for mutant in all_mutants[:limit]:
        try:
            ok = clean(mutant.text, path, engine, options)
        except SpecError:
            report["stillborn"] += 1       # the change does not compile: not a mutant
            continue
        except CheckerError as exc:
            report["errors"].append(f"{mutant.operator} at line {mutant.line}: {exc}")
            continue
        if ok:
            report["survived"].append(mutant)
        else:
            report["killed"] += 1
    return report


def render(reports: list[dict], engine: str, seconds: float) -> str:
    checked = [r for r in reports if r["clean"]]
    killed = sum(r["killed"] for r in checked)
    survived = sum(len(r["survived"]) for r in checked)
    total = killed + survived
    score = f"{killed}/{total} = {100 * killed / total:.0f}%" if total else "no mutants"
    lines = ["## Mutation testing", "",
             f"`modelcheck mutate` ({engine} engine, {seconds:.0f} s): each spec that checks clean is "
             "mutated one change at a time (drop a flush_work, swap two adjacent statements, negate an "
             "if condition, make a driver prefer_async, remove a `uses` line); a mutant is killed when "
             "its check is no longer clean.", "",
             f"Mutation score: **{score}** over {len(checked)} clean spec(s).", "",
             "| spec | clean | killed | survived | not compiling | not run (limit) |",
             "|---|---|---|---|---|---|"]
    for r in reports:
        lines.append(f"| {r['path']} | {'yes' if r['clean'] else 'no (not mutated)'} | {r['killed']} | "
                     f"{len(r['survived'])} | {r['stillborn']} | {r['skipped']} |")
    lines += ["", "### Surviving mutants", ""]
    survivors = [(r["path"], m) for r in checked for m in r["survived"]]
    lines += [f"- {path}:{m.line}: {m.operator}: {m.description}" for path, m in survivors] or ["None."]
    errors = [(r["path"], e) for r in reports for e in r["errors"]]
    if errors:
        lines += ["", "### Errors", ""] + [f"- {p}: {e}" for p, e in errors]
    return "\n".join(lines) + "\n"


def add_parser(sub) -> None:
    p = sub.add_parser("mutate", help="mutate specs that check clean and report which mutants survive")
    p.add_argument("paths", nargs="+", help="spec files or directories of *.probe files")
    p.add_argument("--engine", default="explicit", choices=("explicit", "foata", "bmc"))
    p.add_argument("--timeout", type=seconds, default=60.0, help="seconds per check")
    p.add_argument("--max-mutants", type=int, default=40, help="at most this many mutants per spec")
    p.add_argument("-o", "--output",
                   help="also write the score as the `mutate` section of this markdown file "
                   "(e.g. results/soundness.md); without it nothing is written")


def run(args) -> int:
    started = time.monotonic()
    options = EngineOptions(timeout=args.timeout)
    reports = []
    for path in spec_paths(args.paths):
        report = mutate_spec(path, args.engine, options, args.max_mutants)
        reports.append(report)
        print(f"{path}: " + (f"{report['killed']} killed, {len(report['survived'])} survived"
                             if report["clean"] else "does not check clean, not mutated"), flush=True)
    rendered = render(reports, args.engine, time.monotonic() - started)
    print(rendered)
    if args.output:
        write_section(args.output, "mutate", rendered)
        print(f"modelcheck: wrote the mutate section of {args.output}")
    return 0
