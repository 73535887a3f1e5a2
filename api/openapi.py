"""The answers every operation can give besides its own, written into the OpenAPI schema.

FastAPI documents a route's success and, where it takes input, 422. The service also answers:

- 401 (no or a bad token) and 429 (the token's request budget is spent) on every route that
  needs a sign-in, and 403 where some roles may not call it (its ``x-policy``);
- 404 where the path names a record (missing, or someone else's), and on writes, whose bodies
  name records too;
- 409 on writes (a record that exists, a state that changed, an idempotency key in flight);
- 400 and 413 where a body is taken (not JSON; over the size limit);
- 422 on every operation (query parameters it does not take are refused, not ignored); its
  body is either FastAPI's list of field errors or a sentence (rules across fields);
- 503 wherever the database is used (down, restarting, or a statement over the time limit),
  always with ``Retry-After``;
- calendar feeds (``.ics``) answer ``text/calendar``.

Clients generated from the schema then know every answer they can get, and the fuzz tests
(``tests/api/test_fuzz.py``) hold the service to it: an answer not documented fails them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from matcher.model.vocabulary import Role

PROBLEM = {
    "title": "Problem",
    "type": "object",
    "properties": {"detail": {"description": "what went wrong and what to do about it"}},
    "required": ["detail"],
}
_SENTENCE = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
ROLES = set(Role)
WRITES = {"post", "put", "patch", "delete"}
NO_DATABASE = {"/health"}

WHY = {
    "400": "The body could not be read as JSON.",
    "401": "Sign in: no token, or one that is not valid.",
    "403": "The caller's role may not do this.",
    "404": "No such record, or not one the caller may see.",
    "409": "Conflicts with the record's state, or the same idempotency key is still in flight.",
    "413": "The body is over the size limit.",
    "429": "Too many requests with this token: wait as long as Retry-After says.",
    "503": "The database is unavailable or too slow right now; nothing was changed: retry after Retry-After.",
}


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` document every answer above (built once, then kept)."""

    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            doc.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
            for path, operations in doc.get("paths", {}).items():
                for method, op in operations.items():
                    _document(path, method, op)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = schema  # type: ignore[method-assign]


def _document(path: str, method: str, op: dict[str, Any]) -> None:
    roles = set(op.get("x-policy", {}).get("roles", ["anyone"]))
    codes = []
    if "anyone" not in roles:
        codes += ["401", "429"]
        if roles != ROLES:
            codes.append("403")
    if "{" in path or method in WRITES:
        codes.append("404")
    if method in WRITES:
        codes.append("409")
    if "requestBody" in op:
        codes += ["400", "413"]
    if path not in NO_DATABASE:
        codes.append("503")
    responses = op.setdefault("responses", {})
    if "422" not in responses:  # a query parameter the operation does not take, at least
        responses["422"] = {"description": "The input breaks the rules: the detail says which and why."}
    if "422" in responses:
        invalid = {"anyOf": [{"$ref": "#/components/schemas/HTTPValidationError"}, _SENTENCE]}
        responses["422"]["content"] = {"application/json": {"schema": invalid}}
    if path.endswith(".ics"):
        responses["200"]["content"] = {"text/calendar": {"schema": {"type": "string"}}}
    for code in codes:
        responses.setdefault(
            code,
            {
                "description": WHY[code],
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
        )
