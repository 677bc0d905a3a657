"""The `modelcheck` command: builds the parser from the subcommand modules and runs one.
No stage or subcommand imports this module."""
from __future__ import annotations

import argparse
import sys

from . import __version__
from .commands import COMMANDS
from .parallel import SchedulerError
from .limits import Terminated, memory_text, release_reserve
from .report.output import OutputError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modelcheck", description="Model checker for Linux kernel probe ordering.")
    parser.add_argument("--version", action="version", version=f"modelcheck {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        command.add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Run one subcommand; returns its exit code (0-4; 130 on Ctrl-C, 143 on SIGTERM)."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command].run(args)
    except SchedulerError as exc:
        print(f"modelcheck: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("modelcheck: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("modelcheck: terminated", file=sys.stderr)
        return 143
    except OutputError as exc:
        print(f"modelcheck: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        release_reserve()
        print(f"modelcheck: inconclusive: the memory limit ({memory_text()}) was reached", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
