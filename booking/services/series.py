"""Recurring bookings: an RFC 5545 RRULE expanded into bookings, each under the usual rules.

Without `atomic`, every occurrence is booked in its own transaction and the answer says,
for each, booked or refused and why. With `atomic`, all occurrences share one transaction:
the first refusal rolls every one back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from dateutil.rrule import rrulestr

from booking.services import cancellations, placement
from booking.tables import Booking, BookingSeries
from service.kernel import audit
from service.kernel.dates import within_range
from service.kernel.errors import DomainError, InvalidValue, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Principal
from service.kernel.problems import problem_for, register

MAX_OCCURRENCES = 100
MAX_SPAN = timedelta(days=366)


@dataclass(frozen=True)
class SeriesRequest:
    workspace_id: uuid.UUID
    rrule: str
    dtstart: date
    agent_id: uuid.UUID | None = None
    slot: str | None = None
    start_time: time | None = None
    end_time: time | None = None
    atomic: bool = False


@dataclass
class Occurrence:
    local_date: date
    status: str  # booked | refused | rolled_back
    booking_id: uuid.UUID | None = None
    problem: type[DomainError] | None = None
    detail: str | None = None


class SeriesRefused(DomainError):
    """An atomic series had an occurrence refused: nothing was booked."""

    default_detail = N_("One occurrence was refused, so none was booked.")

    def __init__(self, occurrences: list[Occurrence], detail: str) -> None:
        super().__init__(detail)
        self.occurrences = occurrences

    @property
    def extra(self) -> dict[str, Any]:
        return {
            "occurrences": [
                {
                    "date": o.local_date.isoformat(),
                    "status": o.status,
                    "problem": problem_for(o.problem).slug if o.problem else None,
                    "detail": o.detail,
                }
                for o in self.occurrences
            ]
        }


register(SeriesRefused, "series-refused", 409, "Atomic series refused")


def expand(rule: str, dtstart: date) -> list[date]:
    """The rule's dates from dtstart, refusing rules too long or open-ended."""
    text = rule.strip().removeprefix("RRULE:")
    try:
        recurrence = rrulestr(f"RRULE:{text}", dtstart=datetime.combine(dtstart, time()))
    except (ValueError, TypeError) as error:
        raise InvalidValue(
            N_("This is not an RFC 5545 RRULE: %(error)s."), field="rrule", error=error
        ) from None
    dates: list[date] = []
    limit = datetime.combine(dtstart + MAX_SPAN, time())
    for moment in recurrence:
        if moment > limit:
            raise InvalidValue(N_("A series spans at most one year."), field="rrule")
        dates.append(moment.date())
        if len(dates) > MAX_OCCURRENCES:
            raise InvalidValue(
                N_("A series has at most %(most)s occurrences."),
                field="rrule",
                most=MAX_OCCURRENCES,
            )
    if not dates:
        raise InvalidValue(N_("This rule gives no date."), field="rrule")
    return dates


def _request(request: SeriesRequest, day: date, series_id: uuid.UUID) -> placement.BookingRequest:
    if request.slot is not None:
        return placement.BookingRequest(
            workspace_id=request.workspace_id,
            agent_id=request.agent_id,
            date=day,
            slot=request.slot,
            series_id=series_id,
        )
    if request.start_time is None or request.end_time is None:
        raise InvalidValue(N_("Give a slot, or a start and an end time."), field="slot")
    return placement.BookingRequest(
        workspace_id=request.workspace_id,
        agent_id=request.agent_id,
        start=datetime.combine(day, request.start_time),
        end=datetime.combine(day, request.end_time),
        series_id=series_id,
    )


