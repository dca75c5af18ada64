"""Importing venues from a CSV or GeoJSON file: the open-data exports' shapes, row by row."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import asyncpg
import httpx
from redis.asyncio import Redis

from booking.tables import OpeningHours, Venue, Workspace
from service.app.factory import app_resources, create_app
from service.app.seed import seed
from service.kernel.database import with_database
from service.kernel.identity import Role
from service.kernel.settings import Settings
from service.kernel.tables import AuditEntry
from tests.factories import VALID_SIRET, auth, make_user, make_venue

IMPORT = "/api/v1/venues:import"
HEADER = (
    "id,name,address,postcode,commune,insee_code,latitude,longitude,services,website,"
    "opening_hours,workspaces_desk,workspaces_meeting_room,workspaces_private_office,workspaces_lab\n"
)


@asynccontextmanager
async def _serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app_resources(settings)(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as http:
            yield http


async def _empty_database(postgres_url: str, template: str, name: str) -> str:
    admin = await asyncpg.connect(with_database(postgres_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    finally:
        await admin.close()
    return with_database(postgres_url, name)


async def _drop(postgres_url: str, name: str) -> None:
    admin = await asyncpg.connect(with_database(postgres_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_the_demo_exported_imports_into_an_empty_database_and_exports_the_same(
    settings: Settings, redis: Redis, postgres_url: str, template_database: str
) -> None:
    async with _serving(settings) as demo:
        await seed()
        geojson = (await demo.get("/opendata/venues.geojson")).content
        csv_text = (await demo.get("/opendata/venues.csv")).content
    assert len(json.loads(geojson)["features"]) >= 10

    name = f"{settings.database_url.rsplit('/', 1)[-1]}_empty"  # type: ignore[union-attr]
    empty = await _empty_database(postgres_url, template_database, name)
    try:
        async with _serving(replace(settings, database_url=empty)) as other:
            admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
            applied = await other.post(
                IMPORT, params={"status": "approved"}, content=geojson, headers=admin
            )
            again = await other.post(IMPORT, content=csv_text, headers=admin)
            geojson_here = (await other.get("/opendata/venues.geojson")).content
            csv_here = (await other.get("/opendata/venues.csv")).content
    finally:
        await _drop(postgres_url, name)

    assert applied.status_code == 200, applied.text
    report = applied.json()
    assert report["refused"] == 0, [r for r in report["rows"] if r["action"] == "refuse"]
    assert report["created"] == len(json.loads(geojson)["features"])
    # The CSV export of the same venues finds every one of them: nothing to create or change.
    assert again.status_code == 200, again.text
    assert (again.json()["created"], again.json()["updated"]) == (0, 0)
    assert again.json()["unchanged"] == report["created"]
    assert geojson_here == geojson
    assert csv_here == csv_text


async def test_a_dry_run_answers_line_by_line_and_changes_nothing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_venue(name="Déjà là", commune="Lille", insee_code="59350")
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    venues_before = await Venue.count()
    audit_before = await AuditEntry.count()
    content = (
        "name,siret,address,postcode,commune,insee_code,latitude,longitude,services,opening_hours,"
        "workspaces_desk,website\n"
        f"La Fabrique,{VALID_SIRET[:-1]}0,1 rue A,59100,Roubaix,59512,50.69,3.18,wifi,,2,\n"
        "Le Bon Coin,,2 rue B,59100,Roubaix,59512,50.69,3.18,wifi;cafe,Mo-Fr 09:00-18:00,1,\n"
        "Inversé,,3 rue C,59000,Lille,59350,3.06,50.63,wifi,,0,\n"
        "Ailleurs,,4 rue D,75001,Paris,59350,48.86,2.34,wifi,,0,\n"
        ",,5 rue E,59000,Lille,59350,50.63,3.06,wifi,,0,\n"
        "Le Bon Coin,,6 rue F,59100,Roubaix,59512,50.69,3.18,wifi,,0,\n"
        '=HYPERLINK("http://evil"),,7 rue G,59000,Lille,59350,50.63,3.06,wifi,,0,\n'
        "Lien piégé,,8 rue H,59000,Lille,59350,50.63,3.06,wifi,,0,javascript:alert(1)\n"
        "Mauvaises heures,,9 rue I,59000,Lille,59350,50.63,3.06,wifi,24/7,0,\n"
        "Mauvais service,,9 rue I,59000,Lille,59350,50.63,3.06,jacuzzi,,0,\n"
        "Commune inconnue,,9 rue I,59000,Lille,59999,50.63,3.06,wifi,,0,\n"
    ).encode()

    response = await client.post(IMPORT, params={"dry_run": "true"}, content=content, headers=admin)

    assert response.status_code == 200, response.text
    report = response.json()
    outcome = {r["line"]: (r["action"], r["field"]) for r in report["rows"]}
    assert outcome == {
        2: ("refuse", "siret"),
        3: ("create", None),
        4: ("refuse", "latitude"),
        5: ("refuse", "insee_code"),
        6: ("refuse", "name"),
        7: ("refuse", "id"),
        8: ("refuse", "name"),
        9: ("refuse", "website"),
        10: ("refuse", "opening_hours"),
        11: ("refuse", "services"),
        12: ("refuse", "insee_code"),
    }, report["rows"]
    reasons = {r["line"]: r["reason"] for r in report["rows"]}
    assert "SIRET" in reasons[2]
    assert "outside France" in reasons[4]
    assert "Unknown commune" in reasons[5]
    assert "twice in the file (line 3)" in reasons[7]
    assert "formula" in reasons[8]
    assert "Lille has INSEE code 59350" in reasons[12]
    assert (report["dry_run"], report["created"], report["refused"]) == (True, 1, 10)
    assert await Venue.count() == venues_before
    assert await AuditEntry.count() == audit_before


async def test_applying_twice_creates_nothing_the_second_time(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    content = (
        HEADER + "ext-1,La Ruche,1 rue A,59100,Roubaix,59512,50.6901,3.1817,wifi;cafe,,"
        '"Mo-Fr 08:30-12:30,13:30-18:00; Sa 09:00-12:00",3,1,0,0\n'
        "ext-2,Le Phare,2 quai B,59200,Tourcoing,59599,50.7239,3.1612,,,,1,0,0,1\n"
    ).encode()

    first = await client.post(IMPORT, content=content, headers=admin)
    second = await client.post(IMPORT, content=content, headers=admin)
    changed = content.replace(b"La Ruche", b"La Ruche de Roubaix").replace(b"Sa 09", b"Sa 10")
    third = await client.post(IMPORT, content=changed, headers=admin)

    assert first.status_code == 200, first.text
    assert (first.json()["created"], first.json()["status"]) == (2, "applied")
    assert (second.json()["created"], second.json()["unchanged"]) == (0, 2)
    assert third.json()["updated"] == 1
    [update] = [r for r in third.json()["rows"] if r["action"] == "update"]
    assert update["changes"] == ["name", "opening_hours"]
    ruche = await Venue.objects().where(Venue.reference == "ext-1").first()
    assert ruche is not None
    assert (ruche.name, ruche.status, ruche.siret, ruche.slug) == (
        "La Ruche de Roubaix",
        "applied",
        None,
        "la-ruche-roubaix",
    )
    assert await Workspace.count().where(Workspace.venue == ruche.id) == 4
    assert await OpeningHours.count().where(OpeningHours.venue == ruche.id) == 11
    audits = await AuditEntry.select().where(AuditEntry.action == "venue.import")
    assert len(audits) == 3
    # An applied venue is not public yet.
    assert b"La Ruche" not in (await client.get("/opendata/venues.csv")).content


async def test_a_venue_keyed_by_siret_is_found_again_and_approved_on_request(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    existing = await make_venue(name="Ancien nom", siret=VALID_SIRET, status="suspended")
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    content = (
        "name,siret,postcode,commune,insee_code,latitude,longitude\n"
        f"Nouveau nom,{VALID_SIRET},59000,Lille,59350,50.6372,3.0633\n"
        "Neuf,,59000,Lille,59350,50.6372,3.0633\n"
    ).encode()

    response = await client.post(
        IMPORT, params={"status": "approved"}, content=content, headers=admin
    )

    assert response.status_code == 200, response.text
    actions = [(r["action"], r["venue_id"]) for r in response.json()["rows"]]
    assert actions[0] == ("update", str(existing.id))
    assert actions[1][0] == "create"
    rows = {r["name"]: r["status"] for r in await Venue.select(Venue.name, Venue.status)}
    # The suspended venue stays suspended; the new one starts approved as asked.
    assert rows == {"Nouveau nom": "suspended", "Neuf": "approved"}


async def test_hostile_files_are_refused_with_a_sentence(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    deep = b"[" * 200_000 + b"]" * 200_000
    many = (
        HEADER
        + "".join(f"r{i},Lieu {i},,59000,Lille,59350,50.63,3.06,,,,0,0,0,0\n" for i in range(5_001))
    ).encode()
    cases = {
        "latin-1": HEADER.encode() + "Café,,59000,Lille,59350,50.6,3.0\n".encode("latin-1"),
        "bad json": b'{"type": "FeatureCollection", "features": [',
        "not geojson": b'{"type": "Feature"}',
        "deep": deep,
        "long value": (HEADER + "x," + "a" * 5_000 + ",,59000,Lille,59350,50.6,3.0\n").encode(),
        "no columns": b"nom;ville\nLa Ruche;Roubaix\n",
        "too many": many,
    }
    for case, content in cases.items():
        response = await client.post(IMPORT, content=content, headers=admin)
        assert response.status_code == 422, (case, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), case
        assert response.json()["detail"], case
    huge = await client.post(IMPORT, content=b"x" * 5_000_001, headers=admin)
    assert huge.status_code == 413
    bad_status = await client.post(IMPORT, params={"status": "closed"}, content=b"", headers=admin)
    assert bad_status.status_code == 422, bad_status.text
    assert await Venue.count() == 0


async def test_only_the_network_admin_imports(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue_admin = auth(settings, await make_user(Role.VENUE_ADMIN))
    agent = auth(settings, await make_user(Role.AGENT))
    content = (HEADER + "x,Lieu,,59000,Lille,59350,50.63,3.06,,,,0,0,0,0\n").encode()

    anonymous = await client.post(IMPORT, content=content)
    refused = [
        (await client.post(IMPORT, content=content, headers=who)).status_code
        for who in (venue_admin, agent)
    ]

    assert anonymous.status_code == 401
    assert refused == [403, 403]
    assert await Venue.exists().where(Venue.name == "Lieu") is False
