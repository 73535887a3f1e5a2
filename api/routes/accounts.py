"""Joining and signing in from any client (the phone app, the console, Swagger's Authorize
button): registration, phone codes, OAuth2 password sign-in with refresh tokens, signing out,
and a volunteer's real-name record and guardian."""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Request, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from api.deps import CallerDep, LiveDep, NowDep, PlacesDep, own_volunteer, policy
from api.geocoding import fill_point
from api.limits import Budget
from api.schemas import Certificate, Exact, LevelledSkill, Point, Strict, Text, Window
from api.usecases import joining
from matcher.model.vocabulary import ROLES
from matcher.operations.joining import MAX_PASSWORD, Guardian
from matcher.operations.notices import normalise_phone

router = APIRouter(prefix="/api/v1", tags=["accounts"])
log = logging.getLogger("volmatch.service")

REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"description": "the name or password is not right, or the sign-in has ended"}
}
LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"description": "too many attempts from this address or for this name: wait as Retry-After says"}
}


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _limit(request: Request, budget: str, key: str, what: str) -> None:
    found: Budget = getattr(request.app.state, budget)
    found.check(key, what)


class GuardianIn(Strict):
    """A guardian's consent for a volunteer under 18."""

    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=1, max_length=32)
    relationship: str = Field(min_length=1, max_length=50, examples=["母亲", "father"])
    consent_date: date

    def guardian(self) -> Guardian:
        return Guardian(
            self.name.strip(), normalise_phone(self.phone), self.relationship.strip(), self.consent_date
        )


class AccountIn(Strict):
    """Joining as a volunteer. The phone number names the account (it signs in once verified
    with a code); the birth date is needed (a national ID number gives it). A home is kept
    only with ``location_consent``; a district is enough to be matched nearby."""

    name: str = Field(min_length=1, max_length=100, description="the person's name")
    phone: str = Field(min_length=1, max_length=32, examples=["13800138000", "+8613800138000"])
    password: str = Field(max_length=MAX_PASSWORD, description="at least 10 characters")
    birth_date: date | None = None
    national_id: str | None = Field(default=None, max_length=32, description="optional: checked, kept hashed")
    district: Text | None = None
    home: Point | None = None
    location_consent: bool = False
    max_travel_km: float = Field(default=10.0, ge=0, le=500)
    skills: Annotated[list[Text | LevelledSkill], Field(max_length=200)] = Field(default_factory=list)
    availability: Annotated[list[Window], Field(max_length=336)] = Field(default_factory=list)
    certifications: Annotated[list[Certificate], Field(max_length=100)] = Field(default_factory=list)
    languages: Annotated[list[Text], Field(max_length=50)] = Field(default_factory=list)
    online_ok: bool = False
    email: Text | None = None
    language: Literal["zh", "en"] = "zh"
    guardian: GuardianIn | None = None


@router.post(
    "/accounts",
    status_code=201,
    responses=LIMITED,
    **policy("anyone: joining (limited per address and per number)"),
)
def register(
    body: AccountIn, request: Request, service: LiveDep, places: PlacesDep, clock: NowDep
) -> dict[str, Any]:
    """Join as a volunteer: answers the new ``account_id`` and ``volunteer_id``. Next, verify
    the phone (``POST /api/v1/auth/phone-codes``), then sign in (``POST /api/v1/auth/token``)."""
    _limit(request, "registrations", _address(request), "registrations from this address")
    _limit(request, "registrations", "phone:" + normalise_phone(body.phone), "registrations for this number")
    profile = body.model_dump(
        mode="json",
        include={"district", "home", "max_travel_km", "skills", "availability", "certifications", "languages",
                 "online_ok", "email"},
        exclude_none=True,
    )  # fmt: skip
    if not body.location_consent:
        profile.pop("home", None)  # a precise home is kept only with consent
    profile = fill_point(profile, "home", places)  # else the district's centre, if one is given
    registration = joining.Registration(
        name=body.name.strip(), phone=body.phone, password=body.password, birth_date=body.birth_date,
        national_id=body.national_id, volunteer=profile, location_consent=body.location_consent,
        guardian=None if body.guardian is None else body.guardian.guardian(), language=body.language,
    )  # fmt: skip
    return joining.register(service, request.app.state.signing_key, registration, clock)


class PhoneIn(Exact):
    phone: str = Field(min_length=1, max_length=32, examples=["13800138000"])


class PhoneCodeIn(Exact):
    phone: str = Field(min_length=1, max_length=32)
    code: str = Field(min_length=1, max_length=12, description="the six digits sent")


