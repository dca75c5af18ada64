"""Recurring bookings over HTTP."""

from __future__ import annotations

import uuid
from datetime import time
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from booking.schemas.series import CancelSeries, NewSeries, OccurrenceOut, SeriesDetail, SeriesOut
from booking.services import series
from service.kernel.auth import CurrentPrincipal, allow
from service.kernel.idempotency import IdempotencyMiddleware
from service.kernel.identity import Role
from service.kernel.problems import problem_for


def _base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.app.state.settings.base_url)


class SeriesController(Controller):
    path = "/booking-series"
    tags = ["bookings"]

    @post(
        "",
        opt=allow(Role.AGENT, Role.ORG_ADMIN),
        middleware=[IdempotencyMiddleware],
        summary="Book by an RRULE; each occurrence booked or refused with its reason",
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: JSONBody[NewSeries],
    ) -> SeriesOut:
        series_id, occurrences = await series.create(
            principal,
            series.SeriesRequest(
                workspace_id=data.workspace_id,
                rrule=data.rrule,
                dtstart=data.dtstart,
                agent_id=data.agent_id,
                slot=data.slot,
                start_time=time.fromisoformat(data.start_time) if data.start_time else None,
                end_time=time.fromisoformat(data.end_time) if data.end_time else None,
                atomic=data.atomic,
            ),
            base_url=_base_url(request),
        )
        return SeriesOut(
            series_id,
            [
                OccurrenceOut(
                    o.local_date,
                    o.status,
                    o.booking_id,
                    problem_for(o.problem).slug if o.problem else None,
                    o.detail,
                )
                for o in occurrences
            ],
        )

    @get(
        "/{series_id:uuid}",
        opt=allow(Role.AGENT, Role.ORG_ADMIN, Role.NETWORK_ADMIN),
        summary="A series and its occurrences",
    )
    async def read(self, principal: CurrentPrincipal, series_id: uuid.UUID) -> SeriesDetail:
        row = await series.visible(principal, series_id)
        return msgspec.convert(row, SeriesDetail, from_attributes=True)

    @post(
        "/{series_id:uuid}/cancel",
        opt=allow(Role.AGENT, Role.ORG_ADMIN, Role.NETWORK_ADMIN),
        status_code=200,
        summary="Cancel the occurrences from a date on",
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        series_id: uuid.UUID,
        data: JSONBody[CancelSeries],
    ) -> SeriesDetail:
        await series.cancel_from(principal, series_id, data.from_date, base_url=_base_url(request))
        row = await series.visible(principal, series_id)
        return msgspec.convert(row, SeriesDetail, from_attributes=True)
