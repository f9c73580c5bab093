"""Entry point of ``secure-send``: parse arguments, run, turn errors into one line.

Start-up matters: ``age`` starts in a millisecond, and ``secure-send encrypt`` is
used the same way (in scripts, in pipelines). So this module imports only the
standard library and the error classes; each subcommand's module is imported
only when that command runs (:data:`COMMANDS`), so ``encrypt``, ``decrypt`` and
``keygen`` never load ``requests``, the client stack or Qt, and ``--help`` lists
every command without importing any of them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Collection, Sequence
from types import ModuleType

import secure_send
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


# Every subcommand, in --help order: the module that implements it and its one-line
# help. A module's ``configure(name, parser)`` adds the command's arguments and sets
# ``func``; it is called only for the command being run (or for all, in build_parser).
AGE, CLIENT, REQUESTS, SELF_TEST = "age", "client", "requests", "self-test"
APPROVALS = "approvals"
COMMANDS: dict[str, tuple[str, str]] = {
    "keygen": (AGE, "make a new identity (like age-keygen)"),
    "encrypt": (AGE, "encrypt to recipients (like age -e)"),
    "decrypt": (AGE, "decrypt with identity files (like age -d)"),
    "enrol": (
        CLIENT,
        "enrol this device with the organisation (again without arguments: go on waiting for IT)",
    ),
    "directory": (CLIENT, "the verified directory"),
    "send": (CLIENT, "send files to people in the directory"),
    "resume": (CLIENT, "finish sends an earlier run did not finish"),
    "inbox": (CLIENT, "drops sent to you"),
    "receive": (CLIENT, "verify, download and decrypt a drop"),
    "sent": (CLIENT, "your drops and their receipts"),
    "recall": (CLIENT, "recall a drop (its ciphertext is deleted at once)"),
    "devices": (CLIENT, "the devices of your account (and ack one)"),
    "request": (REQUESTS, "file requests you make: create, status, remind"),
    "requests": (REQUESTS, "open file requests for you"),
    "submit": (REQUESTS, "submit files to a file request (to its mailbox, nobody to choose)"),
    "approvals": (APPROVALS, "sends waiting for your approval (上長承認)"),
    "approve": (APPROVALS, "approve a send: its recipients get it"),
    "reject": (APPROVALS, "return a send to its sender with --reason"),
    "demo": (CLIENT, "the whole product on this machine, narrated"),
    "self-test": (SELF_TEST, "check that this installation works on this machine"),
}


def load(group: str) -> ModuleType:
    """The module of a group of commands, imported now (plain import statements, so
    that PyInstaller's analysis still finds each module)."""
    if group == AGE:
        from secure_send.cli import age_commands

        return age_commands
    if group == CLIENT:
        from secure_send.cli import client_commands

        return client_commands
    if group == REQUESTS:
        from secure_send.cli import request_commands

        return request_commands
    if group == APPROVALS:
        from secure_send.cli import approval_commands

        return approval_commands
    from secure_send.cli import selftest

    return selftest


def build_parser(
    configured: Collection[str] | None = None, *, list_all: bool = True
) -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and shell completion).

    Only the ``configured`` commands (default: all) get their arguments, which imports
    their modules; the others are listed with their help, all ``--help`` shows of
    them, or (not ``list_all``) left out, when nothing could show that list.
    """
    parser = argparse.ArgumentParser(
        prog=PROG, description="Secure Send: end-to-end encrypted file hand-over."
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (group, help_text) in COMMANDS.items():
        wanted = configured is None or name in configured
        if wanted or list_all:
            command = sub.add_parser(name, help=help_text)
        if wanted:
            load(group).configure(name, command)
    return parser


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names, if any: the first word that is not an option (the
    top-level options, ``-h`` and ``--version``, take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)


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


def _wants_app(argv: Sequence[str]) -> bool:
    """No command at all, or only paths (``secure-send FILE…`` from a file manager)."""
    # macOS may pass a process serial number (-psn_…) to an app opened from Finder
    argv = [a for a in argv if not a.startswith("-psn_")]
    return not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-"))


def _log_to_stderr() -> None:
    """Library warnings as ``secure-send: …`` lines. Not for the age commands: nothing
    on their path logs, and ``logging`` costs them a few ms of start-up."""
    import logging

    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(message)s")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if _wants_app(argv):
        _log_to_stderr()
        from secure_send.gui.app import main as app_main  # Qt only when the app runs

        return app_main([a for a in argv if not a.startswith("-psn_")])
    command = chosen_command(argv)
    known = [command] if command is not None and command in COMMANDS else []
    if not known or COMMANDS[known[0]][0] != AGE:
        _log_to_stderr()
    # A command in first place leaves no way to the top-level help (no option precedes
    # it) or to an "invalid choice" error: the other commands need no parser at all.
    args = build_parser(known, list_all=argv[0] not in COMMANDS).parse_args(argv)
    try:
        args.func(args)
    except (SecureSendError, OSError) as err:
        from secure_send.core.display import terminal_safe  # only on this path

        # the detail may quote the server or a sender: one line, escapes shown
        print(
            f"{PROG}: error: {terminal_safe(describe(err), keep_newlines=False)}", file=sys.stderr
        )
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
