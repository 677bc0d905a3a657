"""Reading a Kconfig tree with kconfiglib, so that reading a spec never runs code or reads
arbitrary files.

A spec may read only files named `Kconfig*` inside its Kconfig tree (the `tree` directory of
`kconfig "FILE" tree "DIR";`, or the directory of FILE), following symlinks before the check.
kconfiglib's preprocessor is restricted: `$(shell,...)`, `$(info,...)` and every other built-in
or Python-defined function are refused before they run, and `$(VAR)` resolves only to a
variable the Kconfig files define or the spec gives (`with SRCARCH = "x86"`); the environment
is never read. Errors name the file and line, and never quote the text of a file.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from typing import Optional

from ..errors import SpecError
from ..ir import Span

# kconfiglib imports the module named by $KCONFIG_FUNCTIONS (default "kconfigfunctions",
# looked up on sys.path) to find Python-defined preprocessor functions: point it here, at a
# module with none, so that no file beside the spec is ever imported.
functions: dict = {}
_THIS_MODULE = __name__
_ENV_LOCK = threading.Lock()   # srctree and KCONFIG_FUNCTIONS are process-wide


@dataclass(frozen=True)
class KconfigTree:
    """A parsed Kconfig tree: kconfiglib's object and the directory `source` lines resolve in."""
    kconf: object
    root: str


class _Refused(Exception):
    """A Kconfig line asked for something a spec may not do (run code, read another file)."""

    def __init__(self, code: str, where: str, message: str, hint: str):
        super().__init__(message)
        self.code, self.where, self.message, self.hint = code, where, message, hint


def read_tree(spec_file: str, path: str, tree: Optional[str], variables: dict[str, str],
              span: Span) -> KconfigTree:
    """Parse the Kconfig file `path` (relative to `tree`, or to the spec's directory when no
    tree is given) with kconfiglib, `source` lines resolving in the tree.

    Raises SpecError E301 without kconfiglib, E302 for a file a spec may not or cannot read,
    E303 for a Kconfig parse error, E304 for a preprocessor call that would run code or read
    the environment (a `source` of a file outside the tree is E302 too)."""
    try:
        import kconfiglib
    except ImportError:
        raise SpecError("E301", span, "reading Kconfig files needs the kconfiglib package",
                        "pip install kconfiglib") from None
    spec_dir = os.path.dirname(os.path.abspath(spec_file))
    if tree is not None:
        root = os.path.realpath(os.path.join(spec_dir, tree))
        if not os.path.isdir(root):
            raise SpecError("E302", span, f"the Kconfig tree {tree!r} is not a directory",
                            "give the kernel source directory, relative to the spec file")
        top = os.path.realpath(os.path.join(root, path))
    else:
        top = os.path.realpath(os.path.join(spec_dir, path))
        root = os.path.dirname(top)
    problem = _unreadable(top, root)
    if problem:
        raise SpecError("E302", span, f"cannot read Kconfig file {path!r}: {problem}")
    cls = _safe_class(kconfiglib)
    with _ENV_LOCK:
        saved = {k: os.environ.get(k) for k in ("srctree", "KCONFIG_FUNCTIONS")}
        os.environ["srctree"] = root
        os.environ["KCONFIG_FUNCTIONS"] = _THIS_MODULE
        try:
            kconf = cls(os.path.relpath(top, root), root, dict(variables))
        except _Refused as refused:
            raise SpecError(refused.code, span, f"{refused.where}: {refused.message}", refused.hint) from None
        except kconfiglib.KconfigError as exc:
            raise SpecError("E303", span, f"cannot parse the Kconfig tree: {_unquoted(str(exc))}") from None
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            raise SpecError("E302", span, f"cannot read the Kconfig tree: {reason}") from None
        except RecursionError:
            raise SpecError("E303", span, "cannot parse the Kconfig tree: expressions nest too deeply") from None
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return KconfigTree(kconf, root)


def _unreadable(path: str, root: str) -> Optional[str]:
    """Why a spec may not read `path` (already resolved), or None."""
    if not (path == root or path.startswith(root.rstrip(os.sep) + os.sep)):
        return "it is outside the Kconfig tree"
    if not os.path.basename(path).startswith("Kconfig"):
        return "a spec reads only files named Kconfig* (symlinks followed)"
    if not os.path.isfile(path):
        return "no such file" if not os.path.exists(path) else "not a regular file"
    return None


_QUOTED_LINE = re.compile(r"(couldn't parse|in) '[^\n]*?'(: |\))")


def _unquoted(message: str) -> str:
    """kconfiglib's message without the text of the line it quotes: an error may show a spec,
    never the content of a file read on its behalf."""
    return " ".join(_QUOTED_LINE.sub(lambda m: f"{m.group(1)} the line{m.group(2)}", message).split())


_CLASSES: dict = {}


def _safe_class(kconfiglib):
    """kconfiglib.Kconfig with the preprocessor and `source` restricted (built once)."""
    if "cls" in _CLASSES:
        return _CLASSES["cls"]

    class SafeKconfig(kconfiglib.Kconfig):
        def __init__(self, filename: str, root: str, variables: dict[str, str]):
            self._mc_root = root
            self._mc_variables = variables
            super().__init__(filename, warn=False)

        def _fn_val(self, args):
            name = args[0]
            if name in self.variables:            # a macro the Kconfig files define: pure text
                return super()._fn_val(args)
            where = f"{self.filename}:{self.linenr}"
            if len(args) > 1 or name in self._functions:
                raise _Refused("E304", where, f"the Kconfig preprocessor function $({name},...) would run; "
                               "modelcheck never runs code named by a spec",
                               "point `kconfig` at a Kconfig file below the ones that call functions "
                               "(e.g. drivers/Kconfig rather than the top-level Kconfig)")
            if name in self._mc_variables:
                return self._mc_variables[name]
            raise _Refused("E304", where, f"the Kconfig variable $({name}) is not set; modelcheck does not "
                           "read the environment",
                           f'give its value in the spec: kconfig "..." with {name} = "VALUE";')

        def _enter_file(self, filename):
            real = os.path.realpath(filename)
            problem = _unreadable(real, self._mc_root)
            if problem:
                raise _Refused("E302", f"{self.filename}:{self.linenr}",
                               f"`source` names a file a spec may not read: {problem}",
                               "keep every sourced file inside the Kconfig tree (`tree \"DIR\"`)")
            return super()._enter_file(filename)

    _CLASSES["cls"] = SafeKconfig
    return SafeKconfig


def source_location(node) -> str:
    """`file:line` of a Kconfig menu node, relative to its tree."""
    return f"{node.filename}:{node.linenr}"

