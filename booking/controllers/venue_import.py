"""Importing venues from a file over HTTP: `POST /api/v1/venues:import` (network admin)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, post

from booking.services import venue_import
from service.kernel.auth import allow
from service.kernel.identity import Role


class ImportRow(msgspec.Struct):
    line: int  # the CSV line (the header is line 1), or the feature's number in a GeoJSON file
    action: str  # create | update | unchanged | refuse
    name: str
    key: str  # the SIRET, else the stable reference the venue is matched by
    venue_id: uuid.UUID | None
    field: str | None
    reason: str | None
    changes: list[str]


class VenueImportOut(msgspec.Struct):
    dry_run: bool
    status: str
    created: int
    updated: int
    unchanged: int
    refused: int
    rows: list[ImportRow]

    @classmethod
    def of(cls, report: venue_import.ImportReport) -> VenueImportOut:
        return cls(
            dry_run=report.dry_run,
            status=report.status,
            created=report.count("create"),
            updated=report.count("update"),
            unchanged=report.count("unchanged"),
            refused=report.count("refuse"),
            rows=[
                ImportRow(
                    line=r.line,
                    action=r.action,
                    name=r.name,
                    key=r.key,
                    venue_id=r.venue_id,
                    field=r.field,
                    reason=r.reason,
                    changes=r.changes,
                )
                for r in report.rows
            ],
        )


class VenueImportController(Controller):
    path = "/venues:import"
    tags = ["catalogue"]

    @post(
        "",
        opt=allow(Role.NETWORK_ADMIN),
        status_code=200,
        summary="Import venues from a CSV or GeoJSON file (the open-data exports' shapes)",
        description=(
            "The body is the file itself. `dry_run=true` answers what would be created, updated"
            " and refused, line by line, and changes nothing. New venues start as `status`"
            " (applied or approved); venues already here keep theirs."
        ),
        request_max_body_size=venue_import.MAX_IMPORT_BYTES,
    )
    async def import_file(
        self,
        request: Request[Any, Any, Any],
        dry_run: bool = False,
        status: Literal["applied", "approved"] = "applied",
    ) -> VenueImportOut:
        report = await venue_import.import_venues(
            await request.body(), status=status, dry_run=dry_run
        )
        return VenueImportOut.of(report)
