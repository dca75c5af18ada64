"""Open data: valid GeoJSON and CSV of approved venues, cacheable, with no personal data."""

from __future__ import annotations

import csv
import io
from datetime import time

import geojson
import httpx

from booking.tables import OpeningHours
from tests.factories import VALID_IBAN, VALID_SIRET, make_venue, make_workspace


async def _venues() -> None:
    ruche = await make_venue(name="La Ruche", commune="Roubaix", insee_code="59512", hours=False)
    await OpeningHours.insert(
        *[
            OpeningHours(venue=ruche.id, weekday=d, opens=time(8, 30), closes=time(12, 30))
            for d in range(5)
        ],
        *[
            OpeningHours(venue=ruche.id, weekday=d, opens=time(13, 30), closes=time(18))
            for d in range(5)
        ],
        OpeningHours(venue=ruche.id, weekday=5, opens=time(9), closes=time(12)),
    )
    await make_workspace(ruche, kind="desk", capacity=10)
    await make_workspace(ruche, kind="meeting_room", booking_unit="hour", capacity=8)
    await make_workspace(ruche, kind="lab", booking_unit="hour", capacity=4, active=False)
    await make_venue(name="Candidat", status="applied")
    await make_venue(name="Suspendu", status="suspended")


async def test_geojson_is_valid_rfc7946_of_approved_venues(client: httpx.AsyncClient) -> None:
    await _venues()

    response = await client.get("/opendata/venues.geojson")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    assert response.headers["access-control-allow-origin"] == "*"
    document = geojson.loads(response.text)
    assert document.is_valid, document.errors()
    [feature] = document["features"]
    assert feature["properties"]["name"] == "La Ruche"
    assert feature["geometry"]["coordinates"] == [3.0633, 50.6372]  # longitude first
    assert feature["properties"]["opening_hours"] == "Mo-Fr 08:30-12:30,13:30-18:00; Sa 09:00-12:00"
    assert feature["properties"]["workspaces_desk"] == 1
    assert feature["properties"]["workspaces_lab"] == 0  # inactive workspaces are not counted
    for private in (VALID_SIRET, VALID_IBAN, "@example.org"):
        assert private not in response.text


async def test_csv_and_conditional_requests(client: httpx.AsyncClient) -> None:
    await _venues()

    first = await client.get("/opendata/venues.csv")
    again = await client.get(
        "/opendata/venues.csv", headers={"If-None-Match": first.headers["etag"]}
    )
    stale = await client.get("/opendata/venues.csv", headers={"If-None-Match": '"other"'})

    rows = list(csv.DictReader(io.StringIO(first.text)))
    assert [r["name"] for r in rows] == ["La Ruche"]
    assert rows[0]["insee_code"] == "59512"
    assert rows[0]["services"] == "wifi;cafe"
    assert again.status_code == 304
    assert again.content == b""
    assert stale.status_code == 200
    assert "contact" not in first.text
