"""localstripe, plus the one-off invoicing of the Stripe API that it lacks (test support only).

localstripe 1.15 makes invoices only out of subscriptions: `POST /v1/invoices` for a customer
without one answers 404 "No upcoming invoices for customer", an invoice item created with
`invoice=<id>` never reaches that invoice's lines, and `/finalize` and `/send` do not exist.
This script adds those four behaviours as the Stripe API documents them, keeps the store in
memory (localstripe pickles it to a fixed /tmp path on every write), and starts the server:

    python tests/billing/localstripe_server.py --port 8420
"""

from __future__ import annotations

import time
from typing import Any

from localstripe import resources, server
from localstripe.errors import UserError

_subscription_invoice = resources.Invoice._api_create
_create_item = resources.InvoiceItem._api_create


def create_invoice(
    customer: str | None = None,
    subscription: str | None = None,
    metadata: dict[str, str] | None = None,
    description: str | None = None,
    collection_method: str | None = None,
    days_until_due: str | None = None,
    due_date: str | None = None,
    auto_advance: str | None = None,
    pending_invoice_items_behavior: str | None = None,
    currency: str | None = None,
    **others: Any,
) -> resources.Invoice:
    """A draft invoice on its own; pending items are left alone (the API's default today)."""
    if subscription is not None or others:
        return _subscription_invoice(
            customer=customer, subscription=subscription, metadata=metadata, **others
        )
    invoice = resources.Invoice(customer=customer, metadata=metadata, description=description)
    if pending_invoice_items_behavior != "include":
        for line in list(invoice.lines._list):
            item = resources.InvoiceItem._api_retrieve(line.invoice_item)
            item.invoice = None
        invoice.lines._list = []
    invoice.currency = currency or invoice.currency
    invoice.collection_method = collection_method or "charge_automatically"
    invoice.due_date = int(due_date) if due_date else None
    return invoice


def create_item(**data: Any) -> resources.InvoiceItem:
    """An item created for a draft invoice becomes one of its lines, as on Stripe."""
    invoice = None
    if data.get("invoice"):
        invoice = resources.Invoice._api_retrieve(data["invoice"])
        if invoice.status != "draft":
            raise UserError(400, "Invoice is not a draft")
    item = _create_item(**data)
    if invoice is not None:
        invoice.lines._list.append(resources.InvoiceLineItem(item))
    return item


def finalize_invoice(id: str, **_: Any) -> resources.Invoice:
    invoice = resources.Invoice._api_retrieve(id)
    if invoice.status != "draft":
        raise UserError(400, "Invoice is not a draft")
    invoice._finalize()
    resources.schedule_webhook(resources.Event("invoice.finalized", invoice))
    return invoice


def send_invoice(id: str, **_: Any) -> resources.Invoice:
    invoice = resources.Invoice._api_retrieve(id)
    if invoice.status != "open":
        raise UserError(400, "Only open invoices are sent")
    invoice.status_transitions["sent_at"] = int(time.time())
    resources.schedule_webhook(resources.Event("invoice.sent", invoice))
    return invoice


resources.Invoice._api_create = staticmethod(create_invoice)
resources.InvoiceItem._api_create = staticmethod(create_item)
resources.store.dump_to_disk = lambda: None
for path, handler in (
    ("/v1/invoices/{id}/finalize", finalize_invoice),
    ("/v1/invoices/{id}/send", send_invoice),
):
    server.app.router.add_route("POST", path, server.api_extra(handler, path))

if __name__ == "__main__":
    server.start()
