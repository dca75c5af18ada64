"""The issue's acceptance on the demo: closing last month reconciles to the cent, the files are
valid Factur-X, and a second close changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
from facturx import get_xml_from_pdf, xml_check_xsd

from billing import services
from billing.close import close_period
from billing.jobs import network_identity, render_documents
from billing.tables import Document, DocumentFile, UsageLine
from booking.tables import User
from service.app import seed
from service.kernel.settings import Settings
from tests.billing.en16931 import failed_rules
from tests.factories import auth

TODAY = date(2026, 12, 1)
NOVEMBER = date(2026, 11, 1)
NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)


async def test_closing_the_demo_month_reconciles_renders_and_is_idempotent(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await seed.seed(TODAY)
    network = network_identity(settings)

    result = await close_period(NOVEMBER, network, now=NOW)

    organisations = await UsageLine.raw(
        "SELECT DISTINCT organisation FROM usage_line WHERE period = {}", NOVEMBER
    )
    venues = await UsageLine.raw(
        "SELECT DISTINCT venue FROM usage_line WHERE period = {}", NOVEMBER
    )
    assert len(result.invoices) == len(organisations) >= 2
    assert len(result.statements) == len(venues) >= 2
    summary = await services.summary(NOVEMBER)
    invoiced = sum(d.total_excl_cents for d in result.invoices)
    paid_out = sum(d.total_excl_cents for d in result.statements)
    assert summary["invoiced_excl_cents"] == invoiced
    assert summary["statements_excl_cents"] == paid_out
    assert invoiced == paid_out + summary["network_share_cents"]
    assert summary["network_share_cents"] > 0
    # Each side, to the cent: the usage lines priced and rounded per line as the documents are.
    invoices = {
        d["organisation"]: d["total_excl_cents"]
        for d in await Document.select().where(Document.kind == "invoice")
    }
    assert invoices == {row["id"]: row["revenue_excl_cents"] for row in summary["by_organisation"]}

    numbers = sorted(d["number"] for d in await Document.select(Document.number))
    again = await close_period(NOVEMBER, network, now=NOW)
    assert again.status == "closed"
    assert sorted(d["number"] for d in await Document.select(Document.number)) == numbers

    assert await render_documents({}, "2026-11") == len(numbers)
    assert await render_documents({}, "2026-11") == 0
    assert await DocumentFile.count() == 3 * len(numbers)

    admin = auth(settings, await User.objects().where(User.email == "reseau@demo.test").first())
    for kind, route in (("invoice", "invoices"), ("statement", "statements")):
        first = await Document.select(Document.id).where(Document.kind == kind).first()
        assert first is not None
        pdf = await client.get(f"/api/v1/{route}/{first['id']}.pdf", headers=admin)
        assert pdf.status_code == 200, pdf.text
        xml = get_xml_from_pdf(pdf.content, check_xsd=True)[1]
        assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
        assert failed_rules(xml) == []
