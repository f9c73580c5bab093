"""A small .xls writer for the tests: BIFF8 records in a Compound File, as Excel 97-2003
writes them (only what a reader needs: one XF, the sheets, text and number cells).

No maintained library writes .xls any more; this keeps the tests off the unmaintained
xlwt. Layout: the FAT in sector 0, the "Workbook" stream from sector F on (padded to
4096 bytes so it is not in the mini stream), then the directory.
"""

from __future__ import annotations

import struct

SECTOR = 512
END, FREE, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _record(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def _bof(kind: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 0x0006))


def _sheet(rows: list[list[str | float]]) -> bytes:
    body = [_bof(0x0010)]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, float):
                body.append(_record(0x0203, struct.pack("<HHHd", r, c, 0, value)))
            elif value:
                text = value.encode("utf-16-le")
                body.append(_record(0x0204, struct.pack("<HHHHB", r, c, 0, len(value), 1) + text))
    body.append(_record(0x000A, b""))
    return b"".join(body)


def workbook(sheets: dict[str, list[list[str | float]]], *, encrypted: bool = False) -> bytes:
    """The bytes of an .xls: sheet name -> rows of cells (str: text, float: a number).
    ``encrypted`` adds the FILEPASS record a workbook with a password carries."""
    parts = [_sheet(rows) for rows in sheets.values()]
    xf = _record(0x00E0, bytes(20))  # font 0, format 0 ("General"): numbers read as numbers
    filepass = _record(0x002F, struct.pack("<H", 0) + bytes(4)) if encrypted else b""
    bound = []
    for name in sheets:
        label = name.encode("utf-16-le")
        bound.append((0x0085, struct.pack("<HBB", 0, len(name), 1) + label))
    size = len(_bof(0x0005)) + len(filepass) + len(xf) + len(_record(0x000A, b""))
    size += sum(len(_record(kind, struct.pack("<I", 0) + rest)) for kind, rest in bound)
    offsets, at = [], size
    for part in parts:
        offsets.append(at)
        at += len(part)
    globals_ = [_bof(0x0005), filepass, xf]
    for (kind, rest), offset in zip(bound, offsets, strict=True):
        globals_.append(_record(kind, struct.pack("<I", offset) + rest))
    globals_.append(_record(0x000A, b""))
    stream = b"".join(globals_) + b"".join(parts)
    return _compound(stream.ljust(4096, b"\0"))


def _compound(stream: bytes) -> bytes:
    data_sectors = -(-len(stream) // SECTOR)
    fat_sectors = 1
    while fat_sectors * SECTOR // 4 < fat_sectors + data_sectors + 1:
        fat_sectors += 1
    assert fat_sectors <= 109, "the test workbook is too big for a header-only DIFAT"
    first_data, directory = fat_sectors, fat_sectors + data_sectors
    fat = [FATSECT] * fat_sectors
    fat += [first_data + i + 1 for i in range(data_sectors - 1)] + [END]
    fat += [END]  # the directory's one sector
    fat += [FREE] * (fat_sectors * SECTOR // 4 - len(fat))
    difat = list(range(fat_sectors)) + [FREE] * (109 - fat_sectors)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        bytes(16),
        0x003E,
        3,
        0xFFFE,
        9,
        6,
        bytes(6),
        0,
        fat_sectors,
        directory,
        0,
        4096,
        END,
        0,
        END,
        0,
    ) + struct.pack("<109I", *difat)

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        label = (name + "\0").encode("utf-16-le") if name else b""
        return struct.pack(
            "<64sHBBIII16sIQQIQ",
            label,
            len(label),
            kind,
            1,
            NOSTREAM,
            NOSTREAM,
            child,
            bytes(16),
            0,
            0,
            0,
            start,
            size,
        )

    entries = entry("Root Entry", 5, 1, END, 0) + entry(
        "Workbook", 2, NOSTREAM, first_data, len(stream)
    )
    entries += bytes(128) * 2
    body = struct.pack(f"<{len(fat)}I", *fat) + stream.ljust(data_sectors * SECTOR, b"\0")
    return header + body + entries
