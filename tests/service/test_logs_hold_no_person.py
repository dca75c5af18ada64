"""What the service logs never names a person: no email address, no name, no invitation token."""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import structlog
from aiosmtpd.controller import Controller
from redis.asyncio import Redis
from structlog.testing import LogCapture

from booking.jobs import deliver_outbox
from booking.tables import Outbox
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.booking.test_jobs import free_port
from tests.factories import (
    auth,
    make_organisation,
    make_user,
    make_venue,
    make_workspace,
    next_weekday,
)

EMAIL = "lea.dupont@tourcoing.example"
NAME = "Léa Dupont"
PASSWORD = "un mot de passe assez long"


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every module-level `log` of the service, at every level, into one list.

    Replacing the loggers themselves (rather than structlog's global configuration, which
    loggers already used keep cached) makes the capture independent of the tests run before.
    """
    capture = LogCapture()
    logger = structlog.wrap_logger(
        structlog.ReturnLogger(),
        processors=[structlog.contextvars.merge_contextvars, capture],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        cache_logger_on_first_use=False,
    )
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in {"service", "booking", "passes", "billing", "web"} and hasattr(
            module, "log"
        ):
            monkeypatch.setattr(module, "log", logger)
    return capture.entries


def _names_nobody(events: list[dict[str, Any]], *secrets: str) -> None:
    assert events, "the requests were logged"
    for event in events:
        text = repr(event).lower()
        for secret in (EMAIL, NAME, "dupont", *secrets):
            assert secret.lower() not in text, event


async def test_invitation_sign_in_and_booking_log_no_email_name_or_token(
    settings: Settings, client: httpx.AsyncClient, redis: Redis, events: list[dict[str, Any]]
) -> None:
    organisation = await make_organisation()
    admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=organisation))
    desk = await make_workspace(await make_venue(), capacity=3)

    invited = await client.post(
        f"/api/v1/organisations/{organisation.id}/agents",
        json={"email": EMAIL, "display_name": NAME},
        headers=admin,
    )
    assert invited.status_code == 201, invited.text
    token = invited.json()["invitation_url"].rsplit("/", 1)[1]
    page = await client.get(f"/invitation/{token}")
    assert page.status_code == 200
    accepted = await client.post(
        "/api/v1/auth/accept-invitation", json={"token": token, "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    wrong = await client.post(
        "/api/v1/auth/token", json={"email": EMAIL, "password": "not the password"}
    )
    assert wrong.status_code == 401
    # The failure counters name the account by a hash and forget it within the hour.
    counters = await redis.keys("login-fail:*")
    assert counters
    for key in counters:
        assert EMAIL.encode() not in key
        assert 0 < await redis.ttl(key) <= 3600, key
    signed_in = await client.post("/api/v1/auth/token", json={"email": EMAIL, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    booked = await client.post(
        "/api/v1/bookings",
        json={"workspace_id": str(desk.id), "date": next_weekday(1).isoformat(), "slot": "day"},
        headers=headers,
    )
    assert booked.status_code == 201, booked.text

    assert any(e.get("path") == "/invitation/***" for e in events), events
    _names_nobody(events, token)


class _Refusing:
    """An SMTP server that refuses every recipient, quoting the address as servers do."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, *_: Any
    ) -> str:
        return f"550 5.1.1 <{address}>: Recipient address rejected"


@pytest.fixture
def refusing_smtp() -> Iterator[int]:
    port = free_port()
    controller = Controller(_Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


async def test_a_refused_delivery_is_logged_without_the_address(
    settings: Settings, refusing_smtp: int, events: list[dict[str, Any]]
) -> None:
    await Outbox(kind="booking_confirmed", recipient=EMAIL, subject="Réservation", body=NAME).save()
    smtp = dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{refusing_smtp}")

    await deliver_outbox({"settings": smtp}, now=datetime.now(UTC) + timedelta(minutes=1))

    failed = [e for e in events if e["event"] == "outbox.failed"]
    assert failed, events
    _names_nobody(events)
    # The full reason stays with the message, which the retention deletes with it.
    row = await Outbox.select(Outbox.last_error).first()
    assert row is not None
    assert EMAIL in row["last_error"]
