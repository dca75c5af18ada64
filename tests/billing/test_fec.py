"""The FEC accounting export: 18 columns, every entry balanced, credit notes reversed."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

import httpx

from billing import credit_notes
from billing.close import close_period
from billing.fec import COLUMNS
from billing.tables import Document, UsageLine
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.billing.factories import NETWORK, make_visit
from tests.factories import auth, make_organisation, make_user, make_venue, make_workspace


def _cents(text: str) -> int:
    whole, cents = text.split(",")
    return int(whole) * 100 + int(cents)


async def test_every_entry_balances_and_the_layout_is_fec(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue, franchise = await make_venue(), await make_venue(charges_vat=False)
    desk, other = await make_workspace(venue), await make_workspace(franchise)
    for org_name in ("MEL", "Roubaix"):
        agent = await make_user(Role.AGENT, organisation=await make_organisation(name=org_name))
        await make_visit(agent, venue, desk, date(2026, 10, 5), org_cents=1234)
        await make_visit(agent, franchise, other, date(2026, 10, 6))
    await close_period(date(2026, 10, 1), NETWORK, now=datetime(2026, 11, 3, tzinfo=UTC))
    invoice = (
        await Document.select(Document.id, Document.organisation)
        .where(Document.kind == "invoice")
        .first()
    )
    assert invoice is not None
    usage = (
        await UsageLine.select(UsageLine.id)
        .where((UsageLine.venue == venue.id) & (UsageLine.organisation == invoice["organisation"]))
        .first()
    )
    assert usage is not None
    await credit_notes.credit(
        invoice["id"], [usage["id"]], "Contestation", NETWORK, date(2026, 11, 10)
    )

    response = await client.get(
        "/api/v1/billing/periods/2026-10/fec",
        headers=auth(settings, await make_user(Role.NETWORK_ADMIN)),
    )

    assert response.status_code == 200, response.text
    rows = [line.split("|") for line in response.text.strip().split("\r\n")]
    assert rows[0] == COLUMNS
    assert all(len(row) == 18 for row in rows)
    entries: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows[1:]:
        entries[row[2]][0] += _cents(row[11])
        entries[row[2]][1] += _cents(row[12])
    assert len(entries) == await Document.count()  # 2 invoices, 2 statements, 2 credit notes
    unbalanced = {number: dc for number, dc in entries.items() if dc[0] != dc[1]}
    assert unbalanced == {}
    # The credit note to the organisation credits the customer account.
    customer_credits = [r for r in rows[1:] if r[4] == "411000" and _cents(r[12]) > 0]
    assert len(customer_credits) == 1
    assert _cents(customer_credits[0][12]) == 1234 + 247


async def test_fec_is_for_the_network_admin_only(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.get(
        "/api/v1/billing/periods/2026-10/fec",
        headers=auth(settings, await make_user(Role.ORG_ADMIN)),
    )
    bad = await client.get(
        "/api/v1/billing/periods/10-2026/fec",
        headers=auth(settings, await make_user(Role.NETWORK_ADMIN)),
    )

    assert response.status_code == 403
    assert bad.status_code == 422
