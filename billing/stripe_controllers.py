"""Stripe's calls into the service: the signed webhook."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, post

from billing import stripe_webhooks
from service.kernel.auth import PUBLIC


class WebhookReceipt(msgspec.Struct):
    received: bool
    event_id: str
    type: str
    # applied | replayed | ignored | unknown_invoice
    result: str


class StripeWebhookController(Controller):
    path = "/stripe/webhook"
    tags = ["billing"]

    @post(
        "",
        opt=PUBLIC,  # Stripe signs the body instead: the signature is the authentication
        status_code=200,
        summary="Stripe events (invoice.paid); signed with STRIPE_WEBHOOK_SECRET",
        request_max_body_size=1_000_000,
    )
    async def receive(self, request: Request[Any, Any, Any]) -> WebhookReceipt:
        event = stripe_webhooks.verify(
            await request.body(),
            request.headers.get("stripe-signature"),
            request.app.state.settings.stripe_webhook_secret,
        )
        outcome = await stripe_webhooks.apply(event)
        return WebhookReceipt(True, outcome.event_id, outcome.kind, outcome.result)


STRIPE_API_CONTROLLERS: list[type] = [StripeWebhookController]
