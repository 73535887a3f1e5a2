"""Who is calling, and the access policy every route declares.

A route states its policy with ``**policy("name", roles...)``: the roles allowed at all (others
get 403, anonymous callers 401) and, in the OpenAPI schema, ``x-policy`` naming the rule. Checks
that depend on the object (a volunteer's own record, an organiser's own organisation) are made
in the route with :func:`own_volunteer` and :func:`own_organisation`; a caller who may not see
an object gets 404, so ids of others' records leak nothing. ``tests/api`` walks every route in
the schema and fails on one without a policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from api.auth import BadToken, token_claims
from api.geocoding import Places
from api.limits import Budget
from api.live import Live
from api.settings import Settings
from api.usecases import accounts, audit, records
from api.usecases import places as shift_places
from matcher.model.errors import NotFoundError
from matcher.store.base import ACTS_FOR_ORGANISATION, Account
from matcher.store.operations import Signup

_password = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="sign in with a phone number (or account name) and password",
)
_bearer = HTTPBearer(
    auto_error=False, description="a token from `volmatch user demo` or `volmatch user create`"
)
# Both read the same Authorization header; two schemes so that Swagger's Authorize dialog offers
# a sign-in form and a field to paste a token.


# Dependencies that only read the app's state are coroutines: FastAPI runs a plain function
# dependency in a worker thread, a hand-off that cost more than the work here.


async def live(request: Request) -> Live:
    service: Live = request.app.state.live
    return service


async def settings(request: Request) -> Settings:
    s: Settings = request.app.state.settings
    return s


LiveDep = Annotated[Live, Depends(live)]


async def places(request: Request) -> Places:
    found: Places = request.app.state.places
    return found


PlacesDep = Annotated[Places, Depends(places)]


async def now(request: Request) -> datetime:
    """The service's clock (injectable, so tests and demos can fix "now")."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


NowDep = Annotated[datetime, Depends(now)]


@dataclass(frozen=True)
class Caller:
    account: Account
    reach: frozenset[str] = frozenset()
    """The organisations the caller acts for: an organiser's own, an org admin's and every one
    under it (empty for others)."""
    session: str | None = None

    @property
    def role(self) -> str:
        return self.account.role

    @property
    def staff(self) -> bool:
        """An organiser or an org admin: acts for organisations (``reach``)."""
        return self.account.role in ACTS_FOR_ORGANISATION

    def acts_for(self, organisation_id: str | None) -> bool:
        return self.role == "admin" or (organisation_id is not None and organisation_id in self.reach)


def caller_for(service: Live, account: Account, session: str | None = None) -> Caller:
    """The caller an account is, with the organisations it reaches now."""
    reach = service.organisations.reach(account.role, account.organisation_id)
    return Caller(account, reach, session)


