"""PDF text (pypdf) and old Excel workbooks, .xls (xlrd), for :mod:`.containers`.

Both libraries parse untrusted bytes, so both are bounded here on top of their own
limits: a PDF is read for at most :data:`MAX_PAGES` pages and :data:`MAX_TEXT` characters
of text, an .xls for at most :data:`MAX_CELLS` cells; past a bound the file is "too large
to check", never clean. A PDF with a user password cannot be opened and says so (one
with only an owner password — "no printing" — opens without one and is read). Neither
library may print: xlrd writes its warnings to a log file we give it (a buffer that is
dropped), pypdf logs to a logger we silence, since a warning may quote the file.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from secure_send.core.dlp.numbers import CANDIDATE
from secure_send.core.dlp.scan import Cancelled, Report, Unreadable, scan_rows, scan_text

MAX_PAGES = 5_000
MAX_TEXT = 64 * 1024 * 1024  # characters of extracted text, all pages together
MAX_CELLS = 20_000_000

_pypdf_log = logging.getLogger("pypdf")
_pypdf_log.addHandler(logging.NullHandler())
_pypdf_log.propagate = False  # no text of a file in anybody's log


def pdf_report(data: bytes, name: str, cancelled: Callable[[], bool]) -> Report:
    """Each page's text, places ``page N``."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    report = Report(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            # pypdf tries the empty user password itself: a PDF with only an owner
            # password opens; one with a password to open raises FileNotDecryptedError
            reader = PdfReader(io.BytesIO(data), strict=False)
            pages = reader.pages
            if len(pages) > MAX_PAGES:
                raise Unreadable(f"too large to check (more than {MAX_PAGES} pages)")
            left = MAX_TEXT
            for number, page in enumerate(pages, start=1):
                if cancelled():
                    raise Cancelled
                text = page.extract_text()
                left -= len(text)
                if left < 0:
                    raise Unreadable("too large to check (too much text)")
                report.merge(scan_text(text, name, page=number))
        except (Unreadable, Cancelled):
            raise
        except FileNotDecryptedError as err:
            raise Unreadable("encrypted (a PDF with a password to open cannot be checked)") from err
        except Exception as err:  # a damaged file: any error of the parser (PdfReadError, …)
            raise Unreadable("damaged or not what its name says") from err
    return report


def cell_text(value: str) -> str:
    """A numeric cell's digits as typed: Excel writes 12 digits as 1.23456789018E+11, and
    drops the leading 0 of a number typed as a number (an individual number may start
    with 0), so 11 digits are read as that number with its 0 back."""
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    if number != number.to_integral_value() or number < 0:
        return value
    digits = str(int(number))
    return digits.zfill(12) if len(digits) == 11 else digits


def _xls_cell(value: object) -> str:
    """xlrd gives numbers as floats (123456789018.0): read them as :func:`cell_text`."""
    return cell_text(repr(value)) if isinstance(value, float) else str(value)


def xls_report(data: bytes, name: str, cancelled: Callable[[], bool]) -> Report:
    """Every sheet of an old (BIFF) workbook, as tables; places ``Sheet, row R, column C``."""
    import xlrd
    from xlrd.biffh import XL_CELL_EMPTY, XLRDError

    report = Report(name)
    try:
        book = xlrd.open_workbook(
            file_contents=data, logfile=io.StringIO(), verbosity=0, on_demand=True
        )
    except XLRDError as err:
        if "encrypt" in str(err).lower():
            raise Unreadable("encrypted (a workbook with a password cannot be checked)") from err
        raise Unreadable("damaged or not what its name says") from err
    except Exception as err:  # any error of the parser: a damaged file
        raise Unreadable("damaged or not what its name says") from err
    cells = MAX_CELLS
    try:
        for index in range(book.nsheets):
            if cancelled():
                raise Cancelled
            sheet = book.sheet_by_index(index)
            cells -= sheet.nrows * sheet.ncols
            if cells < 0:
                raise Unreadable("too large to check (too many cells)")
            rows = [
                ["" if cell.ctype == XL_CELL_EMPTY else _xls_cell(cell.value) for cell in row]
                for row in sheet.get_rows()
            ]
            # a sheet's name is the sender's; one that looks like a number is not shown
            label = f"sheet {index + 1}" if CANDIDATE.search(sheet.name) else sheet.name
            report.merge(scan_rows(rows, name, f"{label}, "))
            book.unload_sheet(index)
    except (Unreadable, Cancelled):
        raise
    except Exception as err:  # a damaged sheet
        raise Unreadable("damaged or not what its name says") from err
    finally:
        book.release_resources()
    return report
