"""Paying venues by SEPA file, and matching bank transfers to invoices."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

import httpx
import sepaxml
import xmlschema

from billing.close import close_period
from billing.tables import BankEntry, Document, Payment, Payout
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.billing.factories import NETWORK, make_visit
from tests.factories import auth, make_organisation, make_user, make_venue, make_workspace

PAIN_001_XSD = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.001.001.03.xsd")


async def _closed(settings: Settings) -> dict[str, str]:
    lille, seclin = await make_venue(bic="AGRIFRPP"), await make_venue(charges_vat=False)
    agent = await make_user(Role.AGENT, organisation=await make_organisation(name="MEL"))
    await make_visit(agent, lille, await make_workspace(lille), date(2026, 10, 5))
    await make_visit(
        agent, seclin, await make_workspace(seclin), date(2026, 10, 6), venue_cents=900
    )
    await close_period(date(2026, 10, 1), NETWORK, now=datetime(2026, 11, 3, tzinfo=UTC))
    return auth(settings, await make_user(Role.NETWORK_ADMIN))


async def test_the_sepa_file_pays_each_statement_and_validates_against_the_xsd(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = await _closed(settings)

    prepared = await client.post("/api/v1/billing/periods/2026-10/payouts", headers=admin)
    again = await client.post("/api/v1/billing/periods/2026-10/payouts", headers=admin)
    sepa = await client.post("/api/v1/billing/periods/2026-10/payouts/sepa", headers=admin)

    assert prepared.status_code == 200, prepared.text
    assert sorted(p["amount_cents"] for p in prepared.json()) == [900, 1200]  # 1000 + 20 % VAT
    assert len(again.json()) == 2
    assert await Payout.count() == 2
    assert sepa.status_code == 200, sepa.text
    schema = xmlschema.XMLSchema(PAIN_001_XSD)
    schema.validate(sepa.content.decode())
    document = schema.to_dict(sepa.content.decode())
    header = document["CstmrCdtTrfInitn"]["GrpHdr"]
    assert header["NbOfTxs"] == "2"
    assert str(header["CtrlSum"]) in ("21.00", "21.0", "21")
    statuses = {
        p["status"]
        for p in (await client.get("/api/v1/billing/periods/2026-10/payouts", headers=admin)).json()
    }
    assert statuses == {"in_file"}


async def test_payout_status_and_errors(client: httpx.AsyncClient, settings: Settings) -> None:
    admin = await _closed(settings)
    empty = await client.post("/api/v1/billing/periods/2026-10/payouts/sepa", headers=admin)
    payouts = (await client.post("/api/v1/billing/periods/2026-10/payouts", headers=admin)).json()

    paid = await client.post(
        f"/api/v1/payouts/{payouts[0]['id']}/status", json={"status": "paid"}, headers=admin
    )
    bad = await client.post(
        f"/api/v1/payouts/{payouts[0]['id']}/status", json={"status": "lost"}, headers=admin
    )
    venue_admin = auth(settings, await make_user(Role.VENUE_ADMIN))
    forbidden = await client.post("/api/v1/billing/periods/2026-10/payouts", headers=venue_admin)

    assert empty.status_code == 409  # nothing prepared yet
    assert paid.json()["status"] == "paid"
    assert bad.status_code == 422
    assert forbidden.status_code == 403


CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt><GrpHdr><MsgId>STMT-1</MsgId><CreDtTm>2026-11-20T08:00:00</CreDtTm></GrpHdr>
  <Stmt><Id>1</Id><CreDtTm>2026-11-20T08:00:00</CreDtTm>
   <Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>
   <Ntry><NtryRef>E1</NtryRef><Amt Ccy="EUR">{full}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-11-18</Dt></BookgDt><ValDt><Dt>2026-11-18</Dt></ValDt>
    <AcctSvcrRef>BANK-0001</AcctSvcrRef><BkTxCd/>
    <NtryDtls><TxDtls><RmtInf><Ustrd>PAIEMENT FACTURE {number} MEL</Ustrd></RmtInf></TxDtls></NtryDtls>
   </Ntry>
   <Ntry><Amt Ccy="EUR">12.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-11-18</Dt></BookgDt><AcctSvcrRef>BANK-0002</AcctSvcrRef><BkTxCd/>
    <NtryDtls><TxDtls><RmtInf><Ustrd>VIREMENT SANS REFERENCE</Ustrd></RmtInf></TxDtls></NtryDtls>
   </Ntry>
   <Ntry><Amt Ccy="EUR">99.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-11-18</Dt></BookgDt><AcctSvcrRef>BANK-0003</AcctSvcrRef><BkTxCd/>
   </Ntry>
  </Stmt></BkToCstmrStmt></Document>"""


async def test_a_camt053_statement_pays_the_invoice_named_in_the_transfer(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = await _closed(settings)
    invoice = await Document.select().where(Document.kind == "invoice").first()
    assert invoice is not None
    cents = invoice["total_incl_cents"]
    body = CAMT.format(full=f"{cents // 100}.{cents % 100:02d}", number=invoice["number"])

    first = await client.post(
        "/api/v1/billing/bank-statements",
        content=body.encode(),
        headers={**admin, "content-type": "application/xml"},
    )
    replay = await client.post(
        "/api/v1/billing/bank-statements",
        content=body.encode(),
        headers={**admin, "content-type": "application/xml"},
    )
    unmatched = await client.get(
        "/api/v1/billing/bank-statements/entries?status=unmatched", headers=admin
    )
    listed = await client.get("/api/v1/invoices?period=2026-10", headers=admin)

    assert first.status_code == 200, first.text
    assert [m["invoice_number"] for m in first.json()["matched"]] == [invoice["number"]]
    assert len(first.json()["unmatched"]) == 1
    assert replay.json()["already_imported"] == 2
    assert await Payment.count() == 1
    assert await BankEntry.count() == 2  # the debit is not ours
    assert [e["label"] for e in unmatched.json()["items"]] == ["VIREMENT SANS REFERENCE"]
    assert listed.json()["items"][0]["paid_cents"] == cents


async def test_a_csv_transfer_for_less_than_due_is_partial(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = await _closed(settings)
    invoice = await Document.select().where(Document.kind == "invoice").first()
    assert invoice is not None
    csv_body = (
        "date;amount;reference;label\n"
        f"2026-11-19;10,00;VIR-77;Acompte {invoice['number']}\n"
        "2026-11-19;-5,00;VIR-78;frais\n"
    )

    response = await client.post(
        "/api/v1/billing/bank-statements",
        content=csv_body.encode(),
        headers={**admin, "content-type": "text/csv"},
    )
    bad = await client.post(
        "/api/v1/billing/bank-statements",
        content=b"when;how much\n1;2\n",
        headers={**admin, "content-type": "text/csv"},
    )

    assert response.status_code == 200, response.text
    assert [p["amount_cents"] for p in response.json()["partial"]] == [1000]
    assert bad.status_code == 422
    assert bad.json()["field"] == "file"
