"""Bulk import and export in the interchange format of ``volmatch load`` / ``volmatch export``."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from api.deps import CallerDep, LiveDep, NowDep, policy
from api.usecases import audit, records

router = APIRouter(prefix="/api/v1", tags=["bulk"])


_IMPORT = policy("admins only", "admin")
_IMPORT["openapi_extra"]["requestBody"] = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object", "description": "a `volmatch export` document"}}
    },
}


@router.post("/import", **_IMPORT)
async def import_document(request: Request, service: LiveDep) -> dict[str, int]:
    """All or nothing: a bad record rejects the whole document, naming the record and field.
    The body may be up to the import limit (256 MiB by default), not the usual 1 MiB."""
    raw = await request.body()
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise HTTPException(422, f"the body is not JSON: {e}") from e
    return await run_in_threadpool(records.import_document, service, document)


@router.get("/export", **policy("admins only", "admin"))
def export_document(service: LiveDep, who: CallerDep, clock: NowDep) -> dict[str, Any]:
    """Everything, personal data included: recorded in the audit log (``export.all``)."""
    document = records.export(service)
    volunteers = document.get("volunteers")
    detail = f"{len(volunteers) if isinstance(volunteers, list) else 0:,} volunteers"
    audit.record(service, who.account.id, who.role, "export.all", [None], int(clock.timestamp()), detail)
    return document
