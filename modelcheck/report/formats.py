"""Machine-readable and mail formats of a whole `check` run: json, sarif, junit, email.

Each takes the same input, a list of (spec path, model, outcomes) plus the spec errors, so a
CI system reads the same answer whichever format it asks for.
"""
from __future__ import annotations

import json
import textwrap
from xml.etree import ElementTree as ET

from .. import __version__
from ..checker import EXIT_CODES, Outcome
from ..ir import Model
from .results import trace_json
from .text import trace_text
from .timeline import timeline

JSON_SCHEMA = "modelcheck-result/1"
Entry = tuple[str, Model, list[Outcome]]


def _property_record(model: Model, o: Outcome) -> dict:
    prop = model.property(o.result.prop)
    return {
        "name": prop.name, "kind": prop.kind, "description": prop.description,
        "builtin": prop.builtin, "expect": o.expect, "verdict": o.result.verdict.value,
        "label": o.result.label, "status": o.status, "bound": o.result.bound,
        "argument": o.result.argument, "engine": o.result.engine,
        "seconds": round(o.result.seconds, 3),
        "trace": trace_json(model, o) if o.replay is not None else None,
        "invariant": o.result.invariant.splitlines() if o.result.invariant else None,
    }


def to_json(entries: list[Entry], errors: list[str], code: int) -> str:
    """Versioned: a consumer checks `schema` before reading anything else."""
    doc = {
        "schema": JSON_SCHEMA, "tool": {"name": "modelcheck", "version": __version__},
        "exit_code": code, "exit_meaning": EXIT_CODES[code], "errors": errors,
        "specs": [{"file": path, "title": model.title, "source": model.source, "cases": list(model.cases),
                   "properties": [_property_record(model, o) for o in outcomes]}
                  for path, model, outcomes in entries],
    }
    return json.dumps(doc, indent=2)


# --- SARIF 2.1.0 ---

def _location(file: str, line: int, col: int, message: str = "") -> dict:
    loc = {"physicalLocation": {"artifactLocation": {"uri": file},
                                "region": {"startLine": max(1, line), "startColumn": max(1, col)}}}
    if message:
        loc["message"] = {"text": message}
    return loc


def _where(path: str, model: Model, o: Outcome) -> dict:
    """The violating step's spec line, else the property's declaration or expect line."""
    if o.replay is not None:
        for step in reversed(o.replay.steps):
            if step.edge.span is not None:
                return _location(path, step.edge.span.line, step.edge.span.col)
    span = model.property(o.result.prop).span
    return _location(path, span.line if span else 1, span.col if span else 1)


def _code_flow(path: str, o: Outcome) -> dict:
    steps = []
    for s in o.replay.steps:
        line, col = (s.edge.span.line, s.edge.span.col) if s.edge.span else (1, 1)
        steps.append({"location": _location(path, line, col, f"[{s.thread}] {s.edge.label}")})
    return {"threadFlows": [{"locations": steps}]}


def to_sarif(entries: list[Entry], errors: list[str], code: int) -> str:
    rules, results = {}, []
    for path, model, outcomes in entries:
        for o in outcomes:
            prop = model.property(o.result.prop)
            rules.setdefault(prop.name, {"id": prop.name, "shortDescription": {"text": prop.description or prop.name}})
            if o.status == "ok" and o.result.verdict.value != "VIOLATED":
                continue
            level = {"ok": "note", "unexpected": "error", "inconclusive": "warning", "vacuous": "warning"}[o.status]
            text = f"{prop.name}: {o.result.label}"
            text += f" (expected {o.expect})" if o.expect else ""
            text += f" -- {o.result.argument}" if o.result.argument else ""
            result = {"ruleId": prop.name, "level": level, "message": {"text": text},
                      "locations": [_where(path, model, o)]}
            if o.replay is not None:
                result["codeFlows"] = [_code_flow(path, o)]
            results.append(result)
    return sarif_document(list(rules.values()), results, errors, code)


