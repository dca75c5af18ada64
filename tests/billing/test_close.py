"""The monthly close: documents that reconcile to the cent, gapless numbers, replays and crashes."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg
import pytest

from billing import numbering
from billing.close import CloseInProgress, PeriodNotOver, close_period
from billing.money import line_amounts, vat_cents
from billing.tables import BillingPeriod, Document, DocumentLine, NumberSequence, UsageLine
from booking.tables import OrganisationRate, VenueRate
from service.kernel.identity import Role
from tests.billing.factories import NETWORK, make_past_booking, make_visit
from tests.factories import make_organisation, make_user, make_venue, make_workspace

OCTOBER = date(2026, 10, 1)
NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 2 Nov 02:00 in Paris: October is over


async def _month_of_usage() -> dict[str, object]:
    """Two organisations, three venues (one under the VAT franchise), visits in October."""
    venues = [
        await make_venue(name="La Ruche", commune="Lille"),
        await make_venue(name="Le Pavé", commune="Roubaix"),
        await make_venue(name="Atelier 3D", commune="Seclin", charges_vat=False),
    ]
    desks = [await make_workspace(v) for v in venues]
    mel = await make_organisation(name="MEL")
    town = await make_organisation(name="Ville de Roubaix")
    agents = [await make_user(Role.AGENT, organisation=o) for o in (mel, mel, town)]
    # 1 visit at 1234 cents x 20 % VAT makes a half-cent: 246.8 -> 247.
    await make_visit(agents[0], venues[0], desks[0], date(2026, 10, 5), org_cents=1234)
    await make_visit(agents[0], venues[1], desks[1], date(2026, 10, 6))
    await make_visit(agents[1], venues[1], desks[1], date(2026, 10, 6))
    await make_visit(agents[2], venues[2], desks[2], date(2026, 10, 7), venue_cents=900)
    await make_visit(agents[2], venues[0], desks[0], date(2026, 10, 31))
    # Not October: next month, and a visit waiting for an anomaly decision.
    await make_visit(agents[2], venues[0], desks[0], date(2026, 11, 1))
    await make_visit(agents[1], venues[0], desks[0], date(2026, 10, 8), billable=False)
    return {"venues": venues, "desks": desks, "orgs": [mel, town], "agents": agents}


async def test_closing_a_month_issues_documents_that_reconcile_to_the_cent(
    database_url: str,
) -> None:
    await _month_of_usage()

    result = await close_period(OCTOBER, NETWORK, now=NOW)

    assert result.status == "closed"
    assert result.collected is not None
    assert result.collected.visits == 5
    assert len(result.invoices) == 2
    assert len(result.statements) == 3
    assert [d.number for d in result.invoices] == ["TL-2026-000001", "TL-2026-000002"]
    # Organisations pay 1234 + 1500 * 4, venues get 1000 * 4 + 900.
    assert result.organisations_excl_cents == 1234 + 1500 * 4
    assert result.venues_excl_cents == 1000 * 4 + 900
    assert result.network_share_cents == (1234 + 6000) - (4000 + 900)
    # Totals are sums of rounded lines, VAT rounded half-up per line.
    for document in await Document.select():
        lines = await DocumentLine.select().where(DocumentLine.document == document["id"])
        assert document["total_excl_cents"] == sum(line["excl_cents"] for line in lines)
        assert document["total_vat_cents"] == sum(line["vat_cents"] for line in lines)
        for line in lines:
            expected = line_amounts(line["quantity"], line["unit_price_cents"], line["vat_rate"])
            assert (line["excl_cents"], line["vat_cents"]) == (
                expected.excl_cents,
                expected.vat_cents,
            )
    half_cent = await DocumentLine.select().where(DocumentLine.unit_price_cents == 1234).first()
    assert half_cent is not None
    assert half_cent["vat_cents"] == 247
    franchise = await Document.select().where(Document.kind == "statement").output(load_json=True)
    no_vat = [d for d in franchise if not d["seller"]["charges_vat"]]
    assert len(no_vat) == 1
    assert no_vat[0]["total_vat_cents"] == 0
    assert "TVA non applicable, art. 293 B du CGI" in no_vat[0]["mentions"]
    period = (
        await BillingPeriod.select()
        .where(BillingPeriod.month == OCTOBER)
        .output(load_json=True)
        .first()
    )
    assert period is not None
    assert period["status"] == "closed"
    # Each kind's count is kept: the statements' step does not wipe the invoices'.
    assert period["progress"] == {"invoices": 2, "statements": 3}


async def test_a_replayed_close_changes_nothing(database_url: str) -> None:
    await _month_of_usage()
    first = await close_period(OCTOBER, NETWORK, now=NOW)
    counts = (await Document.count(), await DocumentLine.count(), await UsageLine.count())

    again = await close_period(OCTOBER, NETWORK, now=NOW)

    assert [d.number for d in again.invoices] == [d.number for d in first.invoices]
    assert (await Document.count(), await DocumentLine.count(), await UsageLine.count()) == counts


async def test_a_dry_run_shows_the_totals_and_writes_nothing(database_url: str) -> None:
    await _month_of_usage()

    dry = await close_period(OCTOBER, NETWORK, now=NOW, dry_run=True)

    assert dry.dry_run
    assert dry.organisations_excl_cents == 1234 + 6000
    assert len(dry.invoices) == 2
    assert await Document.count() == 0
    assert await UsageLine.count() == 0
    assert await NumberSequence.count() == 0


@pytest.mark.parametrize(
    "crash_at", ["usage", "invoice 1/2", "invoice 2/2", "statement 2/3", "done"]
)
async def test_a_close_killed_at_any_step_resumes_to_the_same_documents(
    database_url: str, crash_at: str
) -> None:
    await _month_of_usage()

    async def crash(step: str) -> None:
        if step == crash_at:
            raise RuntimeError(f"worker killed at {step}")

    with pytest.raises(RuntimeError):
        # One document per transaction, so that a crash can fall between two documents.
        await close_period(OCTOBER, NETWORK, now=NOW, checkpoint=crash, batch=1)
    resumed = await close_period(OCTOBER, NETWORK, now=NOW)

    assert resumed.status == "closed"
    numbers = sorted(
        d["number"]
        for d in await Document.select(Document.number).where(Document.kind == "invoice")
    )
    assert numbers == ["TL-2026-000001", "TL-2026-000002"]
    assert await Document.count().where(Document.kind == "statement") == 3
    assert resumed.organisations_excl_cents == 1234 + 6000
    assert await UsageLine.count() == 5


async def test_one_close_at_a_time(database_url: str) -> None:
    await _month_of_usage()
    entered = asyncio.Event()
    release = asyncio.Event()

    async def slow(step: str) -> None:
        if step == "usage":
            entered.set()
            await release.wait()

    first = asyncio.create_task(close_period(OCTOBER, NETWORK, now=NOW, checkpoint=slow))
    await entered.wait()
    with pytest.raises(CloseInProgress):
        await close_period(OCTOBER, NETWORK, now=NOW)
    release.set()
    result = await first

    assert result.status == "closed"


async def test_the_current_month_cannot_be_closed(database_url: str) -> None:
    with pytest.raises(PeriodNotOver):
        await close_period(date(2026, 11, 1), NETWORK, now=NOW)


async def test_issued_documents_cannot_be_edited_or_deleted(database_url: str) -> None:
    await _month_of_usage()
    await close_period(OCTOBER, NETWORK, now=NOW)

    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await Document.update({Document.total_excl_cents: 0}).where(Document.kind == "invoice")
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await DocumentLine.delete(force=True)
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await UsageLine.delete(force=True)


async def test_late_usage_goes_into_the_next_month(database_url: str) -> None:
    setup = await _month_of_usage()
    await close_period(OCTOBER, NETWORK, now=NOW)
    october_total = await Document.select(Document.total_excl_cents).where(
        Document.kind == "invoice"
    )
    # An offline scan of 20 October syncs after the close.
    agents, venues, desks = setup["agents"], setup["venues"], setup["desks"]
    await make_visit(agents[0], venues[0], desks[0], date(2026, 10, 20))  # type: ignore[index]

    november = await close_period(
        date(2026, 11, 1), NETWORK, now=datetime(2026, 12, 1, 12, tzinfo=UTC)
    )

    assert (
        await Document.select(Document.total_excl_cents).where(
            (Document.kind == "invoice") & (Document.period == OCTOBER)
        )
        == october_total
    )
    late = await UsageLine.select().where(UsageLine.local_date == date(2026, 10, 20)).first()
    assert late is not None
    assert late["period"] == date(2026, 11, 1)
    assert any("régularisation" in line["description"] for line in await DocumentLine.select())
    assert november.collected is not None
    assert november.collected.visits == 2  # the late one and 1 November


async def test_no_shows_and_late_cancellations_follow_the_policy(database_url: str) -> None:
    venue = await make_venue()
    desk = await make_workspace(venue)
    billing_org = await make_organisation(bill_no_shows=True, bill_late_cancellations=False)
    lenient_org = await make_organisation(bill_no_shows=False, bill_late_cancellations=True)
    strict_agent = await make_user(Role.AGENT, organisation=billing_org)
    lenient_agent = await make_user(Role.AGENT, organisation=lenient_org)
    for agent in (strict_agent, lenient_agent):
        await make_past_booking(agent, venue, desk, date(2026, 10, 12), "no_show")
        await make_past_booking(agent, venue, desk, date(2026, 10, 13), "late_cancelled")
    await OrganisationRate(
        organisation=None,
        workspace_kind="desk",
        unit="half_day",
        amount_cents=1200,
        vat_rate=Decimal("0.20"),
        effective_from=date(2026, 1, 1),
    ).save()
    await VenueRate(
        venue=venue.id,
        workspace_kind="desk",
        unit="half_day",
        amount_cents=800,
        vat_rate=Decimal("0.20"),
        effective_from=date(2026, 1, 1),
    ).save()

    result = await close_period(OCTOBER, NETWORK, now=NOW)

    assert result.collected is not None
    assert (result.collected.no_shows, result.collected.late_cancellations) == (1, 1)
    kinds = sorted(
        (u["organisation"] == billing_org.id, u["kind"]) for u in await UsageLine.select()
    )
    assert kinds == [(False, "late_cancellation"), (True, "no_show")]
    assert result.organisations_excl_cents == 2400


async def test_concurrent_numbering_leaves_no_gap_and_no_duplicate(database_url: str) -> None:
    from service.kernel.database import DB

    await DB.start_connection_pool(min_size=5, max_size=30)
    try:

        async def issue(i: int) -> int | None:
            try:
                async with DB.transaction():
                    number = await numbering.next_number(numbering.INVOICES, 2026)
                    await asyncio.sleep(0.001 * (i % 5))
                    if i % 7 == 0:
                        raise RuntimeError("this issue fails and gives its number back")
                    return number
            except RuntimeError:
                return None

        numbers = await asyncio.gather(*[issue(i) for i in range(60)])
    finally:
        await DB.close_connection_pool()

    kept = sorted(n for n in numbers if n is not None)
    assert kept == list(range(1, len(kept) + 1))
    assert len(kept) == 60 - len([i for i in range(60) if i % 7 == 0])


def test_vat_rounds_half_up_per_line() -> None:
    assert vat_cents(1234, Decimal("0.20")) == 247  # 246.8
    assert vat_cents(1225, Decimal("0.20")) == 245
    assert vat_cents(1, Decimal("0.055")) == 0  # 0.055
    assert vat_cents(10, Decimal("0.055")) == 1  # 0.55 -> 1
    assert vat_cents(0, Decimal("0.20")) == 0
