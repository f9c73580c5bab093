"""Reading the NIST CAVP samples committed under tests/data/cms-vectors/."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "data" / "cms-vectors"


def records(name: str, first_key: str) -> list[dict[str, str]]:
    """Each record (``KEY = value`` lines starting at ``first_key``) as a dict."""
    out: list[dict[str, str]] = []
    for line in (DATA / name).read_text().splitlines():
        line = line.strip()
        if "=" not in line or line.startswith(("#", "[")):
            continue
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if key == first_key:
            out.append({})
        if out:
            out[-1].setdefault(key, value)
    assert out, f"no records in {name}"
    return out
