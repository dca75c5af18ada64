"""Idempotency-Key across a real socket: a body cut short stores nothing, and a key races once."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections import Counter
from urllib.parse import urlsplit

import httpx

from booking.tables import Booking
from service.kernel.identity import Role
from service.kernel.settings import Settings
from service.kernel.tables import IdempotencyRecord
from tests.factories import (
    auth,
    make_organisation,
    make_user,
    make_venue,
    make_workspace,
    next_weekday,
)


async def _desk_and_agent(settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
    desk = await make_workspace(await make_venue(), capacity=10)
    agent = await make_user(Role.AGENT, organisation=await make_organisation())
    body = {
        "workspace_id": str(desk.id),
        "date": next_weekday(1).isoformat(),
        "slot": "morning",
    }
    return body, auth(settings, agent)


def _send_half_a_request_and_hang_up(base: str, headers: dict[str, str], body: bytes) -> None:
    """What a phone losing its signal mid-upload does: part of the body, then a closed socket."""
    url = urlsplit(base)
    lines = [
        "POST /api/v1/bookings HTTP/1.1",
        f"Host: {url.netloc}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *[f"{name}: {value}" for name, value in headers.items()],
        "",
        "",
    ]
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall("\r\n".join(lines).encode() + body[: len(body) // 2])
    # Closing before the rest of the body: the server gets a disconnect mid-request.


async def test_a_body_cut_short_stores_nothing_and_the_honest_retry_books(
    live_server: str, settings: Settings
) -> None:
    body, headers = await _desk_and_agent(settings)
    headers["Idempotency-Key"] = str(uuid.uuid4())
    payload = json.dumps(body).encode()

    _send_half_a_request_and_hang_up(live_server, headers, payload)
    await asyncio.sleep(0.5)  # let the server notice the hang-up and finish with it

    assert await IdempotencyRecord.count() == 0
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
        retry = await http.post(
            "/api/v1/bookings",
            content=payload,
            headers={**headers, "Content-Type": "application/json"},
        )
    assert retry.status_code == 201, retry.text
    assert await Booking.count() == 1


async def test_fifty_identical_posts_with_one_key_make_one_booking(
    live_server: str, settings: Settings
) -> None:
    body, headers = await _desk_and_agent(settings)
    headers["Idempotency-Key"] = str(uuid.uuid4())
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)

    async with httpx.AsyncClient(base_url=live_server, timeout=60, limits=limits) as http:
        responses = await asyncio.gather(
            *[http.post("/api/v1/bookings", json=body, headers=headers) for _ in range(50)]
        )

    outcome: Counter[str] = Counter()
    booking_ids = set()
    for response in responses:
        if response.status_code == 201:
            outcome["201"] += 1
            booking_ids.add(response.json()["id"])
        else:
            outcome[f"{response.status_code} {response.json().get('type')}"] += 1
    assert set(outcome) <= {"201", "409 urn:tierslieux:problem:idempotency-in-progress"}, outcome
    assert len(booking_ids) == 1, booking_ids
    assert await Booking.count() == 1