@router.post(
    "/auth/phone-codes",
    status_code=202,
    responses=LIMITED,
    **policy("anyone (limited per address and number)"),
)
def phone_code(body: PhoneIn, request: Request, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """Send a six-digit code to a registered number (the answer is the same for any number).
    Without an SMS gateway the code is in the volunteer's console inbox and the service log."""
    _limit(request, "registrations", _address(request), "codes asked from this address")
    answer, code = joining.send_code(service, body.phone, clock)
    settings = request.app.state.settings
    if code is not None and not settings.sms_gateway_url:
        log.warning("phone code for %s: %s (no SMS gateway: also in the inbox)", answer["phone"], code)
    return answer


@router.post("/auth/phone-codes/verify", responses=LIMITED, **policy("anyone with the code"))
def verify_phone(body: PhoneCodeIn, request: Request, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """Prove the number with its code: it then signs in, and SMS may go to it."""
    _limit(request, "sign_ins_by_address", _address(request), "codes tried from this address")
    return joining.verify_code(service, body.phone, body.code.strip(), clock)


@router.post("/auth/token", responses=REFUSED | LIMITED, **policy("anyone with a password"))
async def token(
    request: Request,
    service: LiveDep,
    clock: NowDep,
    username: Annotated[str, Form(max_length=200, description="phone number or account name")],
    password: Annotated[str, Form(max_length=MAX_PASSWORD)],
) -> dict[str, Any]:
    """OAuth2 password sign-in: ``access_token`` (bearer, ``expires_in`` seconds) and a
    ``refresh_token`` for ``/auth/refresh``. Limited per account and per address."""
    _limit(request, "sign_ins", username.strip()[:200], "sign-in attempts for this account")
    _limit(request, "sign_ins_by_address", _address(request), "sign-in attempts from this address")
    settings = request.app.state.settings
    try:
        return await run_in_threadpool(
            joining.sign_in, service, request.app.state.signing_key, username.strip(), password, clock,
            settings.access_token_minutes,
        )  # fmt: skip
    except joining.Refused as e:
        raise HTTPException(401, str(e), headers={"WWW-Authenticate": "Bearer"}) from None


class RefreshIn(Exact):
    refresh_token: str = Field(min_length=1, max_length=200)


@router.post("/auth/refresh", responses=REFUSED | LIMITED, **policy("anyone with a refresh token"))
def refresh(body: RefreshIn, request: Request, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """New tokens; the refresh token sent is used up (a copy used later ends the sign-in)."""
    _limit(request, "sign_ins_by_address", _address(request), "refreshes from this address")
    try:
        return joining.refresh(
            service, request.app.state.signing_key, body.refresh_token, clock,
            request.app.state.settings.access_token_minutes,
        )  # fmt: skip
    except joining.Refused as e:
        raise HTTPException(401, str(e), headers={"WWW-Authenticate": "Bearer"}) from None


@router.post("/auth/logout", status_code=204, **policy("anyone signed in", *ROLES))
def logout(who: CallerDep, service: LiveDep, clock: NowDep) -> Response:
    """End this sign-in: its access token and refresh token stop working at once."""
    joining.sign_out(service, who.session, clock)
    return Response(status_code=204)


@router.get("/auth/me", **policy("anyone signed in", *ROLES))
def me(who: CallerDep) -> dict[str, Any]:
    """Who the token names: account, role, organisation and the organisations it reaches."""
    a = who.account
    return {"account_id": a.id, "name": a.name, "role": a.role, "organisation_id": a.organisation_id,
            "volunteer_id": a.volunteer_id, "reach": sorted(who.reach)[:1000]}  # fmt: skip


# ---------------------------------------------------------------------- identity


class IdentityIn(Strict):
    national_id: str | None = Field(default=None, max_length=32)
    guardian: GuardianIn | None = None


@router.get(
    "/volunteers/{volunteer_id}/identity",
    **policy("the volunteer themself or an admin", "volunteer", "admin"),
)
def get_identity(volunteer_id: str, who: CallerDep, service: LiveDep, clock: NowDep) -> dict[str, Any]:
    """The real-name record (the ID number masked), birth date, and guardian of a minor."""
    own_volunteer(who, volunteer_id)
    return joining.identity(service, volunteer_id, clock)


@router.put(
    "/volunteers/{volunteer_id}/identity",
    **policy("the volunteer themself or an admin", "volunteer", "admin"),
)
def set_identity(
    volunteer_id: str, body: IdentityIn, who: CallerDep, service: LiveDep, request: Request, clock: NowDep
) -> dict[str, Any]:
    """Add a national ID number (checked; its birth date becomes the volunteer's) or a
    guardian's consent (needed before a minor takes a place)."""
    own_volunteer(who, volunteer_id)
    if body.national_id is None and body.guardian is None:
        raise HTTPException(422, "give national_id or guardian")
    return joining.set_identity(
        service, request.app.state.signing_key, volunteer_id, body.national_id,
        None if body.guardian is None else body.guardian.guardian(), who.account.id, clock,
    )  # fmt: skip
