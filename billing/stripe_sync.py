"""Pushing our issued invoices to Stripe: one customer per organisation, one Stripe invoice each.

Our document stays the legal invoice; the Stripe invoice is how the organisation pays it
(card or SEPA debit on Stripe's hosted page). Every Stripe call that creates something
carries an idempotency key derived from our ids, so a retried call cannot create twice on
Stripe; and because a Stripe-compatible test server may ignore those keys, the database
keeps what was made (`stripe_customer`, `stripe_invoice`) and each step looks there first.
Pushes of one organisation are serialised by a PostgreSQL advisory lock.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import stripe
import structlog
from piccolo.engine.postgres import PostgresEngine

from billing.close import NETWORK_TZ
from billing.tables import Document, DocumentLine, StripeCustomer, StripeInvoice
from service.kernel.errors import NotFound
from service.kernel.i18n import N_

log = structlog.get_logger(__name__)

# Names "pushing to Stripe" among advisory locks (two-key form: this, the organisation's hash).
PUSH_LOCK = 7_202_612
KEY_PREFIX = "tierslieux"


class StripeNotConfigured(RuntimeError):
    """A push was asked for while STRIPE_API_KEY is unset."""


def client(settings: Any) -> stripe.StripeClient:
    if not settings.stripe_api_key:
        raise StripeNotConfigured("STRIPE_API_KEY is not set.")
    base = {"api": settings.stripe_api_base} if settings.stripe_api_base else None
    return stripe.StripeClient(settings.stripe_api_key, base_addresses=base)  # type: ignore[arg-type]


def idempotency_key(document_id: uuid.UUID, step: str) -> str:
    """Stable per document and step: a retry of the same step is the same Stripe request."""
    return f"{KEY_PREFIX}-invoice-{document_id}-{step}"


def _due_timestamp(due_on: date) -> int:
    """End of the due day in Paris; Stripe refuses a due date already past, so at least tomorrow."""
    due = datetime.combine(due_on, time(23, 59), tzinfo=NETWORK_TZ)
    return int(max(due, datetime.now(UTC) + timedelta(days=1)).timestamp())


async def _customer(api: stripe.StripeClient, document: dict[str, Any]) -> str:
    """The organisation's Stripe customer, created the first time only."""
    organisation_id = document["organisation"]
    row = await StripeCustomer.select(StripeCustomer.stripe_customer_id).where(
        StripeCustomer.organisation == organisation_id
    )
    if row:
        return str(row[0]["stripe_customer_id"])
    buyer = document["buyer"]
    customer = await api.v1.customers.create_async(
        params={
            "name": buyer.get("name") or "",
            "email": buyer.get("email") or "",
            "metadata": {
                "organisation_id": str(organisation_id),
                "siret": buyer.get("siret") or "",
            },
            "preferred_locales": ["fr"],
        },
        options={"idempotency_key": f"{KEY_PREFIX}-customer-{organisation_id}"},
    )
    await StripeCustomer.insert(
        StripeCustomer(organisation=organisation_id, stripe_customer_id=customer.id)
    )
    return customer.id


async def _document(document_id: uuid.UUID) -> dict[str, Any]:
    document = (
        await Document.select()
        .where((Document.id == document_id) & (Document.kind == "invoice"))
        .output(load_json=True)
        .first()
    )
    if document is None:
        raise NotFound(N_("No such invoice."))
    return document


async def _lines_on_stripe(api: stripe.StripeClient, stripe_invoice_id: str) -> set[int]:
    """Positions of our lines already on the Stripe invoice (a push that died half-way)."""
    positions = set()
    page = await api.v1.invoices.line_items.list_async(stripe_invoice_id, params={"limit": 100})
    async for line in page.auto_paging_iter():
        if line.metadata and "position" in line.metadata:
            positions.add(int(line.metadata["position"]))
    return positions


async def push_invoice(document_id: uuid.UUID, settings: Any) -> str | None:
    """Create (or finish creating) the Stripe invoice of one of our invoices; answer its Stripe id.

    Safe to call any number of times: a document already pushed is left alone; one whose
    push died is resumed from the step it reached. An invoice with nothing to pay is not
    pushed (None).
    """
    api = client(settings)
    document = await _document(document_id)
    if document["total_incl_cents"] <= 0:
        log.info("stripe.nothing_to_pay", number=document["number"])
        return None
    db = Document._meta.db
    assert isinstance(db, PostgresEngine)
    lock = await db.get_new_connection()
    try:
        await lock.execute(
            "SELECT pg_advisory_lock($1, hashtext($2))", PUSH_LOCK, str(document["organisation"])
        )
        return await _push_locked(api, document)
    finally:
        await lock.close()  # closing the session releases the advisory lock


