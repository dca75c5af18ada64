"""Booking a desk or a room: every reason to refuse, cancellation, and what the database holds."""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta

import httpx
import pytest

from booking.tables import Booking, Closure, OpeningHours, Organisation, Outbox, SeatOccupancy, User
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


async def _agent(settings: Settings, **org_fields: object) -> tuple[User, dict[str, str]]:
    organisation = await make_organisation(**org_fields)
    agent = await make_user(Role.AGENT, organisation=organisation)
    return agent, auth(settings, agent)


async def test_an_agent_books_a_desk_for_tomorrow_morning(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue, capacity=4)
    agent, headers = await _agent(settings)
    day = next_weekday(1)

    response = await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(desk.id), "date": day.isoformat(), "slot": "morning"},
        headers=headers,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["agent_id"] == str(agent.id)
    assert body["starts_at"].startswith(f"{day.isoformat()}T08:30:00+0")  # venue-local time
    assert body["ends_at"].startswith(f"{day.isoformat()}T13:00:00+0")
    assert body["allowance_units"] == 1
    occupancy = await SeatOccupancy.select().where(SeatOccupancy.workspace == desk.id)
    assert [(o["half"], o["seats_taken"], o["capacity"]) for o in occupancy] == [("am", 1, 4)]
    outbox = await Outbox.select().where(Outbox.booking == uuid.UUID(body["id"]))
    assert len(outbox) == 1
    assert outbox[0]["recipient"] == agent.email
    assert outbox[0]["calendar_method"] == "REQUEST"
    assert "METHOD:REQUEST" in outbox[0]["calendar"]


async def test_a_day_takes_both_halves_and_two_allowance_units(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue, capacity=2, booking_unit="day")
    _, headers = await _agent(settings)

    response = await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(desk.id), "date": next_weekday(2).isoformat(), "slot": "day"},
        headers=headers,
    )

    assert response.status_code == 201, response.text
    assert response.json()["allowance_units"] == 2
    halves = await SeatOccupancy.select(SeatOccupancy.half).where(
        SeatOccupancy.workspace == desk.id
    )
    assert sorted(h["half"] for h in halves) == ["am", "pm"]


async def test_the_last_seat_goes_once(client: httpx.AsyncClient, settings: Settings) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue, capacity=1)
    day = next_weekday(1).isoformat()
    _, first = await _agent(settings)
    _, second = await _agent(settings)
    body = {"workspace_id": str(desk.id), "date": day, "slot": "afternoon"}

    ok = await client.post("/api/v1/bookings", json=body, headers=first)
    refused = await client.post("/api/v1/bookings", json=body, headers=second)

    assert ok.status_code == 201
    assert refused.status_code == 409
    assert refused.json()["type"] == P + "capacity-exhausted"
    assert await Booking.count() == 1
    assert await Outbox.count() == 1  # the refused booking wrote nothing


async def test_a_room_by_the_hour_is_taken_whole(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    room = await make_workspace(venue, kind="meeting_room", booking_unit="hour", capacity=8)
    day = next_weekday(1)
    _, first = await _agent(settings)
    _, second = await _agent(settings)

    ok = await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(room.id), "start": f"{day}T10:00:00", "end": f"{day}T12:00:00"},
        headers=first,
    )
    overlapping = await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(room.id), "start": f"{day}T11:30:00", "end": f"{day}T13:00:00"},
        headers=second,
    )
    adjacent = await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(room.id), "start": f"{day}T12:00:00", "end": f"{day}T13:00:00"},
        headers=second,
    )

    assert ok.status_code == 201, ok.text
    assert ok.json()["unit"] == "hour"
    assert ok.json()["quantity"] == 2
    assert overlapping.status_code == 409
    assert overlapping.json()["type"] == P + "room-taken"
    assert adjacent.status_code == 201, adjacent.text


async def test_one_person_is_in_one_place_at_a_time(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    here = await make_workspace(await make_venue())
    there = await make_workspace(await make_venue(commune="Roubaix"))
    _, headers = await _agent(settings)
    day = next_weekday(1).isoformat()

    await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(here.id), "date": day, "slot": "day"},
        headers=headers,
    )
    elsewhere = await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(there.id), "date": day, "slot": "afternoon"},
        headers=headers,
    )

    assert elsewhere.status_code == 409
    assert elsewhere.json()["type"] == P + "agent-already-booked"
    assert await SeatOccupancy.count().where(SeatOccupancy.workspace == there.id) == 0


