"""Stripe payments against a real localstripe server: pushes, signed webhooks, replays, races.

The session starts localstripe (with the one-off invoicing it lacks, see
localstripe_server.py) on a free port; no test reaches the internet. Webhooks travel for
real: localstripe signs and POSTs them to the app served by uvicorn.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from arq import Retry, create_pool
from arq.connections import ArqRedis, RedisSettings
from redis.asyncio import Redis

from billing import invoice_mail, stripe_sync
from billing.close import paris_today
from billing.jobs import close_month, push_invoices_to_stripe
from billing.money import euros
from billing.tables import (
    Document,
    DocumentLine,
    Payment,
    StripeCustomer,
    StripeInvoice,
    WebhookEvent,
)
from booking.tables import Organisation, Outbox
from service.app.embedded import free_port
from service.app.factory import app_resources, create_app
from service.kernel.errors import NotFound
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.billing.factories import make_visit
from tests.factories import auth, make_organisation, make_user, make_venue, make_workspace

API_KEY = "sk_test_tierslieux"
WEBHOOK_SECRET = "whsec_test_tierslieux"
HERE = Path(__file__).parent
ARTIFACTS = HERE.parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def localstripe() -> Iterator[str]:
    """localstripe on a free port for the whole session; its base URL."""
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / "localstripe.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "localstripe_server.py"),
            "--port",
            str(port),
            "--from-scratch",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited with {process.returncode}, see {log.name}")
        try:
            httpx.get(f"{base}/v1/customers", auth=(API_KEY, ""), timeout=1)
            break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("localstripe did not listen within 30 s")
        time.sleep(0.1)
    try:
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def settings(settings: Settings, localstripe: str) -> Settings:
    """This module's app and jobs talk to localstripe and accept its signed webhooks."""
    return dataclasses.replace(
        settings,
        stripe_api_key=API_KEY,
        stripe_api_base=localstripe,
        stripe_webhook_secret=WEBHOOK_SECRET,
    )


@pytest.fixture
def stripe_client(localstripe: str) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": localstripe})


@pytest.fixture
async def arq_redis(settings: Settings, redis: Redis) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(RedisSettings.from_dsn(settings.redis_url or ""))
    try:
        yield pool
    finally:
        await pool.aclose()


@pytest.fixture
def stripe_live_server(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, localstripe: str
) -> str:
    """The app under uvicorn with the Stripe settings, and localstripe's webhooks aimed at it."""
    monkeypatch.setenv("STRIPE_API_KEY", API_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", localstripe)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    live: str = request.getfixturevalue("live_server")
    # One registration name for the session: each test points localstripe at its own server.
    configured = httpx.post(
        f"{localstripe}/_config/webhooks/tierslieux",
        data={"url": f"{live}/api/v1/stripe/webhook", "secret": WEBHOOK_SECRET},
    )
    assert configured.status_code == 200, configured.text
    return live


def last_month() -> date:
    first = paris_today().replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


async def usage_of_two_organisations(month: date) -> list[Organisation]:
    """Two organisations with visits last month: 1234 + 1500 cents and 1500 cents, VAT 20 %."""
    venue = await make_venue()
    desk = await make_workspace(venue)
    organisations = []
    for prices in ([1234, 1500], [1500]):
        organisation = await make_organisation(
            billing_email=f"compta-{uuid.uuid4().hex}@example.org"
        )
        agent = await make_user(Role.AGENT, organisation=organisation)
        for day, price in enumerate(prices, start=3):
            await make_visit(agent, venue, desk, month.replace(day=day), org_cents=price)
        organisations.append(organisation)
    return organisations


async def invoices(month: date) -> list[dict[str, Any]]:
    return (
        await Document.select()
        .where((Document.period == month) & (Document.kind == "invoice"))
        .order_by(Document.sequence_number)
        .output(load_json=True)
    )


def sign(payload: str, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(payload, secret)
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


def paid_event(stripe_invoice_id: str, amount_cents: int, event_id: str | None = None) -> str:
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "type": "invoice.paid",
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": stripe_invoice_id,
                    "object": "invoice",
                    "amount_paid": amount_cents,
                    "status": "paid",
                    "status_transitions": {"paid_at": int(time.time())},
                }
            },
        }
    )


