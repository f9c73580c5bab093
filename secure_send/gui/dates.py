"""Short dates as people write them: 「12月3日」 in Japanese, "3 Dec" in English.

The pattern is a translated message, so the catalogue decides the order; the year is
added only when it is not this year's. Times are shown in the PC's local time zone.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QCoreApplication

from secure_send.core.encoding import EncodingError, parse_time

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def local_date(when: str) -> dt.date | None:
    """The local calendar day of an RFC 3339 time (None if unreadable)."""
    try:
        return parse_time(when).astimezone().date()
    except EncodingError:
        return None


def short_date(when: str, today: dt.date | None = None) -> str:
    """``when`` (RFC 3339) as a short day in the UI language; unreadable: as given."""
    day = local_date(when)
    if day is None:
        return when
    return short_day(day, today)


def short_day(day: dt.date, today: dt.date | None = None) -> str:
    """A calendar day (e.g. a file request's due day, already a day in Japan) as a
    short day in the UI language."""
    if day.year == (today or dt.date.today()).year:
        # {day}, {month} (1-12), {mon} (Jan-Dec); Japanese: {month}月{day}日
        pattern = QCoreApplication.translate("dates", "{day} {mon}")
    else:
        pattern = QCoreApplication.translate("dates", "{day} {mon} {year}")
    return pattern.format(day=day.day, month=day.month, mon=MONTHS[day.month - 1], year=day.year)
