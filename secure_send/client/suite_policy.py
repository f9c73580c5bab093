"""Which cipher suite a send uses: IT's policy key ``suite`` (issue 21).

Government systems must use the e-Government Recommended Ciphers List (CRYPTREC)
"unless unavoidable"; age's ChaCha20-Poly1305 is not on it, the CMS suite
(ECDH P-256, AES-256-GCM) is (docs/crypto.md). IT picks one suite for the whole
organisation, and may pick another per classification (機密性3 → CRYPTREC, say).
A recipient's client opens both, whatever its own policy says: the policy decides
only what this machine *sends*.

Forms (the policy file, docs/deployment.md §6):

- absent: every send in ``age-x25519-v1``;
- a suite name: every send in that suite;
- ``{"default": SUITE, "c3": SUITE, …}``: a suite per classification (``c1``, ``c2``,
  ``c3``), ``default`` for the rest (``age-x25519-v1`` if it is left out);
- on Windows (``Suite``, one REG_SZ) and in macOS preferences, the same object
  as ``default=SUITE,c3=SUITE``.

Suites are named in full or by their short names ``age`` and ``cms``. Anything else
stops the app (fail closed: a typo must not silently send in the other suite).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from secure_send.core.envelope.manifest import AGE_SUITE, CMS_SUITE, Classification

SHORT_NAMES = {"age": AGE_SUITE, "cms": CMS_SUITE}
_CLASSES = {c.value for c in Classification}


@dataclass(frozen=True)
class SuiteRules:
    """The suite of every send, by classification."""

    default: str = AGE_SUITE
    by_classification: Mapping[str, str] = field(default_factory=dict)

    def for_classification(self, classification: Classification) -> str:
        """The suite a send at ``classification`` must use."""
        return self.by_classification.get(classification.value, self.default)


def suite_name(value: object) -> str:
    """A full suite name from a full or short one; raises :class:`ValueError`."""
    if isinstance(value, str):
        name = SHORT_NAMES.get(value, value)
        if name in (AGE_SUITE, CMS_SUITE):
            return name
    raise ValueError(f"suite must be one of {AGE_SUITE}, {CMS_SUITE} (or age, cms), not {value!r}")


def parse_suite(value: object) -> SuiteRules:
    """The ``suite`` policy value; raises :class:`ValueError` naming the problem."""
    if value is None:
        return SuiteRules()
    if isinstance(value, str) and "=" in value:  # the registry's one-line form
        pairs: dict[str, object] = {}
        for part in value.split(","):
            key, sep, name = part.partition("=")
            if not sep or key.strip() in pairs:
                raise ValueError(f"suite: cannot read {part.strip()!r} (write c3=cms,default=age)")
            pairs[key.strip()] = name.strip()
        value = pairs
    if isinstance(value, str):
        return SuiteRules(default=suite_name(value))
    if not isinstance(value, Mapping) or not value:
        raise ValueError("suite must be a suite name or an object of them by classification")
    unknown = sorted(set(value) - _CLASSES - {"default"})
    if unknown:
        raise ValueError(f"suite: unknown classification(s) {', '.join(map(str, unknown))}")
    default = suite_name(value["default"]) if "default" in value else AGE_SUITE
    by_class = {k: suite_name(v) for k, v in value.items() if k != "default"}
    return SuiteRules(default, by_class)
