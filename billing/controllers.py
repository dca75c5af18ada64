"""The reconciliation over HTTP: periods and their close, documents, their lines, summaries."""

from __future__ import annotations

import uuid
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED

from billing import bank, credit_notes, fec, payouts, rendering, services
from billing.close import close_period, paris_today, period_status
from billing.jobs import network_identity, queue_close
from billing.schemas import (
    BankEntryOut,
    BankImportOut,
    CloseAccepted,
    DocumentDetail,
    DocumentSummary,
    DocumentTotals,
    DryRunResult,
    NewCreditNote,
    PayoutOut,
    PayoutStatus,
    PeriodOut,
    UsageOut,
)
from service.kernel.auth import CurrentPrincipal, allow
from service.kernel.csv_export import csv_download, csv_records
from service.kernel.idempotency import IdempotencyMiddleware
from service.kernel.identity import Role
from service.kernel.outages import REDIS, REDIS_DOWN, fell_back
from service.kernel.pagination import Limit, Offset, Page

NETWORK_ONLY = allow(Role.NETWORK_ADMIN)


class BillingPeriodController(Controller):
    path = "/billing/periods"
    tags = ["billing"]

    @get("/{period:str}", opt=NETWORK_ONLY, summary="A month's close status and progress")
    async def read(self, period: str) -> PeriodOut:
        return PeriodOut.from_row(await period_status(services.parse_period(period)))

    @post(
        "/{period:str}/close",
        opt=NETWORK_ONLY,
        status_code=HTTP_202_ACCEPTED,
        summary="Close a month (queued to a worker); ?dry_run=true answers the totals at once",
        responses=None,
    )
    async def close(
        self, request: Request[Any, Any, Any], period: str, dry_run: bool = False
    ) -> Response[Any]:
        month = services.parse_period(period)
        if dry_run:
            result = await close_period(
                month, network_identity(request.app.state.settings), dry_run=True
            )
            return Response(DryRunResult.from_result(result), status_code=200)
        # Recorded in PostgreSQL, then queued under one job id per month: asking twice while
        # it runs queues it once, and a job lost in Redis is queued again by the sweeper.
        status = await queue_close(request.app.state.redis, month)
        return Response(
            CloseAccepted(period=month.strftime("%Y-%m"), status=status, queued=status != "closed"),
            status_code=HTTP_202_ACCEPTED,
        )

    @get(
        "/{period:str}/summary",
        opt=NETWORK_ONLY,
        summary="Totals by organisation, venue and commune (JSON, or CSV with ?format=csv)",
        responses=None,
    )
    async def summary(
        self,
        period: str,
        format: Literal["json", "csv"] = "json",
        by: Literal["organisation", "venue", "commune"] = "venue",
    ) -> Response[Any]:
        data = await services.summary(services.parse_period(period))
        if format == "csv":
            rows = data[f"by_{by}"]
            columns = list(rows[0].keys()) if rows else ["name", "revenue_excl_cents"]
            return csv_download(csv_records(columns, rows), f"synthese-{period}-{by}.csv")
        return Response(data)


class AccountingExportController(Controller):
    path = "/billing/periods/{period:str}/fec"
    tags = ["billing"]

    @get(
        "",
        opt=NETWORK_ONLY,
        summary="The month's accounting entries in the FEC layout",
        responses=None,
    )
    async def fec(self, period: str) -> Response[bytes]:
        month = services.parse_period(period)
        return Response(
            (await fec.export(month)).encode("utf-8"),
            media_type="text/plain; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="FEC-{period}.txt"'},
        )


class PayoutController(Controller):
    path = "/billing/periods/{period:str}/payouts"
    tags = ["billing"]

    @post("", opt=NETWORK_ONLY, status_code=200, summary="Create the month's payouts (idempotent)")
    async def prepare(self, period: str) -> list[PayoutOut]:
        month = services.parse_period(period)
        await payouts.prepare(month)
        return [PayoutOut.from_row(r) for r in await payouts.listing(month)]

    @get("", opt=NETWORK_ONLY, summary="The month's payouts and how far each has gone")
    async def list_payouts(self, period: str) -> list[PayoutOut]:
        return [PayoutOut.from_row(r) for r in await payouts.listing(services.parse_period(period))]

    @post(
        "/sepa",
        opt=NETWORK_ONLY,
        status_code=200,
        summary="The SEPA credit-transfer file (pain.001.001.03) for the bank",
        responses=None,
    )
    async def sepa(self, request: Request[Any, Any, Any], period: str) -> Response[bytes]:
        month = services.parse_period(period)
        xml = await payouts.sepa_file(
            month, network_identity(request.app.state.settings), paris_today()
        )
        return Response(
            xml,
            media_type="application/xml",
            headers={"Content-Disposition": f'attachment; filename="virements-{period}.xml"'},
        )


