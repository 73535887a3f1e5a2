"""How a shift is written on a page: its activity's title and its local date and hours."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from api.live import Live
from api.usecases import places, records
from matcher.store.operations import CHECK_IN_OPENS_S

WEEKDAYS = {"zh": "一二三四五六日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


def describe(service: Live, shift_id: str, lang: str, now: datetime | None = None) -> dict[str, Any]:
    """The shift's activity (id and title), its local start and end, its places left and (given
    ``now``) whether check-in is open."""
    if not places.is_shift(service, shift_id):
        return {"activity_id": None, "title": shift_id, "when": "", "places_left": 0, "starts": ""}
    activity = records.activity(service, places.shift_activity(service, shift_id))
    shift = next(s for s in activity.shifts if s.id == shift_id)
    zone = ZoneInfo(activity.timezone)
    start, end = shift.starts_at.astimezone(zone), shift.ends_at.astimezone(zone)
    day = start.weekday()
    if lang == "zh":
        when = f"{start.month}月{start.day}日 周{WEEKDAYS['zh'][day]} {start:%H:%M}–"
        when += f"{end:%H:%M}" if end.date() == start.date() else f"{end.month}月{end.day}日 {end:%H:%M}"
    else:
        when = f"{WEEKDAYS['en'][day]} {start.day} {start:%b} {start:%H:%M}–"
        when += f"{end:%H:%M}" if end.date() == start.date() else f"{end.day} {end:%b} {end:%H:%M}"
    return {"activity_id": activity.id, "title": activity.title, "when": when,
            "places_left": places.places_left(service, shift_id), "capacity": shift.capacity,
            "hours": round(shift.hours, 2), "starts": start.isoformat(),
            "check_in_open": now is not None and start - timedelta(seconds=CHECK_IN_OPENS_S) <= now <= end}  # fmt: skip
