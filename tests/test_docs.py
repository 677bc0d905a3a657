"""The docs are tested: every spec snippet compiles (complete specs are checked), every command
transcript is run and must print what the doc shows, and docs/errors.md is the generator's output.

Conventions in docs/*.md (see modelcheck.devtools.docs.fenced_blocks):
- ```probe            a spec snippet. A snippet without a `spec "..."` line is a fragment of
                      top-level items: it gets a title and is compiled. A complete spec is also
                      checked with the explicit engine, and every verdict must be as its `expect`
                      lines say (exit 0).
- ```probe file=PATH  the same, and the snippet must be exactly the file PATH (which transcripts run).
- ```probe exit=N     a complete spec that shows a failing status on purpose: the check exits N.
- ```diff from=A to=B   the unified diff (one line of context) from file A to file B, as difflib
                      writes it: the tutorial shows each step as a change to the previous one.
- a fenced block whose first line is `$ modelcheck ...`: a transcript. The command is run from the
  repository root (or from DIR, for `$ cd DIR && modelcheck ...`), stdout and stderr together, and
  must print the rest of the block exactly, except timings (`\\d+\\.\\d+s`). `check` and `report`
  run with `--no-cache`, so that a verdict stored by an earlier run cannot stand in for the checker.
"""
from __future__ import annotations

import difflib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from modelcheck.devtools import docs
from modelcheck.checker import EXIT_CODES, check_model, exit_code
from modelcheck.errors import ERRORS
from modelcheck.frontend import load_text
from modelcheck.result import EngineOptions, Verdict
from modelcheck.semantics.compile import BUILTIN_PROPERTIES, Compiler
from modelcheck.syntax.parser import parse

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted(ROOT.glob("docs/*.md"))
FRAGMENT_HEADER = 'spec "a snippet from the docs"\nsource "docs"\n'
TIMING = re.compile(r"\d+\.\d+s")


def _blocks():
    for doc in DOCS:
        rel = doc.relative_to(ROOT).as_posix()
        yield from docs.fenced_blocks(doc.read_text(encoding="utf-8"), rel)


BLOCKS = list(_blocks())
SNIPPETS = [b for b in BLOCKS if b.lang == "probe"]
COMMAND = re.compile(r"^\$ (?:cd (?P<dir>\S+) && )?(?P<command>modelcheck .*)$")
TRANSCRIPTS = [b for b in BLOCKS if COMMAND.match(b.text.partition("\n")[0])]


def is_complete(text: str) -> bool:
    return re.search(r'^spec "', text, re.M) is not None


# --- snippets ----------------------------------------------------------------------------

@pytest.mark.parametrize("block", SNIPPETS, ids=lambda b: b.where)
def test_spec_snippet_compiles_and_checks(block):
    text = block.text + "\n"
    path = block.option("file")
    if path is not None:
        assert (ROOT / path).read_text(encoding="utf-8") == text, \
            f"{block.where}: the snippet is not the file {path}"
    if not is_complete(text):
        load_text(FRAGMENT_HEADER + text, block.where)   # raises SpecError on any problem
        return
    # a file's snippet is compiled as that file (its `kconfig` paths are relative to it)
    model = load_text(text, str(ROOT / path) if path else block.where)
    outcomes = check_model(model, "explicit", EngineOptions(timeout=20))
    for o in outcomes:
        assert o.result.verdict not in (Verdict.BOUNDED, Verdict.TIMEOUT), (block.where, o.result.prop)
    wanted = int(block.option("exit") or 0)
    if wanted:   # a spec that shows a failing status on purpose says which: ```probe exit=4
        assert exit_code([o.status for o in outcomes]) == wanted, block.where
        return
    wrong = [(o.result.prop, o.result.label, o.expect, o.status) for o in outcomes if o.status != "ok"]
    assert not wrong, f"{block.where}: verdicts differ from the expect lines: {wrong}"


DIFFS = [b for b in BLOCKS if b.lang == "diff"]


@pytest.mark.parametrize("block", DIFFS, ids=lambda b: b.where)
def test_diff_is_the_change_between_the_two_files(block):
    a, b = block.option("from"), block.option("to")
    assert a and b, f"{block.where}: a diff block names its files: ```diff from=A to=B"
    old, new = ((ROOT / p).read_text(encoding="utf-8").split("\n") for p in (a, b))
    expected = "\n".join(difflib.unified_diff(old, new, fromfile=a, tofile=b, n=1, lineterm=""))
    assert block.text == expected, f"{block.where}: the diff is stale"


# --- transcripts ------------------------------------------------------------------------