class PayoutStatusController(Controller):
    path = "/payouts/{payout_id:uuid}"
    tags = ["billing"]

    @post("/status", opt=NETWORK_ONLY, status_code=200, summary="Record the bank's answer")
    async def set_status(self, payout_id: uuid.UUID, data: JSONBody[PayoutStatus]) -> PayoutOut:
        return PayoutOut.from_row(await payouts.mark(payout_id, data.status))


class BankStatementController(Controller):
    path = "/billing/bank-statements"
    tags = ["billing"]

    @post(
        "",
        opt=NETWORK_ONLY,
        status_code=200,
        summary="Import a bank statement (CAMT.053 XML or CSV date;amount;reference;label)",
        request_max_body_size=bank.MAX_STATEMENT_BYTES,
    )
    async def import_statement(self, request: Request[Any, Any, Any]) -> BankImportOut:
        body = await request.body()
        result = await bank.import_statement(body, request.headers.get("content-type", ""))
        return msgspec.convert(
            {
                "matched": result.matched,
                "partial": result.partial,
                "unmatched": result.unmatched,
                "already_imported": result.already_imported,
            },
            BankImportOut,
        )

    @get("/entries", opt=NETWORK_ONLY, summary="Imported credits; filter unmatched or partial")
    async def list_entries(
        self,
        status: Literal["matched", "partial", "unmatched"] | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[BankEntryOut]:
        rows, total = await bank.entries(status, limit, offset)
        return Page([msgspec.convert(r, BankEntryOut) for r in rows], total, limit, offset)


FILE_NAMES = {"invoice": "facture", "statement": "autofacturation", "credit_note": "avoir"}


async def document_file_response(
    redis: Any, document: dict[str, Any], file_kind: str
) -> Response[bytes] | None:
    """A rendered file of a document, or None after queueing its rendering if the worker has
    not made it yet (the API then answers 503, a page says so)."""
    content = await rendering.stored_file(document["id"], file_kind)
    if content is None:
        await redis.enqueue_job(
            "render_document", str(document["id"]), _job_id=f"render-document:{document['id']}"
        )
        return None
    name = f"{FILE_NAMES[document['kind']]}-{document['number']}"
    if file_kind == rendering.PLAIN_PDF:
        name += "-simple"
    media_type, suffix = (
        ("application/xml", "xml") if file_kind == rendering.CII_XML else ("application/pdf", "pdf")
    )
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{suffix}"',
            # An issued document never changes: clients and proxies may keep it.
            "Cache-Control": "private, max-age=86400, immutable",
        },
    )


async def queue_rendering(redis: Any, document_id: uuid.UUID) -> None:
    """Queue an issued document's rendering; without Redis it stays to render (not an error).

    The document is already committed: failing the request would tell the caller it was not
    issued. Its files are made when first asked for (`document_file_response`) or when the
    worker's sweep finds a document without them.
    """
    try:
        await redis.enqueue_job(
            "render_document", str(document_id), _job_id=f"render-document:{document_id}"
        )
    except REDIS_DOWN as error:
        fell_back(REDIS, "render-after-credit-note", error)


async def _document_file(
    request: Request[Any, Any, Any], document: dict[str, Any], file_kind: str
) -> Response[bytes]:
    response = await document_file_response(request.app.state.redis, document, file_kind)
    if response is None:
        raise rendering.NotRenderedYet()
    return response


