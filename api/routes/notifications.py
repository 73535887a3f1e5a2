"""A volunteer's console inbox: what they were told (places, waitlist offers with their
deadline, invitations, hours), newest first, with the unread count; and marking one read."""

from __future__ import annotations

import hmac
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import Field

from api.auth import BadToken
from api.deps import Caller, CallerDep, LiveDep, NowDep, own_organisation, own_shift, own_volunteer, policy
from api.responses import InboxOut, MessageOut
from api.schemas import Exact
from api.usecases import notifications, records
from matcher.model.vocabulary import MessageKind
from matcher.operations.notices import MAX_PER_WEEK

router = APIRouter(prefix="/api/v1", tags=["notifications"])
MAX_ID = 2**62
"""Message ids are 64-bit integers in both stores."""


def _whose(who: Caller, volunteer_id: str | None) -> str:
    """The volunteer whose inbox this is: a volunteer's own; an admin names one."""
    if who.role == "volunteer":
        own = who.account.volunteer_id
        if own is None or volunteer_id not in (None, own):
            raise HTTPException(403, "a volunteer reads their own notifications only")
        return own
    if volunteer_id is None:
        raise HTTPException(422, "give volunteer_id: whose notifications to read")
    own_volunteer(who, volunteer_id)
    return volunteer_id


@router.get(
    "/notifications",
    response_model=InboxOut,
    **policy("the volunteer themself, admins", "volunteer", "admin"),
)
def inbox(
    who: CallerDep,
    service: LiveDep,
    clock: NowDep,
    request: Request,
    volunteer_id: Annotated[str | None, Query(max_length=64, description="admins: whose inbox")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="only messages older than this id")
    ] = None,
) -> dict[str, Any]:
    """Messages newest first (``before`` pages back) and how many of all are unread."""
    return notifications.inbox(
        service, _whose(who, volunteer_id), clock, limit=limit, before=before, links=request.app.state.links
    )


@router.post(
    "/notifications/{message_id}/read",
    response_model=MessageOut,
    **policy("the volunteer themself, admins", "volunteer", "admin"),
)
def mark_read(
    message_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    who: CallerDep,
    service: LiveDep,
    clock: NowDep,
    volunteer_id: Annotated[str | None, Query(max_length=64, description="admins: whose message")] = None,
) -> dict[str, Any]:
    """Mark a message read (again: no change); another volunteer's is not found."""
    return notifications.mark_read(service, _whose(who, volunteer_id), message_id, clock)


