"""The one place where core errors become HTTP answers; every body says what to fix."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from matcher.errors import ConflictError, NotFoundError, ValidationError


def _body(loc: list[str], message: str, kind: str) -> dict[str, object]:
    return {"detail": [{"loc": loc, "msg": message, "type": kind}]}


def install(app: FastAPI) -> None:
    @app.exception_handler(ValidationError)
    async def _invalid(_: Request, e: ValidationError) -> JSONResponse:
        loc = ["body", e.field] if e.field else ["body"]
        return JSONResponse(_body(loc, e.message, "value_error"), status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _malformed(_: Request, e: RequestValidationError) -> JSONResponse:
        # The offending input is not echoed back: it may be huge, or NaN (which JSON cannot carry).
        detail = [
            {
                "loc": [str(part) for part in err.get("loc", ())],
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in e.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(NotFoundError)
    async def _missing(_: Request, e: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=404)

    @app.exception_handler(ConflictError)
    async def _conflict(_: Request, e: ConflictError) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=409)
