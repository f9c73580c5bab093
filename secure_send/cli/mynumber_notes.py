"""What ``secure-send send`` says about My Numbers (issue 19): the check before a send.

Counts, file names and recipient ids only — never a number (the scanner's reports hold none).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from secure_send.client.directory_sync import Directory
from secure_send.client.mynumber import MyNumberCheck
from secure_send.client.send import FileToSend, check_mynumber
from secure_send.client.session import Session


def checked(
    session: Session,
    directory: Directory,
    files: Sequence[FileToSend],
    to: Sequence[str],
    warn: Callable[[str], None],
) -> MyNumberCheck:
    """Check the files for My Numbers and say on stderr what the sender should know:
    files that could not be checked, numbers that only pass the check digit, and the
    classification and expiry a send with My Numbers is forced to. A blocked send
    raises (exit 1) with the files, counts and the ids that are not designated."""
    verdict = check_mynumber(session, directory, files, to)
    for report in verdict.unreadable:
        warn(f"note: {report.name} could not be checked for My Numbers ({report.unreadable})")
    for report in verdict.warnings:
        count = report.individual - report.likely
        warn(
            f"note: {report.name}: {count} number(s) pass the My Number check digit but"
            " do not look like My Numbers (no 個人番号 heading or context); check the file"
        )
    if verdict.blocked:
        raise verdict.refusal()
    if verdict.contains:
        warn(
            f"note: {len(verdict.holding)} file(s) hold {verdict.numbers} My Number(s):"
            f" sent at 機密性3 (c3), available for at most {verdict.rules.max_expiry_days}"
            " day(s)"
        )
    return verdict
