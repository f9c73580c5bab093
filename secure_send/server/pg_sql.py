"""SQLite statement text → PostgreSQL (see :mod:`.pg_store`).

The stores write their statements once, in the SQL both engines share; what differs is
mechanical and done here, cached per statement text (every statement is a constant of
its module, never built from request text — only runs of ``?`` marks are formatted in):

* ``?`` parameter marks → ``%s`` (psycopg), and a literal ``%`` → ``%%``;
* the column ``user`` → ``"user"`` (reserved in PostgreSQL; SQLite accepts the quoted
  name too, but leaving SQLite's statements as they were keeps its tests' SQL valid);
* ``json_extract(col, '$.key')`` → ``(col::jsonb ->> 'key')``.

A ``?`` inside a string literal would be rewritten wrongly; no statement has one, and
:func:`translate` refuses a statement with a quote it cannot pair rather than guess.
"""

from __future__ import annotations

import functools
import re

_USER = re.compile(r'(?<![\w"])user(?![\w"])')
_JSON = re.compile(r"json_extract\((\w+), '\$\.(\w+)'\)")


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """The PostgreSQL text of one of the stores' SQLite statements."""
    if sql.count("'") % 2:
        raise ValueError("unpaired quote in a statement")
    out = []
    # odd pieces are inside '...' literals: only the code between them is rewritten
    for i, piece in enumerate(_JSON.sub(r"(\1::jsonb ->> '\2')", sql).split("'")):
        if i % 2:
            out.append(piece.replace("%", "%%"))
            continue
        piece = piece.replace("%", "%%").replace("?", "%s")
        out.append(_USER.sub('"user"', piece))
    return "'".join(out)
