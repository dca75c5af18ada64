"""Invoices sent by email when Stripe is off: paid by bank transfer to the network's IBAN.

One message per invoice, written to the booking outbox (delivered by its worker job). The
message id is derived from the invoice id, so writing the month's messages again inserts
nothing twice.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import structlog

from billing.money import euros
from billing.tables import Document
from booking.tables import Outbox

log = structlog.get_logger(__name__)

# uuid5 namespace of "the email announcing invoice X" (any fixed UUID would do).
INVOICE_MAIL = uuid.UUID("0b3f6c2e-9d6a-4a53-8f5e-2f6f7c1d9a41")
KIND = "invoice_issued"


def message_id(document_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(INVOICE_MAIL, str(document_id))


def compose(document: dict[str, Any], base_url: str = "") -> tuple[str, str]:
    """Subject and body (French) of the email announcing one invoice."""
    seller, buyer = document["seller"], document["buyer"]
    number = document["number"]
    subject = f"Facture {number} — {seller['name']}"
    body = (
        f"Bonjour,\n\n"
        f"Veuillez trouver ci-dessous la facture {number} de {seller['name']} pour "
        f"{buyer['name']}, au titre des espaces de travail utilisés par vos agents en "
        f"{document['period']:%m/%Y} (Pass Tiers-Lieux).\n\n"
        f"Montant HT : {euros(document['total_excl_cents'])}\n"
        f"TVA : {euros(document['total_vat_cents'])}\n"
        f"Montant TTC à payer : {euros(document['total_incl_cents'])}\n"
        f"Date d'émission : {document['issued_on']:%d/%m/%Y}\n"
        f"Date d'échéance : {document['due_on']:%d/%m/%Y}\n\n"
        f"Règlement par virement bancaire :\n"
        f"  Bénéficiaire : {seller['name']}\n"
        f"  IBAN : {seller['iban']}\n"
        f"  BIC : {seller['bic']}\n"
        f"  Référence à indiquer : {number}\n\n"
        f"La facture (PDF Factur-X, PDF simple pour Chorus Pro, XML), le détail des lignes et "
        f"des visites sont dans votre espace organisation : "
        f"{base_url.rstrip('/')}/organisation/invoices\n"
        f"Pénalités de retard : trois fois le taux d'intérêt légal ; indemnité forfaitaire "
        f"pour frais de recouvrement : 40 €.\n\n"
        f"{seller['name']}\n{seller['address']}\n{seller['email']}\n"
    )
    return subject, body


async def email_invoices(month: date, base_url: str = "") -> int:
    """Write the month's invoice emails to the outbox; answer how many were new."""
    documents = (
        await Document.select()
        .where((Document.period == month) & (Document.kind == "invoice"))
        .order_by(Document.sequence_number)
        .output(load_json=True)
    )
    written = 0
    async with Outbox._meta.db.transaction():
        for document in documents:
            recipient = (document["buyer"] or {}).get("email")
            if not recipient:
                log.warning("invoice_mail.no_billing_email", number=document["number"])
                continue
            subject, body = compose(document, base_url)
            inserted = await Outbox.raw(
                """
                INSERT INTO outbox (id, kind, recipient, subject, body, created_at, attempts,
                                    next_attempt_at)
                VALUES ({}, {}, {}, {}, {}, now(), 0, now())
                ON CONFLICT (id) DO NOTHING RETURNING id
                """,
                message_id(document["id"]),
                KIND,
                recipient,
                subject,
                body,
            )
            written += len(inserted)
    log.info("invoice_mail.written", month=f"{month:%Y-%m}", new=written, invoices=len(documents))
    return written


async def months_not_emailed(closed_since: datetime) -> list[date]:
    """Months closed since `closed_since` with an invoice whose email is not in the outbox
    (the close's job died between the close and the emails)."""
    invoices = await Document.raw(
        """
        SELECT d.id, d.period FROM document d JOIN billing_period p ON p.month = d.period
         WHERE d.kind = 'invoice' AND p.status = 'closed' AND p.closed_at >= {}
           AND coalesce(d.buyer->>'email', '') <> ''
        """,
        closed_since,
    )
    if not invoices:
        return []
    written = {
        row["id"]
        for row in await Outbox.select(Outbox.id).where(
            Outbox.id.is_in([message_id(i["id"]) for i in invoices])
        )
    }
    return sorted({i["period"] for i in invoices if message_id(i["id"]) not in written})
