"""A directory with real look-alike names (髙橋/高橋, 斎藤/斉藤) and a role mailbox whose
members are partly enrolled, for the picker and confirm-sheet tests."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from secure_send.gui.model import AppModel
from secure_send.org import ops
from secure_send.org.importing import ImportRow
from tests.directory_kit import JIRO, OPERATOR, TARO, enrol_device, person_row
from tests.server.conftest import Server

# Real look-alike pairs: the variant 髙/高 and 斎/斉, same readings, other departments.
ICHIRO_V, ICHIRO = "takahashi.ichiro", "takahashi.ich"
SAITO, SAITO_V = "saito.kazuya", "saito.k"
DESK = "nenmatsu"  # a role mailbox with Taro (enrolled), Jiro and Tanaka (not)
LOOKALIKES = [
    person_row(20, ICHIRO_V, "髙橋 一郎", "タカハシ イチロウ", "Ichiro Takahashi", "人事課"),
    person_row(21, ICHIRO, "高橋 一郎", "タカハシ イチロウ", "Ichiro Takahashi", "財務課"),
    person_row(22, SAITO, "斎藤 和也", "サイトウ カズヤ", "Kazuya Saito", "会計課"),
    person_row(23, SAITO_V, "斉藤 和也", "サイトウ カズヤ", "Kazuya Saito", "広報課"),
    ImportRow(
        24, DESK, "role", "人事課 年末調整受付", "ジンジカ ネンマツ", "Year-end desk",
        f"{DESK}@example.go.jp", "人事課", "", (TARO, JIRO, "ichiro.tanaka"),
    ),
]  # fmt: skip


def reload(qtbot: QtBot, model: AppModel, server: Server) -> None:
    """The org home's changes pushed to the server and loaded by ``model``."""
    server.push()
    with qtbot.waitSignal(model.directory_changed, timeout=10_000):
        model.refresh_directory()


@pytest.fixture
def lookalike_org(qtbot: QtBot, model: AppModel, org_server: Server) -> Server:
    """The organisation plus :data:`LOOKALIKES`; Taro and every look-alike enrolled
    (IT enrols through the org home, the signer pushes), Jiro and Tanaka not."""
    ops.import_rows(org_server.home, LOOKALIKES, OPERATOR)
    for user in (TARO, ICHIRO_V, ICHIRO, SAITO, SAITO_V):
        enrol_device(org_server.home, user, "pc")
    reload(qtbot, model, org_server)
    return org_server
