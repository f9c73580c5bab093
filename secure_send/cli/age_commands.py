"""``keygen``, ``encrypt`` and ``decrypt``: an age-compatible subset, and CMS.

Flags and behaviour follow the reference ``age`` tool, so that IT staff can use
either interchangeably. Secrets are only ever read from files, never from argv.
``encrypt --suite cms --cert CERT.pem`` writes CMS AuthEnvelopedData instead, and
``decrypt`` detects CMS input (``cli/cms_commands.py``, imported only then).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

from secure_send.cli.cms_armor import AGE, detect
from secure_send.core import age
from secure_send.core.age.source import Writable
from secure_send.core.atomic import DeviceOutput, OutputExistsError, open_output
from secure_send.core.errors import KeyFormatError, SecureSendError

_Job = Callable[[Writable], None]
SUITES = ("age", "cms")


class UsageError(SecureSendError):
    """The command line asks for something that cannot be done."""


def configure(name: str, p: argparse.ArgumentParser) -> None:
    """Add the arguments of ``keygen``, ``encrypt`` or ``decrypt`` (see ``cli.main``)."""
    if name == "keygen":
        p.add_argument("-o", "--output", metavar="FILE", help="write the identity to FILE (0600)")
        p.add_argument(
            "-y",
            dest="convert",
            action="store_true",
            help="print the recipients of the identity file given as INPUT",
        )
        p.add_argument("input", nargs="?", metavar="INPUT", help="identity file for -y")
        p.set_defaults(func=cmd_keygen)
    elif name == "encrypt":
        p.add_argument("-r", "--recipient", action="append", default=[], metavar="RECIPIENT")
        p.add_argument("-R", "--recipients-file", action="append", default=[], metavar="PATH")
        p.add_argument("-a", "--armor", action="store_true", help="write PEM-armored text")
        p.add_argument(
            "--suite",
            choices=SUITES,
            default="age",
            help="age (default; recipients -r/-R) or cms (CMS AES-256-GCM, ECDH P-256; --cert)",
        )
        p.add_argument(
            "--cert",
            action="append",
            default=[],
            metavar="CERT",
            help="with --suite cms: an X.509 certificate (PEM or DER) holding a P-256 key",
        )
        _add_io(p)
        p.set_defaults(func=cmd_encrypt)
    elif name == "decrypt":
        p.add_argument("-i", "--identity", action="append", default=[], metavar="PATH")
        _add_io(p)
        p.set_defaults(func=cmd_decrypt)
    else:
        raise ValueError(f"not an age command: {name}")


def _add_io(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", metavar="OUTPUT", help="output file (default: stdout)")
    p.add_argument("-f", "--force", action="store_true", help="overwrite an existing OUTPUT")
    p.add_argument("input", nargs="?", metavar="INPUT", help="input file (default: stdin)")


# A pipe holds 64 KiB by default: a 1 MiB write or read then takes ~16 process
# switches. Up to 1 MiB is allowed without privileges (fs.pipe-max-size), Linux only.
_PIPE_SIZE = 1024 * 1024


def _widen_pipe(stream: BinaryIO) -> None:
    """Let a pipe on ``stream`` hold 1 MiB (best effort: not a pipe, or not Linux)."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if setsize is None:
        return
    with contextlib.suppress(OSError, ValueError):
        fd = stream.fileno()
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, setsize, _PIPE_SIZE)


@contextlib.contextmanager
def _open_input(path: str | None) -> Iterator[BinaryIO]:
    if path is None or path == "-":
        _widen_pipe(sys.stdin.buffer)
        yield sys.stdin.buffer
        return
    with open(path, "rb") as f:
        yield f


