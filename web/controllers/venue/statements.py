"""The venue console's self-billing statements, their usage and payout, their PDF."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get

from billing import payouts, rendering, services
from passes import attendance
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
from web.consoles import not_found
from web.controllers.venue.console import VENUE_ADMIN, venue_of
from web.i18n import translate
from web.pages import language, page


class VenueStatementsController(Controller):
    path = "/venue"
    include_in_schema = False

    @get("/statements", opt=VENUE_ADMIN)
    async def statements(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        """The self-billing statements by month, with totals and how far the payout has gone."""
        lang = language(request)
        asked, period = asked_period(request)
        error = translate(lang, N_("Choose a valid month.")) if asked and period is None else None
        rows, total = await documents_of_period(principal, "statement", period, 120)
        status_of = await payouts.status_by_statement(venue_of(principal))
        return page(
            request,
            "venue/statements.html",
            title=N_("Self-billing statements"),
            status_code=422 if error else 200,
            statements=[{**r, "payout": status_of.get(r["id"])} for r in rows],
            total=total,
            period=asked,
            error=error,
        )

    @get("/statements/{statement_id:uuid}", opt=VENUE_ADMIN)
    async def statement(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, statement_id: uuid.UUID
    ) -> Response[Any]:
        return await self._statement_page(request, principal, statement_id)

    async def _statement_page(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        statement_id: uuid.UUID,
        *,
        rendering_notice: bool = False,
    ) -> Response[Any]:
        document = await document_of(principal, "statement", statement_id)
        if document is None:
            return not_found(request)
        usage = await services.usage_behind(principal, "statement", statement_id)
        response = page(
            request,
            "venue/statement.html",
            title=N_("Statement"),
            document=document,
            usage=usage,
            meetings=await attendance.unbilled_in_month(venue_of(principal), document["period"]),
            payout=await payouts.status_of_statement(statement_id),
            rendering=rendering_notice,
        )
        return rendering_page(response, rendering_notice)

    @get("/statements/{statement_id:uuid}/pdf", opt=VENUE_ADMIN)
    async def statement_pdf(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, statement_id: uuid.UUID
    ) -> Response[Any]:
        """The stored Factur-X PDF; if the worker has not made it yet, queue it and say so."""
        document = await document_of(principal, "statement", statement_id)
        if document is None:
            return not_found(request)
        return await file_or_rendering_page(
            request,
            document,
            rendering.FACTURX_PDF,
            lambda: self._statement_page(request, principal, statement_id, rendering_notice=True),
        )
