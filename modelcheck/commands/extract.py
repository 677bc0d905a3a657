"""`modelcheck extract FILE.c ... [-o SPEC]`: a spec skeleton in the shape of the C."""
from __future__ import annotations

import sys

from ..errors import SpecError
from ..extract.cfile import read_c
from ..extract.skeleton import Skeleton
from ..report.results import write_file_atomically


def add_parser(sub) -> None:
    extract = sub.add_parser("extract", help="write a spec skeleton from kernel C files (tree-sitter)",
                             description="Translate kernel C into a .probe skeleton: modules, drivers, "
                             "devices, work items and every modelled primitive call, each line marked "
                             "with the FILE:LINE it came from. Complete it, then check it.")
    extract.add_argument("files", nargs="+", metavar="FILE.c", help="C files of one driver (calls between them "
                         "become symbol dependencies)")
    extract.add_argument("-o", "--output", metavar="SPEC", help="write the skeleton here instead of stdout")
    extract.add_argument("--models", action="store_true",
                         help="add a `models \"FILE\";` line per file, so `modelcheck drift` finds the C")
    extract.add_argument("--summary", action="store_true",
                         help="print to stderr how many modelled calls were recognized and what was left as comments")


def run(args) -> int:
    """Exit 0 with the skeleton written; 2 when a file cannot be read."""
    try:
        files = [read_c(path) for path in args.files]
    except SpecError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    skeleton = Skeleton(files, models=list(args.files) if args.models else None)
    text = skeleton.text()
    if args.output:
        write_file_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    if args.summary:
        print(summary(skeleton), file=sys.stderr)
    return 0


def summary(skeleton: Skeleton) -> str:
    """One line: primitives emitted, calls left as comments, conditions made choices."""
    names = sorted({name for name, _ in skeleton.unmodelled})
    return (f"modelcheck extract: {len(skeleton.sites)} modelled primitives, "
            f"{len(skeleton.choices)} nondeterministic choices, "
            f"{len(skeleton.unmodelled)} calls left as comments ({', '.join(names[:12])}"
            f"{', ...' if len(names) > 12 else ''})")
