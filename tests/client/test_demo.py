"""``secure-send demo`` runs the whole product on loopback and says what it does."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

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
    # the My Number scene: stopped on its way to a colleague, sent to the designated desk
    assert "✋ 送信できません（何もアップロードしていません）" in text
    assert "not designated: koji.miura" in text
    assert "機密性3、有効 3 日" in text
    # 上長承認: the send waits for the sender's superior, who reads and approves it
    assert "承認待ちです（理由：個人番号を含む）" in text
    assert "確認: 扶養控除等申告書_個人番号一覧（ダミー）.xlsx" in text
    assert "✓ 承認済み（中村 哲也）を確認、1 件を保存しました" in text
    # issue 21: the workbook (機密性3) went in the CRYPTREC suite, read from the manifest
    assert "暗号方式：CRYPTREC（AES-256-GCM、ECDH P-256）" in text
    (desk_copy,) = (tmp_path / "demo" / "人事課の受付").iterdir()
    (boss_copy,) = (tmp_path / "demo" / "承認者の確認用").iterdir()
    assert desk_copy.read_bytes() == boss_copy.read_bytes()
    saved = list((tmp_path / "demo" / "受信フォルダ").iterdir())
    sent = tmp_path / "demo" / "送信フォルダ"
    assert sorted(p.name for p in saved) == sorted(p.name for p in sent.iterdir())
    for path in saved:
        assert path.read_bytes() == (sent / path.name).read_bytes()
    assert "WARNING" in lines[0]  # the test key store announces itself
    # the collection: HR asks a division, three staff submit, the desk saves all
    assert "提出済み 3 人" in text
    assert "依頼「年末調整書類の提出（令和8年分）」に提出します" in text  # the title was readable
    people = sorted((tmp_path / "demo" / "年末調整_提出").iterdir())
    assert len(people) == 3
    for folder in people:
        (submission,) = folder.iterdir()
        (paper,) = submission.iterdir()
        user = folder.name.split("_", 1)[1]
        original = tmp_path / "demo" / "提出" / user / paper.name
        assert paper.read_bytes() == original.read_bytes()


def test_demo_command_cleans_up(capsys: object) -> None:
    before = set(Path(tempfile.gettempdir()).glob("secure-send-demo-*"))
    assert main(["demo"]) == 0
    assert set(Path(tempfile.gettempdir()).glob("secure-send-demo-*")) == before


def test_demo_against_a_server_needs_its_organisation(capsys: pytest.CaptureFixture[str]) -> None:
    # the servers pin the organisation's signer and serve its directory: the demo
    # cannot enrol anyone there without the organisation home it was made from
    for argv in (["--server", "http://127.0.0.1:9"], ["--org", "/nonexistent"]):
        assert main(["demo", *argv, "--no-windows"]) == 1
        assert "give both --server URL and --org DIR" in capsys.readouterr().err
    with pytest.raises(ValueError, match="both server and org"):
        demo.run(server="http://127.0.0.1:9")