def sarif_document(rules: list[dict], results: list[dict], errors: list[str], code: int) -> str:
    """One SARIF 2.1.0 run of modelcheck: `rules` ({id, shortDescription}), `results` (ruleId,
    level, message, locations as `sarif_location` makes them), the errors and the exit code."""
    run = {"tool": {"driver": {"name": "modelcheck", "version": __version__,
                               "rules": sorted(rules, key=lambda r: r["id"])}},
           "results": results,
           "invocations": [{"executionSuccessful": not errors, "exitCode": code,
                            "toolExecutionNotifications": [{"level": "error", "message": {"text": e}}
                                                           for e in errors]}]}
    return json.dumps({"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
                       "runs": [run]}, indent=2)


def sarif_location(file: str, line: int, col: int = 1, message: str = "") -> dict:
    """A SARIF physical location (file, 1-based line and column)."""
    return _location(file, line, col, message)


# --- JUnit XML ---

def to_junit(entries: list[Entry], errors: list[str], code: int) -> str:
    """One test case per spec property; unexpected is a failure, inconclusive an error."""
    suites = ET.Element("testsuites", name="modelcheck")
    for path, model, outcomes in entries:
        suite = ET.SubElement(suites, "testsuite", name=path, tests=str(len(outcomes)),
                              failures=str(sum(o.status in ("unexpected", "vacuous") for o in outcomes)),
                              errors=str(sum(o.status == "inconclusive" for o in outcomes)),
                              time=f"{sum(o.result.seconds for o in outcomes):.3f}")
        for o in outcomes:
            case = ET.SubElement(suite, "testcase", classname=path, name=o.result.prop,
                                 time=f"{o.result.seconds:.3f}")
            message = f"{o.result.label}" + (f", expected {o.expect}" if o.expect else "")
            body = trace_text(model, o) if o.replay is not None else o.result.argument
            if o.status in ("unexpected", "vacuous"):
                ET.SubElement(case, "failure", message=message, type=o.status).text = body
            elif o.status == "inconclusive":
                ET.SubElement(case, "error", message=message, type="inconclusive").text = body
            else:
                ET.SubElement(case, "system-out").text = f"{message}: {o.result.argument}"
    if errors:
        suite = ET.SubElement(suites, "testsuite", name="spec errors", tests=str(len(errors)),
                              failures="0", errors=str(len(errors)))
        for n, e in enumerate(errors, 1):
            ET.SubElement(ET.SubElement(suite, "testcase", classname="spec errors", name=f"error {n}"),
                          "error", message=e.splitlines()[0], type="spec-error").text = e
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


# --- a kernel-test-robot style mail ---

def _wrap(text: str, width: int = 72) -> list[str]:
    out = []
    for line in text.splitlines():
        if len(line) <= width:
            out.append(line)
            continue
        indent = len(line) - len(line.lstrip())
        out += textwrap.wrap(line, width, subsequent_indent=" " * (indent + 4), break_on_hyphens=False)
    return out


def to_email(entries: list[Entry], errors: list[str], code: int) -> str:
    """Plain text, 72 columns: which design, which property, which config, the trace."""
    lines = ["Hi,", "", "modelcheck checked the design(s) below. What it found:", ""]
    for path, model, outcomes in entries:
        lines += _wrap(f"design:   {model.title}")
        lines += _wrap(f"spec:     {path}" + (f" ({model.source})" if model.source else ""))
        lines.append("")
        for o in outcomes:
            expect = f" (expected: {o.expect})" if o.expect else ""
            lines += _wrap(f"  {o.result.prop}: {o.result.label}{expect}")
        for o in outcomes:
            if o.replay is not None:
                lines += ["", *_wrap(timeline(model, o, width=72))]
        lines.append("")
    for e in errors:
        lines += _wrap(e)
    lines += [f"Exit code {code}: {EXIT_CODES[code]}.", "", "-- ", "modelcheck " + __version__]
    return "\n".join(lines) + "\n"


FORMATTERS = {"json": to_json, "sarif": to_sarif, "junit": to_junit, "email": to_email}
