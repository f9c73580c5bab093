"""Device enrolment: one-time codes, pending approval, proof of possession, code storage."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from pathlib import Path

import nacl.signing
import pytest

from secure_send.core.directory import canonical
from secure_send.core.directory.enrol import (
    REQUEST_TYPE,
    EnrolmentError,
    EnrolmentRequest,
    code_mac_key,
    new_code,
)
from secure_send.core.directory.log import Action
from secure_send.core.encoding import b64u, utc_now
from secure_send.core.errors import SecureSendError
from secure_send.org import ops
from secure_send.org.home import HomeError, OrgHome
from tests.directory_kit import (
    HANAKO,
    JIRO,
    OPERATOR,
    ROLE,
    TARO,
    device_of,
    new_org,
    request_for,
    verify,
)

CODE_FORMAT = re.compile(r"[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){5}")
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@pytest.fixture
def home(tmp_path: Path) -> OrgHome:
    return new_org(tmp_path / "org", devices=False)


def _refused(home: OrgHome, request: EnrolmentRequest, *codes: str) -> EnrolmentError:
    """Assert the request is refused, without a trace of any code in the message,
    and that nothing reached the log."""
    before = home.log_file.read_bytes()
    with pytest.raises(EnrolmentError) as err:
        ops.accept_enrolment(home, request, OPERATOR)
    message = str(err.value)
    for code in codes:
        for form in (code, code.replace("-", ""), *code.split("-")):
            assert form not in message
    assert home.log_file.read_bytes() == before
    return err.value


def test_code_enrols_at_once_and_the_device_is_in_the_next_snapshot(home: OrgHome) -> None:
    code = ops.issue_code(home, HANAKO)
    keys, request = request_for(HANAKO, "laptop", code, "会計課の端末")
    assert ops.accept_enrolment(home, request, OPERATOR) is True
    assert ops.pending(home) == []
    device = device_of(verify(home).by_id()[HANAKO], "laptop")
    assert device.name == "会計課の端末"
    assert device.sign_key == bytes(keys.signing.verify_key)
    assert device.enc_key == bytes(keys.encryption.public_key)
    assert device.active
    assert home.events()[-1].action is Action.ENROL


def test_code_typed_in_lower_case_without_dashes_works(home: OrgHome) -> None:
    code = ops.issue_code(home, HANAKO)
    _, request = request_for(HANAKO, "laptop", code.replace("-", " ").lower())
    assert ops.accept_enrolment(home, request, OPERATOR) is True


def test_wrong_code_is_refused_and_does_not_spend_the_right_one(home: OrgHome) -> None:
    code = ops.issue_code(home, HANAKO)
    wrong = new_code()
    _, request = request_for(HANAKO, "laptop", wrong)
    _refused(home, request, code, wrong)
    _, request = request_for(HANAKO, "laptop", code)
    assert ops.accept_enrolment(home, request, OPERATOR) is True


def test_reused_code_is_refused(home: OrgHome) -> None:
    code = ops.issue_code(home, HANAKO)
    _, first = request_for(HANAKO, "laptop", code)
    assert ops.accept_enrolment(home, first, OPERATOR) is True
    _, second = request_for(HANAKO, "phone", code)
    _refused(home, second, code)
    assert [d.id for d in home.entries()[HANAKO].devices] == ["laptop"]


def test_expired_code_is_refused(home: OrgHome) -> None:
    code = ops.issue_code(home, HANAKO, dt.timedelta(seconds=-1))
    _, request = request_for(HANAKO, "laptop", code)
    _refused(home, request, code)


def test_code_for_another_person_is_refused(home: OrgHome) -> None:
    code = ops.issue_code(home, TARO)
    _, request = request_for(HANAKO, "laptop", code)
    _refused(home, request, code)


def test_codes_only_for_active_people(home: OrgHome) -> None:
    ops.change(home, OPERATOR, Action.DEPART, {"user": JIRO})
    for user in (JIRO, ROLE, "nobody"):
        with pytest.raises(HomeError):
            ops.issue_code(home, user)


def test_request_without_a_code_waits_for_approval(home: OrgHome) -> None:
    keys, request = request_for(TARO, "desktop", None, "人事課のPC")
    assert ops.accept_enrolment(home, request, OPERATOR) is False
    assert ops.pending(home) == [request]
    assert home.entries()[TARO].devices == ()
    assert verify(home).by_id()[TARO].devices == ()  # not listed before approval
    ops.approve(home, TARO, "desktop", OPERATOR)
    assert ops.pending(home) == []
    device = device_of(verify(home).by_id()[TARO], "desktop")
    assert device.enc_key == bytes(keys.encryption.public_key)
    assert home.events()[-1].action is Action.APPROVE
    with pytest.raises(HomeError):  # approved once only
        ops.approve(home, TARO, "desktop", OPERATOR)


def test_approving_what_is_not_pending_is_refused(home: OrgHome) -> None:
    before = home.log_file.read_bytes()
    with pytest.raises(HomeError):
        ops.approve(home, TARO, "desktop", OPERATOR)
    assert home.log_file.read_bytes() == before


def _sign_body(request: EnrolmentRequest, key: nacl.signing.SigningKey) -> bytes:
    message = REQUEST_TYPE.encode() + b"\n" + canonical.dumps(request.body())
    signature: bytes = key.sign(message).signature
    return signature


@pytest.mark.parametrize("with_code", [True, False], ids=["with-code", "pending"])
def test_proof_signed_by_another_key_is_refused(home: OrgHome, with_code: bool) -> None:
    code = ops.issue_code(home, HANAKO) if with_code else None
    _, request = request_for(HANAKO, "laptop", code)
    forged = dataclasses.replace(
        request, proof=_sign_body(request, nacl.signing.SigningKey.generate())
    )
    _refused(home, forged, *([code] if code else []))
    assert ops.pending(home) == []
    if code:  # the failed attempt did not spend the code
        assert ops.accept_enrolment(home, request, OPERATOR) is True


def test_substituted_encryption_key_is_refused(home: OrgHome) -> None:
    """An attacker re-signs the request with the device's key slot but swaps enc_key:
    the binding (enc_key signed by the device's own signing key) breaks."""
    code = ops.issue_code(home, HANAKO)
    keys, request = request_for(HANAKO, "laptop", code)
    _, other = request_for(HANAKO, "laptop", None)
    swapped = dataclasses.replace(request, enc_key=other.enc_key)
    swapped = dataclasses.replace(swapped, proof=_sign_body(swapped, keys.signing))
    _refused(home, swapped, code)


def test_substituted_p256_key_is_refused(home: OrgHome) -> None:
    """Issue 21: the same for the P-256 key, bound under its own context string."""
    code = ops.issue_code(home, HANAKO)
    keys, request = request_for(HANAKO, "laptop", code)
    _, other = request_for(HANAKO, "laptop", None)
    assert request.p256_key is not None
    assert other.p256_key is not None
    swapped = dataclasses.replace(request, p256_key=other.p256_key)
    swapped = dataclasses.replace(swapped, proof=_sign_body(swapped, keys.signing))
    _refused(home, swapped, code)


def test_a_new_device_publishes_its_p256_key(home: OrgHome) -> None:
    code = ops.issue_code(home, HANAKO)
    keys, request = request_for(HANAKO, "laptop", code)
    assert EnrolmentRequest.from_json(request.to_json()).p256_key == keys.p256_public()
    assert ops.accept_enrolment(home, request, OPERATOR) is True
    device = home.entries()[HANAKO].devices[0]
    assert device.p256_key == keys.p256_public()
    assert device.p256_key_sig == request.p256_key_sig


def test_request_json_round_trip_and_no_secret_inside(home: OrgHome) -> None:
    code = ops.issue_code(home, HANAKO)
    keys, request = request_for(HANAKO, "laptop", code)
    assert EnrolmentRequest.from_json(request.to_json()) == request
    text = str(request.to_json())
    assert code not in text
    assert code.replace("-", "") not in text
    assert b64u(bytes(keys.signing)) not in text
    assert b64u(bytes(keys.encryption)) not in text


def _all_bytes(folder: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file()]


def test_codes_are_stored_only_as_hashes(home: OrgHome) -> None:
    codes = [ops.issue_code(home, user) for user in (HANAKO, TARO, HANAKO)]
    _, request = request_for(TARO, "desktop", codes[1])
    assert ops.accept_enrolment(home, request, OPERATOR) is True
    files = _all_bytes(home.path)
    assert any(p == home.codes_file for p, _ in files)
    for code in codes:
        plain = code.replace("-", "")
        forms = {code, plain, code.lower(), plain.lower(), code_mac_key(code).hex()}
        for path, content in files:
            for form in forms:
                assert form.encode() not in content, (path, form)
    assert b64u(code_mac_key(codes[0])).encode() in home.codes_file.read_bytes()  # control


def test_code_format_has_at_least_100_bits() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert CODE_FORMAT.fullmatch(code), code
    symbols = "".join(codes).replace("-", "")
    assert set(symbols) <= set(ALPHABET)
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert 24 * math.log2(len(ALPHABET)) >= 100
    assert len(set(symbols)) == 32  # 4,800 draws use the whole alphabet


def test_enrolment_survives_the_clock_ticking_during_the_append(
    home: OrgHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The device's ``enrolled`` time and the event's time must be the same instant.

    ``accept_enrolment`` stamps the device, then ``append_all`` reads the whole log
    (seconds for a large organisation) and stamps the event again: when a second
    boundary passes in between, the event no longer replays. Simulated here by a
    log read that takes one second.
    """
    code = ops.issue_code(home, HANAKO)
    _, request = request_for(HANAKO, "laptop", code)
    monkeypatch.setattr("secure_send.org.home.utc_now", lambda: utc_now() + dt.timedelta(seconds=1))
    assert ops.accept_enrolment(home, request, OPERATOR) is True
    assert device_of(home.entries()[HANAKO], "laptop").enrolled == home.events()[-1].time


def test_a_failed_enrolment_does_not_spend_the_code(home: OrgHome) -> None:
    """A valid code with a request that cannot be applied (the device id is taken)
    leaves the code usable for a corrected request."""
    code = ops.issue_code(home, HANAKO)
    _, first = request_for(HANAKO, "laptop", ops.issue_code(home, HANAKO))
    assert ops.accept_enrolment(home, first, OPERATOR) is True
    _, clash = request_for(HANAKO, "laptop", code)
    with pytest.raises(SecureSendError):
        ops.accept_enrolment(home, clash, OPERATOR)
    _, fixed = request_for(HANAKO, "phone", code)
    assert ops.accept_enrolment(home, fixed, OPERATOR) is True


def test_pending_requests_only_for_active_people_and_limited(tmp_path: Path) -> None:
    """Requests without a code are anonymous: they must not fill the queue or the disk."""
    home = new_org(tmp_path / "org", devices=False)
    _, stranger = request_for("nobody.here", "pc", None)
    with pytest.raises(HomeError, match="active people"):
        ops.accept_enrolment(home, stranger, OPERATOR)
    for i in range(ops.MAX_PENDING_PER_USER):
        _, request = request_for(HANAKO, f"pc{i}", None)
        assert ops.accept_enrolment(home, request, OPERATOR) is False
    _, one_more = request_for(HANAKO, "one-more", None)
    with pytest.raises(HomeError, match="too many"):
        ops.accept_enrolment(home, one_more, OPERATOR)
    assert len(ops.pending(home)) == ops.MAX_PENDING_PER_USER
