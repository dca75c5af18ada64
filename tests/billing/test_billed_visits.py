"""A billed visit is the record of its usage: frozen once billed, named as billed, billed once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import asyncpg
import pytest

from billing.close import close_period
from billing.credit_notes import AlreadyCredited, credit
from billing.tables import Document, DocumentUsage, UsageLine
from billing.usage import collect
from booking.tables import Organisation, Venue, Workspace
from passes.tables import Visit
from service.kernel.identity import Role
from tests.billing.factories import NETWORK, make_visit
from tests.factories import make_organisation, make_user, make_venue, make_workspace

OCTOBER = date(2026, 10, 1)
NOVEMBER = date(2026, 11, 1)
OCTOBER_OVER = datetime(2026, 11, 2, 12, tzinfo=UTC)
NOVEMBER_OVER = datetime(2026, 12, 2, 12, tzinfo=UTC)


async def _october() -> tuple[Venue, Workspace, Organisation, list[Visit]]:
    venue = await make_venue(name="La Ruche", commune="Lille")
    desk = await make_workspace(venue, name="Open space")
    organisation = await make_organisation(name="MEL")
    agent = await make_user(Role.AGENT, organisation=organisation)
    visits = [
        await make_visit(agent, venue, desk, date(2026, 10, 5)),
        await make_visit(agent, venue, desk, date(2026, 10, 6), org_cents=1234),
    ]
    await close_period(OCTOBER, NETWORK, now=OCTOBER_OVER)
    return venue, desk, organisation, visits


@pytest.mark.parametrize(
    "change",
    [
        "organisation_rate_cents = 1",
        "venue_rate_cents = 1",
        "organisation_vat_rate = 0",
        "quantity = 2",
        "local_date = '2026-10-07'",
        "billable = false",
        "organisation = gen_random_uuid()",
        "agent = NULL, agent_pseudonym = 'P-0', quantity = 2",
    ],
)
async def test_a_billed_visit_cannot_be_changed(database_url: str, change: str) -> None:
    *_, visits = await _october()

    with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="immutable"):
        await Visit.raw(f"UPDATE visit SET {change} WHERE id = {{}}", visits[0].id)


async def test_a_billed_visit_cannot_be_deleted_but_can_be_checked_out(
    database_url: str,
) -> None:
    *_, visits = await _october()

    with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="immutable"):
        await Visit.raw("DELETE FROM visit WHERE id = {}", visits[0].id)
    # What the bill does not hold stays writable: a late check-out synced after the close.
    await Visit.raw(
        "UPDATE visit SET checked_out_at = checked_in_at + interval '4 hours' WHERE id = {}",
        visits[0].id,
    )
    # And the retention may still replace the agent by a pseudonym.
    await Visit.raw(
        "UPDATE visit SET agent = NULL, agent_pseudonym = 'P-0123456789' WHERE id = {}",
        visits[0].id,
    )
    line = await UsageLine.select().where(UsageLine.id == visits[0].id).first()
    assert line is not None
    assert (line["agent"], line["agent_pseudonym"]) == (None, "P-0123456789")


async def test_a_visit_not_billed_yet_can_still_change(database_url: str) -> None:
    venue, desk, organisation, _ = await _october()
    agent = await make_user(Role.AGENT, organisation=organisation)
    november = await make_visit(agent, venue, desk, date(2026, 11, 5))

    await Visit.raw("UPDATE visit SET billable = false WHERE id = {}", november.id)
    await Visit.raw("DELETE FROM visit WHERE id = {}", november.id)


async def test_a_rename_after_the_close_leaves_the_billed_month_as_billed(
    database_url: str,
) -> None:
    venue, desk, organisation, visits = await _october()
    columns = (
        UsageLine.venue_name,
        UsageLine.venue_commune,
        UsageLine.workspace_name,
        UsageLine.workspace_kind,
        UsageLine.organisation_name,
    )
    before = await UsageLine.select(*columns).where(UsageLine.period == OCTOBER)

    await Venue.update({Venue.name: "La Grande Ruche", Venue.commune: "Lomme"}).where(
        Venue.id == venue.id
    )
    await Workspace.update({Workspace.name: "Plateau", Workspace.kind: "lab"}).where(
        Workspace.id == desk.id
    )
    await Organisation.update({Organisation.name: "Métropole"}).where(
        Organisation.id == organisation.id
    )

    after = await UsageLine.select(*columns).where(UsageLine.period == OCTOBER)
    assert after == before
    assert before[0] == {
        "venue_name": "La Ruche",
        "venue_commune": "Lille",
        "workspace_name": "Open space",
        "workspace_kind": "desk",
        "organisation_name": "MEL",
    }
    assert {line["id"] for line in await UsageLine.select(UsageLine.id)} == {v.id for v in visits}


async def test_a_late_visit_goes_to_the_next_month_once(database_url: str) -> None:
    venue, desk, organisation, _ = await _october()
    agent = await make_user(Role.AGENT, organisation=organisation)
    # An offline scan of 20 October syncs after October's close.
    late = await make_visit(agent, venue, desk, date(2026, 10, 20))

    november = await close_period(NOVEMBER, NETWORK, now=NOVEMBER_OVER)

    assert november.collected is not None
    assert november.collected.visits == 1
    line = await UsageLine.select().where(UsageLine.id == late.id).first()
    assert line is not None
    assert (line["period"], line["kind"], line["visit"]) == (NOVEMBER, "visit", late.id)
    assert await UsageLine.count().where(UsageLine.period == OCTOBER) == 2


async def test_collecting_again_bills_nothing_twice(database_url: str) -> None:
    await _october()
    lines = await UsageLine.count()

    again = await collect(OCTOBER)
    november = await collect(NOVEMBER)

    assert (again.visits, november.visits) == (0, 0)
    assert await UsageLine.count() == lines == 2


async def test_a_visit_line_can_be_credited_once(database_url: str) -> None:
    *_, visits = await _october()
    invoice = await Document.select(Document.id).where(Document.kind == "invoice").first()
    assert invoice is not None

    notes = await credit(invoice["id"], [visits[1].id], "Visite contestée", NETWORK, NOVEMBER)

    assert [(n.total_excl_cents, n.total_vat_cents) for n in notes] == [(1234, 247), (1000, 200)]
    assert {(u["usage"], u["side"]) for u in await DocumentUsage.select()} == {
        (visits[1].id, "organisation"),
        (visits[1].id, "venue"),
    }
    with pytest.raises(AlreadyCredited):
        await credit(invoice["id"], [visits[1].id], "Encore", NETWORK, NOVEMBER)
