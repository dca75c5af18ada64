"""Recurring bookings: every Tuesday and Thursday morning for 8 weeks, atomic or not."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx

from booking.tables import Booking, BookingSeries, Closure
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.factories import (
    auth,
    make_organisation,
    make_user,
    make_venue,
    make_workspace,
    next_weekday,
)

P = "urn:tierslieux:problem:"
RULE = "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=16"


async def _setup(
    settings: Settings, allowance: int = 40
) -> tuple[uuid.UUID, uuid.UUID, dict[str, str], date]:
    venue = await make_venue()
    desk = await make_workspace(venue, capacity=3)
    organisation = await make_organisation(
        booking_horizon_days=120, monthly_allowance_units=allowance
    )
    agent = await make_user(Role.AGENT, organisation=organisation)
    return venue.id, desk.id, auth(settings, agent), next_weekday(7, weekday=1)  # a Tuesday


async def test_sixteen_tuesday_and_thursday_mornings(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue_id, desk_id, headers, tuesday = await _setup(settings)
    await Closure(
        venue=venue_id,
        starts_on=tuesday + timedelta(days=14),
        ends_on=tuesday + timedelta(days=14),
        reason="Fermé",
    ).save()

    response = await client.post(
        "/api/v1/booking-series",
        json={
            "workspace_id": str(desk_id),
            "rrule": RULE,
            "dtstart": tuesday.isoformat(),
            "slot": "morning",
        },
        headers=headers,
    )

    assert response.status_code == 201, response.text
    occurrences = response.json()["occurrences"]
    assert len(occurrences) == 16
    assert [date.fromisoformat(o["date"]).weekday() for o in occurrences[:4]] == [1, 3, 1, 3]
    refused = [o for o in occurrences if o["status"] == "refused"]
    assert [(o["date"], o["problem"]) for o in refused] == [
        ((tuesday + timedelta(days=14)).isoformat(), "venue-closed")
    ]
    series_id = uuid.UUID(response.json()["id"])
    assert await Booking.count().where(Booking.series == series_id) == 15


async def test_an_atomic_series_books_all_or_nothing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue_id, desk_id, headers, tuesday = await _setup(settings)
    await Closure(
        venue=venue_id,
        starts_on=tuesday + timedelta(days=9),
        ends_on=tuesday + timedelta(days=9),
        reason="Fermé",
    ).save()

    response = await client.post(
        "/api/v1/booking-series",
        json={
            "workspace_id": str(desk_id),
            "rrule": RULE,
            "dtstart": tuesday.isoformat(),
            "slot": "morning",
            "atomic": True,
        },
        headers=headers,
    )

    assert response.status_code == 409, response.text
    body = response.json()
    assert body["type"] == P + "series-refused"
    statuses = [o["status"] for o in body["occurrences"]]
    assert statuses[:4] == ["rolled_back", "rolled_back", "rolled_back", "refused"]
    assert set(statuses[4:]) == {"not_booked"}
    assert body["occurrences"][3]["problem"] == "venue-closed"
    assert await Booking.count() == 0
    assert await BookingSeries.count() == 0


async def test_cancel_a_series_from_a_date(client: httpx.AsyncClient, settings: Settings) -> None:
    _, desk_id, headers, tuesday = await _setup(settings)
    created = await client.post(
        "/api/v1/booking-series",
        json={
            "workspace_id": str(desk_id),
            "rrule": "FREQ=WEEKLY;COUNT=4",
            "dtstart": tuesday.isoformat(),
            "slot": "day",
        },
        headers=headers,
    )
    series_id = created.json()["id"]

    cancelled = await client.post(
        f"/api/v1/booking-series/{series_id}/cancel",
        json={"from": (tuesday + timedelta(days=14)).isoformat()},
        headers=headers,
    )
    stranger = await client.get(
        f"/api/v1/booking-series/{series_id}", headers=auth(settings, await make_user(Role.AGENT))
    )

    assert cancelled.status_code == 200, cancelled.text
    assert [b["status"] for b in cancelled.json()["bookings"]] == [
        "confirmed",
        "confirmed",
        "cancelled",
        "cancelled",
    ]
    assert stranger.status_code == 404


async def test_series_bad_rules_and_roles(client: httpx.AsyncClient, settings: Settings) -> None:
    _, desk_id, headers, tuesday = await _setup(settings)

    def body(rule: str) -> dict[str, str]:
        return {
            "workspace_id": str(desk_id),
            "rrule": rule,
            "dtstart": tuesday.isoformat(),
            "slot": "morning",
        }

    malformed = await client.post(
        "/api/v1/booking-series", json=body("FREQ=SOMETIMES"), headers=headers
    )
    endless = await client.post("/api/v1/booking-series", json=body("FREQ=DAILY"), headers=headers)
    too_long = await client.post(
        "/api/v1/booking-series", json=body("FREQ=WEEKLY;COUNT=80"), headers=headers
    )
    unknown = await client.post(
        "/api/v1/booking-series",
        json={**body(RULE), "workspace_id": str(uuid.uuid4())},
        headers=headers,
    )
    staff = await client.post(
        "/api/v1/booking-series",
        json=body(RULE),
        headers=auth(settings, await make_user(Role.VENUE_STAFF)),
    )

    assert (malformed.status_code, malformed.json()["field"]) == (422, "rrule")
    assert (endless.status_code, endless.json()["field"]) == (422, "rrule")
    assert (too_long.status_code, too_long.json()["field"]) == (422, "rrule")
    assert unknown.status_code == 404
    assert staff.status_code == 403
    assert await Booking.count() == 0
