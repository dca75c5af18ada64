"""Bank statement import: match incoming transfers to invoices by number and amount.

Public bodies pay by transfer and write the invoice number in the remittance text.
Accepted formats: CAMT.053 (ISO 20022 bank-to-customer statement, XML) and a CSV with
the columns `date;amount;reference;label` (`,` also accepted as separator; amounts with a
decimal comma or point). Only credits are read. Each entry's bank reference makes a
re-import change nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from billing.tables import BankEntry, Document, Payment
from service.kernel import audit
from service.kernel.csv_input import read_rows
from service.kernel.dates import within_range
from service.kernel.errors import InvalidValue
from service.kernel.i18n import N_

INVOICE_NUMBER = re.compile(r"TL-\d{4}-\d{6}")
# A month's CAMT.053 of a network runs to a few hundred kilobytes; the routes that take a
# statement refuse a larger body before reading it (413), `import_statement` again.
MAX_STATEMENT_BYTES = 5_000_000
MAX_AMOUNT = Decimal(1_000_000_000)


class StatementTooLarge(InvalidValue):
    default_detail = N_("A bank statement is at most 5 MB.")


@dataclass(frozen=True)
class Entry:
    reference: str
    booked_on: date
    amount_cents: int
    label: str


def _cents(text: str, row: int) -> int:
    cleaned = text.strip().replace("\u202f", "").replace(" ", "").replace("€", "")
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(".", "")
    cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
        # NaN, infinities and amounts no bank moves (a billion euros) are not amounts.
        if not value.is_finite() or abs(value) >= MAX_AMOUNT:
            raise InvalidOperation
    except InvalidOperation:
        raise InvalidValue(
            N_("Row %(row)s: the amount %(text)r is not a number."),
            field="amount",
            row=row,
            text=text,
        ) from None
    if value != value.quantize(Decimal("0.01")):
        raise InvalidValue(
            N_("Row %(row)s: amounts have at most two decimals."), field="amount", row=row
        )
    return int(value * 100)


def parse_csv(content: bytes) -> list[Entry]:
    columns, rows = read_rows(content, max_bytes=MAX_STATEMENT_BYTES, prefer=";")
    missing = {"date", "amount", "label"} - set(columns)
    if missing:
        raise InvalidValue(
            N_("The CSV needs the columns date;amount;reference;label (missing: %(missing)s)."),
            field="file",
            missing=", ".join(sorted(missing)),
        )
    entries = []
    for number, row in enumerate(rows, start=2):
        try:
            booked_on = within_range(date.fromisoformat(row["date"]), "date")
        except ValueError:
            raise InvalidValue(
                N_("Row %(row)s: dates are written YYYY-MM-DD."), field="date", row=number
            ) from None
        amount = _cents(row["amount"], number)
        if amount <= 0:
            continue  # debits are not payments to us
        label = (row.get("label") or "").strip()
        reference = (row.get("reference") or "").strip() or hashlib.sha256(
            f"{booked_on}|{amount}|{label}".encode()
        ).hexdigest()[:40]
        entries.append(Entry(reference, booked_on, amount, label))
    return entries


def parse_camt053(content: bytes) -> list[Entry]:
    # defusedxml refuses what a statement never holds and what attacks are made of: entity
    # declarations (billion laughs), external entities and DTDs that fetch files or URLs.
    try:
        root = fromstring(content, forbid_dtd=True)
    except DefusedXmlException:
        raise InvalidValue(
            N_("A bank statement declares no DTD or entities; this file does."), field="file"
        ) from None
    except ParseError:
        raise InvalidValue(N_("This is not well-formed XML."), field="file") from None
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if "camt.053" not in namespace:
        raise InvalidValue(N_("Expected a camt.053 bank-to-customer statement."), field="file")
    ns = {"c": namespace}
    entries = []
    for entry in root.iterfind(".//c:Stmt/c:Ntry", ns):
        if entry.findtext("c:CdtDbtInd", namespaces=ns) != "CRDT":
            continue
        amount = entry.find("c:Amt", ns)
        if amount is None or amount.get("Ccy") != "EUR":
            continue
        booked = (
            entry.findtext("c:BookgDt/c:Dt", namespaces=ns)
            or entry.findtext("c:BookgDt/c:DtTm", namespaces=ns, default="")[:10]
        )
        texts = [t.text or "" for t in entry.iterfind(".//c:RmtInf/c:Ustrd", ns)]
        texts += [t.text or "" for t in entry.iterfind(".//c:RmtInf/c:Strd//c:Ref", ns)]
        reference = entry.findtext("c:AcctSvcrRef", namespaces=ns) or entry.findtext(
            "c:NtryRef", namespaces=ns
        )
        label = " ".join(t.strip() for t in texts if t.strip())
        cents = _cents(amount.text or "", 0)
        if not reference:
            reference = hashlib.sha256(f"{booked}|{cents}|{label}".encode()).hexdigest()[:40]
        try:
            booked_on = within_range(date.fromisoformat(booked), "BookgDt")
        except ValueError:
            raise InvalidValue(
                N_("An entry's booking date is not a date (YYYY-MM-DD)."), field="file"
            ) from None
        entries.append(Entry(reference, booked_on, cents, label))
    return entries


@dataclass
class ImportResult:
    matched: list[dict[str, Any]]
    partial: list[dict[str, Any]]
    unmatched: list[dict[str, Any]]
    already_imported: int


async def import_statement(content: bytes, media_type: str) -> ImportResult:
    if len(content) > MAX_STATEMENT_BYTES:
        raise StatementTooLarge(field="file")
    is_xml = "xml" in media_type or content.lstrip().startswith(b"<")
    entries = parse_camt053(content) if is_xml else parse_csv(content)
    result = ImportResult([], [], [], 0)
    # One transaction for the statement and its audit row: a failure imports nothing, and
    # the retry of the same file then imports it whole (entries already in are skipped).
    async with BankEntry._meta.db.transaction():
        for entry in entries:
            if await BankEntry.exists().where(BankEntry.reference == entry.reference):
                result.already_imported += 1
                continue
            document, status = await _match(entry)
            await BankEntry(
                reference=entry.reference,
                booked_on=entry.booked_on,
                amount_cents=entry.amount_cents,
                label=entry.label,
                document=document["id"] if document else None,
                status=status,
            ).save()
            if document is not None:
                await Payment(
                    document=document["id"],
                    amount_cents=entry.amount_cents,
                    method="bank_transfer",
                    reference=entry.reference,
                    received_on=entry.booked_on,
                ).save()
            summary = {
                "reference": entry.reference,
                "booked_on": entry.booked_on,
                "amount_cents": entry.amount_cents,
                "label": entry.label,
                "invoice_number": document["number"] if document else None,
            }
            getattr(result, status).append(summary)
        await audit.act(
            "bank_statement.import",
            "bank_statement",
            None,
            after={
                "matched": [e["reference"] for e in result.matched],
                "partial": [e["reference"] for e in result.partial],
                "unmatched": [e["reference"] for e in result.unmatched],
                "already_imported": result.already_imported,
            },
        )
    return result


async def _match(entry: Entry) -> tuple[dict[str, Any] | None, str]:
    """The invoice an entry pays: its number in the text; full or partial by amount."""
    for number in INVOICE_NUMBER.findall(entry.label):
        rows = await Document.raw(
            """
            SELECT d.id, d.number, d.total_incl_cents,
                   coalesce((SELECT sum(amount_cents) FROM payment p WHERE p.document = d.id), 0)
                       AS paid_cents
              FROM document d WHERE d.kind = 'invoice' AND d.number = {} FOR UPDATE
            """,
            number,
        )
        if rows:
            document = rows[0]
            due = document["total_incl_cents"] - document["paid_cents"]
            return document, "matched" if entry.amount_cents >= due else "partial"
    return None, "unmatched"


async def entries(status: str | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    query = BankEntry.select(
        BankEntry.id,
        BankEntry.reference,
        BankEntry.booked_on,
        BankEntry.amount_cents,
        BankEntry.label,
        BankEntry.status,
        BankEntry.document.number.as_alias("invoice_number"),
    )
    count = BankEntry.count()
    if status:
        query = query.where(BankEntry.status == status)
        count = count.where(BankEntry.status == status)
    rows = await query.order_by(BankEntry.booked_on, ascending=False).limit(limit).offset(offset)
    return rows, await count