@pytest.mark.parametrize(
    ("case", "status", "problem", "field"),
    [
        ("past", 422, "in-the-past", "date"),
        ("horizon", 422, "beyond-horizon", "date"),
        ("closed", 409, "venue-closed", None),
        ("weekend", 422, "outside-opening-hours", "slot"),
        ("no-slot", 422, "invalid-value", "slot"),
        ("bad-slot", 422, "validation-error", "slot"),
        ("unknown-workspace", 404, "not-found", "workspace_id"),
        ("inactive-workspace", 409, "workspace-unavailable", None),
        ("applied-venue", 409, "workspace-unavailable", None),
        ("inactive-organisation", 409, "inactive", None),
    ],
)
async def test_refusals_say_why_and_write_nothing(
    client: httpx.AsyncClient,
    settings: Settings,
    case: str,
    status: int,
    problem: str,
    field: str | None,
) -> None:
    venue = await make_venue(status="applied" if case == "applied-venue" else "approved")
    desk = await make_workspace(venue, active=case != "inactive-workspace")
    agent, headers = await _agent(settings, booking_horizon_days=10)
    day = next_weekday(1)
    body: dict[str, object] = {
        "workspace_id": str(desk.id),
        "date": day.isoformat(),
        "slot": "morning",
    }
    if case == "past":
        body["date"] = (day - timedelta(days=7)).isoformat()
    elif case == "horizon":
        body["date"] = next_weekday(40).isoformat()
    elif case == "closed":
        await Closure(venue=venue.id, starts_on=day, ends_on=day, reason="Inventaire").save()
    elif case == "weekend":
        saturday = day + timedelta(days=(5 - day.weekday()) % 7)
        body["date"] = saturday.isoformat()
    elif case == "no-slot":
        del body["slot"]
    elif case == "bad-slot":
        body["slot"] = "night"
    elif case == "unknown-workspace":
        body["workspace_id"] = str(uuid.uuid4())
    elif case == "inactive-organisation":
        await Organisation.update({Organisation.active: False}).where(
            Organisation.id == agent.organisation
        )

    response = await client.post("/api/v1/bookings", json=body, headers=headers)

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == P + problem
    assert response.json().get("field") == field
    assert await Booking.count() == 0
    assert await SeatOccupancy.count() == 0
    assert await Outbox.count() == 0


async def test_the_monthly_allowance_counts_half_days(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    desk = await make_workspace(await make_venue())
    _, headers = await _agent(settings, monthly_allowance_units=3, booking_horizon_days=366)
    first = next_weekday(1)
    # Three working days of the same month as `first`, or the next month if too few remain.
    days = [first + timedelta(days=i) for i in range(0, 40)]
    days = [d for d in days if d.weekday() < 5]
    month_days = [d for d in days if (d.year, d.month) == (days[0].year, days[0].month)]
    if len(month_days) < 3:
        month_days = [d for d in days if (d.year, d.month) != (days[0].year, days[0].month)]

    statuses = []
    for day, slot in [
        (month_days[0], "day"),
        (month_days[1], "morning"),
        (month_days[2], "morning"),
    ]:
        response = await client.post(
            "/api/v1/bookings",
            json={"workspace_id": str(desk.id), "date": day.isoformat(), "slot": slot},
            headers=headers,
        )
        statuses.append((response.status_code, response.json().get("type")))

    assert statuses == [(201, None), (201, None), (409, P + "allowance-exceeded")]


async def test_an_organisation_admin_books_for_their_agent_only(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    desk = await make_workspace(await make_venue())
    organisation = await make_organisation()
    admin = await make_user(Role.ORG_ADMIN, organisation=organisation)
    agent = await make_user(Role.AGENT, organisation=organisation)
    stranger = await make_user(Role.AGENT)
    day = next_weekday(1).isoformat()

    ok = await client.post(
        "/api/v1/bookings",
        json={
            "workspace_id": str(desk.id),
            "date": day,
            "slot": "morning",
            "agent_id": str(agent.id),
        },
        headers=auth(settings, admin),
    )
    other = await client.post(
        "/api/v1/bookings",
        json={
            "workspace_id": str(desk.id),
            "date": day,
            "slot": "morning",
            "agent_id": str(stranger.id),
        },
        headers=auth(settings, admin),
    )
    missing = await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(desk.id), "date": day, "slot": "afternoon"},
        headers=auth(settings, admin),
    )

    assert ok.status_code == 201, ok.text
    assert ok.json()["agent_id"] == str(agent.id)
    assert other.status_code == 404
    assert other.json()["field"] == "agent_id"
    assert missing.status_code == 422
    assert missing.json()["field"] == "agent_id"


