"""The network console's audit trail: who did which administrative act, when, on what."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get

from service.kernel import audit
from service.kernel.csv_export import csv_download, csv_text
from service.kernel.errors import InvalidValue
from service.kernel.i18n import N_
from web.controllers.network import NETWORK, console
from web.i18n import translate
from web.pages import language

PAGE_SIZE = 50
PARIS = ZoneInfo(audit.NETWORK_ZONE)
FIELDS = ("actor", "action", "object_type", "object_id", "from", "to")


@dataclass(frozen=True)
class Asked:
    """The filters as typed (shown back in the form), read or refused field by field."""

    values: dict[str, str]
    filters: audit.Filters
    errors: dict[str, str]
    page: int


def _read(request: Request[Any, Any, Any]) -> Asked:
    lang = language(request)
    values = {name: (request.query_params.get(name) or "").strip() for name in FIELDS}
    errors: dict[str, str] = {}
    actor: uuid.UUID | None = None
    if values["actor"]:
        try:
            actor = uuid.UUID(values["actor"])
        except ValueError:
            errors["actor"] = translate(lang, N_("A person is named by their id (a UUID)."))
    days = {}
    for name in ("from", "to"):
        try:
            days[name] = audit.day(values[name], name)
        except InvalidValue as error:
            days[name] = None
            errors[name] = translate(lang, error.message, **error.params)
    filters = audit.Filters(
        actor=actor,
        action=values["action"] or None,
        object_type=values["object_type"] or None,
        object_id=values["object_id"] or None,
        since=days["from"],
        until=days["to"],
    )
    if not errors:
        try:
            audit.check(filters)
        except InvalidValue as error:
            errors[error.field or "action"] = translate(lang, error.message, **error.params)
    page_text = request.query_params.get("page") or "1"
    page = int(page_text) if page_text.isdigit() and 0 < int(page_text) <= 100_000 else 1
    return Asked(values, filters, errors, page)


def _query(values: dict[str, str], **changes: Any) -> str:
    return urlencode({k: v for k, v in {**values, **changes}.items() if v})


class NetworkAuditController(Controller):
    path = "/network"
    include_in_schema = False

    @get("/audit", opt=NETWORK)
    async def audit_trail(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._page(request, _read(request))

    async def _page(self, request: Request[Any, Any, Any], asked: Asked) -> Response[Any]:
        rows: list[dict[str, Any]] = []
        total = 0
        if not asked.errors:
            rows, total = await audit.entries(
                asked.filters, PAGE_SIZE, (asked.page - 1) * PAGE_SIZE
            )
        for row in rows:
            row["local"] = row["at"].astimezone(PARIS)
        pages = max(1, -(-total // PAGE_SIZE))
        return console(
            request,
            "network/audit.html",
            title=N_("Audit trail"),
            status_code=422 if asked.errors else 200,
            rows=rows,
            total=total,
            values=asked.values,
            errors=asked.errors,
            page_number=asked.page,
            pages=pages,
            previous_query=_query(asked.values, page=str(asked.page - 1))
            if asked.page > 1
            else None,
            next_query=_query(asked.values, page=str(asked.page + 1))
            if asked.page < pages
            else None,
            csv_query=_query(asked.values),
        )

    @get("/audit.csv", opt=NETWORK)
    async def audit_csv(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The whole filtered trail, as the API's CSV (?format=csv) gives it."""
        asked = _read(request)
        if asked.errors:
            return await self._page(request, asked)
        rows, _ = await audit.entries(asked.filters, CSV_MAX_ROWS, 0)
        return csv_download(
            csv_text(
                CSV_COLUMNS,
                ([*(r[c] for c in CSV_COLUMNS[:-1]), json.dumps(r["changes"])] for r in rows),
            ),
            f"journal-audit-{datetime.now(PARIS):%Y-%m-%d}.csv",
        )


CSV_COLUMNS = [c for c in audit.COLUMNS if c != "changes"] + ["changes"]
CSV_MAX_ROWS = 100_000
