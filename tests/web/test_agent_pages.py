"""The agent's search over HTTP: near a commune (nearest first, on a map), rooms by the hour, errors."""

from __future__ import annotations

import re
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest

from booking.tables import Booking, User, Venue, Workspace
from service.kernel.identity import Role
from tests.factories import make_user, make_venue, make_workspace, next_weekday
from tests.web.test_pages import post_form, sign_in

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
async def agent(client: httpx.AsyncClient) -> User:
    user = await make_user(Role.AGENT, display_name="Camille Test")
    assert (await sign_in(client, user)).status_code == 303
    return user


async def _venue(name: str, commune: str, lat: str, lon: str) -> Venue:
    return await make_venue(
        name=name, commune=commune, latitude=Decimal(lat), longitude=Decimal(lon)
    )


@pytest.fixture
async def network() -> dict[str, Venue]:
    """Four places: two in Lille, one in Roubaix (~10 km), one in Halluin (~17 km)."""
    venues = {
        "lille": await _venue("Gare Saint-Sauveur", "Lille", "50.6300", "3.0700"),
        "lille-2": await _venue("Euratechnologies", "Lille", "50.6440", "3.0200"),
        "roubaix": await _venue("La Condition publique", "Roubaix", "50.6901", "3.1817"),
        "halluin": await _venue("Le Fil", "Halluin", "50.7836", "3.1256"),
    }
    for venue in venues.values():
        await make_workspace(venue, name="Plateau", capacity=4)
    return venues


def _order(text: str, venues: dict[str, Venue]) -> list[str]:
    """The places' keys in the order the result list shows them."""
    ids = re.findall(r'<li class="card venue" id="venue-([0-9a-f-]+)"', text)
    names = {str(v.id): key for key, v in venues.items()}
    return [names[i] for i in ids]


async def test_near_a_commune_lists_the_places_nearest_first_with_their_distance_and_a_map(
    client: httpx.AsyncClient, agent: User, network: dict[str, Venue]
) -> None:
    day = next_weekday().isoformat()
    near = await client.get("/agent", params={"date": day, "near": "lille", "radius": "15"})
    assert near.status_code == 200, near.text
    # Lille's two places are as far from the commune's centre (their mean): by name then.
    assert _order(near.text, network) == ["lille-2", "lille", "roubaix"]
    assert 'value="Lille"' in near.text  # the typed name, as the network spells it
    assert re.search(r"à \d+,\d km", near.text)  # a decimal comma in French
    # The map: one numbered pin per place, each linking to its entry in the list.
    pins = re.findall(r'<a href="#venue-([0-9a-f-]+)" aria-label="(\d)\. ', near.text)
    assert [(p[0], int(p[1])) for p in pins] == [
        (str(network[k].id), n) for n, k in enumerate(_order(near.text, network), start=1)
    ]
    assert 'class="map-centre"' in near.text
    wider = await client.get("/agent", params={"date": day, "near": "Lille", "radius": "30"})
    assert _order(wider.text, network)[-1] == "halluin"
    english = await client.get(
        "/agent", params={"date": day, "near": "Lille", "radius": "30", "lang": "en"}
    )
    assert re.search(r"\d+\.\d km away", english.text)


async def test_without_a_radius_the_commune_is_a_plain_filter(
    client: httpx.AsyncClient, agent: User, network: dict[str, Venue]
) -> None:
    day = next_weekday().isoformat()
    only = await client.get("/agent", params={"date": day, "near": "Roubaix", "radius": "0"})
    assert _order(only.text, network) == ["roubaix"]
    assert 'class="distance"' not in only.text
    assert 'class="map-centre"' not in only.text
    legacy = await client.get("/agent", params={"date": day, "commune": "Halluin"})
    assert _order(legacy.text, network) == ["halluin"]
    everywhere = await client.get("/agent", params={"date": day})
    assert sorted(_order(everywhere.text, network)) == sorted(network)


async def test_near_and_radius_errors_are_shown_next_to_their_fields(
    client: httpx.AsyncClient, agent: User, network: dict[str, Venue]
) -> None:
    day = next_weekday().isoformat()
    unknown = await client.get("/agent", params={"date": day, "near": "Paris"})
    assert unknown.status_code == 422
    assert 'id="near-error"' in unknown.text
    assert "Aucun lieu du réseau dans cette commune" in unknown.text
    assert 'aria-invalid="true"' in unknown.text
    radius = await client.get("/agent", params={"date": day, "near": "Lille", "radius": "12"})
    assert radius.status_code == 422
    assert 'id="radius-error"' in radius.text
    huge = await client.get("/agent", params={"date": day, "near": "Lille", "radius": "500"})
    assert huge.status_code == 422
    assert 'id="radius-error"' in huge.text


@pytest.fixture
async def room(network: dict[str, Venue]) -> Workspace:
    return await make_workspace(
        network["roubaix"], kind="meeting_room", name="Salle Verte", capacity=8, booking_unit="hour"
    )