async def test_closing_a_month_pushes_one_stripe_invoice_per_organisation_invoice_once(
    settings: Settings, arq_redis: ArqRedis, stripe_client: stripe.StripeClient
) -> None:
    month = last_month()
    organisations = await usage_of_two_organisations(month)
    ctx = {"settings": settings, "redis": arq_redis}

    await close_month(ctx, f"{month:%Y-%m}")
    queued = await arq_redis.exists(f"arq:job:stripe-push:{month:%Y-%m}")
    first = await push_invoices_to_stripe(ctx, f"{month:%Y-%m}")
    # Everything again: the close, the push, and one invoice pushed on its own.
    await close_month(ctx, f"{month:%Y-%m}")
    second = await push_invoices_to_stripe(ctx, f"{month:%Y-%m}")
    documents = await invoices(month)
    again = await stripe_sync.push_invoice(documents[0]["id"], settings)

    assert queued == 1
    assert first == {"month": f"{month:%Y-%m}", "pushed": 2, "failed": []}
    assert second == first
    assert len(documents) == 2
    pushed = {r["document"]: r for r in await StripeInvoice.select()}
    assert again == pushed[documents[0]["id"]]["stripe_invoice_id"]
    assert set(pushed) == {d["id"] for d in documents}
    assert await StripeCustomer.count() == 2
    by_id = {o.id: o for o in organisations}
    for document in documents:
        organisation = by_id[document["organisation"]]
        row = pushed[document["id"]]
        assert row["status"] == "open"
        remote = await stripe_client.v1.invoices.retrieve_async(row["stripe_invoice_id"])
        assert remote.total == document["total_incl_cents"], (remote.total, document)
        assert remote.currency == "eur"
        assert remote.status == "open"
        assert remote.metadata.to_dict() == {
            "document_id": str(document["id"]),
            "number": document["number"],
        }
        lines = await DocumentLine.select().where(DocumentLine.document == document["id"])
        remote_lines = (
            await stripe_client.v1.invoices.line_items.list_async(row["stripe_invoice_id"])
        ).data
        assert sorted((line.amount, line.description) for line in remote_lines) == sorted(
            (line["incl_cents"], line["description"]) for line in lines
        )
        # One customer per organisation, holding exactly one invoice, after two pushes.
        customers = (
            await stripe_client.v1.customers.list_async(
                params={"email": organisation.billing_email}
            )
        ).data
        assert len(customers) == 1
        assert customers[0].metadata["organisation_id"] == str(organisation.id)
        remote_invoices = (
            await stripe_client.v1.invoices.list_async(params={"customer": customers[0].id})
        ).data
        assert [i.id for i in remote_invoices] == [row["stripe_invoice_id"]]
    # 1234 + 247 VAT + 1500 + 300 VAT for the first organisation.
    first = next(d for d in documents if d["organisation"] == organisations[0].id)
    assert first["total_incl_cents"] == 1234 + 247 + 1500 + 300
    # With Stripe on, no invoice email is written: Stripe sends the invoice.
    assert await Outbox.count().where(Outbox.kind == invoice_mail.KIND) == 0