@router.get(
    "/shifts/{shift_id}/notifications",
    **policy("the shift's organisers or an admin", "organiser", "org_admin", "admin"),
)
def shift_notifications(shift_id: str, who: CallerDep, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """How many of the shift's volunteers were told what, and how it went out by channel and
    status (sent, pending, dead): counts only, no names or addresses."""
    own_shift(service, who, shift_id)
    return notifications.shift_counts(service, shift_id, clock)


@router.get("/admin/dead-letters", **policy("admins", "admin"))
def dead_letters(
    service: LiveDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, list[dict[str, Any]]]:
    """Deliveries that failed every attempt, with the last error."""
    return {"items": notifications.dead_letters(service, limit)}


@router.post("/admin/dead-letters/{message_id}/retry", status_code=204, **policy("admins", "admin"))
def retry_dead_letter(
    message_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    service: LiveDep,
    clock: NowDep,
    channel: Annotated[Literal["email", "sms", "wechat"], Query()] = "email",
) -> Response:
    """Queue a dead delivery again (its attempts counted afresh)."""
    notifications.retry(service, message_id, channel, clock)
    return Response(status_code=204)


# ---------------------------------------------------------------------- choices


def offered(request: Request) -> tuple[str, ...]:
    """The channels this service has configured."""
    return tuple(request.app.state.channels)


class QuietHours(Exact):
    start: str = Field(default="22:00", max_length=5, description="local time HH:MM")
    end: str = Field(default="07:00", max_length=5, description="local time HH:MM")
    overnight: bool = Field(default=True, description="the end is on the next day")


class PreferencesIn(Exact):
    channels: list[str] = Field(max_length=3, description="beside the inbox: email, sms, wechat")
    muted: list[str] = Field(default_factory=list, max_length=20, description="kinds left in the inbox only")
    quiet_hours: QuietHours = QuietHours()
    max_per_week: int = Field(
        default=MAX_PER_WEEK, description="non-urgent messages beyond the inbox in 7 days"
    )
    language: str = Field(default="zh", max_length=5)


@router.get(
    "/volunteers/{volunteer_id}/notification-preferences",
    **policy("the volunteer themself, admins", "volunteer", "admin"),
)
def get_preferences(volunteer_id: str, who: CallerDep, service: LiveDep, request: Request) -> dict[str, Any]:
    """How the volunteer is told: channels, muted kinds, quiet hours, weekly cap, language."""
    own_volunteer(who, volunteer_id)
    return notifications.preferences(service, volunteer_id, offered(request))


@router.put(
    "/volunteers/{volunteer_id}/notification-preferences",
    **policy("the volunteer themself, admins", "volunteer", "admin"),
)
def put_preferences(
    volunteer_id: str, body: PreferencesIn, who: CallerDep, service: LiveDep, clock: NowDep, request: Request
) -> dict[str, Any]:
    """New choices: an unknown or unconfigured channel, an unknown kind, quiet hours that end
    before they start (without ``overnight``) are refused with 422 naming the field."""
    own_volunteer(who, volunteer_id)
    return notifications.set_preferences(service, volunteer_id, body.model_dump(), offered(request), clock)


class PhoneIn(Exact):
    phone: str = Field(min_length=1, max_length=32, description="with its country code, e.g. +8613800138000")


class CodeIn(Exact):
    code: str = Field(min_length=1, max_length=12)


@router.post(
    "/volunteers/{volunteer_id}/phone-codes",
    status_code=202,
    **policy("the volunteer themself, admins", "volunteer", "admin"),
)
def phone_code(
    volunteer_id: str, body: PhoneIn, who: CallerDep, service: LiveDep, clock: NowDep
) -> dict[str, Any]:
    """Send a six-digit code to the number (by SMS; also in the inbox when no SMS gateway is
    configured). Five an hour per volunteer and per number."""
    own_volunteer(who, volunteer_id)
    return notifications.send_phone_code(service, volunteer_id, body.phone, clock)


@router.post(
    "/volunteers/{volunteer_id}/phone-codes/verify",
    **policy("the volunteer themself, admins", "volunteer", "admin"),
)
def verify_phone(
    volunteer_id: str, body: CodeIn, who: CallerDep, service: LiveDep, clock: NowDep
) -> dict[str, Any]:
    """The code back: the number is the volunteer's, verified; SMS and WeChat may go to it."""
    own_volunteer(who, volunteer_id)
    return notifications.verify_phone(service, volunteer_id, body.code, clock)


class RemindersIn(Exact):
    minutes: list[int] = Field(max_length=5, description="before each shift, e.g. [1440, 120]")


@router.get(
    "/activities/{activity_id}/reminders",
    **policy("the activity's organisers, admins", "organiser", "org_admin", "admin"),
)
def get_reminders(activity_id: str, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    """When the activity's volunteers are reminded of their places (minutes before each shift)."""
    own_organisation(who, records.organisation_of(service, activity_id), kind="activity", ident=activity_id)
    return notifications.reminder_minutes(service, activity_id)


@router.put(
    "/activities/{activity_id}/reminders",
    **policy("the activity's organisers, admins", "organiser", "org_admin", "admin"),
)
def put_reminders(activity_id: str, body: RemindersIn, who: CallerDep, service: LiveDep) -> dict[str, Any]:
    """New reminder times (each 10 minutes to 14 days; [] for none), for places confirmed from now on."""
    own_organisation(who, records.organisation_of(service, activity_id), kind="activity", ident=activity_id)
    return notifications.set_reminder_minutes(service, activity_id, body.minutes)


class Wording(Exact):
    subject: str = Field(
        min_length=1, max_length=200, description="Jinja2; also the SMS, WeChat and inbox line"
    )
    body: str = Field(min_length=1, max_length=4000, description="Jinja2; the e-mail")


class TemplatesIn(Exact):
    zh: Wording
    en: Wording


@router.get("/admin/message-templates/{kind}", **policy("admins", "admin"))
def get_templates(kind: MessageKind, service: LiveDep) -> dict[str, Any]:
    """A kind's wording in each language, and the fields its templates may use."""
    return notifications.templates(service, kind)


@router.put("/admin/message-templates/{kind}", **policy("admins", "admin"))
def put_templates(kind: MessageKind, body: TemplatesIn, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """Reword a kind, in both languages at once (a language missing, a template that does not
    parse or uses a field the kind lacks: 422 naming it)."""
    return notifications.set_templates(service, kind, body.model_dump(), clock)


@router.delete("/admin/message-templates/{kind}", **policy("admins", "admin"))
def reset_templates(kind: MessageKind, service: LiveDep) -> dict[str, Any]:
    """Back to the packaged wording."""
    return notifications.reset_templates(service, kind)


class ReceiptIn(Exact):
    channel: Literal["sms", "wechat"]
    id: str = Field(min_length=1, max_length=128, description="the gateway's id for the message")
    status: Literal["delivered", "failed"]
    error: str | None = Field(default=None, max_length=500)


@router.post(
    "/notifications/receipts",
    status_code=204,
    responses={401: {"description": "the receipts token is missing or wrong"}},
    **policy("SMS and WeChat gateways (their token)"),
)
def receipts(body: ReceiptIn, request: Request, service: LiveDep, clock: NowDep) -> Response:
    """A gateway's delivery receipt (``Authorization: Bearer`` = ``VOLMATCH_RECEIPTS_TOKEN``)."""
    expected = request.app.state.settings.receipts_token
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(given, expected):
        raise HTTPException(401, "a gateway's receipts carry the receipts token")
    notifications.receipt(service, body.channel, body.id, body.status == "delivered", body.error, clock)
    return Response(status_code=204)


@router.post("/unsubscribe/{token}", **policy("anyone with the link from an e-mail"))
def unsubscribe(
    token: Annotated[str, Path(max_length=1000)], request: Request, service: LiveDep, clock: NowDep
) -> dict[str, str]:
    """Stop a channel's messages (the link in every e-mail, no sign-in needed)."""
    try:
        return notifications.unsubscribe(service, request.app.state.links, token, clock)
    except BadToken as e:
        raise HTTPException(422, f"this unsubscribe link is not valid ({e})") from e
