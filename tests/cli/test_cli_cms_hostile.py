"""Red team (issue 21): the CMS command line under hostile input and hostile places.

No partial plaintext anywhere on failure (symlinked, read-only and full outputs — a
real small tmpfs in a private mount namespace, ``unshare -rm``), no secret in error
text, keys of the wrong kind refused before anything is written, and a PEM body of
one enormous line read in bounded memory. The CLI runs as a subprocess throughout.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from tests.cli.cli_kit import CLI, _plaintext, assert_one_line_failure, listing, ok, run
from tests.cli.cms_kit import Holder, certificate, holder, sealed
from tests.cli.test_cli_cms import _run_with_terminal

Enc = serialization.Encoding


@pytest.fixture
def ann(keys_dir: Path) -> Holder:
    return holder(keys_dir, "ann")


# ------------------------------------------------------------ symlinked output


def test_o_onto_a_symlink_to_an_existing_file(work: Path, ann: Holder, tmp_path: Path) -> None:
    """The link's target is someone's file: never written through. Without --force the
    output exists; with it the link itself is replaced (rename), the target untouched."""
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"do not touch")
    (work / "out").symlink_to(victim)
    (work / "in.cms").write_bytes(sealed(b"secret plan", ann.recipient))
    proc = run("decrypt", "-i", ann.key_path, "-o", work / "out", work / "in.cms")
    assert_one_line_failure(proc, "already exists")
    assert victim.read_bytes() == b"do not touch"
    ok("decrypt", "-i", ann.key_path, "-f", "-o", work / "out", work / "in.cms")
    assert not (work / "out").is_symlink()
    assert (work / "out").read_bytes() == b"secret plan"
    assert victim.read_bytes() == b"do not touch"


def test_o_onto_a_dangling_symlink_creates_nothing_through_it(
    work: Path, ann: Holder, tmp_path: Path
) -> None:
    """A link to a name that does not exist yet (planted where the user will write):
    the output is not created at the link's target."""
    planted = tmp_path / "elsewhere" / "loot"
    planted.parent.mkdir()
    (work / "out").symlink_to(planted)
    (work / "in.cms").write_bytes(sealed(b"secret plan", ann.recipient))
    proc = run("decrypt", "-i", ann.key_path, "-o", work / "out", work / "in.cms")
    assert_one_line_failure(proc, "already exists")
    assert not planted.exists()
    assert listing(planted.parent) == set()
    assert listing(work) == {"out", "in.cms"}


def test_a_failure_onto_a_symlink_changes_nothing(work: Path, ann: Holder, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"do not touch")
    (work / "out").symlink_to(victim)
    message = bytearray(sealed(_plaintext(200_000), ann.recipient))
    message[-30] ^= 1  # the tag
    (work / "in.cms").write_bytes(bytes(message))
    proc = run("decrypt", "-i", ann.key_path, "-f", "-o", work / "out", work / "in.cms")
    assert_one_line_failure(proc, "modified")
    assert (work / "out").is_symlink()
    assert victim.read_bytes() == b"do not touch"
    assert listing(work) == {"out", "in.cms"}


# ------------------------------------------------------------ full and read-only disks


def _in_small_tmpfs(
    mount: Path, size: str, then: list[str], *, readonly: bool = False, tmpdir: bool = False
) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI with ``mount`` a fresh tmpfs of ``size`` in a private mount namespace
    (``unshare -rm``: no privileges needed, nothing left mounted); afterwards the
    namespace's view of the folder is listed on stderr after a marker line."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"user namespaces unavailable here: {probe.stderr.decode().strip()}")
    mount.mkdir(exist_ok=True)
    remount = f" && mount -o remount,ro {mount}" if readonly else ""
    env = f"TMPDIR={mount} " if tmpdir else ""
    cli = " ".join(f"'{a}'" for a in [*CLI, *then])
    script = (
        f"mount -t tmpfs -o size={size},mode=0700 tmpfs {mount}{remount} && "
        f"{env}{cli}; rc=$?; echo ===listing >&2; ls -A {mount} >&2; exit $rc"
    )
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script], capture_output=True, check=False, timeout=120
    )


def _split(proc: subprocess.CompletedProcess[bytes]) -> tuple[str, list[str]]:
    err, _, names = proc.stderr.decode(errors="replace").partition("===listing\n")
    return err, names.split()