async def test_venue_people_and_network_admins_do_not_book(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue)
    body = {"workspace_id": str(desk.id), "date": next_weekday(1).isoformat(), "slot": "morning"}
    for role in (Role.VENUE_STAFF, Role.VENUE_ADMIN, Role.NETWORK_ADMIN):
        user = await make_user(role, venue=venue if role != Role.NETWORK_ADMIN else None)
        response = await client.post("/api/v1/bookings", json=body, headers=auth(settings, user))
        assert response.status_code == 403, (role, response.text)
    anonymous = await client.post("/api/v1/bookings", json=body)
    assert anonymous.status_code == 401


async def test_a_retried_booking_with_the_same_key_is_booked_once(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    desk = await make_workspace(await make_venue())
    _, headers = await _agent(settings)
    headers["Idempotency-Key"] = str(uuid.uuid4())
    body = {"workspace_id": str(desk.id), "date": next_weekday(1).isoformat(), "slot": "morning"}

    first = await client.post("/api/v1/bookings", json=body, headers=headers)
    retry = await client.post("/api/v1/bookings", json=body, headers=headers)

    assert first.status_code == retry.status_code == 201
    assert first.json()["id"] == retry.json()["id"]
    assert await Booking.count() == 1


async def test_booking_times_follow_daylight_saving(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    """On 2026-03-29 Paris moves to UTC+2, on 2026-10-25 back to UTC+1; 08:30 local stays 08:30."""
    from datetime import UTC, datetime

    from booking.services import placement
    from service.kernel.identity import Principal

    venue = await make_venue()
    await OpeningHours.insert(
        OpeningHours(venue=venue.id, weekday=6, opens=time(8), closes=time(19))
    )  # those two days are Sundays
    desk = await make_workspace(venue, capacity=3)
    agent, _ = await _agent(settings, booking_horizon_days=366)
    principal = Principal(role=Role.AGENT, user_id=agent.id, organisation_id=agent.organisation)
    before = datetime(2026, 3, 1, tzinfo=UTC)

    spring = await placement.book(
        principal,
        placement.BookingRequest(workspace_id=desk.id, date=date(2026, 3, 29), slot="morning"),
        base_url=settings.base_url,
        now=before,
    )
    autumn = await placement.book(
        principal,
        placement.BookingRequest(workspace_id=desk.id, date=date(2026, 10, 25), slot="morning"),
        base_url=settings.base_url,
        now=before,
    )

    rows = {r["id"]: r for r in await Booking.select().where(Booking.id.is_in([spring, autumn]))}
    assert rows[spring]["starts_at"] == datetime(2026, 3, 29, 6, 30, tzinfo=UTC)
    assert rows[spring]["ends_at"] == datetime(2026, 3, 29, 11, 0, tzinfo=UTC)
    assert rows[autumn]["starts_at"] == datetime(2026, 10, 25, 7, 30, tzinfo=UTC)
    assert rows[autumn]["ends_at"] == datetime(2026, 10, 25, 12, 0, tzinfo=UTC)


async def test_a_closure_over_bookings_cancels_them_and_tells_the_agents(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue, capacity=3)
    _, headers = await _agent(settings)
    day = next_weekday(2)
    booked = await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(desk.id), "date": day.isoformat(), "slot": "day"},
        headers=headers,
    )
    admin = auth(settings, await make_user(Role.VENUE_ADMIN, venue=venue))

    closure = await client.post(
        f"/api/v1/venues/{venue.id}/closures",
        json={"starts_on": day.isoformat(), "ends_on": day.isoformat(), "reason": "Dégât des eaux"},
        headers=admin,
    )

    assert closure.status_code == 201, closure.text
    assert closure.json()["cancelled_bookings"] == 1
    stored = (
        await Booking.select(Booking.status, Booking.cancelled_by_venue, Booking.sequence)
        .where(Booking.id == uuid.UUID(booked.json()["id"]))
        .first()
    )
    assert stored == {"status": "cancelled", "cancelled_by_venue": True, "sequence": 1}
    assert [o["calendar_method"] for o in await Outbox.select().order_by(Outbox.created_at)] == [
        "REQUEST",
        "CANCEL",
    ]
    seats = await SeatOccupancy.select(SeatOccupancy.seats_taken).where(
        SeatOccupancy.workspace == desk.id
    )
    assert [s["seats_taken"] for s in seats] == [0, 0]
