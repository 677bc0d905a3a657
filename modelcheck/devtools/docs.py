"""Generated documentation, so that the docs cannot drift from the checker.

    python -m modelcheck.devtools.docs errors > docs/errors.md    # the error reference, from ERRORS
    python -m modelcheck.devtools.docs examples                   # rewrite docs/examples/errors/*.probe

docs/errors.md shows, for every entry of modelcheck.errors.ERRORS, the spec file that triggers
it (committed under docs/examples/errors/), the command and what `modelcheck check` really
prints for it: the generator runs the CLI in-process on that file, so the message, the caret
line and the help text are the checker's own. tests/test_docs.py runs the same commands again
as a subprocess and compares.

Also here: `fenced_blocks`, the Markdown reader that tests/test_docs.py uses to find the spec
snippets and command transcripts in docs/*.md.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from ..errors import ERRORS, ErrorKind

EXAMPLES = "docs/examples/errors"   # relative to the repository root, as the commands are run
MISSING = "E300"                    # the one error whose example is a file that does not exist
# Errors of other subcommands than `check`: the example is the command line itself.
# "{path}" stands for the example spec, written as for `check`.
COMMAND_EXAMPLES = {"E500": ["extract", "drivers/missing.c"], "E501": ["drift", "{path}"]}

# Files an example needs beside it (the ERRORS example names them but cannot carry them).
AUX_FILES = {
    "E216": {"Kconfig": 'config DEV_DAX_CXL\n\ttristate "CXL DAX"\n\tdepends on CXL_BUS\n'},
    "E303": {"Kconfig.bad": 'config A\n\tbool "a"\n\tfrobnicate\n'},
    "E304": {"Kconfig.shell": 'KERNEL := $(shell,uname -r)\nconfig A\n\tbool "a"\n'},
    "E306": {"Kconfig.types": 'config CXL_BUS\n\tbool "CXL bus"\n'},
    "E307": {"Kconfig.names": 'config CXL_PCI\n\ttristate "CXL PCI"\n'},
}
# Errors about the environment rather than the spec: the example only fails without the
# package, so the generator runs it with the package hidden, and shows no runnable command.
HIDDEN_PACKAGES = {"E301": "kconfiglib"}
# Examples run from their own directory: `kconfig "FILE"` with a relative spec path from the
# repository root does not find FILE today (the directory is applied twice), so E216 would
# show as E300. Drop the entry when that is fixed.
RUN_FROM = {"E216": EXAMPLES}
# Errors about what a spec path names rather than its text: the example is a path outside the
# examples directory, or a file too large to commit (written to the scratch copy only, so its
# output is shown without a command to rerun).
PATH_EXAMPLES = {"E104": "/dev/null"}
SCRATCH_EXAMPLES = {"E105": lambda: 'spec "padded"\n' + "# a comment line of padding\n" * 40_000}


# --- the error examples ------------------------------------------------------------------

def example_path(code: str) -> str:
    """Where the example for `code` lives, relative to the repository root."""
    name = f"{code}-missing.probe" if code == MISSING else f"{code}.probe"
    return f"{EXAMPLES}/{name}"


def example_spec(kind: ErrorKind) -> Optional[str]:
    """The example file for an error: ERRORS' fragment with a title, so that the fragment
    itself is what fails (a file without `spec "..."` stops at E215 first). None for E300."""
    if (kind.code == MISSING or kind.code in PATH_EXAMPLES or kind.code in SCRATCH_EXAMPLES
            or "{path}" not in COMMAND_EXAMPLES.get(kind.code, ["{path}"])):
        return None
    fragment = kind.example.rstrip("\n") + "\n"
    if kind.code == "E215" or fragment.startswith("spec "):
        return fragment
    return f'spec "{kind.code}: {kind.title}"\nsource "docs/errors.md"\n{fragment}'


def aux_files(code: str) -> dict[str, str]:
    """Paths (relative to the repository root) and contents of the files beside an example."""
    return {f"{EXAMPLES}/{name}": text for name, text in AUX_FILES.get(code, {}).items()}


@contextlib.contextmanager
def _hidden(package: Optional[str]):
    """`import package` fails inside the block, as if it were not installed."""
    if package is None:
        yield
        return
    saved = sys.modules.get(package, _ABSENT)
    sys.modules[package] = None   # the import system raises ImportError for a None entry
    try:
        yield
    finally:
        if saved is _ABSENT:
            del sys.modules[package]
        else:
            sys.modules[package] = saved


_ABSENT = object()


def run_cli(argv: list[str], cwd: str, hide: Optional[str] = None) -> tuple[str, int]:
    """`modelcheck ARGV` run in-process from `cwd`: stdout and stderr in the order printed."""
    from ..cli import main
    out = io.StringIO()
    old = os.getcwd()
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), _hidden(hide):
            code = main(argv)
    finally:
        os.chdir(old)
    return out.getvalue(), code


RUN_TIME = re.compile(r" in \d+\.\d+s \(exit")


def error_transcripts() -> dict[str, tuple[str, str, int]]:
    """code -> (command, output, exit code), each example checked as `modelcheck check FILE`.

    The examples are written to a scratch copy of docs/examples/errors/ so that the generator
    does not depend on the committed files (the test compares those separately)."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="modelcheck-docs-") as root:
        for code, kind in ERRORS.items():
            path = PATH_EXAMPLES.get(code, example_path(code))
            spec = SCRATCH_EXAMPLES[code]() if code in SCRATCH_EXAMPLES else example_spec(kind)
            files = dict(aux_files(code))
            if spec is not None:
                files[path] = spec
            for rel, content in files.items():
                file = Path(root, rel)
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_text(content, encoding="utf-8")
            where = RUN_FROM.get(code)
            shown_path = os.path.relpath(path, where) if where else path
            command = [a.replace("{path}", shown_path) for a in COMMAND_EXAMPLES.get(code, ["check", "{path}"])]
            text, status = run_cli(command, os.path.join(root, where or ""), HIDDEN_PACKAGES.get(code))
            text = RUN_TIME.sub(" in 0.00s (exit", text)   # the generated page does not change with the machine
            for rel in files:   # each example runs alone, as it does from the committed tree
                Path(root, rel).unlink()
            if f"error[{code}]" not in text:
                raise RuntimeError(f"the example for {code} does not raise {code}:\n{text}")
            shown = ("modelcheck " + " ".join(command))
            if where:
                shown = f"cd {where} && {shown}"
            out[code] = (shown, text.rstrip("\n"), status)
    return out


