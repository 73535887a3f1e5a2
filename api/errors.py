"""The one place where core errors become HTTP answers; every body says what to fix."""

from __future__ import annotations

import logging
import re
import sqlite3

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api import problems
from matcher.model.errors import ConflictError, NotFoundError, ValidationError
from matcher.store.operations import TeamRefused

RETRY_AFTER_S = 2
"""What a 503 asks the client to wait before trying again."""

log = logging.getLogger("volmatch.errors")


def method_not_allowed(request: Request, e: StarletteHTTPException) -> StarletteHTTPException:
    """A 405 whose ``Allow`` lists every method the path takes: FastAPI makes a route per
    method, and Starlette's own 405 names only the first route's."""
    allowed = set()
    for route in request.app.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            allowed |= set(getattr(route, "methods", None) or ())
    allowed.discard("HEAD")
    return StarletteHTTPException(405, e.detail, headers={"Allow": ", ".join(sorted(allowed))})


KINDS_ZH = {"volunteer": "志愿者", "activity": "活动", "shift": "班次", "signup": "报名", "account": "账号",
            "need": "需求", "allocation": "分配方案", "service record": "服务记录", "model": "模型",
            "organisation": "组织", "team": "小队", "station": "服务站点", "invitation": "邀请",
            "membership": "成员资格", "membership request": "入会申请"}  # fmt: skip


def _where(request: Request, field: str) -> str:
    """Where a core error's field came from: the path, the query string or the body."""
    root = re.split(r"[.\[]", field, maxsplit=1)[0]
    if root in request.path_params:
        return "path"
    if root in request.query_params:
        return "query"
    return "body"


def _lang(request: Request) -> str:
    return problems.language(request.headers.get("accept-language"))


def install(app: FastAPI) -> None:
    @app.exception_handler(ValidationError)
    async def _invalid(request: Request, e: ValidationError) -> JSONResponse:
        loc = [_where(request, e.field), e.field] if e.field else ["body"]
        message = problems.core_message(e.message, _lang(request))
        return JSONResponse(
            {"detail": [{"loc": loc, "msg": message, "type": "value_error", "code": "value_error"}]},
            status_code=422,
        )

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, e: RequestValidationError) -> JSONResponse:
        # The offending input is not echoed back: it may be huge, or NaN (which JSON cannot carry).
        lang = _lang(request)
        detail = [
            {
                "loc": [str(part) for part in err.get("loc", ())],
                "msg": problems.pydantic_message(err, lang),
                "type": err.get("type", ""),
                "code": err.get("type", ""),
            }
            for err in e.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(NotFoundError)
    async def _missing(request: Request, e: NotFoundError) -> JSONResponse:
        if _lang(request) == "zh":
            return JSONResponse({"detail": f"找不到 id 为 {e.ident!r} 的{KINDS_ZH.get(e.kind, e.kind)}"}, 404)
        return JSONResponse({"detail": str(e)}, status_code=404)

    @app.exception_handler(TeamRefused)
    async def _team_refused(_: Request, e: TeamRefused) -> JSONResponse:
        failed = [{"volunteer_id": k or None, "reason": v} for k, v in e.failed.items()]
        return JSONResponse({"detail": f"no one is signed up: {e}", "failed": failed}, status_code=409)

    @app.exception_handler(ConflictError)
    async def _conflict(_: Request, e: ConflictError) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=409)

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(psycopg.InterfaceError)  # a connection lost between statements
    async def _postgres_down(_: Request, e: psycopg.Error) -> JSONResponse:
        # Also a statement cancelled by the statement timeout (QueryCanceled) and no free
        # connection within the pool's wait (PoolTimeout): both are "try again shortly".
        slow = isinstance(e, psycopg.errors.QueryCanceled)
        return _unavailable("slow" if slow else "down", type(e).__name__)

    @app.exception_handler(sqlite3.OperationalError)
    async def _sqlite_busy(_: Request, e: sqlite3.OperationalError) -> JSONResponse:
        message = str(e)
        if "interrupted" in message:
            return _unavailable("slow", "interrupted")
        if "locked" in message or "busy" in message:
            return _unavailable("down", "locked")
        raise e  # anything else is a bug: a 500, with its traceback in the log


def _unavailable(why: str, kind: str) -> JSONResponse:
    """503 with Retry-After. A write is one transaction, rolled back on a failure; only a
    connection lost during its commit leaves the outcome unknown, which a retry with the same
    idempotency key settles."""
    log.warning("database unavailable (%s): answered 503", kind)  # no query text, no values
    detail = (
        "the database took too long and the request was cancelled; try again, or ask for less"
        if why == "slow"
        else "the database is not answering right now (restarting or busy)"
    )
    return JSONResponse(
        {
            "detail": f"{detail}; the request was most likely not applied: try again in {RETRY_AFTER_S} s "
            "(a write with the same Idempotency-Key is safe to repeat)"
        },
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )
