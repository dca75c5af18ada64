"""The recipe of docs/deployment.md, run: nginx with TLS in front of `tierslieux serve
--workers 2` and two `tierslieux worker`, in production mode, on one PostgreSQL and one Redis.

Through https a person signs in on the pages (the cookie is Secure), an agent books, the
door scans the pass, the network closes last month and downloads an invoice. The client is
127.0.0.3, not nginx's 127.0.0.1: the API's log lines must name it. The crons are made due
while everything runs: each fires once across the two workers.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import IO

import httpx
import pytest
from redis.asyncio import Redis

from billing.close import NETWORK_TZ
from booking.tables import Booking, OpeningHours, Outbox
from service.app.embedded import free_port
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.billing.factories import make_visit
from tests.deploy.machine import ROOT, debian_tool, local_site
from tests.factories import (
    PASSWORD,
    make_booking,
    make_organisation,
    make_rates,
    make_user,
    make_venue,
    make_workspace,
)

pytestmark = pytest.mark.slow

CLIENT = "127.0.0.3"  # where the test's requests come from; nginx reaches the API from .1
PROBE = "127.0.0.4"  # where the readiness probe through nginx comes from
PASS_KEY = "1:" + base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
# Time for the workers to start and the https story to be told before the crons are due.
CRON_MARGIN = timedelta(seconds=45)


@contextlib.contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    handle: IO[bytes] = log.open("wb")
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        handle.close()


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, verify: str | None) -> None:
    deadline = time.monotonic() + 150  # two cores shared with other test runs
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url}: the process exited\n{log.read_text()[-3000:]}")
        try:
            context = ssl.create_default_context(cafile=verify) if verify else False
            transport = httpx.HTTPTransport(local_address=PROBE if verify else None, verify=context)
            with httpx.Client(transport=transport, timeout=2) as http:
                status = http.get(url).status_code
            if status == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} not ready\n{log.read_text()[-3000:]}")


def _due_time() -> datetime:
    due = (datetime.now(UTC) + CRON_MARGIN).replace(microsecond=0)
    if (due + timedelta(seconds=20)).hour != due.hour:  # arq's cron fields within one hour
        due += timedelta(seconds=30)
    return due


async def test_behind_nginx_with_tls_two_api_processes_and_two_workers_serve_the_month(
    settings: Settings, redis: Redis, tmp_path: Path
) -> None:
    nginx = debian_tool("nginx", "nginx")
    paris_today = datetime.now(NETWORK_TZ).date()
    last_month = (paris_today.replace(day=1) - timedelta(days=1)).replace(day=1)
    venue = await make_venue(hours=False, name="La Filature")
    await OpeningHours.insert(
        *[
            OpeningHours(venue=venue.id, weekday=d, opens=dt_time(0), closes=dt_time(23, 59))
            for d in range(7)
        ]
    )
    desk = await make_workspace(venue, capacity=5)
    await make_rates(venue, unit="day", venue_cents=2400, organisation_cents=3600)
    await make_rates(venue, unit="half_day", venue_cents=1200, organisation_cents=1800)
    organisation = await make_organisation(name="Métropole")
    agent = await make_user(
        Role.AGENT, organisation=organisation, email="camille@metropole.example.org"
    )
    staff = await make_user(Role.VENUE_STAFF, venue=venue, email="accueil@filature.example.org")
    admin = await make_user(Role.NETWORK_ADMIN, email="regie@reseau.example.org")
    for day in (10, 12):
        await make_visit(agent, venue, desk, last_month.replace(day=day))
    await make_booking(agent, desk, paris_today, slot="day")
    # The reminders' cron comes due while the story is told: the booking it must remind of
    # exists before; the one made over https is for the day after, not reminded yet.
    colleague = await make_user(
        Role.AGENT, organisation=organisation, email="sam@metropole.example.org"
    )
    await make_booking(colleague, desk, paris_today + timedelta(days=1), slot="day")

    https_port, http_port, api_port = free_port(), free_port(), free_port()
    base = f"https://localhost:{https_port}"
    main = local_site(tmp_path, https_port=https_port, http_port=http_port, upstreams=[api_port])
    cert = str(tmp_path / "cert.pem")
    due = _due_time()
    paris_due = due.astimezone(NETWORK_TZ)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("APP_", "TEST_"))},
        "APP_ENV": "production",
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "SECRET_KEY": "e2e-" + "k" * 48,
        "PASS_SIGNING_KEYS": PASS_KEY,
        "BASE_URL": base,
        "TRUSTED_PROXIES": "127.0.0.1",
        "DATA_DIR": str(tmp_path / "data"),
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",  # a failure shows the processes' last lines
        "MONTHLY_CLOSE_DAY": str(paris_due.day),
        "MONTHLY_CLOSE_TIME": paris_due.strftime("%H:%M:%S"),
        "REMINDERS_TIME_UTC": due.strftime("%H:%M:%S"),
    }
    tierslieux = [sys.executable, "-m", "service.app.cli"]
    api_log, nginx_log = tmp_path / "api.log", tmp_path / "nginx-run.log"
    worker_logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    with contextlib.ExitStack() as stack:
        api = stack.enter_context(
            running([*tierslieux, "serve", "--port", str(api_port), "--workers", "2"], env, api_log)
        )
        for log in worker_logs:
            stack.enter_context(running([*tierslieux, "worker"], env, log))
        proxy = stack.enter_context(
            running([nginx, "-c", str(main), "-p", str(tmp_path)], env, nginx_log)
        )
        await asyncio.to_thread(
            _wait_for, f"http://127.0.0.1:{api_port}/readyz", api, api_log, None
        )
        await asyncio.to_thread(_wait_for, f"{base}/healthz", proxy, nginx_log, cert)

        transport = httpx.AsyncHTTPTransport(
            local_address=CLIENT, verify=ssl.create_default_context(cafile=cert)
        )
        async with httpx.AsyncClient(base_url=base, transport=transport, timeout=30) as http:
            # The plain-http port only redirects to https; /metrics is refused from outside.
            plain = await http.get(f"http://127.0.0.1:{http_port}/agent")
            assert plain.status_code == 301
            assert plain.headers["location"].startswith("https://")
            assert (await http.get("/metrics")).status_code == 403
            static = await http.get("/static/web.css")
            assert static.status_code == 200
            assert "max-age=86400" in static.headers["cache-control"]
            hsts = (await http.get("/healthz")).headers
            assert "max-age" in hsts["strict-transport-security"]

            # Sign in on the pages: every cookie set over https is Secure.
            home = await http.get("/")
            assert home.status_code == 200
            signed_in = await http.post(
                "/signin",
                data={
                    "email": agent.email,
                    "password": PASSWORD,
                    "_csrf_token": http.cookies["csrftoken"],
                },
            )
            assert signed_in.status_code == 303, signed_in.text[:500]
            cookies = home.headers.get_list("set-cookie") + signed_in.headers.get_list("set-cookie")
            assert cookies
            assert all("secure" in c.lower() for c in cookies), cookies
            page = await http.get("/agent")
            assert page.status_code == 200
            assert 'action="/signout"' in page.text  # a signed-in page

            tokens = {}
            for who in (agent, staff, admin):
                answer = await http.post(
                    "/api/v1/auth/token", json={"email": who.email, "password": PASSWORD}
                )
                assert answer.status_code == 200, answer.text
                tokens[who.role] = {"Authorization": f"Bearer {answer.json()['access_token']}"}

            # Book the day after tomorrow, then get the pass.
            later = paris_today + timedelta(days=2)
            booked = await http.post(
                "/api/v1/bookings",
                json={"workspace_id": str(desk.id), "date": later.isoformat(), "slot": "day"},
                headers={**tokens[Role.AGENT], "Idempotency-Key": str(uuid.uuid4())},
            )
            assert booked.status_code == 201, booked.text
            issued = await http.get("/api/v1/me/pass", headers=tokens[Role.AGENT])
            assert issued.status_code == 200, issued.text

            # The door: today's booking is checked in.
            scanned = await http.post(
                f"/api/v1/venues/{venue.id}/scans",
                json={
                    "scan_id": str(uuid.uuid4()),
                    "token": issued.json()["token"],
                    "scanned_at": datetime.now(UTC).isoformat(),
                    "direction": "in",
                },
                headers=tokens[Role.VENUE_STAFF],
            )
            assert scanned.status_code == 201, scanned.text
            assert scanned.json()["admitted"] is True, scanned.json()
            assert scanned.json()["visit_id"], scanned.json()

            # The network closes last month (a worker does it) and downloads the invoice.
            period = f"{last_month:%Y-%m}"
            closing = await http.post(
                f"/api/v1/billing/periods/{period}/close", headers=tokens[Role.NETWORK_ADMIN]
            )
            assert closing.status_code == 202, closing.text
            pdf = await _invoice_pdf(http, tokens[Role.NETWORK_ADMIN], period)
            assert pdf.startswith(b"%PDF-")

        # HTTP/2 on the TLS port, as the site says.
        if shutil.which("curl"):
            curl = await asyncio.to_thread(
                subprocess.run,
                [
                    "curl",
                    "-s",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_version}",
                    "--http2",
                    "--interface",
                    PROBE,
                    "--cacert",
                    cert,
                    f"{base}/healthz",
                ],
                capture_output=True,
                text=True,
                timeout=20,
            )
            version = curl.stdout
            assert version == "2", version

        # The crons come due while both workers run: each fires once.
        deadline = time.monotonic() + (due - datetime.now(UTC)).total_seconds() + 40
        while time.monotonic() < deadline:
            if await Outbox.count().where(Outbox.kind == "booking_reminder") >= 1 and _fired(
                worker_logs, "monthly_close"
            ):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)  # a second firing would come now

    everything = "\n".join(log.read_text() for log in worker_logs)
    assert _fired(worker_logs, "monthly_close") == 1, everything[-4000:]
    assert _fired(worker_logs, "send_reminders") == 1, everything[-4000:]
    bookings = await Booking.select(Booking.local_date, Booking.status, Booking.reminded_at)
    assert await Outbox.count().where(Outbox.kind == "booking_reminder") == 1, (
        bookings,
        everything[-3000:],
    )

    # The API's request lines name the client behind nginx, never nginx itself.
    requests = [
        event
        for line in api_log.read_text().splitlines()
        if line.startswith("{")
        for event in [json.loads(line)]
        if event.get("event") == "request"
    ]
    through_nginx = [r for r in requests if r["path"] != "/readyz"]
    assert len(through_nginx) >= 8, requests
    assert {r["client"] for r in through_nginx} == {CLIENT, PROBE}, through_nginx
    assert sum(r["client"] == CLIENT for r in through_nginx) >= 8
    # And nginx's own access log agrees.
    access = (tmp_path / "tierslieux.access.log").read_text()
    assert {line.split(" ", 1)[0] for line in access.splitlines()} == {CLIENT, PROBE}


def _fired(logs: list[Path], cron: str) -> int:
    return sum(
        len(re.findall(rf"→ cron:{cron}\(", log.read_text())) for log in logs if log.exists()
    )


async def _invoice_pdf(http: httpx.AsyncClient, headers: dict[str, str], period: str) -> bytes:
    """The month's invoice as PDF once the worker closed and rendered it (503 meanwhile)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listed = await http.get("/api/v1/invoices", params={"period": period}, headers=headers)
        assert listed.status_code == 200, listed.text
        items = listed.json()["items"]
        if items:
            answer = await http.get(f"/api/v1/invoices/{items[0]['id']}.pdf", headers=headers)
            if answer.status_code == 200:
                return answer.content
            assert answer.status_code == 503, answer.text
        await asyncio.sleep(0.5)
    raise AssertionError(f"no rendered invoice for {period}")
