"""The request log names the client: X-Forwarded-For believed from TRUSTED_PROXIES only."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from service.app.factory import app_resources, create_app
from service.kernel.addresses import parse_networks
from service.kernel.settings import Settings
from tests.service.test_logs_hold_no_person import events

__all__ = ["events"]  # the fixture capturing every logger


async def _logged_client(
    settings: Settings, events: list[dict[str, Any]], peer: str, forwarded: str | None
) -> str:
    app = create_app(settings)
    async with app_resources(settings)(app):
        transport = httpx.ASGITransport(app=app, client=(peer, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            headers = {"X-Forwarded-For": forwarded} if forwarded else {}
            assert (await http.get("/healthz", headers=headers)).status_code == 200
    lines = [e for e in events if e.get("event") == "request" and e.get("path") == "/healthz"]
    return str(lines[-1]["client"])


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "client"),
    [
        ("", "127.0.0.1", None, "127.0.0.1"),
        ("", "127.0.0.1", "203.0.113.9", "127.0.0.1"),  # no proxy trusted: header ignored
        ("127.0.0.1", "127.0.0.1", "203.0.113.9", "203.0.113.9"),
        ("127.0.0.1", "127.0.0.1", "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # left: client's
        ("127.0.0.1", "198.51.100.7", "203.0.113.9", "198.51.100.7"),  # spoofed by a client
        ("10.0.0.0/8", "10.1.2.3", "203.0.113.9, 10.0.0.5", "203.0.113.9"),  # two proxies
    ],
)
async def test_the_request_log_names_the_client_behind_trusted_proxies_only(
    settings: Settings,
    redis: Redis,
    events: list[dict[str, Any]],
    proxies: str,
    peer: str,
    forwarded: str | None,
    client: str,
) -> None:
    configured = dataclasses.replace(settings, trusted_proxies=parse_networks(proxies))

    assert await _logged_client(configured, events, peer, forwarded) == client
