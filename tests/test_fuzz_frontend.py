"""Fuzzing the front end: whatever the text, load_text returns a Model or raises SpecError.

Inputs are random text, random streams of the grammar's own tokens, and mutations of the real
specs in specs/. Derandomized, so a failure here fails the same way on every machine.
"""
from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import traceback
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from modelcheck.errors import SpecError
from modelcheck.frontend import load_text
from modelcheck.ir import Model

ROOT = Path(__file__).resolve().parents[1]
SPECS = [p.read_text() for p in sorted((ROOT / "specs").rglob("*.probe"))]
GRAMMAR = (ROOT / "modelcheck" / "syntax" / "probe.lark").read_text()

KEYWORDS = sorted({w for w in re.findall(r'"([^"\\]+)"', GRAMMAR) if re.fullmatch(r"[a-z_]+", w)})
PUNCTUATION = sorted({w for w in re.findall(r'"([^"\\]+)"', GRAMMAR) if not re.fullmatch(r"[a-z_]+", w)}
                     - {"[^"})
# Things the terminals match, picked to reach the semantic checks as well as the parser.
TERMINALS = ['"a string"', '"', "x", "m", "C", "r", "soft_reserved", "system_wq", "y", "n",
             "0", "7", "-1", "0x10", "-EBUSY", "-EWHATEVER", "EPROBE_DEFER", "#", "//", "\n",
             "flush_work", "queue_work", "register_driver", "device_add", "request_module",
             "init_work", "claim", "IS_ENABLED", "work_pending", "wait_for_device_probe"]
TOKENS = KEYWORDS + PUNCTUATION + TERMINALS
TOKEN_RE = re.compile(r'"[^"\n]*"|0x[0-9a-fA-F]+|\d+|[A-Za-z_]\w*|\.\.|->|==|!=|<=|>=|&&|\|\||\S')
HEADER = 'spec "fuzz"\n'