async def create(
    principal: Principal, request: SeriesRequest, *, base_url: str, now: datetime | None = None
) -> tuple[uuid.UUID, list[Occurrence]]:
    dates = expand(request.rrule, within_range(request.dtstart, "dtstart"))
    agent_id = await placement.resolve_agent(principal, request.agent_id)
    series = BookingSeries(
        agent=agent_id,
        workspace=request.workspace_id,
        rrule=request.rrule.strip().removeprefix("RRULE:"),
        slot=request.slot,
        created_by=principal.user_id or agent_id,
    )
    occurrences: list[Occurrence] = []
    db = Booking._meta.db
    if request.atomic:
        try:
            async with db.transaction():
                await _save_series(series)
                for day in dates:
                    try:
                        booking_id = await placement.book(
                            principal,
                            _request(request, day, series.id),
                            base_url=base_url,
                            now=now,
                            audited=False,
                        )
                    except DomainError as error:
                        occurrences.append(
                            Occurrence(day, "refused", None, type(error), error.detail)
                        )
                        raise SeriesRefused(
                            occurrences
                            + [Occurrence(d, "not_booked") for d in dates[len(occurrences) :]],
                            f"{day.isoformat()}: {error.detail} Nothing was booked.",
                        ) from None
                    occurrences.append(Occurrence(day, "booked", booking_id))
                await _audit_creation(principal, series, occurrences)
        except SeriesRefused as refused:
            for occurrence in refused.occurrences:
                if occurrence.status == "booked":
                    occurrence.status, occurrence.booking_id = "rolled_back", None
            raise
        return series.id, occurrences
    await _save_series(series)
    for day in dates:
        try:
            booking_id = await placement.book(
                principal,
                _request(request, day, series.id),
                base_url=base_url,
                now=now,
                audited=False,
            )
        except DomainError as error:
            occurrences.append(Occurrence(day, "refused", None, type(error), error.detail))
            continue
        occurrences.append(Occurrence(day, "booked", booking_id))
    # Each occurrence committed on its own (a refused day keeps the others): one row after.
    await _audit_creation(principal, series, occurrences)
    return series.id, occurrences


async def _audit_creation(
    principal: Principal, series: BookingSeries, occurrences: list[Occurrence]
) -> None:
    if audit.administrative(principal):
        await audit.act(
            "series.create",
            "booking_series",
            series.id,
            after={
                "agent": series.agent,
                "workspace": series.workspace,
                "rrule": series.rrule,
                "booked": [o.booking_id for o in occurrences if o.status == "booked"],
            },
        )


async def _save_series(series: BookingSeries) -> None:
    workspace_known = await Booking.raw("SELECT 1 FROM workspace WHERE id = {}", series.workspace)
    if not workspace_known:
        raise NotFound(N_("No such workspace."), field="workspace_id")
    await series.save()


@dataclass(frozen=True)
class SeriesBooking:
    id: uuid.UUID
    local_date: date
    status: str


@dataclass(frozen=True)
class SeriesOverview:
    """A recurring booking and its occurrences, by date."""

    id: uuid.UUID
    agent_id: uuid.UUID
    workspace_id: uuid.UUID
    rrule: str
    slot: str | None
    cancelled_from: date | None
    bookings: list[SeriesBooking]


async def visible(principal: Principal, series_id: uuid.UUID) -> SeriesOverview:
    series = await BookingSeries.select().where(BookingSeries.id == series_id).first()
    if series is None:
        raise NotFound(N_("No such series."))
    owner = await Booking.raw("SELECT organisation FROM app_user WHERE id = {}", series["agent"])
    if not (
        principal.is_network_admin
        or principal.user_id == series["agent"]
        or (
            principal.role is not None
            and principal.role.value == "org_admin"
            and owner
            and owner[0]["organisation"] == principal.organisation_id
        )
    ):
        raise NotFound(N_("No such series."))
    bookings = (
        await Booking.select(Booking.id, Booking.local_date, Booking.status)
        .where(Booking.series == series_id)
        .order_by(Booking.local_date)
    )
    return SeriesOverview(
        id=series["id"],
        agent_id=series["agent"],
        workspace_id=series["workspace"],
        rrule=series["rrule"],
        slot=series["slot"],
        cancelled_from=series["cancelled_from"],
        bookings=[SeriesBooking(b["id"], b["local_date"], b["status"]) for b in bookings],
    )


async def cancel_from(
    principal: Principal, series_id: uuid.UUID, from_date: date, *, base_url: str
) -> list[uuid.UUID]:
    """Cancel every confirmed occurrence on or after `from_date`, under the usual cancel rules."""
    within_range(from_date, "from")
    series = await visible(principal, series_id)
    cancelled = []
    for booking in series.bookings:
        if booking.local_date >= from_date and booking.status == "confirmed":
            await cancellations.cancel(principal, booking.id, base_url=base_url, audited=False)
            cancelled.append(booking.id)
    async with BookingSeries._meta.db.transaction():
        await BookingSeries.update({BookingSeries.cancelled_from: from_date}).where(
            BookingSeries.id == series_id
        )
        if audit.administrative(principal):
            await audit.act(
                "series.cancel",
                "booking_series",
                series_id,
                after={"cancelled_from": from_date, "cancelled": cancelled},
            )
    return cancelled
