"""The door page while its server cannot answer: it judges the pass itself, as offline.

Real faults, no request interception: this module starts its own PostgreSQL and Redis
(tests/faults.py) and serves the app on them with uvicorn. A staff member signs in to
/scan in Debian's Chromium; then PostgreSQL is frozen (SIGSTOP on every process: the
server answers 503 within its 5 s bound, the session look-up included) or the API process
itself is frozen (no answer at all: the page's own 4 s wait runs out). Either way the door
must show its offline verdict within a few seconds and queue the scan; once the server is
thawed, the queue is sent with /scan/scans:batch and the scan is in the database, once.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from datetime import time as clock
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from playwright.async_api import Browser, Page, Response, async_playwright, expect

from booking.tables import OpeningHours
from service.app.embedded import EmbeddedPostgres, EmbeddedRedis
from service.app.serving import served
from service.kernel.database import use_database
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.conftest import TEST_SECRET
from tests.factories import (
    PASSWORD,
    make_booking,
    make_organisation,
    make_pass,
    make_rates,
    make_user,
    make_venue,
    make_workspace,
)
from tests.faults import Frozen, migrated_database, own_servers, resume, send
from tests.web.browser import PHONE, artifact, launch

pytestmark = pytest.mark.faults

PARIS = ZoneInfo("Europe/Paris")
# The page's own wait (SERVER_WAIT_MS, 4 s) plus room for the browser to judge and draw.
DOOR_BOUND = 5.5  # seconds from pressing "Vérifier le pass" to the offline verdict


@dataclass
class Door:
    postgres: EmbeddedPostgres
    dsn: str
    url: str
    pid: int
    staff_email: str
    # One booked agent and their pass per test: a second scan of one pass is another case.
    agents: list[tuple[str, str]]


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[EmbeddedPostgres, EmbeddedRedis]]:
    """This module's own servers, whatever TEST_DATABASE_URL and TEST_REDIS_URL say."""
    with own_servers("tierslieux-door-faults-") as both:
        yield both


@pytest.fixture(scope="module")
async def door(servers: tuple[EmbeddedPostgres, EmbeddedRedis]) -> AsyncIterator[Door]:
    """A venue open every day, an agent booked there today with a pass, a staff member."""
    postgres, redis = servers
    dsn = await migrated_database(postgres, "tl_door_faults")
    data_dir = Path(tempfile.mkdtemp(prefix="tierslieux-door-faults-data-"))
    settings = Settings(
        mode="test",
        database_url=dsn,
        redis_url=redis.url(),
        secret_key=TEST_SECRET,
        data_dir=data_dir,
    )
    use_database(dsn)
    venue = await make_venue(hours=False)
    await OpeningHours.insert(
        *[
            OpeningHours(venue=venue.id, weekday=d, opens=clock(0), closes=clock(23, 59))
            for d in range(7)
        ]
    )
    desk = await make_workspace(venue, capacity=20)
    for unit in ("half_day", "day"):  # priced whatever unit the day's booking counts in
        await make_rates(venue, unit=unit)
    organisation = await make_organisation(monthly_allowance_units=200)
    agents = []
    for _ in range(3):
        agent = await make_user(Role.AGENT, organisation=organisation)
        await make_booking(agent, desk, datetime.now(PARIS).date(), slot="day")
        agents.append((agent.display_name, (await make_pass(settings, agent)).token))
    staff = await make_user(Role.VENUE_STAFF, venue=venue)
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": dsn,
        "REDIS_URL": redis.url(),
        "SECRET_KEY": TEST_SECRET,
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "ERROR",
    }
    try:
        with served(env, timeout=60) as server:
            yield Door(
                postgres,
                dsn,
                server.url,
                server.process.pid,
                staff.email,
                agents,
            )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def signed_in(chromium: Browser, door: Door, url: str) -> AsyncIterator[Page]:
    """The staff member's phone, signed in at `url`, on /scan with today's state loaded."""
    context = await chromium.new_context(
        base_url=url, viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris"
    )
    context.set_default_timeout(15_000)
    try:
        page = await context.new_page()
        await page.goto("/")
        await page.get_by_label("Adresse e-mail").fill(door.staff_email)
        await page.get_by_label("Mot de passe").fill(PASSWORD)
        await page.get_by_role("button", name="Se connecter").click()
        await expect(page).to_have_url(f"{url}/scan")
        for name, _ in door.agents:
            await expect(page.locator("#arrivals")).to_contain_text(name)
        await page.wait_for_load_state("networkidle")
        yield page
    finally:
        await context.close()


@pytest.fixture
async def scanner(chromium: Browser, door: Door) -> AsyncIterator[Page]:
    async with signed_in(chromium, door, door.url) as page:
        yield page


GATEWAY_TIMEOUT = b"<html><head><title>504 Gateway Time-out</title></head><body>504</body></html>"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade"}


