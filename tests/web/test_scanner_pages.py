"""The door scanner over HTTP: who may open it, the no-JavaScript form, the script's JSON routes,
door devices' cookie, and every refusal shown where the person looks."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from booking.tables import User
from passes import door_devices
from passes import services as pass_services
from passes.tables import Scan, Visit
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.factories import (
    make_booking,
    make_door_device,
    make_organisation,
    make_pass,
    make_rates,
    make_user,
    make_venue,
    make_workspace,
)
from tests.web.test_pages import csrf_token, post_form, sign_in
from web.controllers.scanner import DEVICE_COOKIE

PARIS = ZoneInfo("Europe/Paris")


async def door(settings: Settings) -> dict[str, Any]:
    """A venue with desks and rates, its staff member, an agent booked there today with a pass."""
    venue = await make_venue(name="La Fabrique")
    desk = await make_workspace(venue, capacity=10, name="Open space")
    await make_rates(venue, unit="day", venue_cents=2400, organisation_cents=3600)
    await make_rates(venue, unit="half_day", venue_cents=1200, organisation_cents=1800)
    organisation = await make_organisation(name="Métropole de Lille")
    agent = await make_user(Role.AGENT, organisation=organisation, display_name="Camille Martin")
    booking = await make_booking(agent, desk, datetime.now(PARIS).date(), slot="day")
    issued = await make_pass(settings, agent)
    staff = await make_user(Role.VENUE_STAFF, venue=venue, display_name="Sam Accueil")
    return {"venue": venue, "agent": agent, "booking": booking, "pass": issued, "staff": staff}


async def signed_in_staff(client: httpx.AsyncClient, settings: Settings) -> dict[str, Any]:
    world = await door(settings)
    response = await sign_in(client, world["staff"])
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/scan"
    return world


async def post_json(client: httpx.AsyncClient, url: str, data: Any) -> httpx.Response:
    return await client.post(url, json=data, headers={"x-csrftoken": await csrf_token(client)})


def scan_body(token: str, **fields: Any) -> dict[str, Any]:
    return {
        "scan_id": str(uuid.uuid4()),
        "token": token,
        "scanned_at": datetime.now(UTC).isoformat(),
        "direction": "in",
        **fields,
    }


def page_config(html: str) -> dict[str, Any]:
    match = re.search(r'<script id="scanner-config" type="application/json">(.*?)</script>', html)
    assert match, html[:2000]
    loaded: dict[str, Any] = json.loads(match.group(1))
    return loaded


# Opening the scanner


async def test_staff_land_on_the_scanner_with_todays_bookings(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await signed_in_staff(client, settings)
    response = await client.get("/scan")
    assert response.status_code == 200
    assert "Accueil de La Fabrique" in response.text
    assert "Camille Martin" in response.text
    assert "0 arrivé(s) sur 1 attendu(s)" in response.text
    assert 'aria-live="assertive"' in response.text
    assert 'href="/scan" aria-current="page"' in response.text
    config = page_config(response.text)
    assert config["state"]["arrivals"][0]["serial"] == world["pass"].serial
    assert config["state"]["csrf_token"] == client.cookies["csrftoken"]
    assert config["words"]["scan.reason.revoked"] == "Ce pass a été révoqué."


async def test_strangers_go_to_sign_in_and_other_roles_get_403(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    for url in ("/scan", "/scan/state"):
        response = await client.get(url)
        assert response.status_code == 303, url
        assert response.headers["location"] == "/"
    anonymous = await post_json(client, "/scan/scans", scan_body("TL1:X"))
    assert anonymous.status_code == 303
    agent = await make_user(Role.AGENT)
    await sign_in(client, agent)
    for url in ("/scan", "/scan/state"):
        assert (await client.get(url)).status_code == 403, url
    refused = await post_json(client, "/scan/scans", scan_body("TL1:X"))
    assert refused.status_code == 403
    assert "Accès refusé" in refused.text
    assert await Scan.count() == 0


async def test_an_unknown_scanner_address_is_a_404(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await signed_in_staff(client, settings)
    assert (await client.get("/scan/nothing-here")).status_code == 404
    assert (await client.get(f"/scan/{uuid.uuid4()}")).status_code == 404


async def test_the_decoder_and_the_service_worker_are_served(client: httpx.AsyncClient) -> None:
    decoder = await client.get("/scan/jsqr.js")
    assert decoder.status_code == 200
    assert decoder.headers["content-type"].startswith("text/javascript")
    assert "jsQR" in decoder.text
    worker = await client.get("/scan/sw.js")
    assert worker.status_code == 200
    assert worker.headers["service-worker-allowed"] == "/scan"
    assert "tl-scan-v1" in worker.text


# The form without JavaScript


async def test_manual_entry_admits_a_booked_agent_and_checks_them_in(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await signed_in_staff(client, settings)
    scan_id = str(uuid.uuid4())
    form = {"token": world["pass"].token, "scan_id": scan_id}
    response = await post_form(client, "/scan", form)
    assert response.status_code == 200, response.text
    assert "Entrée autorisée" in response.text
    assert "Camille Martin" in response.text
    assert "Open space" in response.text
    assert "1 arrivé(s) sur 1 attendu(s)" in response.text
    visit = await Visit.objects().where(Visit.agent == world["agent"].id).first()
    assert visit is not None
    assert visit.booking == world["booking"].id
    # The form sent twice (a reload) is the same scan: still one visit, one scan.
    again = await post_form(client, "/scan", form)
    assert "Entrée autorisée" in again.text
    assert await Scan.count() == 1
    assert await Visit.count() == 1


@pytest.mark.parametrize(
    ("token", "message"),
    [("", "Saisissez ou collez le code du pass."), ("TL1:" + "A" * 600, "trop long")],
)
async def test_manual_entry_errors_are_shown_next_to_the_field(
    client: httpx.AsyncClient, settings: Settings, token: str, message: str
) -> None:
    await signed_in_staff(client, settings)
    response = await post_form(client, "/scan", {"token": token, "scan_id": str(uuid.uuid4())})
    assert response.status_code == 422
    assert 'aria-describedby="token-error"' in response.text
    assert message in response.text
    assert await Scan.count() == 0


async def test_an_unreadable_code_is_refused_with_the_reason_in_words(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await signed_in_staff(client, settings)
    response = await post_form(client, "/scan", {"token": "hello", "scan_id": str(uuid.uuid4())})
    assert response.status_code == 200
    assert "Entrée refusée" in response.text
    assert "Ce n&#39;est pas un pass Tiers-Lieux" in response.text
    assert await Visit.count() == 0


async def test_a_scan_id_already_used_at_another_door_is_shown_as_a_conflict(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await signed_in_staff(client, settings)
    elsewhere = await make_venue(name="Ailleurs")
    _, headers = await make_door_device(elsewhere)
    scan_id = str(uuid.uuid4())
    first = await client.post(
        f"/api/v1/venues/{elsewhere.id}/scans",
        json=scan_body(world["pass"].token, scan_id=scan_id),
        headers=headers,
    )
    assert first.status_code == 201, first.text
    response = await post_form(client, "/scan", {"token": world["pass"].token, "scan_id": scan_id})
    assert response.status_code == 409
    assert 'id="refusal"' in response.text
    assert "Ce scan a déjà été enregistré autrement" in response.text
    assert await Scan.count() == 1


async def test_page_posts_without_the_csrf_token_are_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await signed_in_staff(client, settings)
    form = await client.post("/scan", data={"token": world["pass"].token})
    assert form.status_code == 403
    script = await client.post("/scan/scans", json=scan_body(world["pass"].token))
    assert script.status_code == 403
    batch = await client.post(
        "/scan/scans:batch",
        json={"scans": [{**scan_body("x"), "local_verdict": {"admitted": True}}]},
        headers={"x-csrftoken": "x" * 64},
    )
    assert batch.status_code == 403
    assert await Scan.count() == 0


# The script's JSON routes


async def test_the_script_scans_online_and_gets_the_verdict_in_words(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await signed_in_staff(client, settings)
    response = await post_json(client, "/scan/scans", scan_body(world["pass"].token))
    assert response.status_code == 201, response.text
    verdict = response.json()
    assert verdict["admitted"] is True
    assert verdict["agent_name"] == "Camille Martin"
    assert verdict["workspace_name"] == "Open space"
    assert verdict["offline"] is False
    state = (await client.get("/scan/state")).json()
    assert state["arrivals"][0]["arrived_at"] is not None


async def test_a_revoked_pass_is_refused_with_its_reason(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await signed_in_staff(client, settings)
    network = await make_user(Role.NETWORK_ADMIN)
    principal = await _principal(network)
    await pass_services.change_status(principal, world["agent"].id, "revoked")
    state = (await client.get("/scan/state")).json()
    assert world["pass"].serial in state["revoked"]
    response = await post_json(client, "/scan/scans?lang=en", scan_body(world["pass"].token))
    verdict = response.json()
    assert verdict["admitted"] is False
    assert verdict["reason"] == "revoked"
    assert verdict["reason_text"] == "This pass has been revoked."
    assert await Visit.count() == 0


async def _principal(user: User) -> Any:
    from service.kernel.identity import Principal

    return Principal(role=Role(user.role), user_id=user.id)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"token": ""}, "token"),
        ({"scan_id": "not-a-uuid"}, "scan_id"),
        ({"direction": "sideways"}, "direction"),
    ],
)
async def test_bad_script_bodies_are_refused_with_the_field(
    client: httpx.AsyncClient, settings: Settings, change: dict[str, str], field: str
) -> None:
    world = await signed_in_staff(client, settings)
    response = await post_json(client, "/scan/scans", {**scan_body(world["pass"].token), **change})
    assert response.status_code in (400, 422), response.text
    assert field in response.text
    assert await Scan.count() == 0


async def test_an_online_scan_dated_long_ago_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await signed_in_staff(client, settings)
    old = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    response = await post_json(
        client, "/scan/scans", scan_body(world["pass"].token, scanned_at=old)
    )
    assert response.status_code == 422
    assert response.json()["field"] == "scanned_at"


async def test_the_offline_queue_syncs_through_the_batch_service(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await signed_in_staff(client, settings)
    # Judged as of its own time (the pass was issued just now: a little earlier is in the skew).
    earlier = (datetime.now(UTC) - timedelta(minutes=2)).isoformat()
    item = {
        **scan_body(world["pass"].token, scanned_at=earlier),
        "local_verdict": {"admitted": True, "reason": None},
    }
    response = await post_json(client, "/scan/scans:batch", {"scans": [item, item]})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["admitted"] for r in results] == [True, True]
    assert results[0]["anomaly"] is False
    assert await Visit.count() == 1
    # Sent again (the answer was lost): the same answers, nothing more.
    again = await post_json(client, "/scan/scans:batch", {"scans": [item]})
    assert again.json()["results"][0]["scan_id"] == item["scan_id"]
    assert await Scan.count() == 1


async def test_bad_batches_are_refused_and_keep_nothing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await signed_in_staff(client, settings)
    empty = await post_json(client, "/scan/scans:batch", {"scans": []})
    assert empty.status_code in (400, 422)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    item = {
        **scan_body(world["pass"].token, scanned_at=future),
        "local_verdict": {"admitted": True},
    }
    response = await post_json(client, "/scan/scans:batch", {"scans": [item]})
    assert response.status_code == 422
    assert response.json()["field"] == "scans[0].scanned_at"
    assert await Scan.count() == 0


async def test_staff_see_only_their_own_venue(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await door(settings)  # another venue's booking
    other = await make_venue(name="Le Tiers")
    staff = await make_user(Role.VENUE_STAFF, venue=other)
    await sign_in(client, staff)
    state = (await client.get("/scan/state")).json()
    assert state["venue"]["name"] == "Le Tiers"
    assert state["arrivals"] == []


# Door devices


async def test_a_door_device_opens_the_scanner_with_its_token_in_a_cookie(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await door(settings)
    device, token = await door_devices.create(world["venue"].id, "Entrée", world["staff"].id)
    assert (await client.get("/scan/device")).status_code == 200
    response = await post_form(client, "/scan/device", {"token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/scan"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(DEVICE_COOKIE))
    assert "HttpOnly" in cookie
    assert "Path=/scan" in cookie
    scanner = await client.get("/scan")
    assert scanner.status_code == 200
    assert "Oublier cet appareil" in scanner.text
    assert "Se déconnecter" not in scanner.text  # no person is signed in
    verdict = await post_json(client, "/scan/scans", scan_body(world["pass"].token))
    assert verdict.json()["admitted"] is True
    scan = await Scan.objects().first()
    assert scan is not None
    assert scan.device == device.id
    # The cookie is read on the scanner's routes only.
    assert (await client.get("/account")).status_code == 303

    await door_devices.revoke(world["venue"].id, device.id)
    assert (await client.get("/scan")).status_code == 303


@pytest.mark.parametrize(
    ("token", "status", "message"),
    [
        ("", 422, "Collez le jeton d&#39;appareil."),
        ("tldev_unknown", 401, "inconnu ou a été révoqué"),
        ("not-a-device-token", 401, "inconnu ou a été révoqué"),
    ],
)
async def test_a_bad_device_token_is_shown_next_to_the_field(
    client: httpx.AsyncClient, token: str, status: int, message: str
) -> None:
    response = await post_form(client, "/scan/device", {"token": token})
    assert response.status_code == status
    assert 'aria-describedby="token-error"' in response.text
    assert message in response.text
    assert DEVICE_COOKIE not in client.cookies


async def test_forgetting_the_device_removes_its_cookie(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await door(settings)
    _, token = await door_devices.create(world["venue"].id, "Entrée", world["staff"].id)
    await post_form(client, "/scan/device", {"token": token})
    response = await post_form(client, "/scan/device/forget", {})
    assert response.status_code == 303
    assert response.headers["location"] == "/scan/device?forgotten=1"
    assert (await client.get("/scan")).status_code == 303
    assert "Cet appareil a été oublié" in (await client.get("/scan/device?forgotten=1")).text


async def test_the_scanner_speaks_english_to_its_script_too(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await signed_in_staff(client, settings)
    response = await client.get("/scan?lang=en")
    assert '<html lang="en">' in response.text
    assert "Scan passes" in response.text
    assert page_config(response.text)["words"]["scan.js.offline_checked"] == "checked offline"
    verdict = await post_json(client, "/scan/scans", scan_body("TL1:nonsense"))
    assert verdict.json()["reason_text"] == "This is not a Tiers-Lieux pass (unreadable code)."
    assert world["agent"].display_name not in verdict.text
