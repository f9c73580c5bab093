"""Text from others, made safe to print on a terminal.

A sender's message, a file name, a device name chosen by whoever enrolled it, or an
error sentence from the drop server can hold escape sequences (``ESC [ 2 J`` clears
the screen, ``ESC ] 8`` makes a link; a crafted line can overwrite what the previous
one said, e.g. print a fake "OK") and invisible bidi or zero-width characters that
make ``invoice\\u202efdp.exe`` read as "invoiceexe.pdf". Every such character is shown
as its escape (``\\x1b``, ``\\u202e``) instead: visible, and inert.
"""

from __future__ import annotations

import unicodedata

_KEEP = frozenset("\n\t")


def _shown(c: str) -> str:
    if c in _KEEP or unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp"):
        return c
    code = ord(c)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with every control, format (bidi, zero-width) and line/paragraph
    separator character written as its escape; tabs and (unless told not to) newlines
    are kept."""
    shown = "".join(map(_shown, text))
    return shown if keep_newlines else shown.replace("\n", "\\x0a").replace("\t", "\\x09")