def errors_markdown() -> str:
    """docs/errors.md."""
    from ..checker import EXIT_CODES
    runs = error_transcripts()
    lines = [
        "# Error reference",
        "",
        "<!-- Generated by `python -m modelcheck.devtools.docs errors > docs/errors.md` from",
        "     modelcheck/errors.py (ERRORS). Do not edit by hand: tests/test_docs.py fails when",
        "     this file and the generator disagree. -->",
        "",
        "Every error `modelcheck check` can report about a spec. Each is printed on stderr as",
        "`file:line:col: error[CODE]: message`, then the offending line with a caret under the",
        "construct, then `help:` with what to write instead. A spec with an error is not checked",
        f"at all, and the run exits 2 ({EXIT_CODES[2]}).",
        "",
        "Codes E1xx come from the parser (the text is not in the language), E2xx from the",
        "compiler (the text parses but does not make sense: unknown names, wrong kinds, values out",
        "of range, misplaced statements), E300 from reading the file. The checker reports the",
        "first error it meets and stops.",
        "",
        "Each example below is a file under `docs/examples/errors/`, and the output is what the",
        "command really prints (the test suite runs every command again and compares).",
        "",
        "| code | title |",
        "|---|---|",
    ]
    lines += [f"| [{code}](#{_anchor(code, kind)}) | {kind.title} |" for code, kind in ERRORS.items()]
    for code, kind in ERRORS.items():
        command, output, _ = runs[code]
        lines += ["", f"## {code}: {kind.title}", ""]
        spec = example_spec(kind)
        if spec is None and code in COMMAND_EXAMPLES:
            lines += [f"Example: `{kind.example}`.", ""]
        elif spec is None:
            where = PATH_EXAMPLES.get(code, example_path(code))
            lines += [f"Example: {kind.example}, here `{where}`.", ""]
        else:
            lines += [f"Example, `{example_path(code)}`:", "", "```text", spec.rstrip("\n"), "```", ""]
        for rel, content in aux_files(code).items():
            lines += [f"with `{rel}`:", "", "```text", content.rstrip("\n"), "```", ""]
        hidden = HIDDEN_PACKAGES.get(code)
        if code in SCRATCH_EXAMPLES:
            lines += [f"What `{command}` prints for such a file (the docs tool writes it to a",
                      "scratch directory, it is not committed, so there is no command to rerun here):",
                      "", "```", output, "```", ""]
        elif hidden:
            lines += [f"What `{command}` prints when the `{hidden}` package is not",
                      "installed (it is a dependency of modelcheck, so the generator runs the",
                      "checker with the package hidden, and there is no command to rerun here):",
                      "", "```", output, "```", ""]
        else:
            lines += ["What the checker prints:", "", "```", f"$ {command}", output, "```", ""]
        lines += [f"Fix: {kind.fix}."]
    return "\n".join(lines) + "\n"