async def test_rooms_by_the_hour_are_found_for_a_range_and_booked_end_to_end(
    client: httpx.AsyncClient, agent: User, room: Workspace
) -> None:
    day = next_weekday()
    search = {
        "date": day.isoformat(),
        "kind": "meeting_room",
        "start": "10:00",
        "end": "11:30",
        "near": "Lille",
        "radius": "15",
    }
    found = await client.get("/agent", params=search)
    assert found.status_code == 200, found.text
    assert str(room.id) in found.text
    assert '<input type="hidden" name="start" value="10:00">' in found.text
    assert "1 lieu avec une salle libre" in found.text
    booked = await post_form(
        client, "/agent/bookings", {**search, "workspace_id": str(room.id), "slot": "day"}
    )
    assert booked.status_code == 303, booked.text
    booking = await Booking.objects().where(Booking.agent == agent.id).first()
    assert booking is not None
    assert booking.starts_at.astimezone(PARIS) == datetime.combine(day, time(10), PARIS)
    assert booking.ends_at.astimezone(PARIS) == datetime.combine(day, time(11, 30), PARIS)
    assert booking.unit == "hour"
    mine = await client.get("/agent/bookings")
    assert "Salle Verte" in mine.text
    # Taken for an overlapping range: no longer offered.
    overlapping = await client.get("/agent", params={**search, "start": "11:00", "end": "12:00"})
    assert str(room.id) not in overlapping.text
    assert "Aucune salle libre" in overlapping.text
    later = await client.get("/agent", params={**search, "start": "11:30", "end": "12:30"})
    assert str(room.id) in later.text


async def test_a_taken_room_is_refused_with_a_message(
    client: httpx.AsyncClient, room: Workspace
) -> None:
    day = next_weekday()
    form = {
        "workspace_id": str(room.id),
        "date": day.isoformat(),
        "kind": "meeting_room",
        "start": "14:00",
        "end": "15:00",
    }
    first = await make_user(Role.AGENT)
    assert (await sign_in(client, first)).status_code == 303
    assert (await post_form(client, "/agent/bookings", form)).status_code == 303
    second = await make_user(Role.AGENT)
    assert (await sign_in(client, second)).status_code == 303
    taken = await post_form(client, "/agent/bookings", {**form, "start": "14:30"})
    assert taken.status_code == 409
    assert "Cette salle est déjà réservée." in taken.text
    assert await Booking.count().where(Booking.workspace == room.id) == 1


async def test_bad_hours_are_shown_next_to_their_fields(
    client: httpx.AsyncClient, agent: User, room: Workspace
) -> None:
    base = {"date": next_weekday().isoformat(), "kind": "meeting_room"}
    backwards = await client.get("/agent", params={**base, "start": "11:00", "end": "10:00"})
    assert backwards.status_code == 422
    assert 'id="end-error"' in backwards.text
    assert "de fin doit venir après" in backwards.text
    quarter = await client.get("/agent", params={**base, "start": "10:15", "end": "11:00"})
    assert quarter.status_code == 422
    assert 'id="start-error"' in quarter.text
    garbage = await client.get("/agent", params={**base, "start": "ten", "end": "11:00"})
    assert garbage.status_code == 422
    assert "hh:mm" in garbage.text
    night = await client.get("/agent", params={**base, "start": "20:00", "end": "21:00"})
    assert night.status_code == 422
    assert 'id="start-error"' in night.text
    assert "est ouvert sur cette plage horaire" in night.text
    # Booking outside the opening hours directly: refused next to the start field.
    early = await post_form(
        client,
        "/agent/bookings",
        {**base, "workspace_id": str(room.id), "start": "07:00", "end": "08:00"},
    )
    assert early.status_code == 422
    assert 'id="start-error"' in early.text
    assert "Le lieu est fermé sur ce créneau." in early.text
    broken = await post_form(
        client,
        "/agent/bookings",
        {**base, "workspace_id": str(room.id), "start": "nine", "end": "10:00"},
    )
    assert broken.status_code == 422
    assert await Booking.count().where(Booking.workspace == room.id) == 0


async def test_the_search_and_the_booking_keep_their_access_rules(
    client: httpx.AsyncClient, room: Workspace
) -> None:
    form = {
        "workspace_id": str(room.id),
        "date": next_weekday().isoformat(),
        "kind": "meeting_room",
        "start": "10:00",
        "end": "11:00",
    }
    assert (await client.get("/agent", params={"near": "Lille"})).status_code == 303
    staff = await make_user(Role.VENUE_STAFF)
    assert (await sign_in(client, staff)).status_code == 303
    assert (await client.get("/agent", params={"near": "Lille"})).status_code == 403
    assert (await post_form(client, "/agent/bookings", form)).status_code == 403
    agent = await make_user(Role.AGENT)
    assert (await sign_in(client, agent)).status_code == 303
    no_csrf = await client.post("/agent/bookings", data=form)
    assert no_csrf.status_code == 403
    assert await Booking.count().where(Booking.workspace == room.id) == 0
