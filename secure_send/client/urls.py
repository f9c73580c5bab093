"""Which drop server URLs the client talks to: HTTPS, or plain HTTP to this machine only.

Plain HTTP exposes every request, answer and directory download to the network
(security.md: the network is untrusted). The content stays end-to-end encrypted,
but request signatures, drop ids, sizes and timing would travel in clear text and a
man in the middle could delay or drop anything. So ``http://`` is accepted only for
a loopback host — 127.0.0.0/8, ``::1`` or ``localhost`` — which is what the test
suite and ``make demo`` use; everything else must be ``https://`` (an organisation's
own CA is pinned with the IT policy key ``ca_bundle``: docs/deployment.md).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from secure_send.client.errors import ClientError
from secure_send.core.error_codes import ErrorCode


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ``::1`` or ``localhost`` (no other name: DNS could send it anywhere —
    ``localhost.`` too, which the system's hosts file does not answer for glibc)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def insecure(url: str) -> bool:
    """Whether ``url`` would send requests in clear text over the network."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return True
    if parts.scheme == "https":
        return False
    if parts.scheme != "http" or "@" in parts.netloc or not url.isprintable() or "\\" in url:
        return True  # no user info, backslash or control character: parsers disagree on them
    try:  # the host requests will connect to (urllib3's parser), not only urlsplit's
        connects_to = parse_url(url).host or ""
    except LocationParseError:
        return True
    return not (is_loopback(parts.hostname or "") and is_loopback(connects_to))


def require_secure(url: str) -> str:
    """``url`` if it is ``https://`` or ``http://`` to a loopback host.

    Raises:
        ClientError: ``insecure_url`` otherwise.
    """
    if insecure(url):
        raise ClientError(
            ErrorCode.INSECURE_URL,
            f"refusing {url}: the drop server must be reached over https:// (plain http://"
            f" only to this machine: 127.0.0.1, ::1, localhost) ({ErrorCode.INSECURE_URL})",
        )
    return url


__all__ = ["insecure", "is_loopback", "require_secure"]
