"""How each kind of message reads, in Chinese and English: Jinja2 templates (a subject line, which
is also the SMS, WeChat and inbox line, and an e-mail body) packaged in
``api/templates/messages/{zh,en}.toml``, which an admin may reword per kind (both languages at
once, checked before they are kept). Templates run sandboxed: an admin's wording cannot reach
into the service."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from matcher.model.calendar import zone
from matcher.model.errors import ValidationError
from matcher.model.vocabulary import MessageKind
from matcher.operations.notices import LANGUAGES
from matcher.store.messages import Message

_COMMON = ("title", "starts")
FIELDS: dict[MessageKind, tuple[str, ...]] = {
    MessageKind.SIGNUP_CONFIRMED: _COMMON,
    MessageKind.SIGNUP_WAITLISTED: (*_COMMON, "position"),
    MessageKind.INVITED: _COMMON,
    MessageKind.OFFERED: (*_COMMON, "until"),
    MessageKind.OFFER_LAPSED: _COMMON,
    MessageKind.HOURS_APPROVED: (*_COMMON, "hours", "note"),
    MessageKind.HOURS_CORRECTED: (*_COMMON, "hours", "note"),
    MessageKind.REMINDER: (*_COMMON, "minutes"),
    MessageKind.EMERGENCY_CALL: (*_COMMON, "until", "accept_url", "decline_url"),
    MessageKind.SHIFT_CHANGED: _COMMON,
    MessageKind.SHIFT_CANCELLED: _COMMON,
    MessageKind.TIER_REACHED: ("stars", "hours"),
    MessageKind.PHONE_CODE: ("code", "minutes"),
    MessageKind.MEMBERSHIP_DECIDED: ("organisation", "approved"),
}
"""The fields each kind's templates may use."""

MAX_SUBJECT = 200
MAX_BODY = 4000

_strict = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_lenient = SandboxedEnvironment(autoescape=False)


@dataclass(frozen=True)
class Worded:
    subject: str
    body: str


Templates = Mapping[tuple[str, str], tuple[str, str]]
"""(kind, language) -> (subject, body) templates."""


@lru_cache(maxsize=1)
def packaged() -> dict[tuple[str, str], tuple[str, str]]:
    """The templates that ship with the service."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for language in LANGUAGES:
        text = (
            resources.files("api").joinpath(f"templates/messages/{language}.toml").read_text(encoding="utf-8")
        )
        for kind, t in tomllib.loads(text).items():
            out[(kind, language)] = (t["subject"], t["body"])
    return out


def check(kind: MessageKind, language: str, subject: str, body: str) -> None:
    """An admin's wording, refused (naming ``<language>.subject`` or ``<language>.body``) if it is
    empty, too long, not a template, or uses a field the kind does not have."""
    sample = {f: f"<{f}>" for f in FIELDS[kind]}
    for name, text, most in (("subject", subject, MAX_SUBJECT), ("body", body, MAX_BODY)):
        where = f"{language}.{name}"
        if not text.strip():
            raise ValidationError(where, "is empty")
        if len(text) > most:
            raise ValidationError(where, f"is longer than {most} characters")
        try:
            _strict.from_string(text).render(sample)
        except TemplateError as e:
            raise ValidationError(
                where, f"{e}; the fields of {kind.value} are {', '.join(FIELDS[kind])}"
            ) from e


def fields(m: Message, tz: str, links: Mapping[str, str]) -> dict[str, Any]:
    """What a message's templates are filled with: its detail, with times in the volunteer's
    zone and hours as people write them."""
    d = m.detail

    def local(key: str) -> str:
        at = d.get(key)
        return "" if at is None else datetime.fromtimestamp(int(at), zone(tz)).strftime("%Y-%m-%d %H:%M")

    hours = d.get("hours")
    shown = (
        ""
        if hours is None
        else (f"{float(hours):+g}" if m.kind == MessageKind.HOURS_CORRECTED else f"{float(hours):g}")
    )
    return {
        "title": d.get("title", ""),
        "starts": local("starts_s"),
        "until": local("until_s"),
        "position": d.get("position", ""),
        "hours": shown,
        "note": d.get("note", ""),
        "minutes": d.get("minutes", ""),
        "code": d.get("code", ""),
        "stars": d.get("stars", ""),
        **links,
    }


@lru_cache(maxsize=512)
def _compiled(text: str) -> Template:
    """A template compiled once (compiling costs a hundred times rendering)."""
    return _lenient.from_string(text)


def render(
    m: Message,
    language: str,
    tz: str,
    overrides: Templates | None = None,
    links: Mapping[str, str] | None = None,
) -> Worded:
    """The message in ``language`` (an admin's wording first, else the packaged one)."""
    key = (m.kind.value, language)
    subject, body = (overrides or {}).get(key) or packaged()[key]
    values = fields(m, tz, links or {})
    return Worded(_compiled(subject).render(values), _compiled(body).render(values))


def both(m: Message, tz: str, overrides: Templates | None = None) -> dict[str, str]:
    """The message's line in Chinese and English (the console shows the reader's language)."""
    return {language: render(m, language, tz, overrides).subject for language in LANGUAGES}


LinkMaker = Callable[[Message], dict[str, str]]
