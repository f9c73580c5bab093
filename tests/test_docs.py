"""The docs stay true: every test a document cites as evidence exists, every test file,
document section and link the repository names exists, and the project's own documents
carry its design (nothing refers to a design document outside the repository)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CITED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
TEST_FILE = re.compile(r"\btests/[\w/]+\.py\b")
# `docs/security.md, "Trust chain"` or `[security.md](security.md), "Trust chain"`
SECTION = re.compile(r"\b([\w-]+\.md)\)?, \"([^\"\n]+)\"")
# `docs/deployment.md, section 6` or `…), sections 6 and 7`
NUMBERED = re.compile(r"\b([\w-]+\.md)\)?, sections? (\d+)(?: and (\d+))?")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# Written in pieces so that this file does not name what it looks for.
EXTERNAL_DESIGN = ("../" + "shared", "design" + ".md", "design" + " §")


def _repository_files() -> dict[Path, str]:
    """Every text file of the repository (tracked, or new and not ignored): no .git,
    .venv or build output."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    texts = {}
    for name in sorted(set(listed.decode().split("\0")) - {""}):
        path = REPO / name
        if not path.is_file():
            continue  # deleted in the working tree
        data = path.read_bytes()
        if b"\0" in data:
            continue
        try:
            texts[path] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    assert REPO / "docs" / "architecture.md" in texts
    return texts


def test_every_cited_test_exists() -> None:
    cited = [
        (doc.name, path, name)
        for doc in sorted((REPO / "docs").glob("*.md"))
        for path, name in CITED.findall(doc.read_text(encoding="utf-8"))
    ]
    assert len(cited) >= 20  # security.md cites its evidence; the pattern must still match
    missing = [
        (doc, path, name)
        for doc, path, name in cited
        if not (REPO / path).is_file()
        or not re.search(rf"^def {name}\(", (REPO / path).read_text(encoding="utf-8"), re.M)
    ]
    assert missing == []


def test_every_test_file_named_anywhere_exists() -> None:
    """Code, docs and scripts that say "checked by tests/…py" name a real file."""
    named = {
        (path.relative_to(REPO).as_posix(), test)
        for path, text in _repository_files().items()
        for test in TEST_FILE.findall(text)
    }
    assert ("secure_send/server/http_protocol.py", "tests/server/test_http_protocol.py") in named
    missing = sorted((where, test) for where, test in named if not (REPO / test).is_file())
    assert missing == []


def test_nothing_refers_to_a_design_document_outside_the_repository() -> None:
    found = [
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for path, text in _repository_files().items()
        for n, line in enumerate(text.splitlines(), 1)
        if any(s in line for s in EXTERNAL_DESIGN)
    ]
    assert found == [], "cite the project's own docs (docs/*.md) instead:\n" + "\n".join(found)


def _headings(doc: str) -> list[str]:
    path = REPO / "docs" / doc
    if not path.is_file():
        path = REPO / doc
    assert path.is_file(), f"no document {doc}"
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line[:1] == "#"]


def test_every_cited_document_section_exists() -> None:
    cited = sorted(
        (path.relative_to(REPO).as_posix(), doc, section)
        for path, text in _repository_files().items()
        for doc, section in SECTION.findall(text)
    )
    numbered = sorted(
        (path.relative_to(REPO).as_posix(), doc, number)
        for path, text in _repository_files().items()
        for doc, *numbers in NUMBERED.findall(text)
        for number in numbers
        if number
    )
    assert len(cited) >= 10  # the pattern must still match what the sources write
    assert numbered
    missing = [c for c in cited if not any(c[2] in h for h in _headings(c[1]))]
    missing += [
        c for c in numbered if not any(re.match(rf"#+ {c[2]}\. ", h) for h in _headings(c[1]))
    ]
    assert missing == []


def test_every_relative_link_in_the_documents_resolves() -> None:
    broken = [
        (path.relative_to(REPO).as_posix(), target)
        for path, text in _repository_files().items()
        if path.suffix == ".md"
        for target in LINK.findall(text)
        if "://" not in target and not (path.parent / target).exists()
    ]
    assert broken == []