async def test_a_push_that_died_half_way_is_resumed_without_duplicating_lines(
    settings: Settings, stripe_client: stripe.StripeClient
) -> None:
    month = last_month()
    await usage_of_two_organisations(month)
    await close_month(
        {"settings": dataclasses.replace(settings, stripe_api_key=None)}, f"{month:%Y-%m}"
    )
    document = (await invoices(month))[0]
    lines = (
        await DocumentLine.select()
        .where(DocumentLine.document == document["id"])
        .order_by(DocumentLine.position)
    )
    # What a worker killed after the first line leaves: a customer, a draft, one line.
    customer = await stripe_client.v1.customers.create_async(params={"email": "x@example.org"})
    await StripeCustomer.insert(
        StripeCustomer(organisation=document["organisation"], stripe_customer_id=customer.id)
    )
    draft = await stripe_client.v1.invoices.create_async(
        params={"customer": customer.id, "metadata": {"document_id": str(document["id"])}}
    )
    await StripeInvoice.insert(
        StripeInvoice(document=document["id"], stripe_invoice_id=draft.id, status="draft")
    )
    await stripe_client.v1.invoice_items.create_async(
        params={
            "customer": customer.id,
            "invoice": draft.id,
            "amount": lines[0]["incl_cents"],
            "currency": "eur",
            "description": lines[0]["description"],
            "metadata": {"position": "1"},
        }
    )

    resumed = await stripe_sync.push_invoice(document["id"], settings)

    assert resumed == draft.id
    remote = await stripe_client.v1.invoices.retrieve_async(draft.id)
    assert remote.status == "open"
    assert remote.total == document["total_incl_cents"]
    assert len((await stripe_client.v1.invoices.line_items.list_async(draft.id)).data) == len(lines)
    assert [r["status"] for r in await StripeInvoice.select(StripeInvoice.status)] == ["open"]


async def test_paying_in_stripe_marks_our_invoice_paid_through_the_signed_webhook(
    settings: Settings, stripe_live_server: str, stripe_client: stripe.StripeClient
) -> None:
    month = last_month()
    organisations = await usage_of_two_organisations(month)
    await close_month(
        {"settings": dataclasses.replace(settings, stripe_api_key=None)}, f"{month:%Y-%m}"
    )
    document = (await invoices(month))[0]
    stripe_invoice_id = await stripe_sync.push_invoice(document["id"], settings)
    assert stripe_invoice_id is not None
    [customer] = [r["stripe_customer_id"] for r in await StripeCustomer.select()]
    # The organisation pays with a card on Stripe's page.
    card = await stripe_client.v1.payment_methods.create_async(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"},
        }
    )
    await stripe_client.v1.payment_methods.attach_async(card.id, params={"customer": customer})
    await stripe_client.v1.customers.update_async(
        customer, params={"invoice_settings": {"default_payment_method": card.id}}
    )
    admin = auth(settings, await make_user(Role.NETWORK_ADMIN))
    buyer = next(o for o in organisations if o.id == document["organisation"])
    org_admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=buyer))

    paid = await stripe_client.v1.invoices.pay_async(stripe_invoice_id)

    assert paid.status == "paid"
    async with httpx.AsyncClient(base_url=stripe_live_server, timeout=10) as http:
        deadline = time.monotonic() + 20
        while True:
            seen = await http.get(f"/api/v1/invoices/{document['id']}", headers=admin)
            assert seen.status_code == 200, seen.text
            if seen.json()["document"]["paid_cents"] or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        as_organisation = await http.get(f"/api/v1/invoices/{document['id']}", headers=org_admin)
    assert seen.json()["document"]["paid_cents"] == document["total_incl_cents"], seen.text
    assert as_organisation.json()["document"]["paid_cents"] == document["total_incl_cents"]
    payments = await Payment.select()
    assert [(p["method"], p["reference"], p["amount_cents"]) for p in payments] == [
        ("stripe", stripe_invoice_id, document["total_incl_cents"])
    ]
    assert payments[0]["received_on"] == paris_today()
    assert [r["status"] for r in await StripeInvoice.select(StripeInvoice.status)] == ["paid"]
    kinds = {e["kind"] for e in await WebhookEvent.select(WebhookEvent.kind)}
    assert "invoice.payment_succeeded" in kinds


