"""The entry point of the ``docstack`` command: parse, run the sub-command, report errors
as one line (exit status 2 for usage errors, 1 for failures)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Optional

__all__ = ["main"]


def _run(args: object) -> int:
    command = getattr(args, "command", None)
    if command == "index":
        from docstack.cli._indexing import run_index

        return run_index(args)
    if command == "search":
        from docstack.cli._search import run_search

        return run_search(args)
    from docstack.cli import _commands

    return int(getattr(_commands, f"run_{command}")(args))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the ``docstack`` command with ``argv`` (default: the process's arguments) and
    answer its exit status: 0 on success, 1 when it failed, 2 for a bad command line.

    Errors are one line on stderr, ``docstack: error: ...``; ``--debug`` shows the traceback.

    Example
    -------
    >>> main(['search'])
    2
    """
    from docstack.cli._parser import UsageError, build_parser

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return _run(args)
    except UsageError as exc:
        print(f"docstack: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print("docstack: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line
        if debug:
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"docstack: error: {message}", file=sys.stderr)
        return 1
    finally:
        if "docstack.cli._settings" in sys.modules:
            from docstack.cli._settings import close_all

            close_all()
