"""The web console at ``/``: server-rendered pages (Jinja2, htmx) for volunteers, organisers and
analysts, in Chinese and English, phone first.

Pages hold no rules of their own. Each action calls the API's own route function with the
signed-in caller (``api/routes/*``), so the console has the API's roles, ownership checks,
privacy rules and validation by construction: an organiser's page is built from the same
answer an organiser's API call gets (district and distance band, never a home or contact).

Sessions: signing in (account name and password, or an access token from ``volmatch user``)
sets an HttpOnly, SameSite=Lax cookie holding a signed token. Every form post carries a CSRF
token that must equal the one in the ``vm_csrf`` cookie (double submit; htmx sends it as a
header). Jinja2 escapes every value. The language is the ``vm_lang`` cookie, else the
browser's preference.
"""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError as PydanticError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import problems
from api.auth import BadToken, account_id_from, issue_token, token_claims, utcnow
from api.deps import Caller, caller_for
from api.errors import method_not_allowed
from api.live import Live
from api.usecases import accounts, joining, notifications
from api.web.i18n import LANGUAGES, pick_language, translate
from matcher.model.domain import category_label
from matcher.model.errors import MatcherError, NotFoundError, ValidationError

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["category_label"] = category_label
SESSION, CSRF, LANG = "vm_session", "vm_csrf", "vm_lang"
SESSION_HOURS = 12
HOME = {
    "volunteer": "/me",
    "organiser": "/org",
    "org_admin": "/org",
    "analyst": "/analytics",
    "admin": "/analytics",
}


@dataclass(frozen=True)
class Page:
    """Who is looking and in which language, and the form token to post back."""

    request: Request
    who: Caller | None
    lang: str
    csrf: str
    unread: int = 0  # a volunteer's unread messages, shown beside the inbox link on every page

    def t(self, key: str) -> str:
        return translate(key, self.lang)

    @property
    def volunteer_id(self) -> str:
        """The signed-in volunteer's id (volunteers' pages only)."""
        ident = self.caller.account.volunteer_id
        if ident is None:
            raise HTTPException(403, "volunteers only")
        return ident

    @property
    def caller(self) -> Caller:
        """The signed-in caller (pages ask :func:`page_as` first)."""
        if self.who is None:
            raise HTTPException(401, "sign in first")
        return self.who

    @property
    def service(self) -> Live:
        service: Live = self.request.app.state.live
        return service

    @property
    def now(self) -> datetime:
        now: datetime = self.request.app.state.clock()
        return now


async def page_for(request: Request) -> Page:
    """Who is signed in, and their language: the one they chose (kept with their account, so it
    follows them to any device), else this browser's choice, else the browser's preference."""
    csrf = request.cookies.get(CSRF) or secrets.token_urlsafe(24)
    who = None
    chosen = request.cookies.get(LANG)
    token = request.cookies.get(SESSION)
    service: Live = request.app.state.live
    if token:
        try:
            ident, session = token_claims(token, request.app.state.signing_key)
        except BadToken:
            ident, session = None, None
        if ident is not None and not (session is not None and service.revoked(session)):
            request.app.state.budget.check(ident, "requests from this account")
            account = accounts.cached(service, ident) or await run_in_threadpool(accounts.get, service, ident)
            who = None if account is None else caller_for(service, account, session)
    unread = 0
    if who is not None:
        chosen = await run_in_threadpool(accounts.language, service, who.account.id) or chosen
        if who.account.volunteer_id is not None:
            unread = await run_in_threadpool(
                notifications.unread, service, who.account.volunteer_id, request.app.state.clock()
            )
    return Page(request, who, pick_language(chosen, request.headers.get("accept-language")), csrf, unread)


def render(page: Page, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    response = templates.TemplateResponse(
        page.request,
        template,
        {
            "page": page,
            "t": page.t,
            "who": page.who,
            "lang": page.lang,
            "csrf": page.csrf,
            "error": page.request.query_params.get("error"),
            "ok": page.request.query_params.get("ok"),
            **context,
        },
        status_code=status,
    )
    set_cookie(page.request, response, CSRF, page.csrf, http_only=False)
    return response


def set_cookie(request: Request, response: Response, name: str, value: str, *, http_only: bool = True,
            max_age: int | None = None) -> None:  # fmt: skip
    response.set_cookie(name, value, httponly=http_only, samesite="lax", secure=request.url.scheme == "https",
                        max_age=max_age)  # fmt: skip


class FormExpired(Exception):
    """A form posted without this browser's CSRF token (from another site, or a stale page)."""


async def form_of(page: Page) -> dict[str, str]:
    """The posted form, once its CSRF token is checked (else 403)."""
    form = await page.request.form()
    sent = str(form.get("csrf") or page.request.headers.get("x-csrf-token") or "")
    cookie = page.request.cookies.get(CSRF, "")
    if not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):  # bytes: any text
        raise FormExpired
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


def back(path: str, *, ok: str | None = None, error: str | None = None) -> RedirectResponse:
    """Post/redirect/get, with a short message for the next page."""
    if ok is not None:
        path += ("&" if "?" in path else "?") + "ok=" + quote(ok)
    if error is not None:
        path += ("&" if "?" in path else "?") + "error=" + quote(error[:300])
    return RedirectResponse(path, status_code=303)


def problem(e: Exception, lang: str) -> str:
    """What went wrong, as the API would say it, in the page's language (:mod:`api.problems`)."""
    if isinstance(e, HTTPException):
        return str(e.detail)
    if isinstance(e, PydanticError):
        return "; ".join(problems.field_message(err["loc"], problems.pydantic_message(err, lang), lang)
                         for err in e.errors())  # fmt: skip
    if isinstance(e, ValidationError):
        return problems.field_message([e.field], problems.core_message(e.message, lang), lang)
    if isinstance(e, NotFoundError) and lang == "zh":
        return f"找不到 id 为 {e.ident!r} 的记录"
    return str(e)