def _anchor(code: str, kind: ErrorKind) -> str:
    """The GitHub anchor of the heading `## CODE: title`."""
    words = re.sub(r"[^\w\- ]", "", f"{code}: {kind.title}".lower())
    return words.replace(" ", "-")


def write_examples(root: Path) -> list[Path]:
    """Write every error example under root/docs/examples/errors/; returns the files."""
    written = []
    for code, kind in ERRORS.items():
        spec = example_spec(kind)
        if spec is None:
            continue
        files = dict(aux_files(code))
        files[example_path(code)] = spec
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            written.append(path)
    return written


# --- reading the Markdown docs -----------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """A fenced code block: where it starts (1-based line of the opening fence), its info
    string (the words after the backticks) and its text."""
    file: str
    line: int
    info: str
    text: str

    @property
    def lang(self) -> str:
        return self.info.split()[0] if self.info.split() else ""

    def option(self, key: str) -> Optional[str]:
        for word in self.info.split()[1:]:
            if word.startswith(key + "="):
                return word[len(key) + 1:]
        return None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


_FENCE = re.compile(r"^```(.*)$")


def fenced_blocks(text: str, file: str = "<doc>") -> Iterator[Block]:
    """Every ``` fenced block of a Markdown text (fences at the start of a line)."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        start, body = i, []
        i += 1
        while i < len(lines) and lines[i] != "```":
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise ValueError(f"{file}:{start + 1}: code block is never closed")
        yield Block(file, start + 1, m.group(1).strip(), "\n".join(body))
        i += 1


_COMMAND = re.compile(r"^\$ (?:cd (?P<dir>\S+) && )?(?P<command>modelcheck .*)$")


def refresh_transcripts(root: Path) -> list[str]:
    """Run every `$ modelcheck ...` block of docs/*.md again and write what it prints into the doc
    (after a change to the checker's output; tests/test_docs.py then holds the docs to it)."""
    import shlex
    import subprocess
    changed = []
    for doc in sorted(root.glob("docs/*.md")):
        text = doc.read_text(encoding="utf-8")
        lines = text.split("\n")
        for block in reversed(list(fenced_blocks(text, doc.name))):
            first = block.text.partition("\n")[0]
            m = _COMMAND.match(first)
            if m is None:
                continue
            args = shlex.split(m["command"])
            if args[1] in ("check", "report"):
                args.append("--no-cache")
            env = dict(os.environ, PYTHONPATH=str(root), PYTHONUNBUFFERED="1")
            proc = subprocess.run([sys.executable, "-m", "modelcheck.cli", *args[1:]], cwd=root / (m["dir"] or "."),
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
            body = [first] + proc.stdout.rstrip("\n").split("\n")
            old = lines[block.line:block.line + len(block.text.split("\n"))]
            if old != body:
                lines[block.line:block.line + len(old)] = body
                changed.append(f"{doc.name}:{block.line}")
        doc.write_text("\n".join(lines), encoding="utf-8")
    return changed


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["refresh"]:
        for where in refresh_transcripts(Path(__file__).resolve().parents[2]):
            print(f"updated {where}")
        return 0
    if args == ["errors"]:
        sys.stdout.write(errors_markdown())
        return 0
    if args == ["examples"]:
        root = Path(__file__).resolve().parents[2]
        for path in write_examples(root):
            print(path.relative_to(root))
        return 0
    print("usage: python -m modelcheck.devtools.docs errors > docs/errors.md\n"
          "       python -m modelcheck.devtools.docs examples\n"
          "       python -m modelcheck.devtools.docs refresh     (rerun the transcripts in docs/*.md)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
