"""Rights of access and erasure: the export holds the person's data and nobody else's; an
erasure leaves their name and email nowhere but in issued documents, and the month still bills."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from billing.close import close_period
from booking.jobs import deliver_outbox
from booking.tables import (
    Booking,
    BookingSeries,
    EndedSession,
    Organisation,
    Outbox,
    SeatOccupancy,
    User,
)
from passes.tables import Pass, Scan
from service.kernel.identity import Role
from service.kernel.settings import Settings
from service.kernel.tables import AuditEntry
from tests.billing.factories import NETWORK, make_visit
from tests.factories import (
    PASSWORD,
    auth,
    make_booking,
    make_door_device,
    make_organisation,
    make_pass,
    make_user,
    make_venue,
    make_workspace,
    next_weekday,
)

P = "urn:tierslieux:problem:"
NAME = "Zoé Quintessence-Erasmus"
EMAIL = "zoe.quintessence@example.org"
# Every table whose text may keep the name after an erasure: issued documents and their
# rendered files (legal obligation to keep them as issued).
ISSUED_DOCUMENT_TABLES = {"document", "document_line", "document_file"}


async def _scan(agent: User, venue: Any, serial: int | None, when: datetime) -> Scan:
    device, _ = await make_door_device(venue)
    scan = Scan(
        scan_id=uuid.uuid4(),
        venue=venue.id,
        device=device.id,
        serial=serial,
        agent=agent.id,
        direction="in",
        scanned_at=when,
        admitted=True,
    )
    await scan.save()
    return scan


async def _mail(to: str, subject: str, *, sent: bool) -> Outbox:
    message = Outbox(
        kind="booking_confirmed",
        recipient=to,
        subject=subject,
        body=f"Bonjour,\n{subject}\n",
        sent_at=datetime.now(UTC) if sent else None,
    )
    await message.save()
    return message


async def _person_with_history(
    settings: Settings, agent: User | None = None, **fields: Any
) -> dict[str, Any]:
    """An agent with a booking to come, a visit and a scan last month, a pass and emails."""
    if agent is None:
        organisation = await make_organisation()
        agent = await make_user(Role.AGENT, organisation=organisation, **fields)
    else:
        found = await Organisation.objects().where(Organisation.id == agent.organisation).first()
        assert found is not None
        organisation = found
    venue = await make_venue()
    desk = await make_workspace(venue)
    issued = await make_pass(settings, agent)
    booking = await make_booking(agent, desk, next_weekday(2))
    last_month = (datetime.now(UTC).replace(day=1) - timedelta(days=1)).date().replace(day=10)
    visit = await make_visit(agent, venue, desk, last_month)
    scan = await _scan(
        agent, venue, issued.serial, datetime.combine(last_month, datetime.min.time(), UTC)
    )
    sent = await _mail(agent.email, "Réservation confirmée : La Ruche", sent=True)
    return {
        "organisation": organisation,
        "venue": venue,
        "desk": desk,
        "agent": agent,
        "pass": issued,
        "booking": booking,
        "visit": visit,
        "scan": scan,
        "mail": sent,
        "month": last_month.replace(day=1),
    }


async def accept(client: httpx.AsyncClient, invitation_url: str) -> None:
    token = invitation_url.rsplit("/", 1)[1]
    answer = await client.post(
        "/api/v1/auth/accept-invitation", json={"token": token, "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text


def _unzip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def _unfolded(ical: str) -> str:
    """iCalendar text with its folded lines joined again (RFC 5545, 3.1)."""
    return ical.replace("\r\n ", "").replace("\n ", "")


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


# Access


async def test_an_agent_downloads_everything_held_about_them_and_nothing_else(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    mine = await _person_with_history(settings, email=EMAIL, display_name=NAME)
    other = await _person_with_history(settings)
    agent = mine["agent"]

    answer = await client.get("/api/v1/me/export", headers=auth(settings, agent))

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert "attachment" in answer.headers["content-disposition"]
    files = _unzip(answer.content)
    assert {
        "LISEZMOI.txt",
        "data.json",
        "account.csv",
        "bookings.csv",
        "visits.csv",
        "scans.csv",
        "passes.csv",
        "emails.csv",
        "sign_ins.csv",
        "organisation_policy.csv",
    } <= set(files)
    data = json.loads(files["data.json"])
    assert data["account"]["email"] == EMAIL
    assert data["account"]["display_name"] == NAME
    assert [b["id"] for b in data["bookings"]] == [str(mine["booking"].id)]
    assert [v["id"] for v in data["visits"]] == [str(mine["visit"].id)]
    assert [s["scan_id"] for s in data["scans"]] == [str(mine["scan"].scan_id)]
    assert [p["serial"] for p in data["passes"]] == [mine["pass"].serial]
    assert [m["id"] for m in data["emails"]] == [str(mine["mail"].id)]
    assert data["organisation_policy"]["name"] == mine["organisation"].name
    # The CSVs say the same, readable in a spreadsheet.
    assert [r["id"] for r in _csv_rows(files["bookings.csv"])] == [str(mine["booking"].id)]
    assert [r["id"] for r in _csv_rows(files["visits.csv"])] == [str(mine["visit"].id)]
    assert [r["serial"] for r in _csv_rows(files["passes.csv"])] == [str(mine["pass"].serial)]
    assert _csv_rows(files["account.csv"])[0]["email"] == EMAIL
    assert _csv_rows(files["emails.csv"])[0]["subject"] == "Réservation confirmée : La Ruche"
    # Nothing of the other person, nor the pass token (a credential, not data about them).
    everything = "\n".join(files.values())
    for foreign in (
        other["agent"].email,
        other["agent"].display_name,
        str(other["agent"].id),
        str(other["booking"].id),
        str(other["visit"].id),
        str(other["scan"].scan_id),
        mine["pass"].token,
    ):
        assert foreign not in everything
    exports = await AuditEntry.select().where(AuditEntry.action == "person.export")
    assert [(e["actor"], e["object_id"]) for e in exports] == [(agent.id, str(agent.id))]


async def test_an_empty_section_still_has_its_csv_header(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = await make_user(Role.NETWORK_ADMIN)

    answer = await client.get("/api/v1/me/export", headers=auth(settings, admin))

    assert answer.status_code == 200
    files = _unzip(answer.content)
    assert "organisation_policy.csv" not in files  # a network admin belongs to none
    assert files["bookings.csv"].splitlines() == [
        "id;local_date;starts_at;ends_at;slot;unit;quantity;status;venue;commune;workspace;"
        "workspace_kind;walk_in;created_at;cancelled_at;cancel_reason;checked_in_at;"
        "checked_out_at"
    ]


async def test_admins_export_their_agents_and_the_network_anyone(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    mine = await _person_with_history(settings)
    organisation, agent = mine["organisation"], mine["agent"]
    org_admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=organisation))
    network = auth(settings, await make_user(Role.NETWORK_ADMIN))
    staff = await make_user(Role.VENUE_ADMIN)

    by_org = await client.get(
        f"/api/v1/organisations/{organisation.id}/agents/{agent.id}/export", headers=org_admin
    )
    by_network = await client.get(f"/api/v1/users/{agent.id}/export", headers=network)
    staff_export = await client.get(f"/api/v1/users/{staff.id}/export", headers=network)

    for answer in (by_org, by_network):
        assert answer.status_code == 200, answer.text
        data = json.loads(_unzip(answer.content)["data.json"])
        assert data["account"]["id"] == str(agent.id)
        assert [b["id"] for b in data["bookings"]] == [str(mine["booking"].id)]
    assert json.loads(_unzip(staff_export.content)["data.json"])["account"]["role"] == "venue_admin"
    assert await AuditEntry.count().where(AuditEntry.action == "person.export") == 3


async def test_export_error_paths(client: httpx.AsyncClient, settings: Settings) -> None:
    mine = await _person_with_history(settings)
    organisation, agent = mine["organisation"], mine["agent"]
    elsewhere = await make_user(Role.AGENT)  # an agent of another organisation
    org_admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=organisation))
    other_admin = auth(settings, await make_user(Role.ORG_ADMIN))
    colleague_admin = await make_user(Role.ORG_ADMIN, organisation=organisation)
    agent_auth = auth(settings, agent)
    path = f"/api/v1/organisations/{organisation.id}"

    # Wrong role: an agent, or an organisation admin on the network's route.
    assert (
        await client.get(f"{path}/agents/{agent.id}/export", headers=agent_auth)
    ).status_code == 403
    assert (
        await client.get(f"/api/v1/users/{agent.id}/export", headers=org_admin)
    ).status_code == 403
    # Another organisation's path: the guard refuses it as it does on every route.
    assert (
        await client.get(f"{path}/agents/{agent.id}/export", headers=other_admin)
    ).status_code == 403
    # A foreign agent, an unknown id, a person who is no agent: 404, nothing told.
    for unknown in (elsewhere.id, uuid.uuid4(), colleague_admin.id):
        answer = await client.get(f"{path}/agents/{unknown}/export", headers=org_admin)
        assert answer.status_code == 404
        assert answer.json()["type"] == P + "not-found"
        assert str(elsewhere.organisation) not in answer.text
    network = auth(settings, await make_user(Role.NETWORK_ADMIN))
    assert (
        await client.get(f"/api/v1/users/{uuid.uuid4()}/export", headers=network)
    ).status_code == 404
    assert (await client.get("/api/v1/me/export")).status_code == 401
    assert await AuditEntry.count().where(AuditEntry.action == "person.export") == 0


# Erasure


async def test_an_organisation_admin_erases_an_agent(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    mine = await _person_with_history(settings, email=EMAIL, display_name=NAME)
    organisation, agent, booking = mine["organisation"], mine["agent"], mine["booking"]
    agent_auth = auth(settings, agent)
    assert (await client.get("/api/v1/me", headers=agent_auth)).status_code == 200
    seats_before = await SeatOccupancy.select(SeatOccupancy.seats_taken).where(
        SeatOccupancy.workspace == mine["desk"].id
    )
    admin = await make_user(Role.ORG_ADMIN, organisation=organisation)
    staff = await make_user(Role.VENUE_ADMIN, venue=mine["venue"])
    feed = await client.post(
        f"/api/v1/venues/{mine['venue'].id}/calendar-feeds", headers=auth(settings, staff)
    )
    assert feed.status_code == 201, feed.text
    feed_path = feed.json()["url"].split("://", 1)[1].split("/", 1)[1]
    before = await client.get("/" + feed_path)
    assert NAME in _unfolded(before.text)
    series = BookingSeries(
        agent=agent.id, workspace=mine["desk"].id, rrule="FREQ=WEEKLY;BYDAY=MO", created_by=agent.id
    )
    await series.save()

    answer = await client.post(
        f"/api/v1/organisations/{organisation.id}/agents/{agent.id}/erase",
        headers=auth(settings, admin),
    )

    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "id": str(agent.id),
        "pseudonym": agent.pseudonym,
        "cancelled_bookings": 1,
    }
    user = await User.objects().where(User.id == agent.id).first()
    assert user is not None
    assert user.display_name == agent.pseudonym
    assert user.email == f"{agent.pseudonym.lower()}@erased.invalid"
    assert user.password_hash is None
    assert not user.active
    # The booking to come is cancelled, its seat released, its sequence raised for calendars.
    cancelled = await Booking.objects().where(Booking.id == booking.id).first()
    assert cancelled is not None
    assert cancelled.status == "cancelled"
    assert cancelled.sequence == booking.sequence + 1
    assert cancelled.cancelled_by == admin.id
    seats_after = await SeatOccupancy.select(SeatOccupancy.seats_taken).where(
        SeatOccupancy.workspace == mine["desk"].id
    )
    # A day on a desk held both half-days: both are free again.
    assert sum(r["seats_taken"] for r in seats_before) == 2
    assert sum(r["seats_taken"] for r in seats_after) == 0
    # The recurring series makes no more bookings.
    await series.refresh()
    assert series.cancelled_from == datetime.now(ZoneInfo("Europe/Paris")).date()
    # The venue's calendar feed shows it cancelled, under the pseudonym.
    after = await client.get("/" + feed_path)
    assert after.status_code == 200
    assert "STATUS:CANCELLED" in _unfolded(after.text)
    assert agent.pseudonym in _unfolded(after.text)
    assert NAME not in _unfolded(after.text)
    # The cancellation was announced, then withdrawn with the address: never to be sent.
    notice = await Outbox.objects().where(Outbox.booking == booking.id).first()
    assert notice is not None
    assert notice.kind == "booking_cancelled"
    assert notice.sent_at is None
    assert notice.last_error == "withdrawn: person erased"
    # The sender never picks it up, now or much later.
    later = datetime.now(UTC) + timedelta(days=30)
    await deliver_outbox({"settings": settings}, now=later)
    await notice.refresh()
    assert notice.sent_at is None
    # The pass is revoked; the visit still points to the (pseudonymous) person.
    issued = await Pass.objects().where(Pass.serial == mine["pass"].serial).first()
    assert issued is not None
    assert issued.status == "revoked"
    # Sign-in is impossible and the session already issued is dead.
    assert (await client.get("/api/v1/me", headers=agent_auth)).status_code == 401
    token = await client.post("/api/v1/auth/token", json={"email": EMAIL, "password": PASSWORD})
    assert token.status_code == 401
    erasures = await AuditEntry.select().where(AuditEntry.action == "person.erase")
    assert len(erasures) == 1
    assert erasures[0]["actor"] == admin.id
    assert erasures[0]["object_id"] == str(agent.id)
    assert EMAIL not in json.dumps(erasures[0]["changes"])


async def test_after_an_erasure_the_name_and_email_are_only_in_issued_documents(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    organisation = await make_organisation()
    network = auth(settings, await make_user(Role.NETWORK_ADMIN))
    admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=organisation))
    # The person is invited with an Idempotency-Key: the replayable answer holds their name.
    invited = await client.post(
        f"/api/v1/organisations/{organisation.id}/agents",
        json={"email": EMAIL, "display_name": NAME},
        headers={**admin, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert invited.status_code == 201, invited.text
    await accept(client, invited.json()["invitation_url"])
    agent = await User.objects().where(User.id == uuid.UUID(invited.json()["person"]["id"])).first()
    assert agent is not None
    mine = await _person_with_history(settings, agent)
    someone_else = await client.post(
        f"/api/v1/organisations/{organisation.id}/agents",
        json={"email": "yannick.autre@example.org", "display_name": "Yannick Autre"},
        headers={**admin, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert someone_else.status_code == 201
    # More traces: an unsent message, a signed-out session, an export (audited), and last
    # month closed (its invoice was issued under the name: it stays as issued).
    await _mail(EMAIL, f"Rappel pour {NAME}", sent=False)
    await EndedSession(
        id=uuid.uuid4(), account=agent.id, expires_at=datetime.now(UTC) + timedelta(hours=1)
    ).save()
    assert (await client.get("/api/v1/me/export", headers=auth(settings, agent))).status_code == 200
    await close_period(mine["month"], NETWORK, now=datetime.now(UTC))
    before = await _text_holding(EMAIL, NAME)
    assert {"app_user", "outbox", "idempotency_record"} <= before

    answer = await client.post(f"/api/v1/users/{agent.id}/erase", headers=network)
    assert answer.status_code == 200, answer.text

    found = await _text_holding(EMAIL, NAME)
    assert found <= ISSUED_DOCUMENT_TABLES, found
    # The other person invited alike is still found: the search does find what is there.
    assert {"app_user", "idempotency_record"} <= await _text_holding("yannick.autre@example.org")


async def _text_holding(*needles: str) -> set[str]:
    """Every table with a text, varchar, array, json or bytea column holding one of the needles.

    Text is searched case-insensitively; bytes (replayable answers, rendered files) for the
    needle's UTF-8 bytes as written.
    """
    columns = await User.raw(
        """
        SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
          JOIN information_schema.tables t
            ON t.table_schema = c.table_schema AND t.table_name = c.table_name
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
           AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'bytea')
        """
    )
    assert len(columns) > 50
    found: set[str] = set()
    for column in columns:
        table, name = column["table_name"], column["column_name"]
        if column["data_type"] == "bytea":
            test = f"position(convert_to({{}}, 'UTF8') in \"{name}\") > 0"
        else:
            test = f'position(lower({{}}) in lower("{name}"::text)) > 0'
        for needle in needles:
            hits = await User.raw(f'SELECT count(*) AS n FROM "{table}" WHERE {test}', needle)
            if hits[0]["n"]:
                found.add(table)
    return found


async def test_an_erasure_in_an_open_month_still_bills_the_visit_under_the_pseudonym(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    mine = await _person_with_history(settings, email=EMAIL, display_name=NAME)
    organisation, agent = mine["organisation"], mine["agent"]
    admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=organisation))
    network = auth(settings, await make_user(Role.NETWORK_ADMIN))

    erased = await client.post(
        f"/api/v1/organisations/{organisation.id}/agents/{agent.id}/erase", headers=admin
    )
    assert erased.status_code == 200
    result = await close_period(mine["month"], NETWORK, now=datetime.now(UTC))

    assert result.status == "closed"
    assert result.collected is not None
    assert result.collected.visits == 1
    [invoice] = result.invoices
    assert invoice.total_excl_cents == mine["visit"].organisation_rate_cents
    for reader in (admin, network):
        usage = await client.get(f"/api/v1/invoices/{invoice.document_id}/usage", headers=reader)
        assert usage.status_code == 200, usage.text
        assert [u["agent"] for u in usage.json()] == [agent.pseudonym]
        assert NAME not in usage.text
        assert EMAIL not in usage.text


async def test_erasure_error_paths(client: httpx.AsyncClient, settings: Settings) -> None:
    mine = await _person_with_history(settings)
    organisation, agent = mine["organisation"], mine["agent"]
    elsewhere = await make_user(Role.AGENT)
    admin_user = await make_user(Role.ORG_ADMIN, organisation=organisation)
    org_admin = auth(settings, admin_user)
    other_admin = auth(settings, await make_user(Role.ORG_ADMIN))
    path = f"/api/v1/organisations/{organisation.id}/agents"

    # Wrong role: the agent themselves, venue staff, an organisation admin on the network's route.
    venue_staff = auth(settings, await make_user(Role.VENUE_STAFF))
    for who in (auth(settings, agent), venue_staff):
        assert (await client.post(f"{path}/{agent.id}/erase", headers=who)).status_code == 403
    assert (
        await client.post(f"/api/v1/users/{agent.id}/erase", headers=org_admin)
    ).status_code == 403
    assert (await client.post(f"{path}/{agent.id}/erase", headers=other_admin)).status_code == 403
    # Foreign, unknown, or not an agent (a fellow admin): 404 without telling more.
    for unknown in (elsewhere.id, uuid.uuid4(), admin_user.id):
        answer = await client.post(f"{path}/{unknown}/erase", headers=org_admin)
        assert answer.status_code == 404
        assert answer.json()["type"] == P + "not-found"
    assert await AuditEntry.count().where(AuditEntry.action == "person.erase") == 0
    still = await User.objects().where(User.id == elsewhere.id).first()
    assert still is not None
    assert still.email == elsewhere.email

    # Erasing twice: 410 Gone, on both routes; the export too.
    first = await client.post(f"{path}/{agent.id}/erase", headers=org_admin)
    assert first.status_code == 200
    network = auth(settings, await make_user(Role.NETWORK_ADMIN))
    for again in (
        await client.post(f"{path}/{agent.id}/erase", headers=org_admin),
        await client.post(f"/api/v1/users/{agent.id}/erase", headers=network),
        await client.get(f"/api/v1/users/{agent.id}/export", headers=network),
        await client.get(f"{path}/{agent.id}/export", headers=org_admin),
    ):
        assert again.status_code == 410
        assert again.json()["type"] == P + "person-erased"
    assert await AuditEntry.count().where(AuditEntry.action == "person.erase") == 1
    network_unknown = await client.post(f"/api/v1/users/{uuid.uuid4()}/erase", headers=network)
    assert network_unknown.status_code == 404


async def test_the_last_network_admin_cannot_be_erased(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    first = await make_user(Role.NETWORK_ADMIN)
    second = await make_user(Role.NETWORK_ADMIN)
    await (
        User.update({User.active: False})
        .where(User.role == Role.NETWORK_ADMIN.value)
        .where(User.id.not_in([first.id, second.id]))
    )
    first_auth = auth(settings, first)

    erased = await client.post(f"/api/v1/users/{second.id}/erase", headers=first_auth)
    assert erased.status_code == 200, erased.text
    last = await client.post(f"/api/v1/users/{first.id}/erase", headers=first_auth)

    assert last.status_code == 409
    assert last.json()["type"] == P + "last-network-admin"
    assert (await client.get("/api/v1/me", headers=first_auth)).status_code == 200
    assert await AuditEntry.count().where(AuditEntry.action == "person.erase") == 1


@pytest.mark.parametrize("domain", ["erased.invalid", "ERASED.invalid"])
async def test_nobody_is_given_an_erased_address(
    client: httpx.AsyncClient, settings: Settings, domain: str
) -> None:
    network = auth(settings, await make_user(Role.NETWORK_ADMIN))
    answer = await client.post(
        "/api/v1/users",
        json={"email": f"abcdef@{domain}", "display_name": "X", "role": "network_admin"},
        headers=network,
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "email"


async def test_two_admins_erasing_each_other_at_once_leave_one(
    live_server: str, settings: Settings
) -> None:
    """Raced over TCP against a live server: exactly one erasure passes, the other gets 409."""
    first = await make_user(Role.NETWORK_ADMIN)
    second = await make_user(Role.NETWORK_ADMIN)
    await User.update({User.active: False}).where(
        (User.role == Role.NETWORK_ADMIN.value) & User.id.not_in([first.id, second.id])
    )
    async with httpx.AsyncClient(base_url=live_server, timeout=60) as http:
        for _ in range(5):  # several rounds: the interleavings differ
            answers = await asyncio.gather(
                http.post(f"/api/v1/users/{second.id}/erase", headers=auth(settings, first)),
                http.post(f"/api/v1/users/{first.id}/erase", headers=auth(settings, second)),
            )
            codes = sorted(a.status_code for a in answers)
            # The loser is refused by the rule (409), or its session died with the erasure (401).
            assert codes[0] == 200, [a.text for a in answers]
            assert codes[1] in (401, 409), [a.text for a in answers]
            left = await User.select(User.id).where(
                (User.role == Role.NETWORK_ADMIN.value) & (User.active == True)  # noqa: E712
            )
            assert len(left) == 1
            # Start again with two admins: the survivor and a new one.
            survivor = left[0]["id"]
            first = await User.objects().where(User.id == survivor).first()  # type: ignore[assignment]
            assert first is not None
            second = await make_user(Role.NETWORK_ADMIN)
    assert await AuditEntry.count().where(AuditEntry.action == "person.erase") == 5


async def test_the_api_document_names_the_erased_and_last_admin_answers(
    client: httpx.AsyncClient,
) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    erase_user = paths["/api/v1/users/{user_id}/erase"]["post"]["responses"]
    erase_agent = paths["/api/v1/organisations/{organisation_id}/agents/{agent_id}/erase"]["post"]
    export = paths["/api/v1/me/export"]["get"]["responses"]
    assert {"200", "403", "404", "409", "410"} <= set(erase_user)
    assert {"200", "403", "404", "410"} <= set(erase_agent["responses"])
    assert "application/problem+json" in erase_user["410"]["content"]
    assert "application/zip" in export["200"]["content"]
