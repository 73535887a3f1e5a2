"""iCalendar (RFC 5545) text for the service's calendar feeds: the open activities for partner
sites, a volunteer's confirmed shifts, an activity's shifts for its organisers. Times are UTC
instants (``...Z``), which every calendar shows in its user's own zone."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Response


def header(name: str) -> list[str]:
    return [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//volmatch//{name}//ZH",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{text(name)}",
    ]


def response(lines: list[str]) -> Response:
    """The calendar ``lines`` (without END:VCALENDAR), folded, as a text/calendar response."""
    body = "".join(fold(line) + "\r\n" for line in [*lines, "END:VCALENDAR"])
    return Response(body.encode(), media_type="text/calendar; charset=utf-8")


def utc(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def text(value: str) -> str:
    """RFC 5545 TEXT escaping."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold at 75 octets without splitting a UTF-8 character (Chinese titles are 3 bytes each)."""
    out, current, size = [], "", 0
    for ch in line:
        n = len(ch.encode())
        if size + n > 75:
            out.append(current)
            current, size = " ", 1
        current += ch
        size += n
    out.append(current)
    return "\r\n".join(out)
