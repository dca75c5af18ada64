"""Offline scans uploaded later: re-judged as of their time, visits kept, anomalies where we disagree.

Scans are dated yesterday (local) so that the stories do not depend on the hour the tests run.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from booking.tables import Booking, SeatOccupancy
from passes import services as pass_services
from passes.tables import Anomaly, PassStatusEvent, Scan, Visit
from passes.verify import decode, encode
from service.kernel.identity import Principal, Role
from service.kernel.settings import Settings
from tests.factories import (
    auth,
    make_booking,
    make_door_device,
    make_organisation,
    make_pass,
    make_rates,
    make_user,
    make_venue,
    make_workspace,
)

PARIS = ZoneInfo("Europe/Paris")
PROBLEM = "urn:tierslieux:problem:"
YESTERDAY = datetime.now(PARIS).date() - timedelta(days=1)
ISSUED = datetime.combine(YESTERDAY - timedelta(days=3), time(9), tzinfo=PARIS)


def at(hour: int, minute: int = 0) -> datetime:
    """A local time yesterday at the venue (Paris)."""
    return datetime.combine(YESTERDAY, time(hour, minute), tzinfo=PARIS)


def offline(
    token: str, when: datetime, *, admitted: bool = True, direction: str = "in"
) -> dict[str, Any]:
    return {
        "scan_id": str(uuid.uuid4()),
        "token": token,
        "scanned_at": when.isoformat(),
        "direction": direction,
        "local_verdict": {"admitted": admitted, "reason": None if admitted else "revoked"},
    }


async def upload(
    client: httpx.AsyncClient,
    venue_id: uuid.UUID,
    headers: dict[str, str],
    scans: list[dict[str, Any]],
) -> httpx.Response:
    return await client.post(
        f"/api/v1/venues/{venue_id}/scans:batch", json={"scans": scans}, headers=headers
    )


async def network_principal() -> Principal:
    admin = await make_user(Role.NETWORK_ADMIN)
    return Principal(role=Role.NETWORK_ADMIN, user_id=admin.id)


async def set_status_at(serial: int, status: str, when: datetime) -> None:
    """Date a status change as it happened (the service stamps it with the real clock)."""
    await PassStatusEvent.update({PassStatusEvent.at: when}).where(
        (PassStatusEvent.serial == serial) & (PassStatusEvent.status == status)
    )


async def scene(settings: Settings, *, capacity: int = 10, **org: Any) -> dict[str, Any]:
    venue = await make_venue()
    desk = await make_workspace(venue, capacity=capacity)
    await make_rates(venue, unit="half_day")
    await make_rates(venue, unit="day", venue_cents=2400, organisation_cents=3600)
    organisation = await make_organisation(**org)
    _, headers = await make_door_device(venue)
    return {"venue": venue, "desk": desk, "organisation": organisation, "headers": headers}


async def agent_with_pass(settings: Settings, organisation: Any) -> tuple[Any, Any]:
    agent = await make_user(Role.AGENT, organisation=organisation)
    issued = await make_pass(settings, agent, now=ISSUED.astimezone(UTC))
    await set_status_at(issued.serial, "active", ISSUED)
    return agent, issued


async def test_a_pass_revoked_before_the_scan_opens_an_anomaly_and_one_revoked_after_does_not(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await scene(settings)
    early, early_pass = await agent_with_pass(settings, world["organisation"])
    booking = await make_booking(early, world["desk"], YESTERDAY, slot="day")
    late, late_pass = await agent_with_pass(settings, world["organisation"])
    network = await network_principal()
    for agent, issued, revoked_at in ((early, early_pass, at(9)), (late, late_pass, at(16))):
        await pass_services.change_status(network, agent.id, "revoked", reason="lost")
        await set_status_at(issued.serial, "revoked", revoked_at)
    scans = [offline(early_pass.token, at(10)), offline(late_pass.token, at(11))]

    response = await upload(client, world["venue"].id, world["headers"], scans)

    assert response.status_code == 200, response.text
    revoked, valid = response.json()["results"]
    assert (revoked["admitted"], revoked["reason"], revoked["local_admitted"]) == (
        False,
        "revoked",
        True,
    )
    assert [a["kind"] for a in revoked["anomalies"]] == ["revoked"]
    assert revoked["anomaly_id"] == revoked["anomalies"][0]["id"]
    assert (valid["admitted"], valid["reason"], valid["anomaly_id"]) == (True, None, None)
    # Trust first: both were let in, both have a visit; the disputed one is not billable.
    visits = {v["agent"]: v for v in await Visit.select()}
    assert visits[early.id]["billable"] is False
    assert visits[early.id]["booking"] == booking.id
    assert visits[early.id]["checked_in_at"] == at(10)
    assert visits[late.id]["billable"] is True
    assert visits[late.id]["walk_in"] is True
    anomaly = await Anomaly.select().where(Anomaly.id == uuid.UUID(revoked["anomaly_id"])).first()
    assert anomaly is not None
    assert (anomaly["kind"], anomaly["status"], anomaly["visit"], anomaly["venue"]) == (
        "revoked",
        "open",
        visits[early.id]["id"],
        world["venue"].id,
    )
    stored = await Booking.select(Booking.status).where(Booking.id == booking.id).first()
    assert stored == {"status": "checked_in"}
    scan = await Scan.select().where(Scan.scan_id == uuid.UUID(scans[0]["scan_id"])).first()
    assert scan is not None
    assert (scan["offline"], scan["local_admitted"], scan["admitted"]) == (True, True, False)
    assert scan["scanned_at"] == at(10)


async def test_a_forged_token_admitted_offline_is_an_anomaly_without_a_visit(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await scene(settings)
    _, issued = await agent_with_pass(settings, world["organisation"])
    claims, header, _ = decode(issued.token)
    forged = encode(header, bytes(64))

    response = await upload(client, world["venue"].id, world["headers"], [offline(forged, at(10))])

    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert (result["admitted"], result["reason"], result["agent_name"]) == (
        False,
        "bad_signature",
        None,
    )
    assert [a["kind"] for a in result["anomalies"]] == ["bad_signature"]
    assert await Visit.count() == 0
    anomaly = await Anomaly.select().first()
    assert anomaly is not None
    assert anomaly["visit"] is None
    scan = await Scan.select(Scan.agent, Scan.serial).first()
    assert scan == {"agent": None, "serial": claims.serial}


async def test_replaying_a_batch_answers_the_same_and_changes_nothing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await scene(settings)
    agent, issued = await agent_with_pass(settings, world["organisation"])
    await pass_services.change_status(await network_principal(), agent.id, "suspended")
    await set_status_at(issued.serial, "suspended", at(8))
    _, other = await agent_with_pass(settings, world["organisation"])
    scans = [
        offline(issued.token, at(10)),
        offline(other.token, at(10, 5)),
        offline(other.token, at(17), direction="out"),
    ]
    first = await upload(client, world["venue"].id, world["headers"], scans)
    assert first.status_code == 200, first.text

    def counts() -> Any:
        return (Scan.count(), Visit.count(), Anomaly.count(), Booking.count())

    before = [await c for c in counts()]

    replay = await upload(client, world["venue"].id, world["headers"], scans)

    assert replay.status_code == 200, replay.text
    assert replay.json() == first.json()
    assert [await c for c in counts()] == before == [3, 2, 1, 1]
    seats = await SeatOccupancy.select(SeatOccupancy.seats_taken)
    assert [s["seats_taken"] for s in seats] == [1]


async def test_the_same_pass_at_two_venues_the_same_half_day_is_an_anomaly(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    first = await scene(settings)
    second = await scene(settings)
    agent, issued = await agent_with_pass(settings, first["organisation"])

    morning = await upload(
        client, first["venue"].id, first["headers"], [offline(issued.token, at(9, 30))]
    )
    same_half = await upload(
        client, second["venue"].id, second["headers"], [offline(issued.token, at(11))]
    )
    third = await scene(settings)
    afternoon = await upload(
        client, third["venue"].id, third["headers"], [offline(issued.token, at(14, 30))]
    )

    assert morning.status_code == same_half.status_code == afternoon.status_code == 200
    assert morning.json()["results"][0]["anomalies"] == []
    [twice] = same_half.json()["results"]
    # The morning walk-in at the first venue holds the agent: no second seat the same
    # half-day, and the pass was seen at two venues at once.
    assert (twice["admitted"], twice["reason"]) == (False, "booked_elsewhere")
    assert [a["kind"] for a in twice["anomalies"]] == ["booked_elsewhere", "same_pass_two_venues"]
    assert afternoon.json()["results"][0]["anomalies"] == []
    visits = {v["venue"]: v for v in await Visit.select().where(Visit.agent == agent.id)}
    assert visits[second["venue"].id]["billable"] is False
    assert visits[first["venue"].id]["billable"] is True
    assert visits[third["venue"].id]["billable"] is True


async def test_a_valid_pass_booked_at_both_venues_is_admitted_but_flagged_twice_at_once(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    first = await scene(settings)
    second = await scene(settings)
    agent, issued = await agent_with_pass(settings, first["organisation"])
    await make_booking(agent, first["desk"], YESTERDAY, slot="morning")
    await make_booking(agent, second["desk"], YESTERDAY, slot="afternoon")

    await upload(client, first["venue"].id, first["headers"], [offline(issued.token, at(9))])
    response = await upload(
        client, second["venue"].id, second["headers"], [offline(issued.token, at(10, 30))]
    )

    [result] = response.json()["results"]
    assert (result["admitted"], result["reason"]) == (True, None), result
    assert [a["kind"] for a in result["anomalies"]] == ["same_pass_two_venues"]
    anomaly = await Anomaly.select().first()
    assert anomaly is not None
    assert anomaly["visit"] == uuid.UUID(result["visit_id"])
    assert await Visit.count().where(Visit.billable.eq(False)) == 1


async def test_an_offline_walk_in_over_capacity_keeps_its_visit_and_opens_an_anomaly(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await scene(settings, capacity=2)
    await SeatOccupancy(
        workspace=world["desk"].id, local_date=YESTERDAY, half="am", seats_taken=2, capacity=2
    ).save()
    _, issued = await agent_with_pass(settings, world["organisation"])

    response = await upload(
        client, world["venue"].id, world["headers"], [offline(issued.token, at(10))]
    )

    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert (result["admitted"], result["reason"]) == (False, "no_booking_no_seat")
    assert [a["kind"] for a in result["anomalies"]] == ["over_capacity"]
    assert result["booking_id"] is None
    visit = await Visit.select().first()
    assert visit is not None
    assert (visit["walk_in"], visit["booking"], visit["billable"], visit["unit"]) == (
        True,
        None,
        False,
        "half_day",
    )
    assert await Booking.count() == 0
    seats = await SeatOccupancy.select(SeatOccupancy.seats_taken).first()
    assert seats == {"seats_taken": 2}  # the counter never goes past the capacity


async def test_an_offline_walk_in_over_the_allowance_opens_an_anomaly(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await scene(settings, monthly_allowance_units=0)
    _, issued = await agent_with_pass(settings, world["organisation"])

    response = await upload(
        client, world["venue"].id, world["headers"], [offline(issued.token, at(15))]
    )

    [result] = response.json()["results"]
    assert (result["admitted"], result["reason"]) == (False, "allowance_exceeded"), result
    assert [a["kind"] for a in result["anomalies"]] == ["over_allowance"]
    assert await Visit.count() == 1
    assert await Booking.count() == 0


async def test_a_valid_pass_refused_offline_is_reported_but_makes_no_visit(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await scene(settings)
    _, issued = await agent_with_pass(settings, world["organisation"])

    response = await upload(
        client,
        world["venue"].id,
        world["headers"],
        [offline(issued.token, at(10), admitted=False)],
    )

    [result] = response.json()["results"]
    assert (result["admitted"], result["local_admitted"]) == (True, False), result
    assert [a["kind"] for a in result["anomalies"]] == ["refused_but_valid"]
    assert (await Visit.count(), await Booking.count()) == (0, 0)


async def test_check_in_and_out_in_one_batch_apply_in_the_order_they_happened(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await scene(settings)
    agent, issued = await agent_with_pass(settings, world["organisation"])
    booking = await make_booking(agent, world["desk"], YESTERDAY, slot="day")
    scans = [
        offline(issued.token, at(17, 45), direction="out"),
        offline(issued.token, at(9, 5)),
    ]

    response = await upload(client, world["venue"].id, world["headers"], scans)

    assert response.status_code == 200, response.text
    out, check_in = response.json()["results"]
    assert out["scan_id"] == scans[0]["scan_id"]
    assert (out["admitted"], check_in["admitted"]) == (True, True), response.text
    visit = await Visit.select().first()
    assert visit is not None
    assert (visit["checked_in_at"], visit["checked_out_at"]) == (at(9, 5), at(17, 45))
    assert (visit["venue_rate_cents"], visit["unit"]) == (2400, "day")
    stored = await Booking.select(Booking.status).where(Booking.id == booking.id).first()
    assert stored == {"status": "completed"}


async def test_who_may_upload_a_batch(client: httpx.AsyncClient, settings: Settings) -> None:
    world = await scene(settings)
    agent, issued = await agent_with_pass(settings, world["organisation"])
    _, other_device = await make_door_device(await make_venue())
    callers = {
        "device of another venue": (other_device, 403),
        "staff of another venue": (auth(settings, await make_user(Role.VENUE_STAFF)), 403),
        "agent": (auth(settings, agent), 403),
        "anonymous": ({}, 401),
        "venue staff": (
            auth(settings, await make_user(Role.VENUE_STAFF, venue=world["venue"])),
            200,
        ),
    }

    statuses = {
        name: (
            await upload(client, world["venue"].id, headers, [offline(issued.token, at(10))])
        ).status_code
        for name, (headers, _) in callers.items()
    }

    assert statuses == {name: expected for name, (_, expected) in callers.items()}
    assert await Scan.count() == 1
    assert (await Scan.select(Scan.device).first()) == {"device": None}


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda token: [offline(token, at(10))] * 0, "scans"),
        (lambda token: [offline(token, at(10)) for _ in range(501)], "scans"),
        (
            lambda token: [offline(token, datetime.now(UTC) + timedelta(hours=1))],
            "scans[0].scanned_at",
        ),
        (
            lambda token: [
                {k: v for k, v in offline(token, at(10)).items() if k != "local_verdict"}
            ],
            "scans[0]",  # msgspec names the object missing `local_verdict`
        ),
    ],
)
async def test_bad_batches_are_refused_whole_with_the_field(
    client: httpx.AsyncClient, settings: Settings, build: Any, field: str
) -> None:
    world = await scene(settings)
    _, issued = await agent_with_pass(settings, world["organisation"])

    response = await upload(client, world["venue"].id, world["headers"], build(issued.token))

    assert response.status_code == 422, response.text
    assert field in (response.json().get("field") or ""), response.text
    assert await Scan.count() == 0


async def test_a_scan_id_already_used_elsewhere_refuses_the_whole_batch(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await scene(settings)
    elsewhere = await scene(settings)
    _, issued = await agent_with_pass(settings, world["organisation"])
    used = offline(issued.token, at(10))
    assert (
        await upload(client, elsewhere["venue"].id, elsewhere["headers"], [used])
    ).status_code == 200
    fresh = offline(issued.token, at(11))

    response = await upload(client, world["venue"].id, world["headers"], [fresh, used])

    assert response.status_code == 409, response.text
    assert response.json()["type"] == PROBLEM + "scan-id-reused"
    assert await Scan.count() == 1
    duplicate = {**fresh, "direction": "out"}
    inside = await upload(client, world["venue"].id, world["headers"], [fresh, duplicate])
    assert inside.status_code == 409, inside.text
    assert await Scan.count() == 1