async def test_a_replayed_event_changes_nothing_and_bad_signatures_are_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    month = last_month()
    await usage_of_two_organisations(month)
    await close_month(
        {"settings": dataclasses.replace(settings, stripe_api_key=None)}, f"{month:%Y-%m}"
    )
    document = (await invoices(month))[0]
    stripe_invoice_id = await stripe_sync.push_invoice(document["id"], settings)
    assert stripe_invoice_id is not None
    event = paid_event(stripe_invoice_id, document["total_incl_cents"])
    url = "/api/v1/stripe/webhook"

    first = await client.post(url, content=event, headers=sign(event))
    # The same event re-signed later (Stripe's retry), and the same payment announced again
    # under another event id (invoice.payment_succeeded after invoice.paid).
    replay = await client.post(url, content=event, headers=sign(event))
    twin = json.loads(event) | {"id": "evt_twin", "type": "invoice.payment_succeeded"}
    twin_body = json.dumps(twin)
    announced_again = await client.post(url, content=twin_body, headers=sign(twin_body))
    forged = await client.post(url, content=event, headers=sign(event, "whsec_someone_else"))
    unsigned = await client.post(url, content=event, headers={"Content-Type": "application/json"})
    garbled = await client.post(url, content=event, headers={"Stripe-Signature": "t=1,v1"})
    ten_minutes_ago = stripe.WebhookSignature.generate_signature_header(
        event, WEBHOOK_SECRET, timestamp=int(time.time()) - 600
    )
    stale = await client.post(url, content=event, headers={"Stripe-Signature": ten_minutes_ago})
    tampered_body = event.replace(str(document["total_incl_cents"]), "1")
    tampered = await client.post(url, content=tampered_body, headers=sign(event))
    not_json = await client.post(url, content=b"\xff not json", headers=sign("\ufffd not json"))

    assert first.status_code == 200, first.text
    assert first.json()["result"] == "applied"
    assert replay.status_code == 200
    assert replay.json()["result"] == "replayed"
    assert announced_again.json()["result"] == "applied"
    for refused in (forged, unsigned, garbled, stale, tampered, not_json):
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["type"] == "urn:tierslieux:problem:invalid-stripe-signature"
    assert "missing" in unsigned.json()["detail"]
    payments = await Payment.select()
    assert len(payments) == 1
    assert payments[0]["amount_cents"] == document["total_incl_cents"]
    assert await WebhookEvent.count() == 2


async def test_unknown_events_and_invoices_are_recorded_and_answered_200(
    client: httpx.AsyncClient,
) -> None:
    url = "/api/v1/stripe/webhook"
    other_type = json.dumps({"id": "evt_customer", "type": "customer.created", "data": {}})
    not_ours = paid_event("in_not_ours", 5000)
    not_an_event = json.dumps(["evt", "invoice.paid"])

    ignored = await client.post(url, content=other_type, headers=sign(other_type))
    unknown = await client.post(url, content=not_ours, headers=sign(not_ours))
    listed = await client.post(url, content=not_an_event, headers=sign(not_an_event))

    assert ignored.status_code == 200
    assert ignored.json() == {
        "received": True,
        "event_id": "evt_customer",
        "type": "customer.created",
        "result": "ignored",
    }
    assert unknown.status_code == 200
    assert unknown.json()["result"] == "unknown_invoice"
    assert listed.status_code == 400
    assert await Payment.count() == 0
    assert await WebhookEvent.count() == 2


async def test_webhooks_are_refused_when_no_secret_is_configured(
    settings: Settings, redis: Redis
) -> None:
    app = create_app(dataclasses.replace(settings, stripe_webhook_secret=None))
    event = paid_event("in_x", 100)
    async with app_resources(app.state.settings)(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver.local"
        ) as http:
            refused = await http.post("/api/v1/stripe/webhook", content=event, headers=sign(event))

    assert refused.status_code == 400
    assert "STRIPE_WEBHOOK_SECRET" in refused.json()["detail"]
    assert await WebhookEvent.count() == 0


