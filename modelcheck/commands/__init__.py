"""The subcommands of `modelcheck`, one module each: `add_parser(sub)` and `run(args) -> int`."""
from . import check, diff, drift, export, extract, mutate, outcomes, replay, report, simulate, trace

COMMANDS = {"check": check, "trace": trace, "diff": diff, "report": report, "replay": replay,
            "simulate": simulate, "export": export, "outcomes": outcomes, "mutate": mutate,
            "extract": extract, "drift": drift}
