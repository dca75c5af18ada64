"""The reconciliation over HTTP: close, documents by role, transparency, summaries."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time

import httpx
from redis.asyncio import Redis

from billing.close import close_period
from billing.jobs import close_month, monthly_close
from billing.tables import BillingPeriod, Document
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.billing.factories import NETWORK, make_visit
from tests.factories import auth, make_organisation, make_user, make_venue, make_workspace
from tests.workers import arq_pool, run_worker

P = "urn:tierslieux:problem:"
OCTOBER = date(2026, 10, 1)


async def _closed_october(settings: Settings) -> dict[str, object]:
    lille = await make_venue(name="La Ruche", commune="Lille")
    roubaix = await make_venue(name="Le Pavé", commune="Roubaix")
    desk_l, desk_r = await make_workspace(lille), await make_workspace(roubaix)
    mel, town = await make_organisation(name="MEL"), await make_organisation(name="Roubaix")
    alice = await make_user(Role.AGENT, organisation=mel, display_name="Alice Martin")
    bruno = await make_user(Role.AGENT, organisation=town, display_name="Bruno Petit")
    await make_visit(alice, lille, desk_l, date(2026, 10, 5))
    await make_visit(alice, roubaix, desk_r, date(2026, 10, 6))
    await make_visit(bruno, lille, desk_l, date(2026, 10, 7), org_cents=2000)
    await close_period(OCTOBER, NETWORK, now=datetime(2026, 11, 3, tzinfo=UTC))
    return {
        "network": auth(settings, await make_user(Role.NETWORK_ADMIN)),
        "mel_admin": auth(settings, await make_user(Role.ORG_ADMIN, organisation=mel)),
        "lille_admin": auth(settings, await make_user(Role.VENUE_ADMIN, venue=lille)),
        "lille_staff": auth(settings, await make_user(Role.VENUE_STAFF, venue=lille)),
        "agent": auth(settings, alice),
        "alice": alice,
        "bruno": bruno,
        "mel": mel,
        "lille": lille,
    }


async def test_each_role_sees_only_its_own_documents(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await _closed_october(settings)

    network = await client.get("/api/v1/invoices?period=2026-10", headers=world["network"])
    mel = await client.get("/api/v1/invoices?period=2026-10", headers=world["mel_admin"])
    venue = await client.get("/api/v1/statements?period=2026-10", headers=world["lille_admin"])
    staff = await client.get("/api/v1/statements", headers=world["lille_staff"])
    agent = await client.get("/api/v1/invoices", headers=world["agent"])
    venue_invoices = await client.get("/api/v1/invoices", headers=world["lille_admin"])

    assert network.status_code == 200, network.text
    assert network.json()["total"] == 2
    assert [d["buyer_name"] for d in mel.json()["items"]] == ["MEL"]
    assert mel.json()["items"][0]["number"].startswith("TL-2026-")
    assert mel.json()["items"][0]["total_excl_cents"] == 3000
    assert [d["seller_name"] for d in venue.json()["items"]] == [world["lille"].legal_name]  # type: ignore[attr-defined]
    assert staff.status_code == 403
    assert agent.status_code == 403
    assert venue_invoices.status_code == 403


async def test_a_venue_sees_every_visit_behind_its_statement_by_pseudonym(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await _closed_october(settings)
    listing = await client.get("/api/v1/statements", headers=world["lille_admin"])
    statement_id = listing.json()["items"][0]["id"]

    detail = await client.get(f"/api/v1/statements/{statement_id}", headers=world["lille_admin"])
    usage = await client.get(
        f"/api/v1/statements/{statement_id}/usage", headers=world["lille_admin"]
    )
    as_csv = await client.get(
        f"/api/v1/statements/{statement_id}/lines.csv", headers=world["lille_admin"]
    )

    assert detail.status_code == 200, detail.text
    assert sum(line["quantity"] for line in detail.json()["lines"]) == 2
    assert detail.json()["document"]["total_excl_cents"] == 2000
    agents = {row["agent"] for row in usage.json()}
    assert agents == {world["alice"].pseudonym, world["bruno"].pseudonym}  # type: ignore[attr-defined]
    assert "Alice Martin" not in usage.text
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 2
    assert {r["venue_price_cents"] for r in rows} == {"1000"}


async def test_an_organisation_sees_its_agents_by_name_but_not_other_invoices(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await _closed_october(settings)
    mine = (await client.get("/api/v1/invoices", headers=world["mel_admin"])).json()["items"][0]
    other = (
        await Document.select(Document.id)
        .where(
            (Document.kind == "invoice") & (Document.organisation != world["mel"].id)  # type: ignore[attr-defined]
        )
        .first()
    )
    assert other is not None

    usage = await client.get(f"/api/v1/invoices/{mine['id']}/usage", headers=world["mel_admin"])
    foreign = await client.get(f"/api/v1/invoices/{other['id']}", headers=world["mel_admin"])
    unknown = await client.get(f"/api/v1/invoices/{uuid.uuid4()}", headers=world["network"])

    assert {row["agent"] for row in usage.json()} == {"Alice Martin"}
    assert foreign.status_code == 404
    assert unknown.status_code == 404


async def test_summary_reconciles_revenue_payouts_and_share(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await _closed_october(settings)

    summary = await client.get("/api/v1/billing/periods/2026-10/summary", headers=world["network"])
    by_commune = await client.get(
        "/api/v1/billing/periods/2026-10/summary?format=csv&by=commune", headers=world["network"]
    )

    body = summary.json()
    assert body["invoiced_excl_cents"] == 1500 + 1500 + 2000
    assert body["statements_excl_cents"] == 3000
    assert body["network_share_cents"] == 2000
    assert sum(v["network_share_cents"] for v in body["by_venue"]) == body["network_share_cents"]
    assert sum(o["revenue_excl_cents"] for o in body["by_organisation"]) == 5000
    communes = {
        r["commune"]: r
        for r in csv.DictReader(io.StringIO(by_commune.content.decode("utf-8-sig")), delimiter=";")
    }
    assert set(communes) == {"Lille", "Roubaix"}


async def test_period_status_dry_run_and_queued_close(
    client: httpx.AsyncClient, settings: Settings, redis: Redis
) -> None:
    venue = await make_venue()
    agent = await make_user(Role.AGENT)
    await make_visit(agent, venue, await make_workspace(venue), date(2026, 10, 9))
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))

    before = await client.get("/api/v1/billing/periods/2026-10", headers=admin)
    dry = await client.post("/api/v1/billing/periods/2026-10/close?dry_run=true", headers=admin)
    queued = await client.post("/api/v1/billing/periods/2026-10/close", headers=admin)
    again = await client.post("/api/v1/billing/periods/2026-10/close", headers=admin)

    assert before.json()["status"] == "open"
    assert dry.status_code == 200, dry.text
    assert dry.json()["organisations_excl_cents"] == 1500
    assert await Document.count() == 0
    assert queued.status_code == 202
    assert again.status_code == 202
    assert await redis.exists("arq:job:close:2026-10") == 1
    waiting = (await client.get("/api/v1/billing/periods/2026-10", headers=admin)).json()
    assert waiting["status"] == "closing"
    assert waiting["queued_at"] is not None
    assert waiting["waiting_for_worker_since"] is None  # asked for less than a minute ago
    # What the worker runs for that job:
    await close_month({"settings": settings}, "2026-10")
    after = await client.get("/api/v1/billing/periods/2026-10", headers=admin)
    assert after.json()["status"] == "closed"
    assert await Document.count() == 2


async def test_billing_errors(client: httpx.AsyncClient, settings: Settings) -> None:
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    org_admin = auth(settings, await make_user(Role.ORG_ADMIN))

    bad = await client.get("/api/v1/billing/periods/2026-13", headers=admin)
    current = await client.post(
        f"/api/v1/billing/periods/{datetime.now(UTC):%Y-%m}/close?dry_run=true", headers=admin
    )
    wrong_role = await client.post("/api/v1/billing/periods/2026-10/close", headers=org_admin)
    anonymous = await client.get("/api/v1/invoices")

    assert bad.status_code == 422
    assert bad.json()["field"] == "period"
    assert current.status_code == 422
    assert current.json()["field"] == "period"
    assert wrong_role.status_code == 403
    assert anonymous.status_code == 401


async def test_the_monthly_cron_closes_last_month_at_two_in_paris(
    database_url: str, settings: Settings, redis: Redis
) -> None:
    venue = await make_venue()
    agent = await make_user(Role.AGENT)
    await make_visit(agent, venue, await make_workspace(venue), date(2026, 10, 9))
    async with arq_pool(settings.redis_url or "") as pool:
        ctx = {"settings": settings, "redis": pool}
        too_early = await monthly_close(ctx, now=datetime(2026, 11, 1, 0, 0, tzinfo=UTC))  # 01:00
        on_time = await monthly_close(ctx, now=datetime(2026, 11, 1, 1, 0, tzinfo=UTC))  # 02:00
        queued = await BillingPeriod.select().where(BillingPeriod.month == OCTOBER).first()
        assert await redis.exists("arq:job:close:2026-10") == 1
        await run_worker(settings)

    assert too_early is None
    assert on_time == "2026-10"
    # Recorded in PostgreSQL before it was queued: a lost job leaves it pending, not forgotten.
    assert queued is not None
    assert queued["status"] == "closing"
    assert queued["queued_at"] == datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    period = await BillingPeriod.select().where(BillingPeriod.month == OCTOBER).first()
    assert period is not None
    assert period["status"] == "closed"


async def test_a_close_day_past_the_month_end_closes_on_its_last_day(
    database_url: str, settings: Settings, redis: Redis
) -> None:
    late = replace(settings, monthly_close_day=31, monthly_close_time=time(6, 30))
    async with arq_pool(settings.redis_url or "") as pool:
        ctx = {"settings": late, "redis": pool}
        # November has 30 days: its 30th at 06:xx Paris (05:xx UTC) closes October.
        on_the_29th = await monthly_close(ctx, now=datetime(2026, 11, 29, 5, 30, tzinfo=UTC))
        other_hour = await monthly_close(ctx, now=datetime(2026, 11, 30, 6, 30, tzinfo=UTC))
        on_the_30th = await monthly_close(ctx, now=datetime(2026, 11, 30, 5, 30, tzinfo=UTC))

    assert (on_the_29th, other_hour, on_the_30th) == (None, None, "2026-10")
    assert await redis.exists("arq:job:close:2026-10") == 1
