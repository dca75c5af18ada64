"""Hostile bank statements: entity bombs, external entities and oversize uploads are refused.

The statement parser is defusedxml's: a CAMT.053 never declares a DTD or entities, so any
file that does is refused before an entity is expanded or a file or URL is read.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from billing import bank
from billing.tables import BankEntry, Document, Payment
from service.kernel.errors import InvalidValue
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.billing.test_payouts_and_bank import CAMT, _closed
from tests.factories import make_user
from tests.web.test_pages import csrf_token, sign_in

PROBLEM = "urn:tierslieux:problem:"
NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"


def billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    return (
        f'<?xml version="1.0"?><!DOCTYPE Document [{"".join(entities)}]>'
        f'<Document xmlns="{NAMESPACE}"><BkToCstmrStmt><Stmt><Ntry><Amt Ccy="EUR">1.00</Amt>'
        "<CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-11-18</Dt></BookgDt>"
        "<NtryDtls><TxDtls><RmtInf><Ustrd>&lol9;</Ustrd></RmtInf></TxDtls></NtryDtls>"
        "</Ntry></Stmt></BkToCstmrStmt></Document>"
    ).encode()


def external_entity(target: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY leak SYSTEM "file://{target}">]>'
        f'<Document xmlns="{NAMESPACE}"><BkToCstmrStmt><Stmt><Ntry><Amt Ccy="EUR">1.00</Amt>'
        "<CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-11-18</Dt></BookgDt>"
        "<NtryDtls><TxDtls><RmtInf><Ustrd>&leak;</Ustrd></RmtInf></TxDtls></NtryDtls>"
        "</Ntry></Stmt></BkToCstmrStmt></Document>"
    ).encode()


def test_the_parser_refuses_entity_declarations_and_reads_a_real_statement(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    for hostile in (billion_laughs(), external_entity(secret)):
        with pytest.raises(InvalidValue) as refused:
            bank.parse_camt053(hostile)
        assert refused.value.field == "file"
        assert "DTD" in refused.value.detail
    entries = bank.parse_camt053(CAMT.format(full="12.00", number="TL-2026-000001").encode())
    assert [(e.reference, e.amount_cents) for e in entries] == [
        ("BANK-0001", 1200),
        ("BANK-0002", 1200),
    ]


async def test_hostile_statements_are_refused_with_a_problem_and_store_nothing(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    admin = await _closed(settings)
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xml = {**admin, "content-type": "application/xml"}
    url = "/api/v1/billing/bank-statements"
    bomb = await client.post(url, content=billion_laughs(), headers=xml)
    leak = await client.post(url, content=external_entity(secret), headers=xml)
    oversize = await client.post(
        url, content=b"<a>" + b" " * bank.MAX_STATEMENT_BYTES + b"</a>", headers=xml
    )
    for response in (bomb, leak):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == PROBLEM + "invalid-value"
        assert response.json()["field"] == "file"
        assert "TOP-SECRET" not in response.text
    assert oversize.status_code == 413, oversize.text
    assert oversize.json()["type"] == PROBLEM + "payload-too-large"
    assert await BankEntry.count() == 0
    assert await Payment.count() == 0

    # A real CAMT.053 still pays the invoice it names.
    invoice = await Document.select().where(Document.kind == "invoice").first()
    assert invoice is not None
    cents = invoice["total_incl_cents"]
    body = CAMT.format(full=f"{cents // 100}.{cents % 100:02d}", number=invoice["number"])
    real = await client.post(url, content=body.encode(), headers=xml)
    assert real.status_code == 200, real.text
    assert [m["invoice_number"] for m in real.json()["matched"]] == [invoice["number"]]


async def test_the_domain_refuses_an_oversize_statement_whoever_calls_it() -> None:
    with pytest.raises(bank.StatementTooLarge):
        await bank.import_statement(b"x" * (bank.MAX_STATEMENT_BYTES + 1), "text/csv")


async def test_the_invoices_page_shows_a_hostile_statement_as_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await _closed(settings)
    await sign_in(client, await make_user(Role.NETWORK_ADMIN))
    token = {"_csrf_token": await csrf_token(client)}
    bomb = await client.post(
        "/network/bank-statements",
        files={"file": ("releve.xml", billion_laughs(), "application/xml")},
        data=token,
    )
    oversize = await client.post(
        "/network/bank-statements",
        files={"file": ("releve.xml", b" " * (bank.MAX_STATEMENT_BYTES + 100_000), "text/xml")},
        data=token,
    )
    assert bomb.status_code == 422
    assert "Un relevé bancaire ne déclare ni DTD ni entités" in bomb.text
    assert oversize.status_code == 413
    assert oversize.headers["content-type"].startswith("text/html")
    assert await BankEntry.count() == 0
