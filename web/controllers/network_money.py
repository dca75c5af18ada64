"""The network console's money: the month close, invoices and payments, bank import, payouts."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from billing import bank, payouts, rendering, services
from billing.close import NETWORK_TZ, close_period, paris_today, period_status
from billing.jobs import network_identity, queue_close
from service.kernel.auth import CurrentPrincipal
from service.kernel.csv_export import csv_download, csv_records
from service.kernel.errors import DomainError, InvalidValue, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Principal
from web.console_flow import Refused, done_message, done_redirect, file_or_rendering_page, submit
from web.consoles import Form
from web.controllers.network import (
    NETWORK,
    console,
    month_choices,
    not_found,
    pick_month,
    refusal_text,
)
from web.i18n import format_time, month_label, translate
from web.labels import NW_PAYOUTS_DONE
from web.pages import language

Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
# While a close runs, its page reloads itself this often (seconds): no JavaScript needed.
REFRESH_SECONDS = 3
SUMMARY_BY = ("organisation", "venue", "commune")
MARKABLE = ("sent", "paid", "failed")
# The statement and the form's envelope (its other fields, the multipart boundaries).
MAX_STATEMENT_BYTES = bank.MAX_STATEMENT_BYTES + 64_000


def _default_month() -> date:
    today = paris_today()
    return month_choices(today, 2)[1]


def _period(request: Request[Any, Any, Any], text: str | None) -> tuple[date, str | None]:
    month, error = pick_month(text, _default_month())
    return month, translate(language(request), error) if error else None


class NetworkMoneyController(Controller):
    path = "/network"
    include_in_schema = False

    # The month close

    @get("/close", opt=NETWORK)
    async def close_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        month, error = _period(request, request.query_params.get("month"))
        return await self._close_page(
            request, month, status_code=422 if error else 200, error=error
        )

    async def _close_page(
        self,
        request: Request[Any, Any, Any],
        month: date,
        *,
        status_code: int = 200,
        error: str | None = None,
        refusal: str | None = None,
        dry_run: Any = None,
    ) -> Response[Any]:
        lang = language(request)
        status = dict(await period_status(month))
        if isinstance(status["progress"], str):  # JSONB comes back as text from Piccolo
            status["progress"] = json.loads(status["progress"] or "{}")
        summary = await services.summary(month) if status["status"] == "closed" else None
        principal = request.scope["user"]
        invoices: list[dict[str, Any]] = []
        statements: list[dict[str, Any]] = []
        if summary is not None:
            invoices, _ = await services.list_documents(principal, "invoice", month, 500, 0)
            statements, _ = await services.list_documents(principal, "statement", month, 500, 0)
        closing = status["status"] == "closing" or request.query_params.get("queued") == "1"
        return console(
            request,
            "network/close.html",
            title=N_("Month close"),
            status_code=status_code,
            month=month,
            period=month.strftime("%Y-%m"),
            month_label=month_label(lang, month),
            months=[(m, month_label(lang, m)) for m in month_choices(paris_today())],
            status=status,
            closing=closing and status["status"] != "closed",
            refresh=REFRESH_SECONDS if closing and status["status"] != "closed" else None,
            waiting_since=(
                format_time(lang, status["waiting_since"].astimezone(NETWORK_TZ))
                if status.get("waiting_since")
                else None
            ),
            summary=summary,
            invoices=invoices,
            statements=statements,
            dry_run=dry_run,
            error=error,
            refusal=refusal,
            by_kinds=SUMMARY_BY,
        )

    @post("/close", opt=NETWORK)
    async def close(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        """A dry run answers the totals at once; a close is queued to the worker, as the API does."""
        month, error = _period(request, data.get("month"))
        errors: dict[str, str] = {}
        if error or not data.get("month"):
            errors["month"] = error or translate(
                language(request), N_("Pick a month from the list (YYYY-MM).")
            )
        network = network_identity(request.app.state.settings)

        async def close_or_queue() -> Response[Any]:
            if data.get("mode") == "dry_run":
                result = await close_period(month, network, dry_run=True)
                return await self._close_page(request, month, dry_run=result)
            # Refuses a month not over (on the page rather than in the worker's log); records
            # the close in PostgreSQL, then queues it, as the API does.
            await queue_close(request.app.state.redis, month)
            return Redirect(f"/network/close?month={month:%Y-%m}&queued=1", status_code=303)

        async def again(errors: dict[str, str], status_code: int) -> Response[Any]:
            return await self._close_page(
                request,
                month,
                status_code=status_code,
                error=errors.get("month"),
                refusal=errors.get("refusal"),
            )

        def refused(failure: DomainError) -> Refused:
            status, text = refusal_text(language(request), failure)
            return status, {"refusal": text}

        return await submit(errors, close_or_queue, again, refused, catch=(DomainError,))

    @get("/close/{period:str}/summary.csv", opt=NETWORK)
    async def summary_csv(self, request: Request[Any, Any, Any], period: str) -> Response[Any]:
        by = request.query_params.get("by") or "venue"
        try:
            month = services.parse_period(period)
        except InvalidValue:
            return not_found(request)
        if by not in SUMMARY_BY:
            return not_found(request)
        rows = (await services.summary(month))[f"by_{by}"]
        columns = [c for c in (rows[0].keys() if rows else ["name"]) if c != "id"]
        return csv_download(csv_records(columns, rows), f"synthese-{period}-{by}.csv")

    @get("/documents/{document_id:uuid}/pdf", opt=NETWORK)
    async def document_pdf(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, document_id: uuid.UUID
    ) -> Response[Any]:
        """An issued document's Factur-X PDF; while the worker renders it, a page says so."""
        document = await _any_document(principal, document_id)
        if document is None:
            return not_found(request)

        async def waiting_page() -> Response[Any]:
            return console(
                request,
                "network/rendering.html",
                title=N_("Document being prepared"),
                document=document,
            )

        return await file_or_rendering_page(request, document, rendering.FACTURX_PDF, waiting_page)

    # Invoices, payments, bank statements

    @get("/invoices", opt=NETWORK)
    async def invoices(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        return await self._invoices_page(request, principal)

    async def _invoices_page(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        *,
        status_code: int = 200,
        imported: bank.ImportResult | None = None,
        file_error: str | None = None,
    ) -> Response[Any]:
        lang = language(request)
        text = request.query_params.get("month")
        month, error = _period(request, text) if text else (None, None)
        rows, total = await services.list_documents(principal, "invoice", month, 200, 0)
        unmatched, _ = await bank.entries("unmatched", 100, 0)
        partial, _ = await bank.entries("partial", 100, 0)
        return console(
            request,
            "network/invoices.html",
            title=N_("Invoices and payments"),
            status_code=422 if error else status_code,
            error=error,
            month=month,
            months=[(m, month_label(lang, m)) for m in month_choices(paris_today())],
            invoices=rows,
            total=total,
            unmatched=unmatched,
            partial=partial,
            imported=imported,
            file_error=file_error,
        )

    @post("/bank-statements", opt=NETWORK, request_max_body_size=MAX_STATEMENT_BYTES)
    async def import_statement(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Upload
    ) -> Response[Any]:
        lang = language(request)
        upload = data.get("file")
        errors: dict[str, str] = {}
        content = b""
        if not isinstance(upload, UploadFile) or not upload.filename:
            errors["file"] = translate(lang, N_("Choose a file."))
        else:
            content = await upload.read()
            if not content.strip():
                errors["file"] = translate(lang, N_("This file is empty."))

        async def import_statement() -> Response[Any]:
            assert isinstance(upload, UploadFile)
            result = await bank.import_statement(content, upload.content_type or "")
            return await self._invoices_page(request, principal, imported=result)

        async def again(errors: dict[str, str], status_code: int) -> Response[Any]:
            return await self._invoices_page(
                request, principal, status_code=status_code, file_error=errors["file"]
            )

        def refused(error: DomainError) -> Refused:
            return 422, {"file": translate(lang, error.message, **error.params)}

        return await submit(errors, import_statement, again, refused)

    # Payouts

    @get("/payouts", opt=NETWORK)
    async def payouts_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        month, error = _period(request, request.query_params.get("month"))
        return await self._payouts_page(
            request, month, status_code=422 if error else 200, error=error
        )

    async def _payouts_page(
        self,
        request: Request[Any, Any, Any],
        month: date,
        *,
        status_code: int = 200,
        error: str | None = None,
        refusal: str | None = None,
    ) -> Response[Any]:
        lang = language(request)
        return console(
            request,
            "network/payouts.html",
            title=N_("Payouts to venues"),
            status_code=status_code,
            month=month,
            period=month.strftime("%Y-%m"),
            month_label=month_label(lang, month),
            months=[(m, month_label(lang, m)) for m in month_choices(paris_today())],
            payouts=await payouts.listing(month),
            error=error,
            refusal=refusal,
            done=done_message(request, NW_PAYOUTS_DONE, ("prepared", *MARKABLE)),
            markable=MARKABLE,
        )

    @post("/payouts/prepare", opt=NETWORK)
    async def prepare(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        month, error = _period(request, data.get("month") or "-")
        if error:
            return await self._payouts_page(request, month, status_code=422, error=error)
        await payouts.prepare(month)
        return done_redirect(f"/network/payouts?month={month:%Y-%m}", "prepared")

    @post("/payouts/sepa", opt=NETWORK)
    async def sepa(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        """The pain.001 file to upload to the bank (its payouts move to `in_file`)."""
        month, error = _period(request, data.get("month") or "-")
        if error:
            return await self._payouts_page(request, month, status_code=422, error=error)
        try:
            xml = await payouts.sepa_file(
                month, network_identity(request.app.state.settings), paris_today()
            )
        except DomainError as failure:
            status, text = refusal_text(language(request), failure)
            return await self._payouts_page(request, month, status_code=status, refusal=text)
        return Response(
            xml,
            status_code=200,
            media_type="application/xml",
            headers={"Content-Disposition": f'attachment; filename="virements-{month:%Y-%m}.xml"'},
        )

    @post("/payouts/{payout_id:uuid}/status", opt=NETWORK)
    async def mark(
        self, request: Request[Any, Any, Any], payout_id: uuid.UUID, data: Form
    ) -> Response[Any]:
        status = data.get("status", "")
        month, _ = _period(request, data.get("month"))
        if status not in MARKABLE:
            return await self._payouts_page(
                request,
                month,
                status_code=422,
                refusal=translate(language(request), N_("Invalid value.")),
            )
        try:
            payout = await payouts.mark(payout_id, status)
        except NotFound:
            return not_found(request)
        return done_redirect(
            f"/network/payouts?month={month:%Y-%m}", status, f"payout-{payout['id']}"
        )


async def _any_document(principal: Principal, document_id: uuid.UUID) -> dict[str, Any] | None:
    for kind in services.DOCUMENT_KINDS:
        try:
            return await services.get_document(principal, kind, document_id)
        except NotFound:
            continue
    return None
