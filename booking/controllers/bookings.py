"""Bookings over HTTP: book, cancel, read, and the lists each role needs."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, Parameter

from booking import calendars
from booking.schemas.bookings import BookingOut, CancelBooking, NewBooking
from booking.services import announcements, booking_lists, cancellations, placement, venues
from service.kernel.auth import CurrentPrincipal, allow
from service.kernel.dates import parse_month
from service.kernel.errors import NotFound
from service.kernel.i18n import N_
from service.kernel.idempotency import IdempotencyMiddleware
from service.kernel.identity import Role
from service.kernel.pagination import Limit, Offset, Page

NETWORK_TZ = ZoneInfo("Europe/Paris")
EVERY_ROLE = tuple(Role)
_BOOKING_REF = re.compile(r"^(?P<id>[0-9a-fA-F-]{36})(?P<ics>\.ics)?$")


def _base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.app.state.settings.base_url)


def _out(booking: booking_lists.BookingSummary) -> BookingOut:
    return msgspec.convert(booking, BookingOut, from_attributes=True)


def _month(value: str | None) -> date | None:
    return None if value is None else parse_month(value)


class BookingController(Controller):
    path = "/bookings"
    tags = ["bookings"]

    @post(
        "",
        opt=allow(Role.AGENT, Role.ORG_ADMIN),
        middleware=[IdempotencyMiddleware],
        summary="Book a desk (date + slot) or a room (local start + end)",
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: JSONBody[NewBooking],
    ) -> BookingOut:
        booked = await placement.book_with_summary(
            principal,
            placement.BookingRequest(
                workspace_id=data.workspace_id,
                agent_id=data.agent_id,
                date=data.date,
                slot=data.slot,
                start=data.start,
                end=data.end,
            ),
            base_url=_base_url(request),
        )
        return _out(booked)

    @get(
        "/{booking_ref:str}",
        opt=allow(*EVERY_ROLE, devices=True),
        summary="One booking as JSON, or as an iCalendar invitation with the .ics suffix",
        responses=None,
    )
    async def read(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, booking_ref: str
    ) -> Response[Any]:
        match = _BOOKING_REF.match(booking_ref)
        try:
            booking_id = uuid.UUID(match.group("id")) if match else None
        except ValueError:
            booking_id = None
        if match is None or booking_id is None:
            raise NotFound(N_("No such booking."))
        booking = await booking_lists.get_visible(principal, booking_id)
        if match.group("ics"):
            entry = await announcements.calendar_entry(booking_id, _base_url(request))
            cancelled = booking.status in ("cancelled", "late_cancelled")
            body = calendars.invitation(entry, cancel=cancelled)
            return Response(
                body,
                media_type="text/calendar; charset=utf-8",
                headers={
                    "Content-Disposition": f'attachment; filename="reservation-{booking_id}.ics"'
                },
            )
        return Response(_out(await booking_lists.one(booking_id, _base_url(request))))

    @post(
        "/{booking_id:uuid}/cancel",
        opt=allow(*EVERY_ROLE),
        status_code=200,
        summary="Cancel (late past the organisation's deadline; a venue gives a reason)",
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        booking_id: uuid.UUID,
        data: JSONBody[CancelBooking | None] = None,
    ) -> BookingOut:
        await cancellations.cancel(
            principal, booking_id, reason=data.reason if data else None, base_url=_base_url(request)
        )
        return _out(await booking_lists.one(booking_id, _base_url(request)))


class MyBookingsController(Controller):
    path = "/me/bookings"
    tags = ["bookings"]

    @get("", opt=allow(Role.AGENT), summary="My bookings, upcoming or past")
    async def mine(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        when: Literal["upcoming", "past"] = "upcoming",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[BookingOut]:
        assert principal.user_id is not None
        rows, total = await booking_lists.for_agent(
            principal.user_id,
            upcoming=when == "upcoming",
            today=datetime.now(UTC).astimezone(NETWORK_TZ).date(),
            limit=limit,
            offset=offset,
            base_url=_base_url(request),
        )
        return Page([_out(r) for r in rows], total, limit, offset)


class VenueArrivalsController(Controller):
    path = "/venues/{venue_id:uuid}/arrivals"
    tags = ["bookings"]

    @get(
        "",
        opt=allow(
            Role.VENUE_STAFF,
            Role.VENUE_ADMIN,
            Role.NETWORK_ADMIN,
            devices=True,
            venue_scope="venue_id",
        ),
        summary="Who is expected at the venue on a local date (default: today)",
    )
    async def arrivals(
        self,
        request: Request[Any, Any, Any],
        venue_id: uuid.UUID,
        day: Annotated[date | None, Parameter(query="date")] = None,
        limit: Limit = 200,
        offset: Offset = 0,
    ) -> Page[BookingOut]:
        rows, total = await booking_lists.arrivals(
            venue_id,
            day or await venues.venue_today(venue_id),
            limit=limit,
            offset=offset,
            base_url=_base_url(request),
        )
        return Page([_out(r) for r in rows], total, limit, offset)


class OrganisationBookingsController(Controller):
    path = "/organisations/{organisation_id:uuid}/bookings"
    tags = ["bookings"]

    @get(
        "",
        opt=allow(Role.ORG_ADMIN, Role.NETWORK_ADMIN, organisation_scope="organisation_id"),
        summary="The organisation's bookings, by month (YYYY-MM) and agent",
    )
    async def list_bookings(
        self,
        request: Request[Any, Any, Any],
        organisation_id: uuid.UUID,
        month: Annotated[str | None, Parameter(pattern=r"^\d{4}-\d{2}$")] = None,
        agent_id: uuid.UUID | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[BookingOut]:
        rows, total = await booking_lists.for_organisation(
            organisation_id,
            month=_month(month),
            agent_id=agent_id,
            limit=limit,
            offset=offset,
            base_url=_base_url(request),
        )
        return Page([_out(r) for r in rows], total, limit, offset)