async def caller(
    request: Request,
    signed_in: Annotated[str | None, Depends(_password)],
    pasted: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    token = pasted.credentials if pasted is not None else signed_in
    unauthorised = {"WWW-Authenticate": "Bearer"}
    if not token:
        raise HTTPException(401, "sign in: send 'Authorization: Bearer <token>'", headers=unauthorised)
    service: Live = request.app.state.live
    try:
        ident, session = token_claims(token, request.app.state.signing_key)
    except BadToken as e:
        raise HTTPException(401, f"the token is not valid ({e})", headers=unauthorised) from e
    if session is not None and service.revoked(session):
        raise HTTPException(401, "this sign-in has ended (signed out): sign in again", headers=unauthorised)
    budget: Budget = request.app.state.budget
    budget.check(ident, "requests with this token")
    # Most requests find the account in the process's cache; a miss reads the store in a worker
    # thread, which may have to wait for a write in progress.
    account = accounts.cached(service, ident) or await run_in_threadpool(accounts.get, service, ident)
    if account is None:
        raise HTTPException(401, "the token's account no longer exists", headers=unauthorised)
    return caller_for(service, account, session)


CallerDep = Annotated[Caller, Depends(caller)]


async def known_query(request: Request) -> None:
    """Refuse query parameters an operation does not take (422, naming the ones it does): a
    typo such as ``?radius=5`` for ``radius_km`` would otherwise be ignored without a word.
    Installed on the whole app; pages outside the API schema read their own queries."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    names: dict[tuple[str, str], frozenset[str]] | None = getattr(request.app.state, "query_names", None)
    if names is None:
        names = {
            (method, path): frozenset(p["name"] for p in op.get("parameters", []) if p.get("in") == "query")
            for path, ops in request.app.openapi().get("paths", {}).items()
            for method, op in ops.items()
        }
        request.app.state.query_names = names
    taken = names.get((request.method.lower(), getattr(route, "path", "")))
    if taken is None:
        return
    unknown = sorted(k for k in set(request.query_params.keys()) if k not in taken)
    if unknown:
        what = ", ".join(sorted(taken)) if taken else "no query parameters"
        raise HTTPException(
            422, f"unknown query parameter {', '.join(map(repr, unknown))[:200]}; this takes {what}"
        )


def policy(name: str, *roles: str) -> dict[str, Any]:
    """Keyword arguments for a route decorator: who may call it, and its name in the schema.
    No roles: public, no token needed."""
    extra = {"x-policy": {"name": name, "roles": list(roles) or ["anyone"]}}
    if not roles:
        return {"openapi_extra": extra}

    async def check(who: CallerDep) -> None:
        if who.role not in roles:
            article = "an" if who.role[0] in "aeiou" else "a"
            raise HTTPException(403, f"{article} {who.role} may not do this ({name}: {', '.join(roles)})")

    return {"openapi_extra": extra, "dependencies": [Depends(check)]}


def own_volunteer(who: Caller, volunteer_id: str) -> None:
    """A volunteer acts on their own record only; admins on any."""
    if who.role == "admin":
        return
    if who.role == "volunteer" and who.account.volunteer_id == volunteer_id:
        return
    raise NotFoundError("volunteer", volunteer_id)


PUBLIC_KINDS = ("activity", "shift")
"""Records anyone signed in may read: refused to other organisations with 403, not 404."""


def own_organisation(who: Caller, organisation_id: str | None, *, kind: str, ident: str) -> None:
    """An organiser acts on their organisation's activities only, an org admin on those of its
    organisation and every one under it; admins on any."""
    if who.acts_for(organisation_id):
        return
    if kind not in PUBLIC_KINDS:
        raise NotFoundError(kind, ident)  # a private record's existence is not told
    # Postings are public, so their existence is no secret: say whose it is, not "no such".
    raise HTTPException(
        403,
        f"{kind} {ident!r} belongs to another organisation; you act for {who.account.organisation_id!r}"
        + (" and those under it" if who.role == "org_admin" else ""),
    )


def own_shift(service: Live, who: Caller, shift_id: str) -> str:
    """The shift's activity, if the caller organises it (else 404)."""
    activity_id = shift_places.shift_activity(service, shift_id)  # 404 for an unknown shift
    own_organisation(who, records.organisation_of(service, activity_id), kind="shift", ident=shift_id)
    return activity_id


def audit_read(
    service: Live, who: Caller, action: str, subjects: list[str], at: datetime, detail: str = ""
) -> None:
    """Record a read of other people's personal data in the audit log (a volunteer reading
    their own record is not recorded)."""
    others = _others(who, subjects)
    if others:
        audit.record(service, who.account.id, who.role, action, others, int(at.timestamp()), detail)


async def audit_read_async(
    service: Live, who: Caller, action: str, subjects: list[str], at: datetime
) -> None:
    """:func:`audit_read` for a coroutine: the record is written in a worker thread, and only
    when there is one to write."""
    if _others(who, subjects):
        await run_in_threadpool(audit_read, service, who, action, subjects, at)


def _others(who: Caller, subjects: list[str]) -> list[str]:
    return [s for s in subjects if not (who.role == "volunteer" and s == who.account.volunteer_id)]


def own_signup(service: Live, who: Caller, signup_id: str, *, organiser: bool, volunteer: bool) -> Signup:
    """The sign-up if the caller may act on it (else 404: nothing about others' sign-ups leaks)."""
    s = shift_places.signup(service, signup_id)
    if who.role == "admin":
        return s
    if volunteer and who.role == "volunteer" and who.account.volunteer_id == s.volunteer_id:
        return s
    if organiser and who.staff:
        activity_id = shift_places.shift_activity(service, s.shift_id)
        own_organisation(who, records.organisation_of(service, activity_id), kind="sign-up", ident=signup_id)
        return s
    raise NotFoundError("sign-up", signup_id)
