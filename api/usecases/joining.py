"""Joining and signing in from any client: registration (with a real-name check and a guardian
for minors), phone codes by number, sessions with refresh tokens, signing out."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from api.auth import (
    hash_password,
    issue_token,
    keyed_hash,
    new_account_id,
    new_session,
    password_matches,
    refresh_hash,
    utcnow,
)
from api.live import Live
from matcher.interchange.records import parse_volunteer
from matcher.model.calendar import epoch_seconds
from matcher.model.domain import Volunteer, check_birth_date
from matcher.model.errors import ConflictError, NotFoundError, ValidationError
from matcher.operations.joining import Guardian, NationalId, check_national_id, check_password, is_minor
from matcher.operations.notices import masked_phone, normalise_phone
from matcher.store.base import Account
from matcher.store.joining import RealName, Unrecognised, write_identity
from matcher.store.preferences import write_language
from matcher.store.tx import Tx

REFRESH_DAYS = 30
"""A refresh token keeps a sign-in alive this long after its last use."""


@dataclass(frozen=True)
class Registration:
    """What a person gives to join (checked shapes; the rules are applied by :func:`register`)."""

    name: str
    phone: str
    password: str
    birth_date: date | None
    national_id: str | None
    volunteer: dict[str, Any]
    """The profile in the interchange format (district, home, skills, availability ...): its
    home is precise only with ``location_consent`` (else a district's centre, or none)."""
    location_consent: bool
    guardian: Guardian | None
    language: str


def real_name(live_key: str, national_id: NationalId) -> RealName:
    return RealName(keyed_hash(live_key, "national-id", national_id.number), national_id.last4)


def register(live: Live, key: str, r: Registration, now: datetime) -> dict[str, Any]:
    """A new volunteer and their account, in one transaction: nothing is written if any part
    is refused. The account is named by the phone number (E.164), which signs in once it is
    verified with a code."""
    today = now.date()
    check_password(r.password)
    phone = normalise_phone(r.phone)
    birth = r.birth_date
    checked = None
    if r.national_id is not None:
        checked = check_national_id(r.national_id, today)
        if birth is not None and birth != checked.birth_date:
            raise ValidationError("birth_date", "does not match the birth date in the ID number")
        birth = checked.birth_date
    if birth is None:
        raise ValidationError("birth_date", "is needed (or a national ID number, which holds it)")
    check_birth_date(birth, today)
    doc = {**r.volunteer, "id": f"v_{secrets.token_hex(6)}", "name": r.name, "phone": phone,
           "birth_date": birth.isoformat()}  # fmt: skip
    volunteer = parse_volunteer(doc, live.taxonomy)
    guardian = None if r.guardian is None else r.guardian.check(today)
    account = Account(new_account_id(), phone, "volunteer", volunteer_id=volunteer.id,
                      password_hash=hash_password(r.password))  # fmt: skip
    now_s = epoch_seconds(now)

    def also(tx: Tx) -> None:
        write_identity(tx, volunteer.id, None if checked is None else real_name(key, checked), guardian,
                       account.id, now_s)  # fmt: skip
        write_language(tx, account.id, r.language)
        if r.location_consent and volunteer.home is not None:
            live.store.audit.record(account.id, "volunteer", "consent.location.given", [volunteer.id], now_s,
                                    "registration", tx=tx)  # fmt: skip

    def store_write() -> None:
        try:
            live.store.register(volunteer, account, also)
        except ConflictError as e:
            if "account named" in str(e):
                raise ConflictError("phone: this number is registered already: sign in instead") from None
            raise

    live.write("volunteer", volunteer.id, store_write, lambda: live.index.upsert_volunteer(volunteer))
    return {
        "account_id": account.id,
        "volunteer_id": volunteer.id,
        "phone": masked_phone(phone),
        "phone_verified": False,
        "national_id": None if checked is None else checked.masked,
        "guardian_needed": is_minor(birth, today) and guardian is None,
    }


# ---------------------------------------------------------------------- phone codes by number


def _volunteer_by_phone(live: Live, phone: str) -> tuple[str, str] | None:
    """(number, volunteer id) of the account the number names, if any."""
    number = normalise_phone(phone)
    account = live.store.find_account(number)
    if account is None or account.volunteer_id is None:
        return None
    return number, account.volunteer_id


def send_code(live: Live, phone: str, now: datetime) -> tuple[dict[str, Any], str | None]:
    """A six-digit code to the number, if it names an account (the answer is the same either
    way, so numbers cannot be tried to find who is registered). Returns the answer and the code
    sent (for the log of a service without an SMS gateway)."""
    found = _volunteer_by_phone(live, phone)
    number = normalise_phone(phone)
    code = None
    if found is not None:
        code = f"{secrets.randbelow(10**6):06d}"
        live.store.notices.send_phone_code(found[1], number, code, epoch_seconds(now))
    return {"phone": masked_phone(number), "sent": True, "expires_in": 600}, code


def verify_code(live: Live, phone: str, code: str, now: datetime) -> dict[str, Any]:
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise ValidationError("code", "the code is six digits")
    found = _volunteer_by_phone(live, phone)
    if found is None:
        raise NotFoundError("phone code for", masked_phone(normalise_phone(phone)))
    number = live.store.notices.verify_phone(found[1], code, epoch_seconds(now))
    return {"phone": masked_phone(number), "phone_verified": True}


# ---------------------------------------------------------------------- sessions


def _account_for(live: Live, username: str) -> Account | None:
    """The account a sign-in names: a phone number (in any common writing) or an account name."""
    found = live.store.find_account(username)
    if found is not None:
        return found
    try:
        return live.store.find_account(normalise_phone(username))
    except ValidationError:
        return None


def sign_in(
    live: Live, key: str, username: str, password: str, now: datetime, ttl_minutes: int
) -> dict[str, Any]:
    """Tokens for a right name and password (the same answer for a wrong name as for a wrong
    password). A phone number signs in once it has been verified with a code."""
    account = _account_for(live, username)
    if account is None or not account.password_hash or not password_matches(account.password_hash, password):
        raise Refused("the phone number (or account name) or the password is not right")
    if account.name.startswith("+") and account.volunteer_id is not None:
        _, verified = live.store.notices.preferences(account.volunteer_id)
        if verified != account.name:
            raise Refused("verify the phone number first: POST /api/v1/auth/phone-codes, then .../verify")
    session, refresh, hashed = new_session()
    now_s = epoch_seconds(now)
    live.store.joining.open_session(session, account.id, hashed, now_s, now_s + REFRESH_DAYS * 86400)
    return _tokens(account, key, session, refresh, ttl_minutes)


def _tokens(account: Account, key: str, session: str, refresh: str, ttl_minutes: int) -> dict[str, Any]:
    return {
        # signatures expire by the real clock, whatever the service's clock says (tests, demos)
        "access_token": issue_token(account, key, now=utcnow(), ttl_hours=ttl_minutes / 60, session=session),
        "token_type": "bearer",
        "expires_in": ttl_minutes * 60,
        "refresh_token": refresh,
        "account_id": account.id,
        "role": account.role,
    }


def refresh(live: Live, key: str, token: str, now: datetime, ttl_minutes: int) -> dict[str, Any]:
    """New tokens for a refresh token, which is used up (a copy that comes back ends the
    sign-in: see :meth:`matcher.store.joining.Joining.refresh`)."""
    _, fresh, hashed = new_session()
    now_s = epoch_seconds(now)
    try:
        session, account_id = live.store.joining.refresh(
            refresh_hash(token), hashed, now_s, now_s + REFRESH_DAYS * 86400
        )
    except Unrecognised as e:
        live.refresh(force=True)  # a copied token may have ended a session: refuse it here at once
        raise Refused(str(e)) from None
    account = live.accounts.get(account_id)
    if account is None:
        raise Refused("the account no longer exists")
    return _tokens(account, key, session, fresh, ttl_minutes)


def sign_out(live: Live, session: str | None, now: datetime) -> bool:
    """End the sign-in: its access and refresh tokens stop working in every process."""
    if session is None:
        return False
    done = live.store.joining.revoke(session, epoch_seconds(now))
    live.refresh(force=True)  # this process refuses the token at once
    return done


def session_for(live: Live, account: Account, now: datetime) -> str:
    """A sign-in session for the console (its cookie's token names it, so signing out ends it)."""
    session, _, hashed = new_session()
    now_s = epoch_seconds(now)
    live.store.joining.open_session(session, account.id, hashed, now_s, now_s + REFRESH_DAYS * 86400)
    return session


class Refused(Exception):
    """A sign-in or refresh refused (401)."""


# ---------------------------------------------------------------------- identity after joining


def set_identity(
    live: Live, key: str, volunteer_id: str, national_id: str | None, guardian: Guardian | None,
    by: str, now: datetime,
) -> dict[str, Any]:  # fmt: skip
    """Add a checked ID number (its birth date becomes the volunteer's) or a guardian's consent."""
    today = now.date()
    checked = None if national_id is None else check_national_id(national_id, today)
    if guardian is not None:
        guardian.check(today)
    volunteer = live.store.get_volunteer(volunteer_id)
    if volunteer is None:
        raise NotFoundError("volunteer", volunteer_id)
    live.store.joining.set_identity(
        volunteer_id, None if checked is None else real_name(key, checked), guardian, by, epoch_seconds(now)
    )
    if checked is not None and volunteer.birth_date != checked.birth_date:
        updated: Volunteer = replace(volunteer, birth_date=checked.birth_date)
        live.write("volunteer", volunteer_id, lambda: live.store.upsert_volunteer(updated),
                   lambda: live.index.upsert_volunteer(updated))  # fmt: skip
    return identity(live, volunteer_id, now)


def identity(live: Live, volunteer_id: str, now: datetime) -> dict[str, Any]:
    volunteer = live.store.get_volunteer(volunteer_id)
    if volunteer is None:
        raise NotFoundError("volunteer", volunteer_id)
    last4 = live.store.joining.real_name(volunteer_id)
    guardian = live.store.joining.guardian(volunteer_id)
    minor = is_minor(volunteer.birth_date, now.date())
    return {
        "volunteer_id": volunteer_id,
        "national_id": None if last4 is None else "*" * 14 + last4,
        "birth_date": None if volunteer.birth_date is None else volunteer.birth_date.isoformat(),
        "minor": minor,
        "guardian": None
        if guardian is None
        else {"name": guardian.name, "phone": masked_phone(guardian.phone), "relationship": guardian.relationship,
              "consent_date": guardian.consent_date.isoformat()},
        "guardian_needed": minor and guardian is None,
    }  # fmt: skip
