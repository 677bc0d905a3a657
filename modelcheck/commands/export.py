"""`modelcheck export --promela`: the same model in Promela, for SPIN."""
from __future__ import annotations

import sys

from ..errors import SpecError
from ..frontend import load_file
from ..promela import property_names, to_promela
from ..report.results import write_file_atomically
from .common import read_source


def add_parser(sub) -> None:
    export = sub.add_parser("export", help="write the model in another checker's language")
    export.add_argument("spec")
    export.add_argument("--promela", action="store_true", required=True,
                        help="Promela for SPIN (the only format so far)")
    export.add_argument("--property", action="append", dest="properties",
                        help="export only this property (repeatable; default: all, and SPIN stops "
                        "at the first violation of any); check deadlock without pan's -E")
    export.add_argument("-o", "--output", help="write to this file instead of stdout")


def run(args) -> int:
    try:
        model, _ = load_file(args.spec)
    except SpecError as exc:
        print(exc.render(read_source(args.spec)), file=sys.stderr)
        return 2
    names = property_names(model)
    unknown = [p for p in args.properties or [] if p not in names]
    if unknown:
        print(f"modelcheck: {args.spec} has no property {', '.join(unknown)} "
              f"(it has: {', '.join(names)})", file=sys.stderr)
        return 2
    text = to_promela(model, args.properties)
    if args.output:
        write_file_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
