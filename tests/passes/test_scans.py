"""Door scans online: who may scan, what a verdict does to bookings and visits, and replays."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from booking.tables import Booking, Closure, Organisation, SeatOccupancy, User, VenueRate
from passes import scan_controllers
from passes import services as pass_services
from passes.tables import Anomaly, Scan, Visit
from passes.verify import decode, encode
from service.kernel.identity import Role
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


def today() -> date:
    return datetime.now(PARIS).date()


def body(token: str, direction: str = "in", **fields: Any) -> dict[str, Any]:
    return {
        "scan_id": str(uuid.uuid4()),
        "token": token,
        "scanned_at": datetime.now(UTC).isoformat(),
        "direction": direction,
        **fields,
    }


async def post_scan(
    client: httpx.AsyncClient, venue_id: uuid.UUID, headers: dict[str, str], data: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"/api/v1/venues/{venue_id}/scans", json=data, headers=headers)


async def booked_agent(settings: Settings) -> dict[str, Any]:
    """A venue with a desk area and rates, a door device, an agent booked there today."""
    venue = await make_venue()
    desk = await make_workspace(venue, capacity=10)
    await make_rates(venue, unit="day", venue_cents=2400, organisation_cents=3600)
    await make_rates(venue, unit="half_day", venue_cents=1200, organisation_cents=1800)
    organisation = await make_organisation(name="Métropole de Lille")
    agent = await make_user(Role.AGENT, organisation=organisation, display_name="Camille Martin")
    booking = await make_booking(agent, desk, today(), slot="day")
    issued = await make_pass(settings, agent)
    device, headers = await make_door_device(venue)
    return {
        "venue": venue,
        "desk": desk,
        "organisation": organisation,
        "agent": agent,
        "booking": booking,
        "pass": issued,
        "device": device,
        "headers": headers,
    }


async def test_a_booked_agent_is_admitted_checked_in_and_the_visit_copies_both_prices(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await booked_agent(settings)
    data = body(world["pass"].token)

    response = await post_scan(client, world["venue"].id, world["headers"], data)

    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["admitted"] is True, answer
    assert answer["reason"] is None
    assert answer["agent_name"] == "Camille Martin"
    assert answer["organisation_name"] == "Métropole de Lille"
    assert answer["booking_id"] == str(world["booking"].id)
    assert answer["serial"] == world["pass"].serial
    assert answer["walk_in"] is False
    booking = await Booking.select().where(Booking.id == world["booking"].id).first()
    assert booking is not None
    assert booking["status"] == "checked_in"
    assert booking["checked_in_at"] is not None
    visit = await Visit.select().where(Visit.id == uuid.UUID(answer["visit_id"])).first()
    assert visit is not None
    assert visit["booking"] == world["booking"].id
    assert (visit["unit"], visit["quantity"], visit["walk_in"], visit["billable"]) == (
        "day",
        1,
        False,
        True,
    )
    assert (visit["venue_rate_cents"], visit["organisation_rate_cents"]) == (2400, 3600)
    assert visit["venue_vat_rate"] == visit["organisation_vat_rate"] == Decimal("0.2")
    assert visit["local_date"] == today()
    scan = await Scan.select().where(Scan.scan_id == uuid.UUID(data["scan_id"])).first()
    assert scan is not None
    assert scan["device"] == world["device"].id
    assert scan["scanned_by"] is None
    assert scan["agent"] == world["agent"].id
    assert scan["serial"] == world["pass"].serial
    assert (scan["admitted"], scan["reason"], scan["offline"]) == (True, None, False)
    assert scan["visit"] == visit["id"]

    # A new price from today on does not rewrite the visit already priced.
    await VenueRate(
        venue=world["venue"].id,
        workspace_kind="desk",
        unit="day",
        amount_cents=9900,
        vat_rate=Decimal("0.2"),
        effective_from=today(),
    ).save()
    again = await Visit.select().where(Visit.id == visit["id"]).first()
    assert again is not None
    assert again["venue_rate_cents"] == 2400


async def test_an_organisation_rate_beats_the_network_default(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await booked_agent(settings)
    await make_rates(
        world["venue"],
        unit="day",
        venue_cents=1,  # a second venue rate with an earlier date: the latest one wins
        organisation_cents=2900,
        organisation=world["organisation"],
        effective_from=date(2025, 6, 1),
    )

    response = await post_scan(
        client, world["venue"].id, world["headers"], body(world["pass"].token)
    )

    assert response.status_code == 201, response.text
    visit = await Visit.select().where(Visit.id == uuid.UUID(response.json()["visit_id"])).first()
    assert visit is not None
    assert (visit["venue_rate_cents"], visit["organisation_rate_cents"]) == (2400, 2900)


async def test_forged_foreign_malformed_revoked_and_suspended_tokens_are_refused(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Any
) -> None:
    world = await booked_agent(settings)
    token = world["pass"].token
    claims, header, signature = decode(token)
    forged = encode(header[:3] + (claims.serial + 1).to_bytes(4, "big") + header[7:], signature)
    tampered = encode(header, bytes([signature[0] ^ 1]) + signature[1:])
    unknown_key = encode(b"\x01\x00\x63" + header[3:], signature)
    other = await make_user(Role.AGENT, organisation=world["organisation"])
    revoked = await make_pass(settings, other)
    network = await make_user(Role.NETWORK_ADMIN)
    await pass_services.change_status(_principal(network), other.id, "revoked", reason="lost")
    third = await make_user(Role.AGENT, organisation=world["organisation"])
    suspended = await make_pass(settings, third)
    await pass_services.change_status(_principal(network), third.id, "suspended")
    huge_serial = encode(header[:3] + (2**32 - 1).to_bytes(4, "big") + header[7:], signature)

    cases = {
        "forged": forged,
        "tampered": tampered,
        "unknown_key": unknown_key,
        "garbage": "hello",
        "revoked": revoked.token,
        "suspended": suspended.token,
        "huge_serial": huge_serial,
    }
    answers = {}
    for name, text in cases.items():
        response = await post_scan(client, world["venue"].id, world["headers"], body(text))
        assert response.status_code == 201, (name, response.text)
        answers[name] = response.json()

    assert {n: (a["admitted"], a["reason"]) for n, a in answers.items()} == {
        "forged": (False, "bad_signature"),
        "tampered": (False, "bad_signature"),
        "unknown_key": (False, "unknown_key"),
        "garbage": (False, "malformed"),
        "revoked": (False, "revoked"),
        "suspended": (False, "suspended"),
        "huge_serial": (False, "bad_signature"),
    }
    # Names only when the signature is good: a revoked pass still says whose it is.
    assert answers["forged"]["agent_name"] is None
    assert answers["garbage"]["agent_name"] is None
    assert answers["revoked"]["agent_name"] == other.display_name
    assert await Visit.count() == 0
    assert await Scan.count() == len(cases)
    stored = {r["reason"] for r in await Scan.select(Scan.reason).where(Scan.admitted.eq(False))}
    assert stored == {"bad_signature", "unknown_key", "malformed", "revoked", "suspended"}
    booking = await Booking.select(Booking.status).where(Booking.id == world["booking"].id).first()
    assert booking == {"status": "confirmed"}


def _principal(user: Any) -> Any:
    from service.kernel.identity import Principal

    return Principal(role=Role(user.role), user_id=user.id)


async def test_only_scanners_of_the_venue_may_scan_there(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await booked_agent(settings)
    venue = world["venue"]
    elsewhere = await make_venue()
    _, other_device = await make_door_device(elsewhere)
    callers = {
        "device of another venue": (other_device, 403),
        "staff of another venue": (auth(settings, await make_user(Role.VENUE_STAFF)), 403),
        "agent": (auth(settings, world["agent"]), 403),
        "organisation admin": (
            auth(settings, await make_user(Role.ORG_ADMIN, organisation=world["organisation"])),
            403,
        ),
        "anonymous": ({}, 401),
        "staff of the venue": (auth(settings, await make_user(Role.VENUE_STAFF, venue=venue)), 201),
        "venue admin": (auth(settings, await make_user(Role.VENUE_ADMIN, venue=venue)), 201),
        "network admin": (auth(settings, await make_user(Role.NETWORK_ADMIN)), 201),
    }
    statuses = {}
    for name, (headers, _) in callers.items():
        response = await post_scan(client, venue.id, headers, body(world["pass"].token))
        statuses[name] = response.status_code
        if response.status_code >= 400:
            expected = "forbidden" if response.status_code == 403 else "unauthenticated"
            assert response.json()["type"] == PROBLEM + expected, response.text

    assert statuses == {name: expected for name, (_, expected) in callers.items()}
    scanners = await Scan.select(Scan.scanned_by, Scan.device)
    assert len(scanners) == 3
    assert all(s["scanned_by"] is not None and s["device"] is None for s in scanners)
    assert await Visit.count() == 1  # three admitted scans, one visit

    network = auth(settings, await make_user(Role.NETWORK_ADMIN))
    unknown = await post_scan(client, uuid.uuid4(), network, body(world["pass"].token))
    assert unknown.status_code == 404, unknown.text


async def test_a_replayed_scan_id_answers_the_first_result_and_creates_nothing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await booked_agent(settings)
    data = body(world["pass"].token)
    first = await post_scan(client, world["venue"].id, world["headers"], data)
    assert first.status_code == 201, first.text
    network = await make_user(Role.NETWORK_ADMIN)
    # Even once the pass is revoked, the replay tells what happened the first time.
    await pass_services.change_status(_principal(network), world["agent"].id, "revoked")

    replay = await post_scan(client, world["venue"].id, world["headers"], data)

    assert replay.status_code == 201, replay.text
    assert replay.json() == first.json()
    assert replay.headers.get("idempotent-replayed") == "true"
    assert (await Scan.count(), await Visit.count(), await Booking.count()) == (1, 1, 1)

    reused = await post_scan(
        client, world["venue"].id, world["headers"], {**data, "direction": "out"}
    )
    assert reused.status_code == 409, reused.text
    assert reused.json()["type"] == PROBLEM + "scan-id-reused"
    assert await Scan.count() == 1


async def test_a_walk_in_takes_a_free_seat_and_counts_against_the_allowance(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue, capacity=2)
    await make_rates(venue)
    organisation = await make_organisation(monthly_allowance_units=4)
    agent = await make_user(Role.AGENT, organisation=organisation)
    issued = await make_pass(settings, agent)
    _, headers = await make_door_device(venue)

    response = await post_scan(client, venue.id, headers, body(issued.token))

    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["admitted"], answer["walk_in"]) == (True, True), answer
    booking = await Booking.select().where(Booking.id == uuid.UUID(answer["booking_id"])).first()
    assert booking is not None
    assert booking["walk_in"] is True
    assert booking["status"] == "checked_in"
    assert booking["workspace"] == desk.id
    assert (booking["unit"], booking["allowance_units"]) == ("half_day", 1)
    half = "am" if booking["slot"] == "morning" else "pm"
    seats = await SeatOccupancy.select().where(
        (SeatOccupancy.workspace == desk.id) & (SeatOccupancy.half == half)
    )
    assert [s["seats_taken"] for s in seats] == [1]
    visit = await Visit.select().where(Visit.id == uuid.UUID(answer["visit_id"])).first()
    assert visit is not None
    assert (visit["walk_in"], visit["unit"], visit["venue_rate_cents"]) == (True, "half_day", 1200)


async def test_a_walk_in_is_refused_when_no_seat_is_free(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue, capacity=3)
    await make_rates(venue)
    for half in ("am", "pm"):
        await SeatOccupancy(
            workspace=desk.id, local_date=today(), half=half, seats_taken=3, capacity=3
        ).save()
    agent = await make_user(Role.AGENT)
    issued = await make_pass(settings, agent)
    _, headers = await make_door_device(venue)

    response = await post_scan(client, venue.id, headers, body(issued.token))

    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["admitted"], answer["reason"]) == (False, "no_booking_no_seat"), answer
    assert answer["agent_name"] == agent.display_name
    assert (await Booking.count(), await Visit.count()) == (0, 0)
    taken = await SeatOccupancy.select(SeatOccupancy.seats_taken)
    assert [t["seats_taken"] for t in taken] == [3, 3]
    scan = await Scan.select(Scan.reason, Scan.agent).first()
    assert scan == {"reason": "no_booking_no_seat", "agent": agent.id}


async def test_a_walk_in_is_refused_when_the_allowance_is_used_up(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    await make_workspace(venue, capacity=10)
    await make_rates(venue)
    organisation = await make_organisation(monthly_allowance_units=0)
    agent = await make_user(Role.AGENT, organisation=organisation)
    issued = await make_pass(settings, agent)
    _, headers = await make_door_device(venue)

    response = await post_scan(client, venue.id, headers, body(issued.token))

    assert response.status_code == 201, response.text
    assert (response.json()["admitted"], response.json()["reason"]) == (
        False,
        "allowance_exceeded",
    )
    assert (await Booking.count(), await Visit.count(), await SeatOccupancy.count()) == (0, 0, 0)


async def test_a_walk_in_with_a_booking_elsewhere_at_the_same_time_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    await make_workspace(venue, capacity=10)
    other_desk = await make_workspace(await make_venue(), capacity=10)
    agent = await make_user(Role.AGENT)
    await make_booking(agent, other_desk, today(), slot="day")
    issued = await make_pass(settings, agent)
    _, headers = await make_door_device(venue)

    response = await post_scan(client, venue.id, headers, body(issued.token))

    assert response.status_code == 201, response.text
    assert response.json()["reason"] == "booked_elsewhere", response.text
    assert await Booking.count() == 1


async def test_the_same_pass_twice_a_day_is_one_visit_and_check_out_completes_it(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await booked_agent(settings)
    venue_id, headers, token = world["venue"].id, world["headers"], world["pass"].token

    first = await post_scan(client, venue_id, headers, body(token))
    second = await post_scan(client, venue_id, headers, body(token))
    out = await post_scan(client, venue_id, headers, body(token, "out"))

    assert [r.status_code for r in (first, second, out)] == [201, 201, 201], out.text
    assert [r.json()["admitted"] for r in (first, second, out)] == [True, True, True]
    assert first.json()["visit_id"] == second.json()["visit_id"] == out.json()["visit_id"]
    assert await Visit.count() == 1
    assert await Scan.count() == 3
    visit = await Visit.select().first()
    assert visit is not None
    assert visit["checked_out_at"] is not None
    assert visit["checked_out_at"] >= visit["checked_in_at"]
    booking = await Booking.select().where(Booking.id == world["booking"].id).first()
    assert booking is not None
    assert booking["status"] == "completed"
    assert booking["checked_out_at"] is not None


async def test_checking_out_without_checking_in_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await booked_agent(settings)

    response = await post_scan(
        client, world["venue"].id, world["headers"], body(world["pass"].token, "out")
    )

    assert response.status_code == 201, response.text
    assert (response.json()["admitted"], response.json()["reason"]) == (False, "not_checked_in")
    booking = await Booking.select(Booking.status).where(Booking.id == world["booking"].id).first()
    assert booking == {"status": "confirmed"}


async def test_a_closed_venue_and_an_inactive_organisation_refuse_the_pass(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await booked_agent(settings)
    await Closure(
        venue=world["venue"].id, starts_on=today(), ends_on=today(), reason="Inventaire"
    ).save()
    closed = await post_scan(client, world["venue"].id, world["headers"], body(world["pass"].token))
    await Closure.delete(force=True)
    await Organisation.update({Organisation.active: False}).where(
        Organisation.id == world["organisation"].id
    )

    inactive = await post_scan(
        client, world["venue"].id, world["headers"], body(world["pass"].token)
    )

    assert closed.json()["reason"] == "venue_closed", closed.text
    assert inactive.json()["reason"] == "agent_inactive", inactive.text
    assert await Visit.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scanned_at": "2026-11-24T10:00:00"}, "scanned_at"),  # no offset
        ({"direction": "sideways"}, "direction"),
        ({"scan_id": "not-a-uuid"}, "scan_id"),
        ({"token": ""}, "token"),
        ({"token": None}, "token"),
    ],
)
async def test_bad_scan_bodies_are_refused_with_the_field(
    client: httpx.AsyncClient, settings: Settings, change: dict[str, Any], field: str
) -> None:
    world = await booked_agent(settings)

    response = await post_scan(
        client, world["venue"].id, world["headers"], {**body(world["pass"].token), **change}
    )

    assert response.status_code == 422, response.text
    assert response.json()["field"] == field, response.text
    assert await Scan.count() == 0


async def test_an_online_scan_far_from_now_belongs_to_the_offline_batch(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await booked_agent(settings)
    old = (datetime.now(UTC) - timedelta(hours=2)).isoformat()

    response = await post_scan(
        client, world["venue"].id, world["headers"], body(world["pass"].token, scanned_at=old)
    )

    assert response.status_code == 422, response.text
    assert response.json()["type"] == PROBLEM + "invalid-value"
    assert response.json()["field"] == "scanned_at"
    assert await Scan.count() == 0


async def test_a_scanner_past_its_rate_gets_429(
    client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_controllers, "SCANS_PER_SECOND", 2)
    world = await booked_agent(settings)

    responses = [
        await post_scan(client, world["venue"].id, world["headers"], body(world["pass"].token))
        for _ in range(6)
    ]

    limited = [r for r in responses if r.status_code == 429]
    assert limited, [r.status_code for r in responses]
    assert limited[0].json()["type"] == PROBLEM + "too-many-scans"
    assert limited[0].headers["retry-after"] == "1"
    assert await Scan.count() == 6 - len(limited)


async def test_a_visit_without_a_rate_in_force_is_kept_out_of_billing_until_decided(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue)
    agent = await make_user(Role.AGENT)
    await make_booking(agent, desk, today(), slot="day")
    issued = await make_pass(settings, agent)
    _, headers = await make_door_device(venue)

    response = await post_scan(client, venue.id, headers, body(issued.token))

    assert response.status_code == 201, response.text
    assert response.json()["admitted"] is True
    visit = await Visit.select().first()
    assert visit is not None
    assert (visit["billable"], visit["venue_rate_cents"]) == (False, 0)
    anomaly = await Anomaly.select().first()
    assert anomaly is not None
    assert (anomaly["kind"], anomaly["visit"], anomaly["status"]) == (
        "missing_rate",
        visit["id"],
        "open",
    )


async def test_a_booked_agent_whose_pass_or_account_is_stopped_is_refused_and_not_checked_in(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """A booked first check-in is read and written in one statement: only what judge() admits."""
    world = await booked_agent(settings)
    network = await make_user(Role.NETWORK_ADMIN)
    people = {}
    for case in ("revoked", "suspended", "deactivated"):
        agent = await make_user(Role.AGENT, organisation=world["organisation"])
        booking = await make_booking(agent, world["desk"], today(), slot="day")
        people[case] = (agent, booking, await make_pass(settings, agent))
    principal = _principal(network)
    await pass_services.change_status(principal, people["revoked"][0].id, "revoked", reason="lost")
    await pass_services.change_status(principal, people["suspended"][0].id, "suspended")
    await User.update({User.active: False}).where(User.id == people["deactivated"][0].id)

    answers = {}
    for case, (_, _, issued) in people.items():
        response = await post_scan(client, world["venue"].id, world["headers"], body(issued.token))
        assert response.status_code == 201, (case, response.text)
        answers[case] = response.json()

    assert {c: (a["admitted"], a["reason"]) for c, a in answers.items()} == {
        "revoked": (False, "revoked"),
        "suspended": (False, "suspended"),
        "deactivated": (False, "revoked"),  # deactivating an account revokes its pass
    }
    assert await Visit.count() == 0
    bookings = await Booking.select(Booking.status).where(
        Booking.id.is_in([booking.id for _, booking, _ in people.values()])
    )
    assert [b["status"] for b in bookings] == ["confirmed"] * 3
    stored = await Scan.select(Scan.admitted, Scan.visit)
    assert stored == [{"admitted": False, "visit": None}] * 3
