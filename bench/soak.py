"""Soak: a busy network's mixed traffic for ten minutes, through a frozen Redis and a dead worker.

Two API processes (uvicorn, production mode) and one worker share a PostgreSQL database and a
Redis server of their own (embedded, so that this script may freeze it). Open loops, each
request timed from when it was due, spread over both API processes:

    searches 20/s (GET /api/v1/availability), bookings 5/s (POST /api/v1/bookings),
    door scans 20/s (POST /api/v1/venues/{id}/scans), page views 10/s (agents' pages, home)

Midway Redis is frozen (SIGSTOP) for 30 s, then thawed; later the worker is killed (SIGKILL)
and started again 20 s after. At the end the script prints the requests by status, the answers
slower than 10 s, the 5xx outside the frozen window, the bookings and scans acknowledged but
missing from the database, and each process's memory (RSS) at start and at end:

    python3 -m uv run --frozen python -m bench.soak \\
        --database-url postgresql://postgres@127.0.0.1:5432/tl_bench_soak

The database is dropped and re-created, then dropped at the end (--keep keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.harness import ROOT, Connection, command_line, http_get, http_post, server
from bench.scan_world import KEY_ID, World, seed
from passes.keys import encode_key
from service.app.embedded import EmbeddedRedis
from service.kernel.database import migrate, with_database
from service.kernel.settings import Settings
from service.kernel.tokens import issue_access_token

PARIS = ZoneInfo("Europe/Paris")
SLOW = 10.0  # seconds: an answer slower than this counts as a hang
GIVE_UP = 60.0  # seconds: the client stops waiting (a hang is then a transport error)


@dataclass
class Outcome:
    stream: str
    sent: float  # seconds since the start of the soak
    answered: float
    status: int  # 0: no answer (transport error or timeout)
    error: str = ""


@dataclass
class Ledger:
    outcomes: list[Outcome] = field(default_factory=list)
    bookings: list[uuid.UUID] = field(default_factory=list)  # acknowledged with 201
    scans: list[uuid.UUID] = field(default_factory=list)  # acknowledged with 2xx
    # The first answer of each (stream, status) that is an error: what went wrong, to read.
    samples: dict[tuple[str, int], bytes] = field(default_factory=dict)


@dataclass
class Request:
    raw: bytes
    on_answer: Callable[[int, bytes], None] | None = None


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def stream(
    name: str,
    ports: list[int],
    build: Callable[[int], Request],
    rate: float,
    seconds: float,
    start: float,
    ledger: Ledger,
) -> None:
    """`rate` requests a second for `seconds`, alternating between the API processes."""
    idle: dict[int, list[Connection]] = {port: [] for port in ports}

    async def one(n: int, due: float) -> None:
        port = ports[n % len(ports)]
        request = build(n)
        pool = idle[port]
        while pool and time.monotonic() - pool[-1].used > 4:
            pool.pop().close()
        status, body, error = 0, b"", ""
        try:
            connection = pool.pop() if pool else await Connection.open(port)
            try:
                status, body = await asyncio.wait_for(connection.send(request.raw), GIVE_UP)
                pool.append(connection)
            except BaseException:
                connection.close()
                raise
        except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError) as failure:
            error = type(failure).__name__
        ledger.outcomes.append(
            Outcome(name, due - start, time.perf_counter() - start, status, error)
        )
        if status >= 400:
            ledger.samples.setdefault((name, status), body[:300])
        if status and request.on_answer is not None:
            request.on_answer(status, body)

    tasks = []
    for n in range(int(rate * seconds)):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n, due)))
    await asyncio.gather(*tasks)
    for pool in idle.values():
        for connection in pool:
            connection.close()


@contextlib.contextmanager
def worker_process(
    env: dict[str, str], log: Path
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Starts the worker on demand (`tierslieux worker`); every one started is stopped at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.app.cli", "worker"],
            env=env,
            cwd=ROOT,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()


async def bookable(dsn: str) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Opens the door-scan world's venues on weekdays; its agents with a pass, and its desks."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "INSERT INTO opening_hours (venue, weekday, opens, closes)"
            " SELECT v.id, d, '08:00', '19:00' FROM venue v, generate_series(0, 4) AS d"
        )
        agents = [
            r["id"]
            for r in await connection.fetch(
                "SELECT u.id FROM app_user u JOIN pass p ON p.agent = u.id"
                " WHERE u.role = 'agent' AND p.status = 'active' ORDER BY u.email"
            )
        ]
        desks = [r["id"] for r in await connection.fetch("SELECT id FROM workspace ORDER BY id")]
    finally:
        await connection.close()
    return agents, desks


async def missing(dsn: str, ledger: Ledger) -> tuple[int, int]:
    connection = await asyncpg.connect(dsn)
    try:
        bookings = await connection.fetchval(
            "SELECT count(*) FROM booking WHERE id = ANY($1::uuid[])", ledger.bookings
        )
        scans = await connection.fetchval(
            "SELECT count(*) FROM scan WHERE scan_id = ANY($1::uuid[])", ledger.scans
        )
    finally:
        await connection.close()
    return len(set(ledger.bookings)) - bookings, len(set(ledger.scans)) - scans


def traffic(
    world: World, agents: list[uuid.UUID], desks: list[uuid.UUID], secret: str, ledger: Ledger
) -> dict[str, Callable[[int], Request]]:
    """The four request streams' builders."""
    settings = Settings(secret_key=secret)
    tokens = [issue_access_token(settings, agent, "agent", generation=0)[0] for agent in agents]
    rng = random.Random(20261203)
    today = datetime.now(PARIS).date()
    days = [today + timedelta(days=d) for d in range(1, 29)]
    days = [d for d in days if d.weekday() < 5]

    def search(_: int) -> Request:
        query = urlencode(
            {
                "date": rng.choice(days).isoformat(),
                "slot": rng.choice(("morning", "afternoon", "day")),
                "lat": "50.63",
                "lon": "3.06",
                "radius_km": "10",
            }
        )
        headers = {"Authorization": f"Bearer {rng.choice(tokens)}"}
        return Request(http_get(f"/api/v1/availability?{query}", headers))

    def book(n: int) -> Request:
        # Each agent books distinct half-days, well inside the monthly allowance.
        agent = n % len(tokens)
        turn = n // len(tokens)
        body = json.dumps(
            {
                "workspace_id": str(desks[n % len(desks)]),
                "date": days[turn % len(days)].isoformat(),
                "slot": ("morning", "afternoon")[(turn // len(days)) % 2],
            }
        ).encode()
        headers = {"Authorization": f"Bearer {tokens[agent]}", "Idempotency-Key": str(uuid.uuid4())}

        def answered(status: int, answer: bytes) -> None:
            if status == 201:
                ledger.bookings.append(uuid.UUID(json.loads(answer)["id"]))

        return Request(http_post("/api/v1/bookings", headers, body), answered)

    def scan(_: int) -> Request:
        holder = rng.choice(world.open_loop_agents)
        devices = world.devices[holder.venue]
        scan_id = uuid.uuid4()
        body = json.dumps(
            {
                "scan_id": str(scan_id),
                "token": holder.token,
                "scanned_at": datetime.now(UTC).isoformat(),
                "direction": "out" if rng.random() < 0.1 else "in",
            }
        ).encode()
        headers = {"Authorization": rng.choice(devices)}

        def answered(status: int, _: bytes) -> None:
            if 200 <= status < 300:
                ledger.scans.append(scan_id)

        path = f"/api/v1/venues/{world.venues[holder.venue]}/scans"
        return Request(http_post(path, headers, body), answered)

    def page(n: int) -> Request:
        if n % 5 == 0:
            return Request(http_get("/", {}))
        cookie = {"Cookie": f"tl_session={rng.choice(tokens)}"}
        return Request(http_get(rng.choice(("/agent", "/agent/bookings", "/agent/pass")), cookie))

    return {"search": search, "booking": book, "scan": scan, "page": page}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a scratch database (re-created)")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--freeze-seconds", type=float, default=30)
    parser.add_argument("--worker-down-seconds", type=float, default=20)
    parser.add_argument("--searches", type=float, default=20)
    parser.add_argument("--bookings", type=float, default=5)
    parser.add_argument("--scans", type=float, default=20)
    parser.add_argument("--pages", type=float, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="about a minute: 45 s of traffic, Redis frozen 5 s, the worker down 5 s",
    )
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.freeze_seconds, args.worker_down_seconds = 0.75, 5, 5
    dsn, name = args.database_url, args.database_url.rsplit("/", 1)[1]
    seconds = args.minutes * 60
    freeze_at, thaw_at = 0.4 * seconds, 0.4 * seconds + args.freeze_seconds
    kill_at, restart_at = 0.6 * seconds, 0.6 * seconds + args.worker_down_seconds
    command = command_line("bench.soak")

    key = Ed25519PrivateKey.generate()
    admin = await asyncpg.connect(with_database(dsn, "postgres"))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    folder = Path(tempfile.mkdtemp(prefix="tl-soak-"))
    redis = EmbeddedRedis(folder / "redis", persist=False)
    redis.start()
    ledger = Ledger()
    memory: dict[str, list[float]] = {}
    try:
        await migrate(dsn)
        world = await seed(dsn, key, venues=10, agents=3000, max_agents=1000, devices=100)
        agents, desks = await bookable(dsn)
        secret = "soak-" + uuid.uuid4().hex + uuid.uuid4().hex
        env = {
            **os.environ,
            "APP_ENV": "production",
            "DATABASE_URL": dsn,
            "REDIS_URL": redis.url(),
            "SECRET_KEY": secret,
            "PASS_SIGNING_KEYS": encode_key(KEY_ID, key),
            "DATA_DIR": str(folder / "data"),
            "LOG_LEVEL": "WARNING",
            "DATABASE_POOL_SIZE": "10",
        }
        builders = traffic(world, agents, desks, secret, ledger)
        with (
            server(env) as first,
            server(env) as second,
            worker_process(env, folder / "worker.log") as start_worker,
        ):
            processes = {"api 1": first.process, "api 2": second.process}
            worker = start_worker()
            ports = [first.port, second.port]
            start = time.perf_counter()

            async def faults() -> None:
                nonlocal worker
                await asyncio.sleep(30)
                for label, process in {**processes, "worker": worker}.items():
                    memory[label] = [rss_mib(process.pid)]
                await asyncio.sleep(freeze_at - (time.perf_counter() - start))
                assert redis.process is not None
                os.kill(redis.process.pid, signal.SIGSTOP)
                print(f"{time.perf_counter() - start:6.1f} s  Redis frozen")
                try:
                    await asyncio.sleep(thaw_at - (time.perf_counter() - start))
                finally:
                    os.kill(redis.process.pid, signal.SIGCONT)
                print(f"{time.perf_counter() - start:6.1f} s  Redis thawed")
                await asyncio.sleep(kill_at - (time.perf_counter() - start))
                memory["worker"].append(rss_mib(worker.pid))
                worker.kill()
                print(f"{time.perf_counter() - start:6.1f} s  worker killed")
                await asyncio.sleep(restart_at - (time.perf_counter() - start))
                worker = start_worker()
                print(f"{time.perf_counter() - start:6.1f} s  worker started again")
                await asyncio.sleep(min(30, seconds - (time.perf_counter() - start) - 2))
                memory["worker (restarted)"] = [rss_mib(worker.pid)]
                await asyncio.sleep(max(seconds - (time.perf_counter() - start) - 1, 0))
                for label, process in {**processes, "worker (restarted)": worker}.items():
                    memory[label].append(rss_mib(process.pid))

            rates = {
                "search": args.searches,
                "booking": args.bookings,
                "scan": args.scans,
                "page": args.pages,
            }
            await asyncio.gather(
                faults(),
                *[
                    stream(label, ports, builders[label], rate, seconds, start, ledger)
                    for label, rate in rates.items()
                ],
            )
        lost_bookings, lost_scans = await missing(dsn, ledger)
    finally:
        redis.stop()
        if not args.keep:
            admin = await asyncpg.connect(with_database(dsn, "postgres"))
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()

    def frozen(outcome: Outcome) -> bool:
        # Touched the frozen window: sent before the thaw (plus 5 s to drain) and answered after
        # the freeze began.
        return outcome.sent < thaw_at + 5 and outcome.answered > freeze_at

    print(
        f"date: {datetime.now(UTC):%Y-%m-%d}; {os.cpu_count()} CPUs; two API processes, one "
        f"worker, PostgreSQL, Redis and the load generator on the same machine"
    )
    print(f"command: {command}")
    print(
        f"{seconds:.0f} s; Redis frozen {freeze_at:.0f}-{thaw_at:.0f} s; worker killed at "
        f"{kill_at:.0f} s, started again at {restart_at:.0f} s"
    )
    for label in ("search", "booking", "scan", "page"):
        mine = [o for o in ledger.outcomes if o.stream == label]
        statuses = Counter(o.status or o.error for o in mine)
        waits = sorted(o.answered - o.sent for o in mine)
        p50, p99 = (waits[int(q * (len(waits) - 1))] * 1000 for q in (0.5, 0.99))
        print(
            f"{label}: {len(mine):,} requests, by status "
            f"{dict(sorted(statuses.items(), key=str))}; p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
            f"max {waits[-1] * 1000:.0f} ms"
        )
    print("by 30 s window of sending: requests, 5xx, p99 / max answer time")
    for begin in range(0, int(seconds), 30):
        window = [o for o in ledger.outcomes if begin <= o.sent < begin + 30]
        if window:
            waits = sorted(o.answered - o.sent for o in window)
            errors = sum(1 for o in window if o.status >= 500 or o.error)
            print(
                f"  {begin:4d}-{begin + 30:<4d} s: {len(window):5,}, {errors:4}, "
                f"{waits[int(0.99 * (len(waits) - 1))] * 1000:6.0f} / {waits[-1] * 1000:6.0f} ms"
            )
    slow = [o for o in ledger.outcomes if o.answered - o.sent > SLOW or o.error]
    outside = [o for o in ledger.outcomes if o.status >= 500 and not frozen(o)]
    inside = [o for o in ledger.outcomes if o.status >= 500 and frozen(o)]
    print(f"answers over {SLOW:.0f} s or none: {len(slow)} (goal 0)")
    print(f"5xx outside the frozen window: {len(outside)} (goal 0); inside it: {len(inside)}")
    print(
        f"acknowledged but missing from the database: bookings {lost_bookings} of "
        f"{len(ledger.bookings):,}, scans {lost_scans} of {len(ledger.scans):,} (goal 0)"
    )
    for (label, status), body in sorted(ledger.samples.items()):
        print(f"  first {status} to a {label}: {body.decode(errors='replace')}")
    p99s = {}
    for label in ("search", "booking", "scan", "page"):
        waits = sorted(o.answered - o.sent for o in ledger.outcomes if o.stream == label)
        if waits:
            p99s[label] = round(waits[int(0.99 * (len(waits) - 1))] * 1000, 1)
    print(
        json.dumps(
            {
                "bench": "soak",
                "quick": args.quick,
                "seconds": seconds,
                "requests": len(ledger.outcomes),
                "slow_or_none": len(slow),
                "server_errors_outside_freeze": len(outside),
                "server_errors_inside_freeze": len(inside),
                "lost_bookings": lost_bookings,
                "lost_scans": lost_scans,
                "p99_ms": p99s,
            }
        )
    )
    for label, (begin, *end) in memory.items():
        if end:
            growth = 100 * (end[-1] - begin) / begin
            print(
                f"memory {label}: {begin:.0f} MiB -> {end[-1]:.0f} MiB ({growth:+.1f} %, goal < 10 %)"
            )


if __name__ == "__main__":
    asyncio.run(main())
