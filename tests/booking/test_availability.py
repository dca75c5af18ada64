"""Availability: free desks and rooms near me, respecting hours, closures, zones and bookings."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import httpx

from booking.tables import Closure, OpeningHours, SeatOccupancy
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.factories import auth, make_user, make_venue, make_workspace, next_weekday

LILLE = {"lat": "50.6372", "lon": "3.0633"}


async def _agent(settings: Settings) -> dict[str, str]:
    return auth(settings, await make_user(Role.AGENT))


async def test_free_desks_near_lille_sorted_by_distance_in_local_time(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await _agent(settings)
    lille = await make_venue(name="Lille centre")
    roubaix = await make_venue(
        name="Roubaix", latitude=Decimal("50.6942"), longitude=Decimal("3.1746")
    )
    far = await make_venue(name="Arras", latitude=Decimal("50.2910"), longitude=Decimal("2.7775"))
    for venue in (lille, roubaix, far):
        await make_workspace(venue, capacity=4)
    day = next_weekday(1)

    response = await client.get(
        "/api/v1/availability",
        params={"date": day.isoformat(), "slot": "morning", **LILLE, "radius_km": "15"},
        headers=headers,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert [v["name"] for v in body["items"]] == ["Lille centre", "Roubaix"]
    assert body["total"] == 2
    assert body["items"][0]["distance_km"] < body["items"][1]["distance_km"] < 15
    assert body["items"][0]["starts_at"].startswith(f"{day.isoformat()}T08:30:00+0")
    assert body["items"][0]["workspaces"][0]["free_seats"] == 4


async def test_booked_seats_closures_hours_and_inactive_workspaces(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await _agent(settings)
    day = next_weekday(2)
    partly = await make_venue(name="A partly booked")
    full = await make_venue(name="B full")
    closed = await make_venue(name="C closed")
    inactive = await make_venue(name="D inactive")
    applied = await make_venue(name="E applied", status="applied")
    desk_partly = await make_workspace(partly, capacity=5)
    desk_full = await make_workspace(full, capacity=2)
    await make_workspace(closed)
    await make_workspace(inactive, active=False)
    await make_workspace(applied)
    await SeatOccupancy(
        workspace=desk_partly.id, local_date=day, half="pm", seats_taken=3, capacity=5
    ).save()
    await SeatOccupancy(
        workspace=desk_full.id, local_date=day, half="am", seats_taken=2, capacity=2
    ).save()
    await Closure(venue=closed.id, starts_on=day, ends_on=day, reason="Travaux").save()

    morning = await client.get(
        "/api/v1/availability", params={"date": day.isoformat(), "slot": "morning"}, headers=headers
    )
    whole_day = await client.get(
        "/api/v1/availability", params={"date": day.isoformat(), "slot": "day"}, headers=headers
    )
    two_seats = await client.get(
        "/api/v1/availability",
        params={"date": day.isoformat(), "slot": "afternoon", "seats": 2},
        headers=headers,
    )
    three_seats = await client.get(
        "/api/v1/availability",
        params={"date": day.isoformat(), "slot": "afternoon", "seats": 3},
        headers=headers,
    )
    saturday = day + timedelta(days=(5 - day.weekday()) % 7)
    weekend = await client.get(
        "/api/v1/availability",
        params={"date": saturday.isoformat(), "slot": "morning"},
        headers=headers,
    )

    assert [v["name"] for v in morning.json()["items"]] == ["A partly booked"]
    assert [(v["name"], v["workspaces"][0]["free_seats"]) for v in whole_day.json()["items"]] == [
        ("A partly booked", 2)
    ]
    assert [v["name"] for v in two_seats.json()["items"]] == ["A partly booked", "B full"]
    assert three_seats.json()["items"] == []
    assert weekend.json()["items"] == []


async def test_rooms_by_the_hour(client: httpx.AsyncClient, settings: Settings) -> None:
    headers = await _agent(settings)
    venue = await make_venue(name="Salles")
    room = await make_workspace(
        venue, kind="meeting_room", booking_unit="hour", capacity=8, name="Salle bleue"
    )
    day = next_weekday(1)
    booked = await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(room.id), "start": f"{day}T10:00:00", "end": f"{day}T12:00:00"},
        headers=headers,
    )
    assert booked.status_code == 201, booked.text
    other = await _agent(settings)

    def query(start: str, end: str, seats: int = 1) -> dict[str, str | int]:
        return {
            "date": day.isoformat(),
            "start": start,
            "end": end,
            "kind": "meeting_room",
            "seats": seats,
        }

    overlapping = await client.get(
        "/api/v1/availability", params=query("11:00", "13:00"), headers=other
    )
    after = await client.get("/api/v1/availability", params=query("12:00", "13:00"), headers=other)
    too_many = await client.get(
        "/api/v1/availability", params=query("14:00", "15:00", 12), headers=other
    )
    after_closing = await client.get(
        "/api/v1/availability", params=query("18:00", "20:00"), headers=other
    )

    assert overlapping.json()["items"] == []
    assert [w["name"] for w in after.json()["items"][0]["workspaces"]] == ["Salle bleue"]
    assert too_many.json()["items"] == []
    assert after_closing.json()["items"] == []


async def test_a_venue_in_another_time_zone_shows_its_own_local_times(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await _agent(settings)
    reunion = await make_venue(
        name="Saint-Denis",
        timezone="Indian/Reunion",
        latitude=Decimal("-20.8823"),
        longitude=Decimal("55.4504"),
        postcode="97400",
        commune="Saint-Denis",
        insee_code="97411",
    )
    await make_workspace(reunion)
    day = next_weekday(3)

    response = await client.get(
        "/api/v1/availability",
        params={"date": day.isoformat(), "slot": "morning", "commune": "saint-denis"},
        headers=headers,
    )

    [venue] = response.json()["items"]
    assert venue["starts_at"] == f"{day.isoformat()}T08:30:00+04:00"


async def test_daylight_saving_day(client: httpx.AsyncClient, settings: Settings) -> None:
    from booking.services import availability

    venue = await make_venue()
    await OpeningHours(venue=venue.id, weekday=6, opens=time(8), closes=time(19)).save()
    await make_workspace(venue)

    rows, _ = await availability.search(
        availability.Search(day=date(2026, 3, 29), slot="morning", kind="desk"), 10, 0
    )

    assert rows[0]["starts_at"].isoformat() == "2026-03-29T08:30:00+02:00"
    assert rows[0]["starts_at"].utcoffset() == timedelta(hours=2)


async def test_services_filter_bad_inputs_and_roles(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await _agent(settings)
    await make_workspace(await make_venue(name="Fablab", services=["fablab", "wifi"]))
    await make_workspace(await make_venue(name="Café", services=["cafe"]))
    day = next_weekday(1).isoformat()

    fablab = await client.get(
        "/api/v1/availability",
        params={"date": day, "slot": "day", "services": "fablab,wifi"},
        headers=headers,
    )
    no_slot = await client.get("/api/v1/availability", params={"date": day}, headers=headers)
    half_location = await client.get(
        "/api/v1/availability", params={"date": day, "slot": "day", "lat": "50.6"}, headers=headers
    )
    wide = await client.get(
        "/api/v1/availability",
        params={"date": day, "slot": "day", **LILLE, "radius_km": "5000"},
        headers=headers,
    )
    past = await client.get(
        "/api/v1/availability", params={"date": "2020-01-06", "slot": "day"}, headers=headers
    )
    bad_time = await client.get(
        "/api/v1/availability",
        params={"date": day, "start": "AAA", "end": "12:00"},
        headers=headers,
    )
    bad_date = await client.get(
        "/api/v1/availability", params={"date": "demain", "slot": "day"}, headers=headers
    )
    staff = auth(settings, await make_user(Role.VENUE_STAFF))
    as_staff = await client.get(
        "/api/v1/availability", params={"date": day, "slot": "day"}, headers=staff
    )
    anonymous = await client.get("/api/v1/availability", params={"date": day, "slot": "day"})

    assert [v["name"] for v in fablab.json()["items"]] == ["Fablab"]
    assert (no_slot.status_code, no_slot.json()["field"]) == (422, "slot")
    assert (half_location.status_code, half_location.json()["field"]) == (422, "lon")
    assert (wide.status_code, wide.json()["field"]) == (422, "radius_km")
    assert (past.status_code, past.json()["field"]) == (422, "date")
    assert bad_date.status_code == 422
    assert (bad_time.status_code, bad_time.json()["field"]) == (422, "start")
    assert as_staff.status_code == 403
    assert anonymous.status_code == 401


async def test_the_radius_is_a_circle_in_every_direction_and_optional(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """The search boxes venues on both coordinates before the exact distance: the box must
    never cut a venue inside the circle, north, south, east or west, here or overseas."""
    import math

    headers = await _agent(settings)
    km_per_degree = 6371 * math.pi / 180
    places = {
        "Lille": (50.6372, 3.0633),
        "Saint-Denis de La Réunion": (-20.8789, 55.4481),
    }
    expected: dict[str, set[str]] = {}
    for town, (lat, lon) in places.items():
        inside = set()
        for distance in (9.8, 10.2):
            for direction, (dlat, dlon) in {
                "nord": (1, 0),
                "sud": (-1, 0),
                "est": (0, 1),
                "ouest": (0, -1),
            }.items():
                name = f"{town} {direction} {distance}"
                venue = await make_venue(
                    name=name,
                    latitude=Decimal(f"{lat + dlat * distance / km_per_degree:.6f}"),
                    longitude=Decimal(
                        f"{lon + dlon * distance / (km_per_degree * math.cos(math.radians(lat))):.6f}"
                    ),
                    timezone="Indian/Reunion" if "Réunion" in town else "Europe/Paris",
                )
                await make_workspace(venue, capacity=2)
                if distance < 10:
                    inside.add(name)
        expected[town] = inside
    day = next_weekday(2).isoformat()

    for town, (lat, lon) in places.items():
        found = await client.get(
            "/api/v1/availability",
            params={
                "date": day,
                "slot": "day",
                "lat": str(lat),
                "lon": str(lon),
                "radius_km": "10",
            },
            headers=headers,
        )
        assert found.status_code == 200, found.text
        assert {v["name"] for v in found.json()["items"]} == expected[town], town
        assert all(9.7 < v["distance_km"] < 9.9 for v in found.json()["items"])

    anywhere = await client.get(
        "/api/v1/availability", params={"date": day, "slot": "day", "limit": "50"}, headers=headers
    )
    assert anywhere.status_code == 200, anywhere.text
    assert anywhere.json()["total"] == 16
    assert all(v["distance_km"] is None for v in anywhere.json()["items"])
