"""``secure-send demo`` runs the whole product on loopback and says what it does."""

from __future__ import annotations

import tempfile
from pathlib import Path

from secure_send import demo
from secure_send.cli.main import main


def test_demo_walkthrough_completes(tmp_path: Path) -> None:
    lines: list[str] = []
    assert demo.run(lines.append, keep=tmp_path / "demo") == 0
    text = "\n".join(lines)
    assert "127.0.0.1" in text
    assert "✓ 検証済み" in text  # the recipient's inbox verified the drop
    assert "ダウンロード済み" in text  # the sender saw a verified receipt
    assert "recalled" in text  # the recalled drop could not be received
    saved = list((tmp_path / "demo" / "受信フォルダ").iterdir())
    sent = tmp_path / "demo" / "送信フォルダ"
    assert sorted(p.name for p in saved) == sorted(p.name for p in sent.iterdir())
    for path in saved:
        assert path.read_bytes() == (sent / path.name).read_bytes()
    assert "WARNING" in lines[0]  # the test key store announces itself


def test_demo_command_cleans_up(capsys: object) -> None:
    before = set(Path(tempfile.gettempdir()).glob("secure-send-demo-*"))
    assert main(["demo"]) == 0
    assert set(Path(tempfile.gettempdir()).glob("secure-send-demo-*")) == before