def _document_controller(kind: str, route: str, readers: tuple[Role, ...]) -> type[Controller]:
    class DocumentController(Controller):
        path = route
        tags = ["billing"]

        @get("", opt=allow(*readers), summary=f"List {kind}s (filter by period YYYY-MM)")
        async def list_documents(
            self,
            principal: CurrentPrincipal,
            period: str | None = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> Page[DocumentSummary]:
            rows, total = await services.list_documents(
                principal,
                kind,
                services.parse_period(period) if period else None,
                limit,
                offset,
            )
            return Page([DocumentSummary.from_row(r) for r in rows], total, limit, offset)

        @get("/{document_id:uuid}", opt=allow(*readers), summary=f"One {kind} with its lines")
        async def read(self, principal: CurrentPrincipal, document_id: uuid.UUID) -> DocumentDetail:
            return DocumentDetail.from_row(
                await services.get_document(principal, kind, document_id)
            )

        @get(
            "/{document_id:uuid}/pdf",
            opt=allow(*readers),
            summary=f"The {kind} as PDF/A-3 with its Factur-X XML (?plain=true: plain PDF)",
            description=f"Also at `{route}/{{id}}.pdf`. Answers 503 with Retry-After while the "
            "worker renders it.",
            media_type="application/pdf",
            responses=None,
        )
        async def pdf(
            self,
            request: Request[Any, Any, Any],
            principal: CurrentPrincipal,
            document_id: uuid.UUID,
            plain: bool = False,
        ) -> Response[bytes]:
            document = await services.get_document(principal, kind, document_id)
            file_kind = rendering.PLAIN_PDF if plain else rendering.FACTURX_PDF
            return await _document_file(request, document, file_kind)

        @get(
            "/{document_id:uuid}/xml",
            opt=allow(*readers),
            summary=f"The {kind}'s EN 16931 CII XML alone (for Chorus Pro and other platforms)",
            description=f"Also at `{route}/{{id}}.xml`.",
            media_type="application/xml",
            responses=None,
        )
        async def xml(
            self,
            request: Request[Any, Any, Any],
            principal: CurrentPrincipal,
            document_id: uuid.UUID,
        ) -> Response[bytes]:
            document = await services.get_document(principal, kind, document_id)
            return await _document_file(request, document, rendering.CII_XML)

        @get(
            "/{document_id:uuid}/usage",
            opt=allow(*readers),
            summary=f"Every visit and billable fact behind the {kind}'s lines",
        )
        async def usage(
            self, principal: CurrentPrincipal, document_id: uuid.UUID
        ) -> list[UsageOut]:
            rows = await services.usage_behind(principal, kind, document_id)
            return [UsageOut.from_row(r) for r in rows]

        @get(
            "/{document_id:uuid}/lines.csv",
            opt=allow(*readers),
            summary=f"The {kind}'s usage as CSV",
            responses=None,
        )
        async def lines_csv(
            self, principal: CurrentPrincipal, document_id: uuid.UUID
        ) -> Response[bytes]:
            rows = await services.usage_behind(principal, kind, document_id)
            columns = [
                "local_date",
                "venue",
                "commune",
                "organisation",
                "agent",
                "workspace",
                "workspace_kind",
                "unit",
                "quantity",
                "kind",
                "organisation_price_cents",
                "organisation_vat_rate",
                "venue_price_cents",
                "venue_vat_rate",
            ]
            return csv_download(csv_records(columns, rows), f"{kind}-{document_id}.csv")

    DocumentController.__name__ = f"{kind.title().replace('_', '')}Controller"
    return DocumentController


InvoiceController = _document_controller(
    "invoice", "/invoices", (Role.NETWORK_ADMIN, Role.ORG_ADMIN)
)
StatementController = _document_controller(
    "statement", "/statements", (Role.NETWORK_ADMIN, Role.VENUE_ADMIN)
)
CreditNoteController = _document_controller(
    "credit_note",
    "/credit-notes",
    (Role.NETWORK_ADMIN, Role.ORG_ADMIN, Role.VENUE_ADMIN),
)


class CreditNoteIssueController(Controller):
    path = "/invoices/{invoice_id:uuid}/credit-notes"
    tags = ["billing"]

    @post(
        "",
        opt=NETWORK_ONLY,
        middleware=[IdempotencyMiddleware],
        summary="Credit usage lines of an invoice (and of the venues' statements)",
    )
    async def create(
        self, request: Request[Any, Any, Any], invoice_id: uuid.UUID, data: JSONBody[NewCreditNote]
    ) -> list[DocumentTotals]:
        issued = await credit_notes.credit(
            invoice_id,
            data.usage_ids,
            data.reason,
            network_identity(request.app.state.settings),
            paris_today(),
        )
        for document in issued:
            await queue_rendering(request.app.state.redis, document.document_id)
        return [
            DocumentTotals(d.number, d.total_excl_cents, d.total_vat_cents, d.total_incl_cents)
            for d in issued
        ]


BILLING_API_CONTROLLERS: list[type] = [
    PayoutController,
    PayoutStatusController,
    BankStatementController,
    AccountingExportController,
    CreditNoteIssueController,
    BillingPeriodController,
    InvoiceController,
    StatementController,
    CreditNoteController,
]
