"""The organisation console's invoices by month, paid or not, and their files."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get

from billing import rendering
from service.kernel.auth import CurrentPrincipal
from service.kernel.i18n import N_
from service.kernel.identity import Principal
from web.console_flow import (
    asked_period,
    document_of,
    documents_of_period,
    file_or_rendering_page,
    rendering_page,
)
from web.consoles import not_found, today
from web.controllers.organisation.console import ORG_ADMIN
from web.i18n import translate
from web.pages import language, page

FILE_ROUTES = {
    "pdf": rendering.FACTURX_PDF,
    "plain-pdf": rendering.PLAIN_PDF,
    "xml": rendering.CII_XML,
}


def _paid_status(document: dict[str, Any], on: Any) -> str:
    if document["paid_cents"] >= document["total_incl_cents"]:
        return "paid"
    if document["paid_cents"] > 0:
        return "partial"
    return "overdue" if document["due_on"] < on else "unpaid"


class OrganisationInvoicesController(Controller):
    path = "/organisation"
    include_in_schema = False

    @get("/invoices", opt=ORG_ADMIN)
    async def invoices(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        return await self._invoices_page(request, principal)

    async def _invoices_page(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        *,
        rendering_number: str | None = None,
    ) -> Response[Any]:
        lang = language(request)
        asked, period = asked_period(request)
        error = translate(lang, N_("Choose a valid month.")) if asked and period is None else None
        rows, total = await documents_of_period(principal, "invoice", period, 120)
        on = today()
        response = page(
            request,
            "organisation/invoices.html",
            title=N_("Invoices"),
            status_code=422 if error else 200,
            invoices=[{**r, "paid": _paid_status(r, on)} for r in rows],
            total=total,
            period=asked,
            error=error,
            rendering_number=rendering_number,
        )
        return rendering_page(response, rendering_number is not None)

    @get("/invoices/{invoice_id:uuid}/{file:str}", opt=ORG_ADMIN)
    async def invoice_file(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        invoice_id: uuid.UUID,
        file: str,
    ) -> Response[Any]:
        """The stored Factur-X PDF, plain PDF (for Chorus Pro) or CII XML of an invoice."""
        if file not in FILE_ROUTES:
            return not_found(request)
        document = await document_of(principal, "invoice", invoice_id)
        if document is None:
            return not_found(request)
        return await file_or_rendering_page(
            request,
            document,
            FILE_ROUTES[file],
            lambda: self._invoices_page(request, principal, rendering_number=document["number"]),
        )
