"""DropState values are what the database column and the JSON on the wire always held:
renaming a member must not change them."""

from __future__ import annotations

import json

from secure_send.core.drop_state import STORED, DropState


def test_values_are_the_stored_and_wire_strings() -> None:
    assert {s.value for s in DropState} == {
        "uploading",
        "committed",
        "recalled",
        "expired",
        "damaged",
    }
    assert json.dumps({"state": DropState.COMMITTED}) == '{"state": "committed"}'
    assert f"{DropState.RECALLED}" == "recalled"
    assert DropState("expired") is DropState.EXPIRED


def test_the_server_stores_every_state_but_damaged() -> None:
    assert set(DropState) - STORED == {DropState.DAMAGED}
