"""The web console at ``/``: pages for volunteers, organisers and analysts (see
:mod:`api.web.base` for how a page is built and what it may do)."""

from __future__ import annotations

from typing import Any

from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.web import analysts, community, links, organisers, profile, volunteers
from api.web.base import HERE, FormExpired, Refused, _expired, _http_error, _refused, router


def install(app: Any) -> None:
    """Mount the console's pages and static files on the app."""
    app.add_exception_handler(FormExpired, _expired)
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (volunteers, profile, organisers, analysts, links, community):
        app.include_router(module.router)
    app.include_router(router)
