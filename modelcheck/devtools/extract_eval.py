"""Figures for results/extract.md: what `extract` does on sets of real driver files.

    python -m modelcheck.devtools.extract_eval NAME=FILE.c[,FILE.c...] ... [--timeout S] [--root DIR]

For each set: the modelled primitive call sites of the C (a census independent of the
translator: every call whose name is in the primitives table, each guard(mutex|device) and
scoped_guard, each file-scope DECLARE_*/DEFINE_MUTEX and module_*_driver macro), how many of
them the skeleton turned into spec primitives (same FILE:LINE), the ones it did not, whether
the skeleton compiles, and the verdicts of `check` (explicit engine) on it. Prints a Markdown
table and the list of calls left as comments.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from ..checker import check_model
from ..errors import SpecError
from ..extract import primitives as P
from ..extract.cfile import call_args, call_name, read_c, walk
from ..extract.skeleton import Skeleton
from ..frontend import load_text
from ..result import EngineOptions

_MACROS = re.compile(r"^\s*(?:static\s+)?(" + "|".join(sorted(set(P.DECLARE_MACROS) | P.DRIVER_MACROS)) + r")\s*\(",
                     re.M)


def census(cfile) -> list[tuple[int, str]]:
    """(line, name) of every modelled primitive call site in the file."""
    out = []
    for node in walk(cfile.tree.root_node):
        if node.type != "call_expression":
            continue
        name = call_name(cfile, node)
        if name in P.CALLS or name in P.ALLOC_WORKQUEUE:
            out.append((cfile.line(node), name))
        elif name == "scoped_guard" and call_args(node):
            if cfile.text(call_args(node)[0]) in P.GUARDS:
                out.append((cfile.line(node), f"scoped_guard({cfile.text(call_args(node)[0])})"))
        elif name is None:
            inner = node.child_by_field_name("function")
            if inner is not None and inner.type == "call_expression" and call_name(cfile, inner) == "guard":
                cls = cfile.text(call_args(inner)[0]) if call_args(inner) else ""
                if cls in P.GUARDS:
                    out.append((cfile.line(node), f"guard({cls})"))
    text = cfile.src.decode("utf-8", "replace")
    for m in _MACROS.finditer(text):
        out.append((text.count("\n", 0, m.start(1)) + 1, m.group(1)))
    return sorted(set(out))


def evaluate(name: str, paths: list[str], timeout: float, root: str = "") -> dict:
    files = [read_c(p, display=str(Path(p).relative_to(root)) if root else p) for p in paths]
    sk = Skeleton(files)
    covered = {(s.file, s.line) for s in sk.sites}
    calls = [(f.path, line, n) for f in files for line, n in census(f)]
    missed = [c for c in calls if (c[0], c[1]) not in covered]
    row = {"set": name, "files": [f.path for f in files], "calls": len(calls), "recognized": len(calls) - len(missed),
           "missed": missed, "sites": len(sk.sites), "choices": len(sk.choices), "comments": len(sk.unmodelled),
           "lines": len(sk.text().splitlines())}
    try:
        model = load_text(sk.text(), f"{name}.probe")
        row["compiles"] = True
    except SpecError as exc:
        row["compiles"], row["verdicts"] = False, exc.render()
        return row
    start = time.monotonic()
    outcomes = check_model(model, "explicit", EngineOptions(timeout=timeout))
    row["seconds"] = round(time.monotonic() - start, 1)
    row["verdicts"] = {o.result.prop: o.result.verdict.value for o in outcomes}
    return row


def markdown(rows: list[dict]) -> str:
    lines = ["| set | modelled calls in the C | recognized | skeleton lines | choices | calls as comments | compiles | check (explicit) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        share = f"{r['recognized']}/{r['calls']} ({100 * r['recognized'] / r['calls']:.0f}%)" if r["calls"] else "0/0"
        if isinstance(r.get("verdicts"), dict):
            v = r["verdicts"]
            check = ", ".join(f"{p} {v[p]}" for p in sorted(v)) + f" ({r['seconds']} s)"
        else:
            check = "not run"
        lines.append(f"| {r['set']} | {r['calls']} | {share} | {r['lines']} | {r['choices']} | {r['comments']} | "
                     f"{'yes' if r['compiles'] else 'NO'} | {check} |")
    lines.append("")
    for r in rows:
        if r["missed"]:
            lines.append(f"- {r['set']}: not recognized: " + ", ".join(f"`{n}` ({f}:{line})" for f, line, n in r["missed"]))
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="+", metavar="NAME=FILE.c[,FILE.c...]")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per check")
    parser.add_argument("--root", default="", help="show paths relative to this directory (the kernel tree)")
    args = parser.parse_args(argv)
    rows = []
    for item in args.sets:
        name, _, files = item.partition("=")
        rows.append(evaluate(name, files.split(","), args.timeout, args.root))
    sys.stdout.write(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