def test_a_full_disk_leaves_no_partial_plaintext(work: Path, ann: Holder, tmp_path: Path) -> None:
    """3 MiB of plaintext into a 1 MiB file system: the write fails part way; the
    hidden temporary file is removed, no output name appears."""
    (work / "in.cms").write_bytes(sealed(_plaintext(3 * 1024 * 1024), ann.recipient))
    disk = tmp_path / "small"
    proc = _in_small_tmpfs(
        disk, "1m", ["decrypt", "-i", str(ann.key_path), "-o", f"{disk}/out", str(work / "in.cms")]
    )
    err, names = _split(proc)
    assert proc.returncode != 0, err
    assert "No space left on device" in err, err
    assert err.count("\n") == 1, err
    assert names == []


def test_a_full_temporary_folder_holds_back_stdout(work: Path, ann: Holder, tmp_path: Path) -> None:
    """To stdout the plaintext waits in an unnamed temporary file until the tag
    verified; when that folder is full the command fails and stdout gets nothing."""
    (work / "in.cms").write_bytes(sealed(_plaintext(3 * 1024 * 1024), ann.recipient))
    disk = tmp_path / "tmp"
    proc = _in_small_tmpfs(
        disk, "1m", ["decrypt", "-i", str(ann.key_path), str(work / "in.cms")], tmpdir=True
    )
    err, names = _split(proc)
    assert proc.returncode != 0, err
    assert "No space left on device" in err, err
    assert proc.stdout == b""
    assert names == []


def test_a_read_only_folder_is_a_clear_error(work: Path, ann: Holder, tmp_path: Path) -> None:
    (work / "in.cms").write_bytes(sealed(b"secret plan", ann.recipient))
    disk = tmp_path / "ro"
    argv = ["decrypt", "-i", str(ann.key_path), "-o", f"{disk}/out", str(work / "in.cms")]
    proc = _in_small_tmpfs(disk, "1m", argv, readonly=True)
    err, names = _split(proc)
    assert proc.returncode != 0, err
    assert "Read-only file system" in err, err
    assert f"{disk}/out" in err  # the name asked for, not the hidden temporary one
    assert proc.stdout == b""
    assert names == []


# ------------------------------------------------------------ secrets in error text


def test_a_wrong_passphrase_is_not_echoed(work: Path, ann: Holder) -> None:
    typed = "hunter2-秘密-Zq9"
    key = work.parent / "ann.enc.pem"
    key.write_bytes(
        ann.key.private_bytes(
            Enc.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"the real one"),
        )
    )
    (work / "in.cms").write_bytes(sealed(b"x", ann.recipient))
    code, shown = _run_with_terminal(
        ["decrypt", "-i", key, "-o", work / "out", work / "in.cms"], typed
    )
    assert code == 1
    assert b"wrong passphrase" in shown
    assert typed.encode() not in shown
    assert listing(work) == {"in.cms"}


