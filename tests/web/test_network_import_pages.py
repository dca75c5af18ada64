"""The network console's venue import: preview line by line, then apply the same file."""

from __future__ import annotations

import re

import httpx

from booking.tables import User, Venue
from service.kernel.identity import Role
from tests.factories import make_user
from tests.web.test_pages import sign_in

FILE = (
    b"name,postcode,commune,insee_code,latitude,longitude,services,opening_hours\n"
    b"La Ruche,59100,Roubaix,59512,50.6901,3.1817,wifi,Mo-Fr 09:00-18:00\n"
    b"Nulle part,59100,Roubaix,59512,0,0,wifi,\n"
)


async def _admin(client: httpx.AsyncClient) -> User:
    user = await make_user(Role.NETWORK_ADMIN)
    assert (await sign_in(client, user)).status_code == 303
    return user


async def test_preview_then_apply_imports_the_file_once(client: httpx.AsyncClient) -> None:
    await _admin(client)
    token = {"_csrf_token": client.cookies["csrftoken"]}
    form = await client.get("/network/venues/import")
    assert form.status_code == 200
    assert '<html lang="fr">' in form.text

    preview = await client.post(
        "/network/venues/import",
        files={"file": ("lieux.csv", FILE, "text/csv")},
        data={**token, "status": "approved", "preview": "1"},
    )

    assert preview.status_code == 200, preview.text
    assert "Aperçu" in preview.text
    assert "1 à créer, 0 à mettre à jour, 0 inchangé(s), 1 refusé(s)." in preview.text
    assert "hors de France" in preview.text  # the refusal, in French
    assert await Venue.count() == 0
    kept = re.search(r'name="kept" value="([^"]+)"', preview.text)
    assert kept is not None

    applied = await client.post(
        "/network/venues/import",
        data={**token, "kept": kept.group(1), "status": "approved", "apply": "1"},
        files={"file": ("", b"", "application/octet-stream")},
    )
    again = await client.post(
        "/network/venues/import",
        data={**token, "kept": kept.group(1), "status": "approved", "apply": "1"},
        files={"file": ("", b"", "application/octet-stream")},
    )

    assert applied.status_code == 200, applied.text
    assert "1 créé(s), 0 mis à jour, 0 inchangé(s), 1 refusé(s)." in applied.text
    assert "0 créé(s), 0 mis à jour, 1 inchangé(s), 1 refusé(s)." in again.text
    assert [v["status"] for v in await Venue.select(Venue.status)] == ["approved"]


async def test_a_file_the_import_refuses_is_said_at_the_file_field(
    client: httpx.AsyncClient,
) -> None:
    await _admin(client)
    token = {"_csrf_token": client.cookies["csrftoken"]}
    cases = {
        "no file": ({}, {**token, "status": "applied"}),
        "bad json": (
            {"file": ("x.geojson", b"{nope", "application/json")},
            {**token, "status": "applied"},
        ),
        "latin-1": (
            {"file": ("x.csv", "nom\nCafé\n".encode("latin-1"), "text/csv")},
            {**token, "status": "applied"},
        ),
        "bad status": ({"file": ("x.csv", FILE, "text/csv")}, {**token, "status": "closed"}),
        "bad kept": ({}, {**token, "status": "applied", "kept": "%%%"}),
    }
    for case, (files, data) in cases.items():
        response = await client.post(
            "/network/venues/import",
            files=files or {"file": ("", b"", "application/octet-stream")},
            data=data,
        )
        assert response.status_code == 422, (case, response.status_code)
        assert 'id="file-error"' in response.text, case
    assert await Venue.count() == 0


async def test_only_the_network_admin_opens_the_import(client: httpx.AsyncClient) -> None:
    assert (await client.get("/network/venues/import")).status_code == 303
    await sign_in(client, await make_user(Role.VENUE_ADMIN))
    assert (await client.get("/network/venues/import")).status_code == 403
    refused = await client.post(
        "/network/venues/import",
        files={"file": ("lieux.csv", FILE, "text/csv")},
        data={"_csrf_token": client.cookies["csrftoken"], "status": "approved", "apply": "1"},
    )
    assert refused.status_code == 403
    assert await Venue.count() == 1  # the venue admin's own venue only