async def test_the_same_event_posted_twenty_times_at_once_pays_once(
    settings: Settings, stripe_live_server: str
) -> None:
    month = last_month()
    await usage_of_two_organisations(month)
    await close_month(
        {"settings": dataclasses.replace(settings, stripe_api_key=None)}, f"{month:%Y-%m}"
    )
    document = (await invoices(month))[0]
    stripe_invoice_id = await stripe_sync.push_invoice(document["id"], settings)
    assert stripe_invoice_id is not None
    event = paid_event(stripe_invoice_id, document["total_incl_cents"], event_id="evt_race")

    async with httpx.AsyncClient(base_url=stripe_live_server, timeout=30) as http:
        answers = await asyncio.gather(
            *(
                http.post("/api/v1/stripe/webhook", content=event, headers=sign(event))
                for _ in range(20)
            )
        )

    assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers]
    results = sorted(a.json()["result"] for a in answers)
    assert results == ["applied"] + ["replayed"] * 19
    assert await Payment.count() == 1
    assert await WebhookEvent.count().where(WebhookEvent.event_id == "evt_race") == 1


async def test_without_a_stripe_key_the_close_emails_each_invoice_once(
    settings: Settings, redis: Redis
) -> None:
    month = last_month()
    organisations = await usage_of_two_organisations(month)
    ctx = {"settings": dataclasses.replace(settings, stripe_api_key=None)}

    await close_month(ctx, f"{month:%Y-%m}")
    await close_month(ctx, f"{month:%Y-%m}")
    written_again = await invoice_mail.email_invoices(month)

    documents = await invoices(month)
    messages = (
        await Outbox.select().where(Outbox.kind == invoice_mail.KIND).order_by(Outbox.subject)
    )
    assert written_again == 0
    assert len(messages) == len(documents) == 2
    assert sorted(m["recipient"] for m in messages) == sorted(
        o.billing_email for o in organisations
    )
    for document, message in zip(documents, messages, strict=True):
        assert document["number"] in message["subject"]
        body = message["body"]
        assert f"Référence à indiquer : {document['number']}" in body
        assert f"Date d'échéance : {document['due_on']:%d/%m/%Y}" in body
        assert f"IBAN : {settings.network_iban}" in body
        assert f"{settings.base_url}/organisation/invoices" in body
        assert f"Montant TTC à payer : {euros(document['total_incl_cents'])}" in body, body
    amounts = sorted(d["total_incl_cents"] for d in documents)
    assert amounts == [1500 + 300, 1234 + 247 + 1500 + 300]
    assert await redis.exists(f"arq:job:stripe-push:{month:%Y-%m}") == 0
    assert await StripeInvoice.count() == 0


async def test_a_push_needs_an_issued_invoice_and_a_key(settings: Settings) -> None:
    month = last_month()
    await usage_of_two_organisations(month)
    await close_month(
        {"settings": dataclasses.replace(settings, stripe_api_key=None)}, f"{month:%Y-%m}"
    )
    statement = await Document.select(Document.id).where(Document.kind == "statement").first()
    assert statement is not None

    with pytest.raises(NotFound):
        await stripe_sync.push_invoice(uuid.uuid4(), settings)
    with pytest.raises(NotFound):
        await stripe_sync.push_invoice(statement["id"], settings)
    with pytest.raises(stripe_sync.StripeNotConfigured):
        await stripe_sync.push_invoice(
            (await invoices(month))[0]["id"], dataclasses.replace(settings, stripe_api_key=None)
        )
    assert await StripeInvoice.count() == 0


async def test_stripe_out_of_reach_fails_the_push_for_a_later_retry_and_writes_nothing(
    settings: Settings,
) -> None:
    month = last_month()
    await usage_of_two_organisations(month)
    offline = dataclasses.replace(settings, stripe_api_base=f"http://127.0.0.1:{free_port()}")
    await close_month(
        {"settings": dataclasses.replace(settings, stripe_api_key=None)}, f"{month:%Y-%m}"
    )

    with pytest.raises(Retry):
        await push_invoices_to_stripe({"settings": offline, "job_try": 1}, f"{month:%Y-%m}")
    last_try = await push_invoices_to_stripe({"settings": offline, "job_try": 5}, f"{month:%Y-%m}")

    assert last_try["pushed"] == 0
    assert sorted(last_try["failed"]) == sorted(str(d["id"]) for d in await invoices(month))
    assert await StripeInvoice.count() == 0
    assert await StripeCustomer.count() == 0
