"""The rules of telling people, pure: each volunteer's choices (channels, kinds left in the
inbox, quiet hours in their own zone, a weekly cap on messages that are not urgent, language),
when a message may go out under those choices, when a shift's reminders fall, and what counts
as a phone number. The outbox (:mod:`matcher.store.outbox`) applies them in the transaction
that writes each message."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from matcher.model.calendar import zone
from matcher.model.errors import ValidationError
from matcher.model.vocabulary import MessageKind, NoticeChannel

LANGUAGES = ("zh", "en")
MAX_PER_WEEK = 5
"""Default cap on non-urgent messages sent outside the inbox in any 7 days (more stay in the inbox)."""
WEEK_S = 7 * 24 * 3600
REMINDER_MINUTES = (24 * 60, 120)
"""Default reminder times before a confirmed shift, in minutes."""
MAX_REMINDERS = 5
REMINDER_MARGIN_S = 30 * 60
"""A reminder pushed past quiet hours still comes at least this long before the shift."""

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _minutes(name: str, text: str) -> int:
    found = _CLOCK.match(text)
    if found is None:
        raise ValidationError(name, f"{text!r} is not a time of day as HH:MM (00:00 to 23:59)")
    return int(found.group(1)) * 60 + int(found.group(2))


@dataclass(frozen=True)
class NoticePreferences:
    """A volunteer's choices. ``channels``: where messages go beside the inbox (only those the
    volunteer has an address for, and for SMS and WeChat a verified number). ``muted``: kinds
    left in the inbox only. Quiet hours run from ``quiet_start`` to ``quiet_end`` local time
    (ending earlier than they start: overnight)."""

    channels: tuple[NoticeChannel, ...] = tuple(NoticeChannel)
    muted: tuple[MessageKind, ...] = ()
    quiet_start: str = "22:00"
    quiet_end: str = "07:00"
    max_per_week: int = MAX_PER_WEEK
    language: str = "zh"
    _span: tuple[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "_span",
            (_minutes("quiet_hours.start", self.quiet_start), _minutes("quiet_hours.end", self.quiet_end)),
        )

    @classmethod
    def checked(
        cls,
        *,
        channels: list[str],
        muted: list[str],
        quiet_start: str,
        quiet_end: str,
        overnight: bool,
        max_per_week: int,
        language: str,
        offered: tuple[str, ...],
    ) -> NoticePreferences:
        """Choices as a client sent them, each checked and named when wrong. ``offered``: the
        channels this service has configured (choosing another is refused, not kept to fail
        later); ``overnight`` says quiet hours that end earlier than they start are meant."""
        for c in channels:
            if c not in {n.value for n in NoticeChannel}:
                raise ValidationError("channels", f"unknown channel {c!r}: one of email, sms, wechat")
            if c not in offered:
                raise ValidationError(
                    "channels", f"{c!r} is not offered here (offered: {', '.join(offered) or 'none'})"
                )
        for k in muted:
            if k not in {m.value for m in MessageKind}:
                raise ValidationError("muted", f"unknown kind of message {k!r}")
            if k == MessageKind.PHONE_CODE:
                raise ValidationError("muted", "phone codes are always sent: they are asked for")
        start, end = _minutes("quiet_hours.start", quiet_start), _minutes("quiet_hours.end", quiet_end)
        if end == start:
            raise ValidationError("quiet_hours.end", "quiet hours end when they start: give a span, or none")
        if end < start and not overnight:
            raise ValidationError(
                "quiet_hours.end",
                "quiet hours end before they start: set overnight to true if they cross midnight",
            )
        if end > start and overnight:
            raise ValidationError(
                "quiet_hours.overnight", "quiet hours that end after they start do not cross midnight"
            )
        if not 0 <= max_per_week <= 100:
            raise ValidationError("max_per_week", "must be from 0 (urgent messages only) to 100")
        if language not in LANGUAGES:
            raise ValidationError("language", f"must be one of {', '.join(LANGUAGES)}")
        return cls(
            tuple(NoticeChannel(c) for c in dict.fromkeys(channels)),
            tuple(MessageKind(k) for k in dict.fromkeys(muted)),
            quiet_start,
            quiet_end,
            max_per_week,
            language,
        )

    def quiet(self, at_s: int, tz: str) -> bool:
        """Whether ``at_s`` falls in quiet hours where the volunteer lives."""
        local = datetime.fromtimestamp(at_s, zone(tz))
        now = local.hour * 60 + local.minute
        start, end = self._span
        return start <= now < end if start < end else now >= start or now < end

    def release_s(self, at_s: int, tz: str) -> int:
        """The first moment at or after ``at_s`` outside quiet hours (their end, local time;
        across a change of clocks, the end as the wall clock shows it that day)."""
        if not self.quiet(at_s, tz):
            return at_s
        local = datetime.fromtimestamp(at_s, zone(tz))
        end = self._span[1]
        ends = datetime.combine(local.date(), time(end // 60, end % 60), tzinfo=zone(tz))
        if ends <= local:
            ends = datetime.combine(
                local.date() + timedelta(days=1), time(end // 60, end % 60), tzinfo=zone(tz)
            )
        return int(ends.timestamp())

    def hold_back_s(self, at_s: int, tz: str) -> int:
        """The last moment at or before ``at_s`` outside quiet hours (their start, local time)."""
        if not self.quiet(at_s, tz):
            return at_s
        local = datetime.fromtimestamp(at_s, zone(tz))
        start = self._span[0]
        begins = datetime.combine(local.date(), time(start // 60, start % 60), tzinfo=zone(tz))
        if begins > local:
            begins -= timedelta(days=1)
        return int(begins.timestamp()) - 60

    def to_json(self) -> dict[str, Any]:
        start, end = self._span
        return {
            "channels": [c.value for c in self.channels],
            "muted": [k.value for k in self.muted],
            "quiet_hours": {"start": self.quiet_start, "end": self.quiet_end, "overnight": end < start},
            "max_per_week": self.max_per_week,
            "language": self.language,
        }


def reminder_due_s(starts_s: int, minutes: int, tz: str, prefs: NoticePreferences) -> int:
    """When a reminder ``minutes`` before a shift goes out: then, unless that is in the
    volunteer's quiet hours; then at their end if that still leaves half an hour before the
    shift, else just before they begin."""
    due = starts_s - minutes * 60
    later = prefs.release_s(due, tz)
    if later == due or later <= starts_s - REMINDER_MARGIN_S:
        return later
    return prefs.hold_back_s(due, tz)


def check_reminder_minutes(minutes: list[int]) -> tuple[int, ...]:
    """An activity's reminder times (minutes before each shift), checked: at most five, each
    from 10 minutes to 14 days."""
    if len(minutes) > MAX_REMINDERS:
        raise ValidationError("minutes", f"at most {MAX_REMINDERS} reminders before a shift")
    for m in minutes:
        if not 10 <= m <= 14 * 24 * 60:
            raise ValidationError("minutes", f"{m} is outside 10 minutes to 14 days (20160)")
    return tuple(sorted(set(minutes), reverse=True))


_PHONE = re.compile(r"^\+[1-9]\d{7,14}$")
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise_phone(text: str) -> str:
    """A phone number in E.164 (``+8613800138000``): spaces, dashes, dots and brackets dropped,
    full-width digits read as digits, a mainland mobile without its country code given +86."""
    plain = unicodedata.normalize("NFKC", text).strip()
    plain = re.sub(r"[\s\-().]", "", plain)
    if plain.startswith("00"):
        plain = "+" + plain[2:]
    if _CN_MOBILE.match(plain):
        plain = "+86" + plain
    if not _PHONE.match(plain) or (plain.startswith("+86") and not _CN_MOBILE.match(plain[3:])):
        raise ValidationError(
            "phone", f"{text!r} is not a phone number: give it with its country code, e.g. +8613800138000"
        )
    return plain


def masked_phone(phone: str) -> str:
    """A number as others may see it: the country code and last four digits."""
    return phone[:4] + "*" * max(0, len(phone) - 8) + phone[-4:] if len(phone) > 8 else phone