@pytest.mark.parametrize("form", ["pem-garbage", "der-garbage", "p384", "ed25519"])
def test_key_bytes_never_appear_in_error_text(work: Path, ann: Holder, form: str) -> None:
    marker = "SECRETMARKER0123456789abcdefghij"
    key = work.parent / "key.pem"
    if form == "pem-garbage":
        body = base64.b64encode(marker.encode() * 4).decode()
        key.write_text(f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")
        secret = body
    elif form == "der-garbage":
        key.write_bytes(b"\x30\x82\x01\x00" + marker.encode() * 8)
        secret = marker
    else:
        other = (
            ec.generate_private_key(ec.SECP384R1())
            if form == "p384"
            else ed25519.Ed25519PrivateKey.generate()
        )
        raw = other.private_bytes(
            Enc.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        key.write_bytes(raw)
        secret = raw[-24:].hex()
    (work / "in.cms").write_bytes(sealed(b"x", ann.recipient))
    proc = run("decrypt", "-i", key, "-o", work / "out", work / "in.cms")
    message = assert_one_line_failure(proc)
    assert secret not in message
    assert marker not in message
    assert base64.b64encode(key.read_bytes()[-24:]).decode() not in message
    assert listing(work) == {"in.cms"}


# ------------------------------------------------------------ certificates of the wrong kind


def _cert_of(
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey, name: str
) -> x509.Certificate:
    return certificate(key, name, ski=False)


@pytest.mark.parametrize("kind", ["secp256k1", "ed25519"])
def test_encrypt_refuses_a_lookalike_curve(work: Path, kind: str) -> None:
    """secp256k1 is 256 bits too, but not P-256: never taken for it."""
    key = (
        ec.generate_private_key(ec.SECP256K1())
        if kind == "secp256k1"
        else ed25519.Ed25519PrivateKey.generate()
    )
    cert = work.parent / "odd.crt"
    cert.write_bytes(_cert_of(key, "odd").public_bytes(Enc.PEM))
    (work / "p").write_bytes(b"x")
    proc = run("encrypt", "--suite", "cms", "--cert", cert, "-o", work / "out", work / "p")
    assert_one_line_failure(proc, "P-256")
    assert listing(work) == {"p"}


def _explicit_holder(folder: Path) -> tuple[Path, bytes]:
    """A P-256 key written with explicit curve parameters and its self-signed
    certificate, both made by the real ``openssl`` (``-param_enc explicit``)."""
    key, cert = folder / "explicit.key.pem", folder / "explicit.crt"
    subprocess.run(
        ["openssl", "ecparam", "-name", "prime256v1", "-param_enc", "explicit", "-genkey",
         "-noout", "-out", str(key)],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        ["openssl", "req", "-x509", "-new", "-key", str(key), "-subj", "/CN=explicit",
         "-days", "2", "-outform", "DER", "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, cert.read_bytes()


def _point(k: int) -> bytes:
    return (
        ec.derive_private_key(k, ec.SECP256R1())
        .public_key()
        .public_bytes(Enc.X962, serialization.PublicFormat.UncompressedPoint)
    )


def test_explicit_curve_certificates(work: Path) -> None:
    """Explicit parameters that are exactly P-256 name the same key (taken, and the
    message opens with the key); the same with another generator (2G: the CurveBall
    trick) is a custom curve: refused, nothing written."""
    key, der = _explicit_holder(work.parent)
    assert der.count(_point(1)) == 1  # the generator is spelled out in the certificate
    (work / "p").write_bytes(b"explicit but equal")
    same = work.parent / "explicit.der"
    same.write_bytes(der)
    ok("encrypt", "--suite", "cms", "--cert", same, "-o", work / "out", work / "p")
    assert ok("decrypt", "-i", key, work / "out").stdout == b"explicit but equal"
    curveball = work.parent / "curveball.der"
    curveball.write_bytes(der.replace(_point(1), _point(2)))
    proc = run("encrypt", "--suite", "cms", "--cert", curveball, "-o", work / "out2", work / "p")
    assert_one_line_failure(proc, "cannot be read")
    assert listing(work) == {"p", "out"}


# ------------------------------------------------------------ PEM of one enormous line


def _peak_child_rss_mib(
    argv: list[str | Path], stdin: Path | None = None
) -> tuple[int, float, bytes]:
    """Run the CLI under a small parent that reports its child's peak RSS."""
    probe = (
        "import resource, subprocess, sys\n"
        "src = open(sys.argv[1], 'rb') if sys.argv[1] else None\n"
        "p = subprocess.run(sys.argv[2:], stdin=src, stdout=subprocess.DEVNULL,"
        " stderr=subprocess.PIPE)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "sys.stdout.write(f'{p.returncode} {peak}\\n')\n"
        "sys.stdout.flush(); sys.stdout.buffer.write(p.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, str(stdin or ""), *CLI, *(str(a) for a in argv)],
        capture_output=True, check=True, timeout=300,
    )  # fmt: skip
    first, _, err = proc.stdout.partition(b"\n")
    code, kib = first.split()
    return int(code), int(kib) / 1024, err


def test_a_pem_body_of_one_enormous_line(work: Path, ann: Holder) -> None:
    """48 MiB of plaintext as PEM with no line breaks at all (a 64 MiB line): read in
    blocks, so memory stays far below the message's size; a 64 MiB line that never
    ends (no END line) is refused, in the same bounded memory, with no output."""
    plaintext = os.urandom(48 * 1024 * 1024)
    body = base64.b64encode(sealed(plaintext, ann.recipient))
    one_line = work.parent / "one-line.pem"
    one_line.write_bytes(b"-----BEGIN CMS-----\n" + body + b"\n-----END CMS-----\n")
    code, peak, err = _peak_child_rss_mib(
        ["decrypt", "-i", ann.key_path, "-o", work / "out", one_line]
    )
    assert code == 0, err
    assert (work / "out").read_bytes() == plaintext
    print(f"one 64 MiB PEM line: peak RSS {peak:.0f} MiB")
    assert peak < 160
    endless = work.parent / "endless.pem"
    endless.write_bytes(b"-----BEGIN CMS-----\n" + body)
    code, peak, err = _peak_child_rss_mib(
        ["decrypt", "-i", ann.key_path, "-o", work / "out2", endless]
    )
    assert code == 1
    assert b"ends before -----END CMS-----" in err
    assert peak < 160
    assert listing(work) == {"out"}