async def _push_locked(api: stripe.StripeClient, document: dict[str, Any]) -> str:
    document_id = document["id"]
    pushed = await StripeInvoice.select().where(StripeInvoice.document == document_id).first()
    if pushed is not None and pushed["status"] != "draft":
        return str(pushed["stripe_invoice_id"])
    customer_id = await _customer(api, document)
    if pushed is None:
        invoice = await api.v1.invoices.create_async(
            params={
                "customer": customer_id,
                "currency": "eur",
                "collection_method": "send_invoice",
                "due_date": _due_timestamp(document["due_on"]),
                "auto_advance": False,
                "pending_invoice_items_behavior": "exclude",
                "description": (
                    f"Facture {document['number']} — Pass Tiers-Lieux, "
                    f"{document['period']:%m/%Y}. Montants TTC ; la TVA est détaillée sur la "
                    "facture jointe."
                ),
                "metadata": {"document_id": str(document_id), "number": document["number"]},
            },
            options={"idempotency_key": idempotency_key(document_id, "invoice")},
        )
        stripe_invoice_id = invoice.id
        status = invoice.status
        await StripeInvoice.insert(
            StripeInvoice(document=document_id, stripe_invoice_id=stripe_invoice_id, status="draft")
        )
    else:
        stripe_invoice_id = pushed["stripe_invoice_id"]
        status = (await api.v1.invoices.retrieve_async(stripe_invoice_id)).status
    if status == "draft":
        present = await _lines_on_stripe(api, stripe_invoice_id)
        lines = (
            await DocumentLine.select(
                DocumentLine.position, DocumentLine.description, DocumentLine.incl_cents
            )
            .where(DocumentLine.document == document_id)
            .order_by(DocumentLine.position)
        )
        for line in lines:
            if line["position"] in present:
                continue
            # Tax included: what the organisation pays is our rounded line, to the cent;
            # letting Stripe compute VAT could round differently from the legal invoice.
            await api.v1.invoice_items.create_async(
                params={
                    "customer": customer_id,
                    "invoice": stripe_invoice_id,
                    "amount": line["incl_cents"],
                    "currency": "eur",
                    "description": line["description"],
                    "metadata": {
                        "document_id": str(document_id),
                        "position": str(line["position"]),
                    },
                },
                options={
                    "idempotency_key": idempotency_key(document_id, f"line-{line['position']}")
                },
            )
        await api.v1.invoices.finalize_invoice_async(
            stripe_invoice_id,
            params={"auto_advance": False},
            options={"idempotency_key": idempotency_key(document_id, "finalize")},
        )
        status = "open"
    if status == "open":
        # Stripe emails the organisation its hosted payment page. A push that died after
        # this call sends again with the same key, which Stripe answers from its cache.
        await api.v1.invoices.send_invoice_async(
            stripe_invoice_id, options={"idempotency_key": idempotency_key(document_id, "send")}
        )
    await StripeInvoice.update({StripeInvoice.status: "open"}).where(
        (StripeInvoice.document == document_id) & (StripeInvoice.status == "draft")
    )
    log.info("stripe.pushed", number=document["number"], stripe_invoice_id=stripe_invoice_id)
    return str(stripe_invoice_id)


async def months_not_pushed(closed_since: datetime) -> list[date]:
    """Months closed since `closed_since` with an invoice to pay not yet sent by Stripe."""
    rows = await Document.raw(
        """
        SELECT DISTINCT d.period FROM document d
          JOIN billing_period p ON p.month = d.period
         WHERE d.kind = 'invoice' AND d.total_incl_cents > 0
           AND p.status = 'closed' AND p.closed_at >= {}
           AND NOT EXISTS (SELECT 1 FROM stripe_invoice s
                            WHERE s.document = d.id AND s.status IN ('open', 'paid'))
         ORDER BY 1
        """,
        closed_since,
    )
    return [row["period"] for row in rows]


async def invoices_of(month: date) -> list[uuid.UUID]:
    rows = (
        await Document.select(Document.id)
        .where((Document.period == month) & (Document.kind == "invoice"))
        .order_by(Document.sequence_number)
    )
    return [row["id"] for row in rows]
