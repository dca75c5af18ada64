"""`GET /api/v1/audit`: the network admins read the audit trail, filtered, paginated, or as CSV."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, get
from litestar.params import Parameter

from service.kernel import audit
from service.kernel.auth import allow
from service.kernel.csv_export import csv_download, csv_text
from service.kernel.identity import Role
from service.kernel.openapi import CSV_ALTERNATIVE
from service.kernel.pagination import Limit, Offset, Page


class AuditEntryOut(msgspec.Struct):
    id: int
    at: datetime
    actor_kind: str
    actor: uuid.UUID | None
    actor_role: str | None
    action: str
    object_type: str
    object_id: str | None
    # {field: [before, after]}; secrets never, a person's contact details as "(changed)".
    changes: dict[str, Any]
    request_id: str | None


CSV_COLUMNS = [c for c in audit.COLUMNS if c != "changes"] + ["changes"]
# The CSV holds every matching row, not one page (narrow it with the filters), up to this.
CSV_MAX_ROWS = 100_000


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]

    @get(
        "",
        opt={**allow(Role.NETWORK_ADMIN), **CSV_ALTERNATIVE},
        summary="The audit trail, newest first (JSON, or CSV with ?format=csv)",
    )
    async def list_entries(
        self,
        actor: uuid.UUID | None = None,
        actor_kind: Literal["person", "device", "system"] | None = None,
        action: str | None = None,
        object_type: str | None = None,
        object_id: str | None = None,
        since: Annotated[str | None, Parameter(query="from", description="YYYY-MM-DD")] = None,
        until: Annotated[str | None, Parameter(query="to", description="YYYY-MM-DD")] = None,
        format: Literal["json", "csv"] = "json",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Response[Any]:
        filters = audit.Filters(
            actor,
            actor_kind,
            action,
            object_type,
            object_id,
            audit.day(since, "from"),
            audit.day(until, "to"),
        )
        if format == "csv":
            rows, _ = await audit.entries(filters, CSV_MAX_ROWS, 0)
            text = csv_text(
                CSV_COLUMNS,
                (
                    [
                        *(row[c] for c in CSV_COLUMNS[:-1]),
                        msgspec.json.encode(row["changes"]).decode(),
                    ]
                    for row in rows
                ),
            )
            return csv_download(text, "journal-audit.csv")
        rows, total = await audit.entries(filters, limit, offset)
        return Response(
            Page([msgspec.convert(r, AuditEntryOut) for r in rows], total, limit, offset)
        )