async def attempt(page: Page, path: str, ok: str, action: Callable[[], Awaitable[Any]]) -> RedirectResponse:
    """Run an action of the API; back to ``path`` with ``ok`` or with what went wrong."""
    try:
        await action()
    except (MatcherError, HTTPException, PydanticError) as e:
        return back(path, error=problem(e, page.lang))
    return back(path, ok=ok)


class Refused(Exception):
    """The caller may not see the page: ``response`` sends them to sign in, or says no."""

    def __init__(self, response: Response) -> None:
        self.response = response


async def page_as(request: Request, *roles: str) -> Page:
    """The page for a caller signed in with one of ``roles``; else :class:`Refused` (to the
    sign-in page, or 403)."""
    page = await page_for(request)
    if page.who is None:
        raise Refused(back("/login?next=" + quote(request.url.path)))
    if page.who.role not in roles:
        raise Refused(render(page, "error.html", 403, message=page.t("forbidden")))
    return page


async def _refused(_: Request, e: Exception) -> Response:
    assert isinstance(e, Refused)
    return e.response


router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> Response:
    page = await page_for(request)
    if page.who is None:
        return render(page, "login.html")
    return back(HOME[page.who.role])


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> Response:
    return render(await page_for(request), "login.html")


@router.post("/login")
async def login(request: Request) -> Response:
    page = await page_for(request)
    form = await form_of(page)
    service = page.service
    account = None
    if form.get("token"):
        try:
            account = await run_in_threadpool(
                accounts.get, service, account_id_from(form["token"].strip(), request.app.state.signing_key)
            )
        except BadToken:
            account = None
    elif form.get("name") and form.get("password"):
        address = request.client.host if request.client is not None else "unknown"
        wait = max(request.app.state.sign_ins.take(form["name"][:200]),
                   request.app.state.sign_ins_by_address.take(address))  # fmt: skip
        if wait > 0:
            seconds = str(max(1, math.ceil(wait)))
            refused = render(page, "login.html", 429, error=page.t("sign_in_wait").format(seconds=seconds))
            refused.headers["Retry-After"] = seconds
            return refused
        try:  # the API's sign-in: the same rules, and a session that signing out ends
            tokens = await run_in_threadpool(
                joining.sign_in, service, request.app.state.signing_key, form["name"][:200].strip(),
                form["password"], utcnow(), SESSION_HOURS * 60,
            )  # fmt: skip
        except joining.Refused as e:
            return render(page, "login.html", 401, error=page.t("bad_login") + f" ({e})")
        response = back(_next(form.get("next", ""), str(tokens["role"])))
        set_cookie(request, response, SESSION, str(tokens["access_token"]), max_age=SESSION_HOURS * 3600)
        return response
    if account is None:
        return render(page, "login.html", 401, error=page.t("bad_login"))
    token = issue_token(account, request.app.state.signing_key, now=utcnow(), ttl_hours=SESSION_HOURS)
    response = back(_next(form.get("next", ""), account.role))
    set_cookie(request, response, SESSION, token, max_age=SESSION_HOURS * 3600)
    return response


def _next(target: str, role: str) -> str:
    """Where to go after signing in: the page asked for (on this site), else the role's home."""
    return target if target.startswith("/") and not target.startswith("//") else HOME[role]


@router.post("/logout")
async def logout(request: Request) -> Response:
    page = await page_for(request)
    await form_of(page)
    if page.who is not None and page.who.session is not None:
        await run_in_threadpool(joining.sign_out, page.service, page.who.session, utcnow())
    response = back("/login")
    response.delete_cookie(SESSION)
    return response


@router.post("/lang")
async def switch_language(request: Request) -> Response:
    page = await page_for(request)
    form = await form_of(page)
    lang = form.get("lang") if form.get("lang") in LANGUAGES else ("en" if page.lang == "zh" else "zh")
    if page.who is not None:
        await run_in_threadpool(accounts.set_language, page.service, page.who.account.id, str(lang))
    target = form.get("next", "/")
    response = back(target if target.startswith("/") and not target.startswith("//") else "/")
    set_cookie(request, response, LANG, str(lang), max_age=365 * 86400)
    return response


async def _expired(request: Request, _: Exception) -> Response:
    page = await page_for(request)
    return render(page, "error.html", 403, message=page.t("expired_form"))


@router.get("/docs", response_class=HTMLResponse)
async def docs(request: Request) -> Response:
    """The API's interactive documentation (Swagger UI, vendored in static/swagger: no CDN)."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url, title="volmatch API",
        swagger_js_url="/static/swagger/swagger-ui-bundle.js", swagger_css_url="/static/swagger/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )  # fmt: skip


@router.get("/favicon.ico")
async def favicon() -> Response:
    return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")


async def _http_error(request: Request, e: Exception) -> Response:
    """The API answers in JSON as ever; a page that does not exist (or may not be seen) is the
    console's own error page."""
    assert isinstance(e, StarletteHTTPException)
    if e.status_code == 405:
        e = method_not_allowed(request, e)
    if request.url.path.startswith(("/api/", "/static/", "/health", "/ready", "/openapi")):
        return await http_exception_handler(request, e)
    page = await page_for(request)
    message = page.t("not_found") if e.status_code == 404 else str(e.detail)
    return render(page, "error.html", e.status_code, message=message)
