"""Credit notes: lowering an issued amount on both sides of the money flow, once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import httpx

from billing.close import close_period
from billing.tables import Document, DocumentLine, UsageLine
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.billing.factories import NETWORK, make_visit
from tests.factories import auth, make_organisation, make_user, make_venue, make_workspace

P = "urn:tierslieux:problem:"


async def _invoiced() -> tuple[uuid.UUID, list[uuid.UUID]]:
    lille, seclin = (
        await make_venue(name="Lille"),
        await make_venue(name="Seclin", charges_vat=False),
    )
    desk_l, desk_s = await make_workspace(lille), await make_workspace(seclin)
    agent = await make_user(Role.AGENT, organisation=await make_organisation())
    await make_visit(agent, lille, desk_l, date(2026, 10, 5))
    await make_visit(agent, seclin, desk_s, date(2026, 10, 6), venue_cents=700)
    await close_period(date(2026, 10, 1), NETWORK, now=datetime(2026, 11, 3, tzinfo=UTC))
    invoice = await Document.select(Document.id).where(Document.kind == "invoice").first()
    assert invoice is not None
    usage = [u["id"] for u in await UsageLine.select(UsageLine.id).order_by(UsageLine.local_date)]
    return invoice["id"], usage


async def test_crediting_a_visit_issues_notes_to_the_organisation_and_the_venue(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    invoice_id, usage = await _invoiced()
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))

    response = await client.post(
        f"/api/v1/invoices/{invoice_id}/credit-notes",
        json={"usage_ids": [str(usage[1])], "reason": "Visite contestée"},
        headers=admin,
    )

    assert response.status_code == 201, response.text
    notes = await Document.select().where(Document.kind == "credit_note").order_by(Document.number)
    org_note = next(n for n in notes if n["organisation"] is not None)
    venue_note = next(n for n in notes if n["venue"] is not None)
    assert org_note["corrects"] == invoice_id
    assert org_note["number"] == "TL-AV-2026-000001"
    assert org_note["total_excl_cents"] == 1500
    assert org_note["total_vat_cents"] == 300
    # The Seclin venue charges no VAT: its credit note has none either.
    assert venue_note["total_excl_cents"] == 700
    assert venue_note["total_vat_cents"] == 0
    lines = await DocumentLine.select().where(DocumentLine.document == org_note["id"])
    assert [line["quantity"] for line in lines] == [1]


async def test_a_line_is_credited_once(client: httpx.AsyncClient, settings: Settings) -> None:
    invoice_id, usage = await _invoiced()
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    body = {"usage_ids": [str(usage[0])], "reason": "Erreur de saisie"}

    first = await client.post(
        f"/api/v1/invoices/{invoice_id}/credit-notes", json=body, headers=admin
    )
    second = await client.post(
        f"/api/v1/invoices/{invoice_id}/credit-notes", json=body, headers=admin
    )

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["type"] == P + "already-credited"
    assert await Document.count().where(Document.kind == "credit_note") == 2


async def test_credit_note_errors(client: httpx.AsyncClient, settings: Settings) -> None:
    invoice_id, usage = await _invoiced()
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    org_admin = auth(settings, await make_user(Role.ORG_ADMIN))
    url = f"/api/v1/invoices/{invoice_id}/credit-notes"

    no_reason = await client.post(
        url, json={"usage_ids": [str(usage[0])], "reason": " "}, headers=admin
    )
    empty = await client.post(url, json={"usage_ids": [], "reason": "x"}, headers=admin)
    foreign = await client.post(
        url, json={"usage_ids": [str(uuid.uuid4())], "reason": "x"}, headers=admin
    )
    unknown = await client.post(
        f"/api/v1/invoices/{uuid.uuid4()}/credit-notes",
        json={"usage_ids": [str(usage[0])], "reason": "x"},
        headers=admin,
    )
    wrong_role = await client.post(
        url, json={"usage_ids": [str(usage[0])], "reason": "x"}, headers=org_admin
    )

    assert (no_reason.status_code, no_reason.json()["field"]) == (422, "reason")
    assert (empty.status_code, empty.json()["field"]) == (422, "usage_ids")
    assert (foreign.status_code, foreign.json()["field"]) == (404, "usage_ids")
    assert unknown.status_code == 404
    assert wrong_role.status_code == 403
    assert await Document.count().where(Document.kind == "credit_note") == 0