def run(command: str, where: str = ".") -> tuple[str, int]:
    args = shlex.split(command)
    assert args[0] == "modelcheck", command
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")   # stderr and stdout in print order
    proc = subprocess.run([sys.executable, "-m", "modelcheck.cli", *args[1:]], cwd=ROOT / where, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    return proc.stdout, proc.returncode


def masked(text: str) -> str:
    return TIMING.sub("N.NNs", text).rstrip("\n")


@pytest.mark.parametrize("block", TRANSCRIPTS, ids=lambda b: b.where)
def test_transcript_prints_what_the_doc_shows(block):
    first, _, shown = block.text.partition("\n")
    assert "\n$ " not in "\n" + shown, f"{block.where}: one command per block"
    m = COMMAND.match(first)
    args = shlex.split(m["command"])
    if args[1] in ("check", "report"):   # decide afresh: never compare against a stored verdict
        args.append("--no-cache")
    output, code = run(shlex.join(args), m["dir"] or ".")
    assert masked(output) == masked(shown), f"{block.where}: `{first[2:]}` printed:\n{output}"
    summary = re.search(r"\(exit (\d+):", output)
    if summary:   # the summary line names the exit code; the process must agree
        assert int(summary.group(1)) == code


def test_every_example_file_is_used():
    used = {b.option("file") for b in SNIPPETS} | {b.option(k) for b in DIFFS for k in ("from", "to")}
    for b in TRANSCRIPTS:
        m = COMMAND.match(b.text.partition("\n")[0])
        used |= {os.path.normpath(os.path.join(m["dir"] or ".", w)) for w in shlex.split(m["command"])}
    text = "\n".join(d.read_text(encoding="utf-8") for d in DOCS) + (ROOT / "README.md").read_text()
    for path in sorted(ROOT.glob("docs/examples/**/*.probe")):
        rel = path.relative_to(ROOT).as_posix()
        assert rel in used or rel in text, f"{rel} is not shown or run by any doc"


def _prose(text: str) -> str:
    """The Markdown without its fenced blocks (a `#` comment in a spec is not a heading)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in _prose(text).split("\n"):
        m = re.match(r"^#+ (.*)$", line)
        if m:
            slug = _slug(m.group(1))
            out.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return out


def test_links_between_and_within_the_docs_resolve():
    texts = {d.name: d.read_text(encoding="utf-8") for d in DOCS}
    for name, text in texts.items():
        for target, anchor in re.findall(r"\]\(([\w.\-/]*?)(?:#([\w\-]+))?\)", _prose(text)):
            if target.startswith("http") or (target and not target.endswith(".md")):
                continue
            doc = target or name
            assert doc in texts, f"docs/{name}: link to missing {target}"
            if anchor:
                assert anchor in _anchors(texts[doc]), f"docs/{name}: no heading for #{anchor} in {doc}"


# --- the generated error reference -------------------------------------------------------

def test_errors_md_is_the_generators_output():
    committed = (ROOT / "docs/errors.md").read_text(encoding="utf-8")
    assert committed == docs.errors_markdown(), \
        "docs/errors.md is stale: run `python -m modelcheck.devtools.docs errors > docs/errors.md`"


def test_error_example_files_are_the_generators():
    expected = {docs.example_path(code): docs.example_spec(kind) for code, kind in ERRORS.items()
                if docs.example_spec(kind) is not None}
    for code in ERRORS:
        expected.update(docs.aux_files(code))
    found = {p.relative_to(ROOT).as_posix() for p in ROOT.glob(docs.EXAMPLES + "/*")
             if not p.name.startswith(".")}   # e.g. a .modelcheck-cache/ from running an example
    assert found == set(expected), "run `python -m modelcheck.devtools.docs examples`"
    for path, text in expected.items():
        assert (ROOT / path).read_text(encoding="utf-8") == text, path
    assert not (ROOT / docs.example_path(docs.MISSING)).exists()


def test_errors_md_covers_every_error_code():
    text = (ROOT / "docs/errors.md").read_text(encoding="utf-8")
    for code, kind in ERRORS.items():
        assert f"## {code}: {kind.title}" in text
        assert f"error[{code}]" in text


# --- the language reference covers the whole language -------------------------------------

def _language() -> str:
    return (ROOT / "docs/language.md").read_text(encoding="utf-8")


def _headings(text: str) -> str:
    return "\n".join(line for line in _prose(text).split("\n") if line.startswith("#"))


def test_language_reference_has_a_section_per_primitive_and_query():
    compiler = Compiler(parse(FRAGMENT_HEADER))
    names = set(compiler.statements) | set(compiler.exprs.queries)
    headings = _headings(_language())
    missing = sorted(n for n in names if f"`{n}(" not in headings)
    assert not missing, f"docs/language.md has no section for: {missing}"


def test_language_reference_has_a_section_per_keyword():
    grammar = (ROOT / "modelcheck/syntax/probe.lark").read_text()
    keywords = set(re.findall(r'"([a-z_]+)"', grammar))
    headings = _headings(_language())
    missing = sorted(k for k in keywords if not re.search(rf"`[^`]*\b{k}\b[^`]*`", headings))
    assert not missing, f"docs/language.md has no heading naming: {missing}"


def test_language_reference_explains_properties_verdicts_and_exit_codes():
    text = _language()
    headings = _headings(text)
    for name in BUILTIN_PROPERTIES:
        assert f"`{name}`" in headings, name
    for verdict in ("VIOLATED", "PROVED", "VACUOUS", "BOUNDED(k)", "TIMEOUT"):
        assert verdict in headings, verdict
    for code in EXIT_CODES:
        assert re.search(rf"^\| {code} \|", text, re.M), f"exit code {code} is not in the table"
