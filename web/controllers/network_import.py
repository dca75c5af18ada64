"""The network console's venue import: a file, its preview line by line, then applying it."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile

from booking.services import venue_import
from service.kernel.errors import DomainError
from service.kernel.i18n import N_
from web.controllers.network import NETWORK, console
from web.controllers.network_money import Upload
from web.i18n import translate
from web.pages import language

# The file, or its preview's copy (base64, a third larger), and the form's envelope.
MAX_FORM_BYTES = venue_import.MAX_IMPORT_BYTES * 4 // 3 + 64_000


class NetworkImportController(Controller):
    path = "/network/venues/import"
    include_in_schema = False

    @get("", opt=NETWORK)
    async def form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return self._page(request)

    def _page(
        self,
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        file_error: str | None = None,
        report: venue_import.ImportReport | None = None,
        content: bytes = b"",
        status: str = "applied",
    ) -> Response[Any]:
        lang = language(request)
        return console(
            request,
            "network/venue_import.html",
            title=N_("Import venues"),
            status_code=status_code,
            file_error=file_error,
            report=report,
            reasons={
                row.line: translate(lang, row.message, **row.params)
                for row in (report.rows if report else [])
                if row.message
            },
            kept=base64.b64encode(content).decode() if report and report.dry_run else "",
            status=status,
        )

    @post("", opt=NETWORK, request_max_body_size=MAX_FORM_BYTES)
    async def submit(self, request: Request[Any, Any, Any], data: Upload) -> Response[Any]:
        """`preview` runs a dry run and keeps the file in the page; `apply` imports it."""
        lang = language(request)
        status = data.get("status") if data.get("status") in venue_import.STATUSES else None
        dry_run = data.get("apply") is None
        upload, kept = data.get("file"), data.get("kept")
        content = b""
        error: str | None = None
        if isinstance(upload, UploadFile) and upload.filename:
            content = await upload.read()
        elif isinstance(kept, str) and kept:
            try:
                content = base64.b64decode(kept, validate=True)
            except (binascii.Error, ValueError):
                error = translate(lang, N_("Choose a file."))
        if status is None:
            error = translate(lang, N_("Choose the status of the new venues."))
        elif not content.strip() and error is None:
            error = translate(lang, N_("Choose a file."))
        if error is not None:
            return self._page(
                request, status_code=422, file_error=error, status=status or "applied"
            )
        assert status is not None
        try:
            report = await venue_import.import_venues(content, status=status, dry_run=dry_run)
        except DomainError as refused:
            return self._page(
                request,
                status_code=422,
                file_error=translate(lang, refused.message, **refused.params),
                status=status,
            )
        return self._page(request, report=report, content=content, status=status)
