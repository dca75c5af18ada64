"""The network reviews anomalies: list, accept (billable) or reject (not billed), once, audited."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest

from booking.tables import VenueRate
from passes.tables import Anomaly, Visit
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.factories import (
    auth,
    make_door_device,
    make_organisation,
    make_pass,
    make_rates,
    make_user,
    make_venue,
    make_workspace,
)
from tests.passes.test_scan_batch import ISSUED, agent_with_pass, at, offline, upload

PROBLEM = "urn:tierslieux:problem:"


async def disputed_visits(settings: Settings, count: int = 2) -> dict[str, Any]:
    """A venue whose offline scanner admitted `count` agents over capacity: one anomaly each."""
    venue = await make_venue()
    await make_workspace(venue, capacity=1)
    await make_rates(venue)
    organisation = await make_organisation()
    _, headers = await make_door_device(venue)
    tokens = [(await agent_with_pass(settings, organisation))[1].token for _ in range(count + 1)]
    # The first takes the only seat; the others are over capacity.
    scans = [offline(token, at(10, i)) for i, token in enumerate(tokens)]
    return {"venue": venue, "headers": headers, "scans": scans}


async def scene(client: httpx.AsyncClient, settings: Settings, count: int = 2) -> dict[str, Any]:
    world = await disputed_visits(settings, count)
    response = await upload(client, world["venue"].id, world["headers"], world["scans"])
    assert response.status_code == 200, response.text
    world["anomalies"] = [r["anomaly_id"] for r in response.json()["results"] if r["anomaly_id"]]
    assert len(world["anomalies"]) == count, response.text
    world["admin"] = await make_user(Role.NETWORK_ADMIN)
    world["as_admin"] = auth(settings, world["admin"])
    return world


async def decide(
    client: httpx.AsyncClient, anomaly_id: str, verb: str, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await client.post(f"/api/v1/anomalies/{anomaly_id}/{verb}", json=body, headers=headers)


async def test_the_network_lists_anomalies_by_status_and_venue(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await scene(client, settings, count=3)
    other = await scene(client, settings, count=1)
    await decide(client, world["anomalies"][0], "reject", world["as_admin"], comment="Contrôlé")

    everything = await client.get("/api/v1/anomalies", headers=world["as_admin"])
    open_here = await client.get(
        "/api/v1/anomalies",
        params={"status": "open", "venue_id": str(world["venue"].id), "limit": 1},
        headers=world["as_admin"],
    )
    rejected = await client.get(
        "/api/v1/anomalies", params={"status": "rejected"}, headers=world["as_admin"]
    )

    assert everything.status_code == 200, everything.text
    assert everything.json()["total"] == 4
    assert open_here.status_code == 200, open_here.text
    page = open_here.json()
    assert (page["total"], page["limit"], len(page["items"])) == (2, 1, 1)
    item = page["items"][0]
    assert item["kind"] == "over_capacity"
    assert item["venue_id"] == str(world["venue"].id)
    assert item["status"] == "open"
    assert item["billable"] is False
    assert item["agent_name"]
    assert [i["id"] for i in rejected.json()["items"]] == [world["anomalies"][0]]
    assert other["anomalies"][0] in {i["id"] for i in everything.json()["items"]}
    bad = await client.get(
        "/api/v1/anomalies", params={"status": "maybe"}, headers=world["as_admin"]
    )
    assert bad.status_code == 422, bad.text
    assert bad.json()["field"] == "status"


async def test_accepting_makes_the_visit_billable_and_is_final(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await scene(client, settings, count=1)
    [anomaly_id] = world["anomalies"]

    accepted = await decide(
        client, anomaly_id, "accept", world["as_admin"], comment="Accueil confirmé par le lieu"
    )

    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "accepted"
    assert body["decided_by"] == str(world["admin"].id)
    assert body["decision_comment"] == "Accueil confirmé par le lieu"
    assert body["decided_at"] is not None
    assert body["billable"] is True
    row = await Anomaly.select().where(Anomaly.id == uuid.UUID(anomaly_id)).first()
    assert row is not None
    visit = await Visit.select(Visit.billable).where(Visit.id == row["visit"]).first()
    assert visit == {"billable": True}

    for verb in ("accept", "reject"):
        again = await decide(client, anomaly_id, verb, world["as_admin"], comment="Changement")
        assert again.status_code == 409, again.text
        assert again.json()["type"] == PROBLEM + "anomaly-already-decided"
    kept = await Anomaly.select().where(Anomaly.id == uuid.UUID(anomaly_id)).first()
    assert kept is not None
    assert (kept["status"], kept["decision_comment"]) == (
        "accepted",
        "Accueil confirmé par le lieu",
    )


async def test_rejecting_keeps_the_visit_out_of_billing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await scene(client, settings, count=1)
    [anomaly_id] = world["anomalies"]

    rejected = await decide(
        client, anomaly_id, "reject", world["as_admin"], comment="Pas de place ce jour-là"
    )

    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    row = await Anomaly.select().where(Anomaly.id == uuid.UUID(anomaly_id)).first()
    assert row is not None
    visit = await Visit.select(Visit.billable).where(Visit.id == row["visit"]).first()
    assert visit == {"billable": False}


async def test_a_decision_needs_a_comment(client: httpx.AsyncClient, settings: Settings) -> None:
    world = await scene(client, settings, count=1)
    [anomaly_id] = world["anomalies"]

    blank = await decide(client, anomaly_id, "accept", world["as_admin"], comment="   ")
    missing = await decide(client, anomaly_id, "accept", world["as_admin"])
    nul = await decide(client, anomaly_id, "reject", world["as_admin"], comment="ok\u0000")

    for response in (blank, missing, nul):
        assert response.status_code == 422, response.text
        assert response.json()["field"] == "comment", response.text
    row = await Anomaly.select(Anomaly.status).where(Anomaly.id == uuid.UUID(anomaly_id)).first()
    assert row == {"status": "open"}


async def test_only_the_network_reviews_anomalies(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await scene(client, settings, count=1)
    [anomaly_id] = world["anomalies"]
    callers = {
        "venue admin of the venue": auth(
            settings, await make_user(Role.VENUE_ADMIN, venue=world["venue"])
        ),
        "venue staff": auth(settings, await make_user(Role.VENUE_STAFF, venue=world["venue"])),
        "organisation admin": auth(settings, await make_user(Role.ORG_ADMIN)),
        "agent": auth(settings, await make_user(Role.AGENT)),
        "door device": world["headers"],
    }

    for name, headers in callers.items():
        listed = await client.get("/api/v1/anomalies", headers=headers)
        decided = await decide(client, anomaly_id, "accept", headers, comment="ok")
        assert (listed.status_code, decided.status_code) == (403, 403), name
    anonymous = await decide(client, anomaly_id, "accept", {}, comment="ok")
    assert anonymous.status_code == 401, anonymous.text
    assert (await client.get("/api/v1/anomalies")).status_code == 401
    row = await Anomaly.select(Anomaly.status).where(Anomaly.id == uuid.UUID(anomaly_id)).first()
    assert row == {"status": "open"}


async def test_an_unknown_anomaly_is_404(client: httpx.AsyncClient, settings: Settings) -> None:
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))

    response = await decide(client, str(uuid.uuid4()), "reject", admin, comment="?")

    assert response.status_code == 404, response.text
    assert response.json()["type"] == PROBLEM + "not-found"


async def test_a_visit_priced_without_a_rate_takes_the_rate_defined_later_on_acceptance(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    await make_workspace(venue, capacity=5)
    organisation = await make_organisation()
    _, headers = await make_door_device(venue)
    agent = await make_user(Role.AGENT, organisation=organisation)
    issued = await make_pass(settings, agent, now=ISSUED)
    response = await upload(client, venue.id, headers, [offline(issued.token, at(10))])
    [result] = response.json()["results"]
    assert [a["kind"] for a in result["anomalies"]] == ["missing_rate"], result
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))

    too_early = await decide(client, result["anomaly_id"], "accept", admin, comment="Tarif ?")
    assert too_early.status_code == 409, too_early.text
    assert too_early.json()["type"] == PROBLEM + "rate-still-missing"

    await make_rates(
        venue, venue_cents=1300, organisation_cents=1900, effective_from=date(2020, 1, 1)
    )
    accepted = await decide(client, result["anomaly_id"], "accept", admin, comment="Tarif saisi")

    assert accepted.status_code == 200, accepted.text
    visit = await Visit.select().where(Visit.id == uuid.UUID(result["visit_id"])).first()
    assert visit is not None
    assert (visit["venue_rate_cents"], visit["organisation_rate_cents"], visit["billable"]) == (
        1300,
        1900,
        True,
    )
    assert await VenueRate.count() == 1


async def test_the_database_keeps_decisions_and_anomalies(
    client: httpx.AsyncClient, settings: Settings, database_url: str
) -> None:
    world = await scene(client, settings, count=2)
    decided, still_open = world["anomalies"]
    await decide(client, decided, "reject", world["as_admin"], comment="Refusé")

    connection = await asyncpg.connect(database_url)
    try:
        with pytest.raises(asyncpg.IntegrityConstraintViolationError):
            await connection.execute(
                "UPDATE anomaly SET status = 'accepted' WHERE id = $1", uuid.UUID(decided)
            )
        with pytest.raises(asyncpg.IntegrityConstraintViolationError):
            await connection.execute("DELETE FROM anomaly WHERE id = $1", uuid.UUID(still_open))
        with pytest.raises(asyncpg.CheckViolationError):
            await connection.execute(
                "UPDATE anomaly SET status = 'accepted', decided_at = now() WHERE id = $1",
                uuid.UUID(still_open),
            )
    finally:
        await connection.close()
    assert await Anomaly.count() == 2
