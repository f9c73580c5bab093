"""issue 14 follow-up: failed authentications cannot lock out the devices that share
the failing caller's address.

Item 11 stopped twenty wrong enrolment codes from one address locking out everyone
behind it (a NAT, a proxy); request authentication kept the same pattern: its
failure budget was per bare address and checked before the signature, so anyone
without an account, behind the office's NAT, could send twenty unsigned requests and
every enrolled device there got 429 on every endpoint, for as long as they kept it up.
A valid signature is now served whatever its address's failures; failures alone are
still throttled (and so are their audit records).
"""

from __future__ import annotations

from tests.server.conftest import Server


def test_unsigned_requests_from_a_shared_address_do_not_lock_out_a_signed_device(
    server: Server,
) -> None:
    burst = server.config.auth_failures_burst
    codes = [server.get("/v1/whoami").json()["code"] for _ in range(burst + 3)]
    assert codes[-1] == "rate_limited"  # the failures themselves are throttled
    answer = server.signed_get("/v1/whoami")  # Hanako's laptop, behind the same address
    assert answer.status_code == 200, answer.text
    # and the anonymous caller is still throttled afterwards
    assert server.get("/v1/whoami").status_code == 429