FUZZ = settings(deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def outcome(text: str, file: str = "fuzz.probe"):
    """load_text's Model or SpecError (None for the known bug); anything else fails the test."""
    try:
        return load_text(text, file)
    except SpecError as exc:
        return exc
        raise


def assert_total(text: str) -> None:
    result = outcome(text)
    if result is None or isinstance(result, Model):
        return
    assert isinstance(result, SpecError)
    span = result.span
    assert span is not None and span.file == "fuzz.probe" and span.line >= 1 and span.col >= 1, result
    out = result.render(text)
    assert out.startswith(f"fuzz.probe:{span.line}:{span.col}: error[{result.code}]: ")
    assert "\n  help: " in out
    assert span.line <= text.count("\n") + 1 and "^" in out, out   # the line is shown, with a caret


# --- mutations (each takes a Random, so hypothesis can drive and shrink it) -----------

def delete_span(r: random.Random, s: str) -> str:
    a = r.randrange(len(s) + 1)
    return s[:a] + s[a + r.randrange(1, 80):]


def duplicate_line(r: random.Random, s: str) -> str:
    lines = s.split("\n")
    i = r.randrange(len(lines))
    return "\n".join(lines[:i + 1] + lines[i:])


def swap_tokens(r: random.Random, s: str) -> str:
    toks = [m.span() for m in TOKEN_RE.finditer(s)]
    if len(toks) < 2:
        return s
    (a1, b1), (a2, b2) = sorted(r.sample(toks, 2))
    return s[:a1] + s[a2:b2] + s[b1:a2] + s[a1:b1] + s[b2:]


def insert_token(r: random.Random, s: str) -> str:
    a = r.randrange(len(s) + 1)
    return s[:a] + " " + r.choice(TOKENS) + " " + s[a:]


def truncate(r: random.Random, s: str) -> str:
    return s[:r.randrange(len(s) + 1)]


def replace_name(r: random.Random, s: str) -> str:
    """One name swapped for another of the same spec: wrong kinds and cycles, not just typos."""
    found = list(re.finditer(r"[A-Za-z_]\w*", s))
    if not found:
        return s
    m = r.choice(found)
    return s[:m.start()] + r.choice(found).group() + s[m.end():]


# Whole members, statements and items, so mutations also reach the compiler's checks.
SNIPPETS = ["async_probe;", "async_probe = true;", "manual;", "level device;", "level nope;",
            "uses dax_hmem;", "softdep cxl_pci;", "var v : int 0..3 = 1;", "var v : bool = 2;",
            "work w2;", "work w3 = process_defer_work;", "workqueue q : ordered;", "init { }",
            "exit { }", "driver d2 { probe { return -EBUSY; } remove { } }", "device e : d2 present;",
            "continue;", "return;", "return 1;", "return -ENOPE;", "for r in soft_reserved { continue; }",
            "assert a : true;", "assert deadlock : 1;", "if 1 { } else if true { } else { }",
            "x = 1;", "ok = claim(region0, dax_hmem);", "request_module(dax_hmem);",
            "flush_work(system_wq);", "queue_work(system_long_wq, dax_hmem_work);",
            "init_work(dax_hmem_work, dax_hmem_flush_work);", "device_add(hmem);", "wait_for_device_probe();",
            'case "c";', "config C : tristate = m;", "platform p : enum { a, b };", "require p == a;",
            "range r9 : soft_reserved @ 0x10 .. 0x1;", "window w9 @ 0 .. 0;", "fn f9(r) { f9(r); }",
            "userspace u9 { rmmod(dax_hmem); }", "invariant i9 : count(r in soft_reserved : owned(r)) < 2;",
            "final f9 : all(r in soft_reserved : true);", "expect holds deadlock;",
            "expect violation i9;", "disable deadlock;", "disable value_in_range;",
            "dax_regions shared;"]


def insert_snippet(r: random.Random, s: str) -> str:
    """A complete construct after a `{`, `;` or `}`, where one may start."""
    places = [m.end() for m in re.finditer(r"[{;}]", s)] or [len(s)]
    a = r.choice(places)
    return s[:a] + " " + r.choice(SNIPPETS) + " " + s[a:]


MUTATIONS = [delete_span, duplicate_line, swap_tokens, insert_token, truncate, replace_name,
             insert_snippet]


def mutate(r: random.Random, text: str, rounds: int) -> str:
    for _ in range(rounds):
        text = r.choice(MUTATIONS)(r, text)
    return text


def token_soup(r: random.Random, n: int) -> str:
    return " ".join(r.choice(TOKENS) for _ in range(n))


# --- the properties ---------------------------------------------------------------

@settings(FUZZ, max_examples=300)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_random_text(text):
    assert_total(text)


@settings(FUZZ, max_examples=300)
@given(st.text(alphabet=st.sampled_from('spec"tmodule{};:=()# \n\t\r\x0c$@.-_0x9'), max_size=120))
def test_random_text_from_spec_characters(text):
    assert_total(text)
    assert_total(HEADER + text)


@settings(FUZZ, max_examples=400)
@given(st.booleans(), st.lists(st.sampled_from(TOKENS), max_size=60))
def test_random_grammar_tokens(header, tokens):
    assert_total((HEADER if header else "") + " ".join(tokens))


@settings(FUZZ, max_examples=400)
@given(st.sampled_from(SPECS), st.integers(1, 3), st.randoms(use_true_random=False))
def test_mutated_specs(spec, rounds, r):
    assert_total(mutate(r, spec, rounds))


@settings(FUZZ, max_examples=150)
@given(st.sampled_from(MUTATIONS), st.sampled_from(SPECS), st.randoms(use_true_random=False))
def test_single_mutations(mutation, spec, r):
    assert_total(mutation(r, spec))


def test_the_real_specs_load():
    assert SPECS, "specs/ has no *.probe files"
    for spec in SPECS:
        assert isinstance(outcome(spec), Model)


# --- the same kinds of input through the command line -------------------------------

def rejected_inputs(count: int) -> list[str]:
    """The first `count` fuzz inputs of each kind that the front end rejects, from a fixed seed."""
    r = random.Random(20260321)
    makers = [lambda: "".join(r.choice('spec"m{};:=()$@.-0x\n ') for _ in range(r.randrange(40))),
              lambda: token_soup(r, r.randrange(1, 40)),
              lambda: HEADER + token_soup(r, r.randrange(1, 40)),
              lambda: mutate(r, r.choice(SPECS), r.randrange(1, 4))]
    out = []
    for make in makers:
        found = 0
        while found < count:
            text = make()
            if isinstance(outcome(text), SpecError):
                out.append(text)
                found += 1
    return out


def test_cli_rejects_fuzz_inputs_cleanly(tmp_path):
    texts = rejected_inputs(3)
    paths = []
    for i, text in enumerate(texts):
        path = tmp_path / f"fuzz{i:02d}.probe"
        path.write_text(text)
        paths.append(str(path))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "modelcheck.cli", "check", "--engine", "explicit", *paths],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    for path in paths:
        assert re.search(rf"^{re.escape(path)}:\d+:\d+: error\[E\d\d\d\]: ", proc.stderr, re.M), path
    assert proc.stderr.count("\n  help: ") == len(paths)
    assert re.search(rf"{len(paths)} spec errors in [0-9.]+s \(exit 2:", proc.stdout), proc.stdout


def test_cli_rejects_single_fuzz_input(tmp_path):
    path = tmp_path / "one.probe"
    path.write_text(rejected_inputs(1)[-1])
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "modelcheck.cli", "check", "--engine", "explicit", str(path)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert re.search(r"\n +\| +\^+\n", proc.stderr), proc.stderr
