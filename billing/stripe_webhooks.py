"""Stripe's webhook events: signature checked, each event applied once, payments recorded.

Stripe delivers at least once and retries anything but a 2xx for days, so every event is
recorded under its id in the same transaction as its effect: a replay (or twenty copies
arriving at once) finds the id taken and changes nothing. Events we cannot use are still
answered 200, or Stripe would keep retrying them.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import stripe
import structlog

from billing.close import NETWORK_TZ
from billing.tables import Payment, WebhookEvent
from service.kernel.errors import DomainError
from service.kernel.i18n import N_
from service.kernel.problems import register

log = structlog.get_logger(__name__)

# `invoice.paid` is the event to enable; localstripe (tests) emits `invoice.payment_succeeded`.
PAID_EVENTS = frozenset({"invoice.paid", "invoice.payment_succeeded"})


class InvalidStripeSignature(DomainError):
    """The body is not signed by Stripe with our webhook secret (or is not an event)."""

    default_detail = N_("The Stripe-Signature header does not match this body.")


register(InvalidStripeSignature, "invalid-stripe-signature", 400, "Invalid Stripe signature")


@dataclass(frozen=True)
class Outcome:
    event_id: str
    kind: str
    # applied | replayed | ignored (type we do not act on) | unknown_invoice
    result: str


def verify(payload: bytes, signature: str | None, secret: str | None) -> dict[str, Any]:
    """The event, once its signature is checked against the secret (and its age, 5 min)."""
    if not secret:
        raise InvalidStripeSignature(
            N_("Stripe webhooks are not configured here (STRIPE_WEBHOOK_SECRET is unset)."),
            field="Stripe-Signature",
        )
    if not signature:
        raise InvalidStripeSignature(
            N_("The Stripe-Signature header is missing."), field="Stripe-Signature"
        )
    try:
        # What `stripe.Webhook.construct_event` checks, without building an Event object:
        # we keep the plain JSON (stored as received) and read only a few fields.
        stripe.WebhookSignature.verify_header(
            payload, signature, secret, tolerance=stripe.Webhook.DEFAULT_TOLERANCE
        )
        body = json.loads(payload)
    except stripe.SignatureVerificationError:
        raise InvalidStripeSignature(field="Stripe-Signature") from None
    except ValueError:  # not UTF-8 or not JSON: cannot come from Stripe
        raise InvalidStripeSignature(N_("The body is not a signed Stripe event.")) from None
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("id"), str)
        or not isinstance(body.get("type"), str)
    ):
        raise InvalidStripeSignature(N_("The signed body is not a Stripe event."))
    return body


def _paid_on(invoice: dict[str, Any], event: dict[str, Any]) -> date:
    paid_at = (invoice.get("status_transitions") or {}).get("paid_at") or event.get("created")
    moment = datetime.fromtimestamp(int(paid_at), UTC) if paid_at else datetime.now(UTC)
    return moment.astimezone(NETWORK_TZ).date()


async def apply(event: dict[str, Any]) -> Outcome:
    """Record the event and apply it, all in one transaction; a known event id is a no-op."""
    event_id, kind = event["id"], event["type"]
    async with WebhookEvent._meta.db.transaction():
        inserted = await WebhookEvent.raw(
            """
            INSERT INTO webhook_event (event_id, kind, received_at, payload)
            VALUES ({}, {}, now(), {}::jsonb)
            ON CONFLICT (event_id) DO NOTHING RETURNING id
            """,
            event_id,
            kind,
            json.dumps(event),
        )
        if not inserted:
            return Outcome(event_id, kind, "replayed")
        if kind not in PAID_EVENTS:
            return Outcome(event_id, kind, "ignored")
        invoice = (event.get("data") or {}).get("object") or {}
        return Outcome(event_id, kind, await _invoice_paid(event, invoice))


async def _invoice_paid(event: dict[str, Any], invoice: dict[str, Any]) -> str:
    stripe_invoice_id = invoice.get("id")
    rows = await Payment.raw(
        "SELECT document FROM stripe_invoice WHERE stripe_invoice_id = {} FOR UPDATE",
        str(stripe_invoice_id),
    )
    if not rows:
        # Not ours (another integration on the same Stripe account), or a push we lost.
        log.warning(
            "stripe.unknown_invoice", event_id=event["id"], stripe_invoice_id=stripe_invoice_id
        )
        return "unknown_invoice"
    amount = int(invoice.get("amount_paid") or 0)
    if amount > 0:
        # `invoice.paid` and `invoice.payment_succeeded` both announce one payment: the
        # unique (method, reference) index keeps it to one row.
        await Payment.raw(
            """
            INSERT INTO payment (id, document, amount_cents, method, reference, received_on,
                                 created_at)
            VALUES ({}, {}, {}, 'stripe', {}, {}, now())
            ON CONFLICT (method, reference) DO NOTHING
            """,
            uuid.uuid4(),
            rows[0]["document"],
            amount,
            str(stripe_invoice_id),
            _paid_on(invoice, event),
        )
    await Payment.raw(
        "UPDATE stripe_invoice SET status = 'paid' WHERE stripe_invoice_id = {}",
        str(stripe_invoice_id),
    )
    log.info("stripe.invoice_paid", stripe_invoice_id=stripe_invoice_id, amount_cents=amount)
    return "applied"
