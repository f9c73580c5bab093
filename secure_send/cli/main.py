"""Entry point of ``secure-send``: parse arguments, run, turn errors into one line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import secure_send
from secure_send.cli import age_commands, client_commands
from secure_send.core.error_sentences import CLI_LABELS, SENTENCES
from secure_send.core.errors import SecureSendError

PROG = "secure-send"


class _VersionAction(argparse.Action):
    """``--version``, resolved only when asked (see ``secure_send.__getattr__``)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        print(f"{PROG} {secure_send.__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (exposed for tests and shell completion)."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Secure Send: end-to-end encrypted file hand-over."
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    age_commands.add_parsers(sub)
    client_commands.add_parsers(sub)
    return parser


def describe(err: BaseException) -> str:
    """One line naming the kind of problem, then the detail (never a secret)."""
    if isinstance(err, OSError):
        where = f": {err.filename}" if err.filename else ""
        return f"{err.strerror or err}{where}"
    code = getattr(err, "code", None)
    if code in CLI_LABELS:  # the file commands: "label: detail", as the README documents
        label, detail = SENTENCES[code], str(err)
        return detail if detail.startswith(label) else f"{label}: {detail}"
    return str(err)


def _wants_app(argv: Sequence[str], parser: argparse.ArgumentParser) -> bool:
    """No command at all, or only paths (``secure-send FILE…`` from a file manager)."""
    commands: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            commands |= set(action.choices)
    # macOS may pass a process serial number (-psn_…) to an app opened from Finder
    argv = [a for a in argv if not a.startswith("-psn_")]
    return not argv or (argv[0] not in commands and not argv[0].startswith("-"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if _wants_app(argv, parser):
        from secure_send.gui.app import main as app_main  # Qt only when the app runs

        return app_main([a for a in argv if not a.startswith("-psn_")])
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (SecureSendError, OSError) as err:
        print(f"{PROG}: error: {describe(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
