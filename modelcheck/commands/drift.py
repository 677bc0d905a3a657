"""`modelcheck drift SPEC [FILE.c ...]`: the modelled primitives the C and the spec disagree on."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .. import __version__
from ..errors import SpecError
from ..extract.cfile import read_c
from ..extract.drift import Drift, compare, show, spec_sites
from ..extract.skeleton import Site, Skeleton
from ..ir import Span
from ..report.formats import sarif_document, sarif_location
from ..report.results import write_file_atomically
from ..syntax.parser import parse
from .common import exit_codes_epilog, read_source

EXIT = {0: "the spec and the C model the same primitives", 1: "drift: a primitive is in one and not the other",
        2: "an error: the spec or a C file could not be read"}
JSON_SCHEMA = "modelcheck-drift/1"


def add_parser(sub) -> None:
    drift = sub.add_parser("drift", help="list the modelled primitive calls a spec and its C disagree on",
                           epilog=exit_codes_epilog(EXIT),
                           description="Compare the modelled primitive calls of the C (what `extract` "
                           "recognizes) with the spec's: every one in the C with no counterpart in the "
                           "spec, and every one in the spec the C no longer has.")
    drift.add_argument("spec")
    drift.add_argument("files", nargs="*", metavar="FILE.c",
                       help="the C to compare with (default: the files the spec names with `models`)")
    drift.add_argument("--tree", default=".", metavar="KERNEL_TREE",
                       help="where `models` paths are resolved (default: the current directory)")
    drift.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    drift.add_argument("-o", "--output", help="write the report here instead of stdout")


def run(args) -> int:
    """Exit 0 without drift, 1 with drift, 2 when the spec or a C file cannot be read."""
    source = read_source(args.spec)
    try:
        if source is None:
            raise SpecError("E300", Span(args.spec, 1, 1), f"cannot read {args.spec}")
        spec = parse(source, args.spec)
        files = _c_files(spec, args)
    except SpecError as exc:
        print(exc.render(source), file=sys.stderr)
        return 2
    result = compare(Skeleton(files).sites, spec_sites(spec))
    code = 1 if result.drifted else 0
    text = {"text": render_text, "json": render_json, "sarif": render_sarif}[args.format](
        args.spec, [f.path for f in files], result, code)
    if args.output:
        write_file_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    return code


def _c_files(spec, args):
    if args.files:
        return [read_c(path) for path in args.files]
    names = list(spec.models) + [p for m in spec.modules for p in m.models]
    if not names:
        raise SpecError("E501", Span(args.spec, 1, 1), f"{args.spec} names no C file to compare with")
    files = []
    for name in dict.fromkeys(names):
        try:
            files.append(read_c(str(Path(args.tree) / name), display=name))
        except SpecError as exc:
            exc.span = _models_span(args.spec, name) or exc.span
            raise
    return files


def _models_span(spec_path: str, name: str):
    """The `models "NAME";` line, so an unreadable C file is reported where the spec names it."""
    text = read_source(spec_path) or ""
    for i, line in enumerate(text.split("\n"), 1):
        col = line.find(f'"{name}"')
        if col >= 0 and "models" in line:
            return Span(spec_path, i, col + 1)
    return None


def _record(site: Site) -> dict:
    return {"primitive": site.primitive, "objects": list(site.objects), "call": show(site),
            "function": site.function, "file": site.file, "line": site.line}


def render_text(spec: str, files: list[str], result: Drift, code: int) -> str:
    lines = [f"{spec}: compared with {', '.join(files)}"]
    if result.only_in_c:
        lines.append("  in the C, not in the spec:")
        lines += [f"    {site.file}:{site.line}: {show(site)}{_in(site)}" for site in result.only_in_c]
    if result.only_in_spec:
        lines.append("  in the spec, not in the C:")
        lines += [f"    {site.file}:{site.line}: {show(site)}{_in(site)}" for site in result.only_in_spec]
    total = len(result.only_in_c) + len(result.only_in_spec)
    lines.append(f"modelcheck drift: {total or 'no'} difference{'s' if total != 1 else ''} (exit {code}: {EXIT[code]})")
    return "\n".join(lines) + "\n"


def _in(site: Site) -> str:
    return f"  (in {site.function})" if site.function else ""


def render_json(spec: str, files: list[str], result: Drift, code: int) -> str:
    doc = {"schema": JSON_SCHEMA, "tool": {"name": "modelcheck", "version": __version__},
           "spec": spec, "files": files, "exit_code": code, "drift": result.drifted,
           "only_in_c": [_record(s) for s in result.only_in_c],
           "only_in_spec": [_record(s) for s in result.only_in_spec]}
    return json.dumps(doc, indent=2) + "\n"


def render_sarif(spec: str, files: list[str], result: Drift, code: int) -> str:
    """A C-only primitive is annotated on the C line, a spec-only one on the spec line."""
    rules = [{"id": "drift-c-not-in-spec", "shortDescription": {"text": "a modelled primitive the spec lacks"}},
             {"id": "drift-spec-not-in-c", "shortDescription": {"text": "a modelled primitive the C no longer has"}}]
    results = [{"ruleId": "drift-c-not-in-spec", "level": "error",
                "message": {"text": f"{show(s)}{_in(s)} is in the C but not in {spec}"},
                "locations": [sarif_location(s.file, s.line)]} for s in result.only_in_c]
    results += [{"ruleId": "drift-spec-not-in-c", "level": "error",
                 "message": {"text": f"{show(s)}{_in(s)} is in the spec but not in {', '.join(files)}"},
                 "locations": [sarif_location(s.file, s.line)]} for s in result.only_in_spec]
    return sarif_document(rules, results, [], code) + "\n"