def _run_to_output(
    args: argparse.Namespace, binary: bool, job: _Job, *, hold: bool = False
) -> None:
    """Run ``job(dst)`` into OUTPUT atomically, or into stdout.

    ``hold``: what the job writes is not authentic until it returns (CMS: the tag comes
    last), so output that cannot be renamed into place (stdout, a device or pipe) is
    first kept in a private temporary file and copied out only after the job returned.
    """
    if args.output is None or args.output == "-":
        if binary and sys.stdout.isatty():
            raise UsageError("refusing to write binary ciphertext to a terminal; use -a or -o")
        _widen_pipe(sys.stdout.buffer)
        _held(job, sys.stdout.buffer) if hold else job(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    out = Path(args.output)
    # Reading and writing one regular file would destroy it; devices are fine.
    if args.input not in (None, "-") and out.is_file() and _same_file(Path(args.input), out):
        raise UsageError("input and output are the same file")
    try:
        output = open_output(out, overwrite=args.force)
    except OutputExistsError:
        raise UsageError(f"{out} already exists (use --force to overwrite)") from None
    with output:
        if hold and isinstance(output, DeviceOutput):
            _held(job, output.file)
        else:
            job(output.file)
        output.commit()


def _held(job: _Job, dst: Writable) -> None:
    """``job`` into an unnamed 0600 temporary file, then, once it returned, into ``dst``."""
    with tempfile.TemporaryFile(prefix="secure-send-") as held:
        job(held)
        held.seek(0)
        shutil.copyfileobj(held, dst, _PIPE_SIZE)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _read_key_text(data: bytes) -> str:
    # Keys are ASCII; comments may be in any encoding (age accepts Latin-1 ones).
    # Undecodable bytes become U+FFFD, which can only make a key line invalid.
    return data.decode("utf-8", errors="replace")


def _read_recipients(args: argparse.Namespace) -> list[age.X25519Recipient]:
    recipients = [age.X25519Recipient.parse(r) for r in args.recipient]
    for path in args.recipients_file:
        text = _read_key_text(Path(path).read_bytes())
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                recipients.append(age.X25519Recipient.parse(line))
            except KeyFormatError:
                raise KeyFormatError(f"{path}: malformed recipient on line {number}") from None
    if not recipients:
        raise UsageError("missing recipients: give -r or -R")
    return recipients


def _read_identities(paths: list[str]) -> list[age.X25519Identity]:
    if not paths:
        raise UsageError("missing identity file: give -i")
    identities = []
    for path in paths:
        data = Path(path).read_bytes()
        if data[:1] == b"\x30" or data.lstrip().startswith(b"-----BEGIN"):
            continue  # a PEM or DER key (for CMS messages), not an age identity file
        try:
            identities += age.parse_identity_file(_read_key_text(data))
        except KeyFormatError as err:
            raise KeyFormatError(f"{path}: {err}") from None
    if not identities:
        raise KeyFormatError("this input is an age file; a P-256 key opens CMS messages only")
    return identities


def cmd_encrypt(args: argparse.Namespace) -> None:
    """Encrypt INPUT to every recipient (age), or to every certificate (CMS)."""
    if args.suite == "cms":
        if args.recipient or args.recipients_file:
            raise UsageError("-r and -R name age recipients; with --suite cms give --cert")
        from secure_send.cli import cms_commands  # the CMS stack only when asked

        with _open_input(args.input) as src:
            _run_to_output(args, not args.armor, cms_commands.encrypt_job(args, src))
        return
    if args.cert:
        raise UsageError("--cert is for --suite cms (age recipients: -r or -R)")
    recipients = _read_recipients(args)
    with _open_input(args.input) as src:
        _run_to_output(
            args, not args.armor, lambda dst: age.encrypt(src, dst, recipients, armor=args.armor)
        )


def cmd_decrypt(args: argparse.Namespace) -> None:
    """Decrypt INPUT with the identities; the format (age, CMS) and armor are detected."""
    if not args.identity:
        raise UsageError("missing identity file: give -i")
    with _open_input(args.input) as raw:
        kind, src = detect(raw)
        if kind != AGE:
            from secure_send.cli import cms_commands  # the CMS stack only when needed

            _run_to_output(args, False, cms_commands.decrypt_job(args, kind, src), hold=True)
            return
        identities = _read_identities(args.identity)
        _run_to_output(args, False, lambda dst: age.decrypt(src, dst, identities))


def cmd_keygen(args: argparse.Namespace) -> None:
    """Write a new identity, or with -y print the recipients of one."""
    if args.convert:
        with _open_input(args.input) as src:
            text = _read_key_text(src.read())
        for identity in age.parse_identity_file(text):
            print(identity.recipient)
        return
    if args.input is not None:
        raise UsageError("keygen takes no INPUT (did you mean -y?)")
    identity = age.X25519Identity.generate()
    encoded = age.format_identity_file(identity).encode("utf-8")
    if args.output is None:
        sys.stdout.buffer.write(encoded)
        sys.stdout.buffer.flush()
    else:
        with open_output(Path(args.output)) as atomic:
            atomic.file.write(encoded)
            atomic.commit()
    print(f"Public key: {identity.recipient}", file=sys.stderr)
