"""`tierslieux billing close` from the command line."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from click.testing import CliRunner

from billing.cli import billing
from billing.tables import Document
from booking.tables import Outbox
from service.kernel.identity import Role
from service.kernel.tables import AuditEntry
from tests.billing.factories import make_visit
from tests.factories import make_user, make_venue, make_workspace


async def test_close_from_the_command_line_dry_run_then_for_real(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    venue = await make_venue()
    agent = await make_user(Role.AGENT)
    await make_visit(agent, venue, await make_workspace(venue), date(2026, 10, 5))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("APP_ENV", "test")
    runner = CliRunner()

    # The command runs its own event loop: keep it off this test's loop.
    dry = await asyncio.to_thread(runner.invoke, billing, ["close", "2026-10", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run of 2026-10" in dry.output
    assert "15,00 €" in dry.output
    assert await Document.count() == 0
    assert await AuditEntry.count() == 0  # a dry run changes nothing, so it is no act

    real = await asyncio.to_thread(runner.invoke, billing, ["close", "2026-10"])
    assert real.exit_code == 0, real.output
    assert "Close of 2026-10: closed" in real.output
    assert await Document.count() == 2
    # Stripe is off: the invoice goes by email, once even if the close is run again.
    assert "invoices emailed: 1 new message(s)" in real.output
    again = await asyncio.to_thread(runner.invoke, billing, ["close", "2026-10"])
    assert "invoices emailed: 0 new message(s)" in again.output
    assert await Outbox.count().where(Outbox.kind == "invoice_issued") == 1
    # The close is audited once, by the system (the command line acts for nobody signed in).
    trail = await AuditEntry.select(
        AuditEntry.actor_kind, AuditEntry.actor, AuditEntry.action, AuditEntry.object_id
    )
    assert trail == [
        {"actor_kind": "system", "actor": None, "action": "period.close", "object_id": "2026-10"}
    ]

    rendered = await asyncio.to_thread(runner.invoke, billing, ["render", "2026-10"])
    assert rendered.exit_code == 0, rendered.output
    assert "Rendered 2 documents." in rendered.output
    again = await asyncio.to_thread(runner.invoke, billing, ["render"])
    assert "Rendered 0 documents." in again.output

    bad = await asyncio.to_thread(runner.invoke, billing, ["close", "october"])
    assert bad.exit_code == 2
    assert "YYYY-MM" in bad.output
