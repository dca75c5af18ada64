"""Availability over HTTP: free desks and rooms for a slot or a time range, nearest first."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, get
from litestar.params import Parameter

from booking.schemas.availability import AvailableVenue
from booking.services import availability
from service.kernel.auth import allow
from service.kernel.errors import InvalidValue
from service.kernel.i18n import N_
from service.kernel.identity import Role
from service.kernel.pagination import Limit, Offset, Page

ClockTime = Annotated[str, Parameter(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


def _clock(value: str | None, field: str) -> time | None:
    if value is None:
        return None
    try:
        if len(value) != 5:
            raise ValueError
        return time.fromisoformat(value)
    except ValueError:
        raise InvalidValue(
            N_("Times are written HH:MM, in the venue's local time."), field=field
        ) from None


class AvailabilityController(Controller):
    path = "/availability"
    tags = ["bookings"]

    @get(
        "",
        opt=allow(Role.AGENT, Role.ORG_ADMIN, Role.NETWORK_ADMIN),
        summary="Free workspaces for a date and slot (desks) or a local start and end (rooms)",
    )
    async def search(
        self,
        day: Annotated[date, Parameter(query="date")],
        slot: Literal["morning", "afternoon", "day"] | None = None,
        start: ClockTime | None = None,
        end: ClockTime | None = None,
        kind: Literal["desk", "meeting_room", "private_office", "lab"] | None = None,
        seats: Annotated[int, Parameter(ge=1, le=1000)] = 1,
        services: Annotated[str | None, Parameter(max_length=500)] = None,
        commune: Annotated[str | None, Parameter(max_length=100)] = None,
        lat: Annotated[float | None, Parameter(ge=-90, le=90)] = None,
        lon: Annotated[float | None, Parameter(ge=-180, le=180)] = None,
        radius_km: Annotated[float | None, Parameter(gt=0)] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Page[AvailableVenue]:
        query = availability.check(
            availability.Search(
                day=day,
                slot=slot,
                start=_clock(start, "start"),
                end=_clock(end, "end"),
                kind=kind,
                seats=seats,
                services=tuple(s.strip() for s in services.split(",") if s.strip())
                if services
                else (),
                commune=commune,
                lat=Decimal(str(lat)) if lat is not None else None,
                lon=Decimal(str(lon)) if lon is not None else None,
                radius_km=Decimal(str(radius_km)) if radius_km is not None else None,
            ),
            today=datetime.now(UTC).astimezone(ZoneInfo("Europe/Paris")).date(),
        )
        rows, total = await availability.search(query, limit, offset)
        return Page(
            [msgspec.convert(r, AvailableVenue, strict=False) for r in rows], total, limit, offset
        )
