"""Retention of personal data: each job run with the clock just before and just past its cutoff."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from billing import retention
from billing.close import close_period
from billing.rendering import render
from billing.tables import Document, DocumentFile, DocumentLine, UsageLine
from booking.services import organisations
from booking.tables import Booking, BookingSeries, Outbox, User
from passes.tables import Anomaly, Scan, Visit
from service.app.worker import WorkerSettings, cron_jobs
from service.kernel.identity import Role
from service.kernel.settings import Settings, SettingsError, load
from tests.billing.factories import NETWORK, make_past_booking, make_visit
from tests.factories import (
    auth,
    make_organisation,
    make_rates,
    make_user,
    make_venue,
    make_workspace,
)

OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
# October 2026 ends on the 31st; thirteen months later is 1 December 2027, 00:00 in Paris.
OCTOBER_RETIRES = datetime(2027, 11, 30, 23, 0, tzinfo=UTC)


async def _snapshot() -> dict[str, Any]:
    """Every issued document as stored: rows, lines and rendered files, byte for byte."""
    documents = await Document.select().order_by(Document.number)
    lines = await DocumentLine.select().order_by(DocumentLine.id)
    files = await DocumentFile.select(
        DocumentFile.document, DocumentFile.kind, DocumentFile.content
    ).order_by(DocumentFile.document, DocumentFile.kind)
    return {"documents": documents, "lines": lines, "files": files}


async def _usage_csv(client: httpx.AsyncClient, headers: dict[str, str], invoice: Any) -> str:
    answer = await client.get(f"/api/v1/invoices/{invoice.id}/lines.csv", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.text


async def test_visits_of_closed_months_lose_their_agent_and_documents_stay_byte_identical(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    venue = await make_venue(name="La Ruche")
    desk = await make_workspace(venue)
    await make_rates(venue)
    town = await make_organisation(name="Ville de Roubaix")
    alice = await make_user(Role.AGENT, organisation=town, display_name="Alice Martin")
    bruno = await make_user(Role.AGENT, organisation=town, display_name="Bruno Lefebvre")
    series = BookingSeries(
        agent=alice.id, workspace=desk.id, rrule="FREQ=WEEKLY;COUNT=1", created_by=alice.id
    )
    await series.save()
    october_visits = [
        await make_visit(alice, venue, desk, date(2026, 10, 5)),
        await make_visit(alice, venue, desk, date(2026, 10, 6)),
        await make_visit(bruno, venue, desk, date(2026, 10, 6)),
    ]
    no_show = await make_past_booking(
        alice,
        venue,
        desk,
        date(2026, 10, 7),
        "no_show",
        created_by=alice.id,
        cancel_reason="Enfant malade",
        series=series.id,
    )
    november_visit = await make_visit(alice, venue, desk, date(2026, 11, 3))
    await close_period(OCTOBER, NETWORK, now=datetime(2026, 11, 3, tzinfo=UTC))
    await close_period(NOVEMBER, NETWORK, now=datetime(2026, 12, 3, tzinfo=UTC))
    for document in await Document.select(Document.id):
        await render(document["id"])
    before = await _snapshot()
    assert before["files"], "the documents were rendered"
    invoice = (
        await Document.objects()
        .where((Document.kind == "invoice") & (Document.period == OCTOBER))
        .first()
    )
    town_admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=town))
    assert "Alice Martin" in await _usage_csv(client, town_admin, invoice)

    # A minute before the cutoff nothing moves.
    assert await retention.pseudonymise_visits({}, now=OCTOBER_RETIRES - timedelta(minutes=1)) == 0
    assert await Visit.count().where(Visit.agent.is_null()) == 0

    assert await retention.pseudonymise_visits({}, now=OCTOBER_RETIRES) == 2  # Alice, Bruno

    visits = {v["id"]: v for v in await Visit.select()}
    alices = {visits[v.id]["agent_pseudonym"] for v in october_visits[:2]}
    assert len(alices) == 1, alices
    (alice_pseudonym,) = alices
    assert alice_pseudonym.startswith("P-")
    assert len(alice_pseudonym) == 12
    assert alice_pseudonym != alice.pseudonym
    assert visits[october_visits[2].id]["agent_pseudonym"] not in (None, alice_pseudonym)
    assert all(visits[v.id]["agent"] is None for v in october_visits)
    # November's month after is not closed: its visit keeps its agent.
    assert visits[november_visit.id]["agent"] == alice.id
    assert visits[november_visit.id]["agent_pseudonym"] is None

    booking = await Booking.select().where(Booking.id == no_show.id).first()
    assert booking is not None
    assert (booking["agent"], booking["agent_pseudonym"]) == (None, alice_pseudonym)
    assert (booking["created_by"], booking["cancel_reason"], booking["series"]) == (
        None,
        None,
        None,
    )
    assert not await BookingSeries.exists().where(BookingSeries.id == series.id)

    october_lines = await UsageLine.select().where(UsageLine.period == OCTOBER)
    assert {line["kind"] for line in october_lines} == {"visit", "no_show"}
    assert all(line["agent"] is None for line in october_lines)
    assert {line["agent_pseudonym"] for line in october_lines} == {
        alice_pseudonym,
        visits[october_visits[2].id]["agent_pseudonym"],
    }

    # Every issued document, its totals and its files: byte for byte as before.
    assert await _snapshot() == before
    csv = await _usage_csv(client, town_admin, invoice)
    assert "Alice Martin" not in csv
    assert "Bruno Lefebvre" not in csv
    assert csv.count(alice_pseudonym) == 3, csv

    # Done once: a second run finds nothing, even years later for November (not settled).
    assert await retention.pseudonymise_visits({}, now=datetime(2031, 1, 1, tzinfo=UTC)) == 0
    assert await _snapshot() == before


async def test_usage_lines_stay_immutable_but_for_the_pseudonym(database_url: str) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue)
    agent = await make_user(Role.AGENT)
    await make_visit(agent, venue, desk, date(2026, 10, 5))
    await close_period(OCTOBER, NETWORK, now=datetime(2026, 11, 3, tzinfo=UTC))
    await close_period(NOVEMBER, NETWORK, now=datetime(2026, 12, 3, tzinfo=UTC))

    for statement in (
        "UPDATE usage_line SET quantity = quantity + 1",
        "UPDATE usage_line SET agent = NULL, agent_pseudonym = 'P-0', quantity = 2",
        "DELETE FROM usage_line",
    ):
        with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="immutable"):
            await UsageLine.raw(statement)
    await retention.pseudonymise_visits({}, now=OCTOBER_RETIRES)
    # Once pseudonymised, no way back to a person.
    with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="immutable"):
        await UsageLine.raw("UPDATE usage_line SET agent = {}, agent_pseudonym = NULL", agent.id)


async def test_a_visit_under_review_or_of_an_unclosed_month_keeps_its_agent(
    database_url: str,
) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue)
    agent = await make_user(Role.AGENT)
    reviewed = await make_visit(agent, venue, desk, date(2026, 10, 5), billable=False)
    await Anomaly(kind="no_booking", visit=reviewed.id, venue=venue.id, detail="?").save()
    unclosed = await make_visit(agent, venue, desk, date(2026, 9, 5))
    await close_period(OCTOBER, NETWORK, now=datetime(2026, 11, 3, tzinfo=UTC))
    await close_period(NOVEMBER, NETWORK, now=datetime(2026, 12, 3, tzinfo=UTC))

    # The September visit was billed late, in October, but September itself was never closed.
    assert await retention.pseudonymise_visits({}, now=datetime(2030, 1, 1, tzinfo=UTC)) == 0
    agents = {v["id"]: v["agent"] for v in await Visit.select(Visit.id, Visit.agent)}
    assert agents == {reviewed.id: agent.id, unclosed.id: agent.id}


async def test_the_visit_retention_is_a_setting(database_url: str) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue)
    agent = await make_user(Role.AGENT)
    await make_visit(agent, venue, desk, date(2026, 10, 5))
    await close_period(OCTOBER, NETWORK, now=datetime(2026, 11, 3, tzinfo=UTC))
    await close_period(NOVEMBER, NETWORK, now=datetime(2026, 12, 3, tzinfo=UTC))
    ctx = {"settings": load({"VISIT_RETENTION_MONTHS": "1"}, mode="test")}

    assert await retention.pseudonymise_visits(ctx, now=datetime(2026, 11, 30, 22, tzinfo=UTC)) == 0
    assert await retention.pseudonymise_visits(ctx, now=datetime(2026, 11, 30, 23, tzinfo=UTC)) == 1


async def _scan(venue: Any, at: datetime, **links: Any) -> uuid.UUID:
    scan_id = uuid.uuid4()
    await Scan(
        scan_id=scan_id, venue=venue.id, direction="in", scanned_at=at, admitted=True, **links
    ).save()
    return scan_id


async def test_door_scans_lose_their_person_after_three_months_and_still_count(
    database_url: str,
) -> None:
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    venue = await make_venue()
    desk = await make_workspace(venue)
    agent = await make_user(Role.AGENT)
    staff = await make_user(Role.VENUE_STAFF, venue=venue)
    booking = await make_past_booking(agent, venue, desk, date(2026, 11, 30), "completed")
    visit = await make_visit(agent, venue, desk, date(2026, 11, 30))
    person = {"agent": agent.id, "serial": 42, "booking": booking.id, "visit": visit.id}
    old = await _scan(venue, now - timedelta(days=90, seconds=1), scanned_by=staff.id, **person)
    recent = await _scan(venue, now - timedelta(days=89, hours=23), scanned_by=staff.id, **person)
    anonymous = await _scan(
        venue, now - timedelta(days=200), scanned_by=staff.id, reason="unknown_pass"
    )

    assert await retention.unlink_scans({}, now=now) == 1
    assert await retention.unlink_scans({}, now=now) == 0

    rows = {s["scan_id"]: s for s in await Scan.select()}
    assert len(rows) == 3  # counts stay
    for column in person:
        assert rows[old][column] is None, column
        assert rows[recent][column] is not None, column
    # Who operated the door stays: that is the venue's work, not the visitor's trace.
    assert (rows[old]["venue"], rows[old]["scanned_by"], rows[old]["admitted"]) == (
        venue.id,
        staff.id,
        True,
    )
    assert rows[anonymous]["reason"] == "unknown_pass"
    # Shorter if the network wants it; never longer than three months.
    shorter = {"settings": load({"SCAN_RETENTION_DAYS": "30"}, mode="test")}
    assert await retention.unlink_scans(shorter, now=now) == 1
    with pytest.raises(SettingsError, match="SCAN_RETENTION_DAYS must be 1 to 92"):
        load({"SCAN_RETENTION_DAYS": "120"}, mode="test")


async def _message(created_at: datetime, sent_at: datetime | None, attempts: int = 0) -> None:
    await Outbox(
        kind="booking_confirmed",
        recipient="alice@example.org",
        subject="Réservation",
        body="Bonjour Alice",
        created_at=created_at,
        sent_at=sent_at,
        attempts=attempts,
    ).save()


async def test_outbox_messages_go_three_months_after_they_were_sent(database_url: str) -> None:
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    long_ago, lately = now - timedelta(days=90, seconds=1), now - timedelta(days=89)
    await _message(long_ago, long_ago)  # sent: goes
    await _message(long_ago, lately)  # sent lately: stays
    await _message(long_ago, None, attempts=10)  # given up long ago: goes
    await _message(lately, None, attempts=10)  # given up lately: stays
    await _message(long_ago, None, attempts=3)  # still being retried: stays

    assert await retention.purge_outbox({}, now=now - timedelta(seconds=2)) == 0
    assert await retention.purge_outbox({}, now=now) == 2
    assert await Outbox.count() == 3
    assert await retention.purge_outbox({}, now=now) == 0


async def test_invitations_never_accepted_expire_with_their_account(database_url: str) -> None:
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    town = await make_organisation()
    venue = await make_venue()
    desk = await make_workspace(venue)

    async def invited(email: str, days_ago: float) -> Any:
        created = await organisations.invite(
            email=email, display_name="Invité", role=Role.AGENT, organisation_id=town.id
        )
        await User.update({User.created_at: now - timedelta(days=days_ago)}).where(
            User.id == created.user_id
        )
        return created

    await invited("expired@example.org", 30.01)
    await invited("fresh@example.org", 29.9)
    booked_for = await invited("booked@example.org", 40)
    user = await User.objects().where(User.id == booked_for.user_id).first()
    assert user is not None
    await make_past_booking(user, venue, desk, date(2027, 2, 1), "cancelled")
    accepted = await invited("accepted@example.org", 40)
    await organisations.accept_invitation(
        accepted.invitation_token, "un mot de passe long", valid_days=60
    )

    assert await retention.expire_invitations({}, now=now - timedelta(hours=1)) == 1  # booked
    assert await retention.expire_invitations({}, now=now) == 1

    left = {u["email"]: u for u in await User.select(User.email, User.invitation_token_hash)}
    assert "expired@example.org" not in left
    assert left["fresh@example.org"]["invitation_token_hash"] is not None
    assert left["booked@example.org"]["invitation_token_hash"] is None
    assert "accepted@example.org" in left
    # The address can be invited again.
    await organisations.invite(
        email="expired@example.org", display_name="Invité", role=Role.AGENT, organisation_id=town.id
    )


async def test_an_invitation_past_its_validity_is_refused_before_the_job_runs(
    client: httpx.AsyncClient,
) -> None:
    town = await make_organisation()
    tokens = {}
    for email, days_ago in (("old@example.org", 30.01), ("recent@example.org", 29.9)):
        created = await organisations.invite(
            email=email, display_name="Invité", role=Role.AGENT, organisation_id=town.id
        )
        await User.update({User.created_at: datetime.now(UTC) - timedelta(days=days_ago)}).where(
            User.id == created.user_id
        )
        tokens[email] = created.invitation_token

    def accept(email: str) -> Any:
        return client.post(
            "/api/v1/auth/accept-invitation",
            json={"token": tokens[email], "password": "un mot de passe assez long"},
        )

    refused = await accept("old@example.org")
    assert refused.status_code == 404, refused.text
    assert refused.json()["type"] == "urn:tierslieux:problem:invitation-not-found"
    assert (await accept("recent@example.org")).status_code == 200


def test_every_retention_job_is_a_nightly_cron_of_the_worker() -> None:
    names = {
        "unlink_scans",
        "pseudonymise_visits",
        "purge_outbox",
        "expire_invitations",
        "forget_guests",
    }
    for crons in (WorkerSettings.cron_jobs, cron_jobs(load({}, mode="test"))):
        registered = {job.name: job for job in crons}
        for name in names:
            job = registered[f"cron:{name}"]
            assert job.hour == 1, name
            assert isinstance(job.minute, int), name
            # once_cron: the result is kept so a late worker does not run it again.
            assert job.keep_result_s == 3600, name


def test_the_retention_periods_are_settings_with_defaults() -> None:
    defaults = load({}, mode="test")
    assert (
        defaults.scan_retention_days,
        defaults.visit_retention_months,
        defaults.outbox_retention_days,
        defaults.invitation_validity_days,
    ) == (90, 13, 90, 30)
    chosen = load(
        {
            "SCAN_RETENTION_DAYS": "60",
            "VISIT_RETENTION_MONTHS": "24",
            "OUTBOX_RETENTION_DAYS": "30",
            "INVITATION_VALIDITY_DAYS": "7",
        },
        mode="test",
    )
    assert retention.Periods.of({"settings": chosen}) == retention.Periods(60, 24, 30, 7)
    assert retention.Periods.of({}) == retention.Periods()
    with pytest.raises(SettingsError, match="VISIT_RETENTION_MONTHS must be at least 1"):
        load({"VISIT_RETENTION_MONTHS": "0"}, mode="test")
