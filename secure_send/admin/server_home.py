"""``secure-send-admin server-home --to DIR``: the drop server's own folder.

It holds public material only — the trust anchor (root public keys), the signed
directory and its event log, and ``server.toml`` pinning the directory signer's
public key — so that the host running the drop server never holds a key that
could sign a directory or a request as the signer. The organisation home (root
keys, the online signing key, codes) stays on IT's side.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from secure_send.core.directory.server_folder import BUNDLE_FILE, directory_dir, write_initial
from secure_send.core.encoding import b64u
from secure_send.org.home import HomeError, OrgHome
from secure_send.org.replay_cache import log_lines

TOML_HEAD = """\
# Secure Send drop server settings (docs/server.md). Public material only: this
# folder must never hold a root key, the directory signing key or codes.
"""


def write_server_home(home: OrgHome, target: Path) -> dict[str, str]:
    """Create or update the server folder; returns what was done (for output).

    The directory documents are written only into a folder that has none yet (a
    running server is updated by the signer's pushes, never by copying files).

    Raises:
        HomeError: the target lies inside the organisation home (or the reverse),
            or its ``server.toml`` pins another signer key.
    """
    home.require()
    org, dest = home.path.resolve(), target.resolve()
    if dest == org or dest.is_relative_to(org) or org.is_relative_to(dest):
        raise HomeError("the server folder must be apart from the organisation home")
    bundle = home.published()
    if bundle is None:
        raise HomeError("nothing published yet (run: secure-send-admin publish)")
    dest.mkdir(parents=True, exist_ok=True, mode=0o750)
    done = {"folder": str(dest)}
    if (directory_dir(dest) / BUNDLE_FILE).exists():
        done["directory"] = "kept (the signer keeps it current)"
    else:
        with home.locked():
            data = home.bundle_file.read_bytes()
            lines = log_lines(home.log_file)[: bundle.header.log_size]
        write_initial(dest, home.anchor(), data, b"".join(line + b"\n" for line in lines))
        done["directory"] = f"epoch {bundle.header.epoch}"
    key = b64u(bytes(home.signer_identity().verify_key))
    done["signer_public_key"] = key
    done["server_toml"] = _pin_signer(dest / "server.toml", key)
    return done


def _pin_signer(path: Path, key: str) -> str:
    if not path.exists():
        path.write_text(f'{TOML_HEAD}\n[signer]\npublic_key = "{key}"\n', encoding="utf-8")
        return "written"
    try:
        current = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise HomeError(f"{path}: {err}") from None
    pinned = current.get("signer", {}).get("public_key")
    if pinned == key:
        return "kept"
    if pinned is not None or "signer" in current:
        raise HomeError(f"{path} pins another signer key: edit [signer] public_key by hand")
    with open(path, "a", encoding="utf-8") as f:
        f.write(f'\n[signer]\npublic_key = "{key}"\n')
    return "signer key added"