class _Forward(BaseHTTPRequestHandler):
    """A reverse proxy as a door network has one: it forwards each request to the upstream,
    and answers its own HTML 504 when the upstream does not answer within 2 s."""

    upstream: tuple[str, int]
    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = http.client.HTTPConnection(*self.upstream, timeout=2)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            status, fields, content = answer.status, answer.getheaders(), answer.read()
        except OSError:
            status, content = 504, GATEWAY_TIMEOUT
            fields = [("Content-Type", "text/html")]
        finally:
            upstream.close()
        self.send_response(status)
        for name, value in fields:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_HEAD = _forward

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def proxied(url: str) -> Iterator[str]:
    """`url` behind the proxy above, on another port; the proxy's own URL."""
    host, port = url.removeprefix("http://").split(":")
    handler = type("Forward", (_Forward,), {"upstream": (host, int(port))})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def queued(page: Page) -> list[dict[str, Any]]:
    """The page's offline queue, as it keeps it in localStorage."""
    items: list[dict[str, Any]] = await page.evaluate(
        """() => {
            const key = Object.keys(localStorage).find((k) => k.endsWith(":queue"));
            return key ? JSON.parse(localStorage.getItem(key)) : [];
        }"""
    )
    return items


async def stored(dsn: str, scan_id: str) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT admitted, local_admitted, offline, "
            "ARRAY(SELECT kind FROM anomaly WHERE anomaly.scan = scan.scan_id) AS anomalies "
            "FROM scan WHERE scan_id = $1",
            uuid.UUID(scan_id),
        )
    finally:
        await connection.close()
    return [dict(row) for row in rows]


async def scan_offline_in_time(page: Page, agent: tuple[str, str], screenshot: str) -> str:
    """Scan the pass by manual entry: the offline verdict within the bound, the scan queued."""
    name, token = agent
    await page.get_by_label("Code du pass").fill(token)
    started = time.monotonic()
    await page.get_by_role("button", name="Vérifier le pass").click()
    shown = page.locator("#verdict")
    await expect(shown).to_contain_text("vérifié hors ligne", timeout=DOOR_BOUND * 1000)
    took = time.monotonic() - started
    assert took < DOOR_BOUND, f"the offline verdict took {took:.2f} s"
    await expect(shown).to_have_class("verdict shown admitted")
    await expect(shown).to_contain_text(name)
    await page.screenshot(path=artifact(f"{screenshot}.png"))
    # Not the error message of a refused request, nor "session expired".
    await expect(page.locator("#camera-message")).not_to_contain_text("Le serveur a refusé")
    await expect(page.locator("#camera-message")).not_to_contain_text("Session expirée")
    items = await queued(page)
    assert [item["token"] for item in items] == [token], items
    assert items[0]["local_verdict"] == {"admitted": True, "reason": None}
    await shown.get_by_role("button", name="Scanner le suivant").click()
    await expect(page.locator("#network")).to_contain_text("1 en attente")
    scan_id: str = items[0]["scan_id"]
    return scan_id


async def synced(page: Page, dsn: str, scan_id: str) -> list[dict[str, Any]]:
    """Thawed: the page's retry timer (20 s) sends the queue; the scan is stored once."""
    await expect(page.locator("#synced")).not_to_be_hidden(timeout=45_000)
    rows = await stored(dsn, scan_id)
    await expect(page.locator("#synced")).to_contain_text("confirmé par le serveur")
    await expect(page.locator("#waiting-count")).to_be_hidden()
    assert await queued(page) == []
    assert len(rows) == 1, rows
    assert rows[0]["admitted"] is True, rows
    return rows


async def test_with_postgresql_frozen_the_door_judges_offline_and_syncs_after(
    scanner: Page, door: Door
) -> None:
    with Frozen(door.postgres):
        scan_id = await scan_offline_in_time(scanner, door.agents[0], "scanner-postgresql-frozen")
    # Nothing was recorded while frozen: the scan came with the batch, as an offline one.
    assert await synced(scanner, door.dsn, scan_id) == [
        {"admitted": True, "local_admitted": True, "offline": True, "anomalies": []}
    ]


async def test_with_the_api_process_frozen_the_door_stops_waiting_and_syncs_after(
    scanner: Page, door: Door
) -> None:
    """No answer at all (not even a 503): the page's own wait runs out."""
    send(door.pid, signal.SIGSTOP)
    try:
        scan_id = await scan_offline_in_time(scanner, door.agents[1], "scanner-server-frozen")
    finally:
        resume(door.pid)
    # The server reads the abandoned request once thawed and may record it: the batch then
    # carries the same scan_id, so the scan is stored once either way.
    await synced(scanner, door.dsn, scan_id)


async def test_behind_a_proxy_its_html_504_is_offline_not_a_lost_session(
    chromium: Browser, door: Door
) -> None:
    """A proxy's HTML error page for a frozen API is not JSON: still offline, not "sign in"."""
    answers: list[tuple[int, str]] = []

    def seen(response: Response) -> None:
        if response.url.endswith("/scan/scans?lang=fr"):
            answers.append((response.status, response.headers.get("content-type", "")))

    with proxied(door.url) as url:
        async with signed_in(chromium, door, url) as page:
            page.on("response", seen)
            send(door.pid, signal.SIGSTOP)
            try:
                scan_id = await scan_offline_in_time(page, door.agents[2], "scanner-proxy-504")
            finally:
                resume(door.pid)
            # The page judged on the proxy's 504 (at 2 s), before its own 4 s wait ran out.
            assert answers == [(504, "text/html")], answers
            await synced(page, door.dsn, scan_id)
