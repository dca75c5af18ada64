"""Benchmark of door scans: open-loop latency at a fixed rate, maximum throughput, verifier speed.

Seeds a fresh database (venues with desk areas and rates, agents with signed passes, today's
bookings for most of them, door-device tokens), starts the real application with uvicorn in
production mode, and fires scans over HTTP/1.1 keep-alive connections:

1. the offline verifier alone: tokens verified per second on one core (no I/O);
2. open loop: scans at a fixed rate (default 200/s for 60 s), each latency measured from the
   moment it was due (queueing counts), with a realistic mix: first check-ins of booked agents
   and walk-ins, repeat scans, check-outs, revoked and forged tokens;
3. closed loop: the maximum scan throughput (C connections sending back to back);
4. the same closed loop against a bare Litestar endpoint (same uvicorn, JSON body in and out,
   no database) to give the ratio scan / bare.

    python3 -m uv run --frozen python -m bench.scan \\
        --database-url postgresql://postgres@127.0.0.1:5432/tl_bench_scan \\
        --redis-url redis://127.0.0.1:6379/10

The database is dropped and re-created, then dropped at the end (--keep to keep it); the
Redis database is flushed: point both at scratch databases only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import base45
import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar import Litestar, post
from redis.asyncio import Redis

from bench import rows
from passes.keys import encode_key, parse_keys
from passes.scan_schemas import NewScan
from passes.verify import HEADER, VERSION, PublicKey, encode, verify
from service.app.embedded import free_port
from service.kernel.database import migrate, with_database

ROOT = Path(__file__).resolve().parent.parent

PARIS = ZoneInfo("Europe/Paris")
KEY_ID = 7
DESK_AREAS_PER_VENUE = 3
DESK_CAPACITY = 1000  # the workspace CHECK's maximum


# --- the bare endpoint the scan endpoint is compared with --------------------------------------


class BareAnswer(NewScan):
    admitted: bool = True


def bare_app() -> Litestar:
    """Litestar alone: parse the same JSON body, answer a small JSON. No middleware, no database."""

    @post("/bare", status_code=201)
    async def bare(data: NewScan) -> BareAnswer:
        return BareAnswer(data.scan_id, data.token, data.scanned_at, data.direction)

    return Litestar([bare], debug=False, logging_config=None, openapi_config=None)


# --- a small HTTP/1.1 keep-alive client: cheap enough not to be what is measured --------------


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.used = time.monotonic()

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length) if length else b""
        self.used = time.monotonic()
        return status, body

    def close(self) -> None:
        self.writer.close()


def http_post(path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: bench", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --- seeding -----------------------------------------------------------------------------------


@dataclass
class Holder:
    token: str
    venue: int  # index of the venue where this agent goes


@dataclass
class World:
    venues: list[uuid.UUID]
    devices: list[list[str]]  # per venue: Authorization headers of its door devices
    open_loop_agents: list[Holder]
    max_agents: list[Holder]
    revoked: list[Holder]
    device_turn: list[int] = field(default_factory=list)


def sign(key: Ed25519PrivateKey, serial: int, not_before: datetime) -> str:
    header = HEADER.pack(
        VERSION,
        KEY_ID,
        serial,
        int(not_before.timestamp()),
        int((not_before + timedelta(days=366)).timestamp()),
    )
    return encode(header, key.sign(header))


async def seed(
    dsn: str, key: Ed25519PrivateKey, *, venues: int, agents: int, max_agents: int, devices: int
) -> World:
    rng = random.Random(20261124)
    now = datetime.now(UTC)
    today = now.astimezone(PARIS).date()
    connection = await asyncpg.connect(dsn)
    try:
        orgs = [uuid.uuid4() for _ in range(5)]
        await connection.copy_records_to_table(
            "organisation",
            columns=rows.ORGANISATION_COLUMNS,
            records=[rows.organisation(o, i, now) for i, o in enumerate(orgs)],
        )
        venue_ids = [uuid.uuid4() for _ in range(venues)]
        await connection.copy_records_to_table(
            "venue",
            columns=rows.VENUE_COLUMNS,
            records=[rows.venue(v, i, now) for i, v in enumerate(venue_ids)],
        )
        areas = {v: [uuid.uuid4() for _ in range(DESK_AREAS_PER_VENUE)] for v in venue_ids}
        await connection.copy_records_to_table(
            "workspace",
            columns=[
                "id",
                "venue",
                "kind",
                "name",
                "capacity",
                "booking_unit",
                "equipment",
                "active",
                "created_at",
            ],
            records=[
                (w, v, "desk", f"Plateau {n}", DESK_CAPACITY, "half_day", [], True, now)
                for v, ws in areas.items()
                for n, w in enumerate(ws)
            ],
        )
        rate_rows = []
        for v in venue_ids:
            for unit, cents in (("half_day", 1200), ("day", 2200)):
                rate_rows.append(
                    (
                        uuid.uuid4(),
                        v,
                        "desk",
                        unit,
                        cents,
                        Decimal("0.2"),
                        today - timedelta(days=200),
                        now,
                    )
                )
        await connection.copy_records_to_table(
            "venue_rate",
            columns=[
                "id",
                "venue",
                "workspace_kind",
                "unit",
                "amount_cents",
                "vat_rate",
                "effective_from",
                "created_at",
            ],
            records=rate_rows,
        )
        await connection.copy_records_to_table(
            "organisation_rate",
            columns=[
                "id",
                "organisation",
                "workspace_kind",
                "unit",
                "amount_cents",
                "vat_rate",
                "effective_from",
                "created_at",
            ],
            records=[
                (
                    uuid.uuid4(),
                    None,
                    "desk",
                    unit,
                    cents,
                    Decimal("0.2"),
                    today - timedelta(days=200),
                    now,
                )
                for unit, cents in (("half_day", 1800), ("day", 3300))
            ],
        )
        # People: one venue admin per venue (who registered its devices), then the agents.
        admins = [uuid.uuid4() for _ in venue_ids]
        total_agents = agents + max_agents + max(agents // 10, 10)
        agent_ids = [uuid.uuid4() for _ in range(total_agents)]
        user_rows = [
            (
                a,
                f"admin{i}@example.org",
                f"Accueil {i}",
                "venue_admin",
                venue_ids[i],
                None,
                f"V{i:09d}",
                True,
                now,
            )
            for i, a in enumerate(admins)
        ]
        user_rows += [
            (
                a,
                f"agent{i}@example.org",
                f"Agent {i}",
                "agent",
                None,
                orgs[i % len(orgs)],
                f"A{i:09d}",
                True,
                now,
            )
            for i, a in enumerate(agent_ids)
        ]
        await connection.copy_records_to_table(
            "app_user",
            columns=[
                "id",
                "email",
                "display_name",
                "role",
                "venue",
                "organisation",
                "pseudonym",
                "active",
                "created_at",
            ],
            records=user_rows,
        )
        device_headers: list[list[str]] = [[] for _ in venue_ids]
        device_rows = []
        for n in range(devices):
            index = n % len(venue_ids)
            token = f"tldev_bench{n:06d}{uuid.uuid4().hex}"
            device_headers[index].append(f"Bearer {token}")
            device_rows.append(
                (
                    uuid.uuid4(),
                    venue_ids[index],
                    f"Porte {n}",
                    hashlib.sha256(token.encode()).hexdigest(),
                    token[:10],
                    admins[index],
                    now,
                )
            )
        await connection.copy_records_to_table(
            "door_device",
            columns=[
                "id",
                "venue",
                "name",
                "token_hash",
                "token_prefix",
                "created_by",
                "created_at",
            ],
            records=device_rows,
        )
        # Passes, signed as the service signs them; the last tenth are revoked.
        issued = now.replace(microsecond=0) - timedelta(days=30)
        revoked_from = agents + max_agents
        holders: list[Holder] = []
        pass_rows, event_rows = [], []
        for i, agent_id in enumerate(agent_ids):
            serial = 1000 + i
            token = sign(key, serial, issued)
            status = "revoked" if i >= revoked_from else "active"
            holders.append(Holder(token, rng.randrange(len(venue_ids))))
            pass_rows.append(
                (
                    uuid.uuid4(),
                    serial,
                    agent_id,
                    status,
                    KEY_ID,
                    issued,
                    issued + timedelta(days=366),
                    token,
                    issued,
                    issued,
                )
            )
            event_rows.append((serial, "active", issued))
            if status == "revoked":
                event_rows.append((serial, "revoked", issued + timedelta(days=1)))
        await connection.copy_records_to_table(
            "pass",
            columns=[
                "id",
                "serial",
                "agent",
                "status",
                "key_id",
                "not_before",
                "not_after",
                "token",
                "issued_at",
                "status_changed_at",
            ],
            records=pass_rows,
        )
        await connection.copy_records_to_table(
            "pass_status_event", columns=["serial", "status", "at"], records=event_rows
        )
        await connection.execute(f"SELECT setval('pass_serial_seq', {1000 + total_agents})")
        # Seven in ten agents booked a desk for the whole day today at their venue; the others
        # will walk in.
        booking_rows = []
        seats: Counter[uuid.UUID] = Counter()
        starts = datetime.combine(today, clock(8, 30), tzinfo=PARIS)
        ends = datetime.combine(today, clock(18), tzinfo=PARIS)
        for i, (agent_id, holder) in enumerate(zip(agent_ids, holders, strict=True)):
            if i >= revoked_from or rng.random() >= 0.7:
                continue
            venue_id = venue_ids[holder.venue]
            area = areas[venue_id][seats[venue_id] % DESK_AREAS_PER_VENUE]
            seats[venue_id] += 1
            booking_rows.append(
                (
                    uuid.uuid4(),
                    agent_id,
                    orgs[i % len(orgs)],
                    venue_id,
                    area,
                    starts,
                    ends,
                    today,
                    "day",
                    "day",
                    1,
                    1,
                    False,
                    2,
                    "confirmed",
                    False,
                    0,
                    now,
                    now,
                    False,
                )
            )
        await connection.copy_records_to_table(
            "booking",
            columns=[
                "id",
                "agent",
                "organisation",
                "venue",
                "workspace",
                "starts_at",
                "ends_at",
                "local_date",
                "slot",
                "unit",
                "quantity",
                "seats",
                "exclusive",
                "allowance_units",
                "status",
                "walk_in",
                "sequence",
                "created_at",
                "updated_at",
                "cancelled_by_venue",
            ],
            records=booking_rows,
        )
        await connection.execute(
            """
            INSERT INTO seat_occupancy (workspace, local_date, half, seats_taken, capacity)
            SELECT workspace, local_date, half, count(*), $1
              FROM booking, unnest(ARRAY['am', 'pm']) AS half GROUP BY 1, 2, 3
            """,
            DESK_CAPACITY,
        )
        await connection.execute("ANALYZE")
        print(
            f"seeded {venues} venues x {DESK_AREAS_PER_VENUE} desk areas, {total_agents:,} "
            f"agents with passes ({total_agents - revoked_from} revoked), "
            f"{len(booking_rows):,} bookings today, {devices} door devices"
        )
    finally:
        await connection.close()
    return World(
        venues=venue_ids,
        devices=device_headers,
        open_loop_agents=holders[:agents],
        max_agents=holders[agents:revoked_from],
        revoked=holders[revoked_from:],
        device_turn=[0] * len(venue_ids),
    )


def forge(token: str) -> str:
    """The same pass with one bit of its signature flipped: a forgery the verifier must catch."""
    raw = bytearray(base45.b45decode(token[4:]))
    raw[-1] ^= 1
    return encode(bytes(raw[: HEADER.size]), bytes(raw[HEADER.size :]))


class ScanMix:
    """Builds scan requests: 90 % valid passes (of which 10 % check-outs), 5 % revoked, 5 % forged."""

    def __init__(self, world: World, agents: list[Holder], seed: int) -> None:
        self.world, self.agents = world, agents
        self.rng = random.Random(seed)
        self._now = ("", 0.0)

    def _scanned_at(self) -> str:
        stamp, when = self._now
        if time.monotonic() - when > 0.2:
            stamp = datetime.now(UTC).isoformat()
            self._now = (stamp, time.monotonic())
        return stamp

    def __call__(self, _: int) -> bytes:
        draw = self.rng.random()
        direction = "in"
        if draw < 0.05:
            holder = self.rng.choice(self.world.revoked)
            token = holder.token
        elif draw < 0.10:
            holder = self.rng.choice(self.agents)
            token = forge(holder.token)
        else:
            holder = self.rng.choice(self.agents)
            token = holder.token
            direction = "out" if draw > 0.91 else "in"
        venue = holder.venue
        devices = self.world.devices[venue]
        self.world.device_turn[venue] += 1
        device = devices[self.world.device_turn[venue] % len(devices)]
        body = json.dumps(
            {
                "scan_id": str(uuid.uuid4()),
                "token": token,
                "scanned_at": self._scanned_at(),
                "direction": direction,
            }
        ).encode()
        return http_post(
            f"/api/v1/venues/{self.world.venues[venue]}/scans", {"Authorization": device}, body
        )


class FloorMix(ScanMix):
    """A scan with no token: authenticated, rate-limited, refused at validation (422).

    What every scan pays before the scan service runs: the middleware stack, the door
    device's token lookup, the guards and the JSON body.
    """

    def __call__(self, _: int) -> bytes:
        venue = self.rng.randrange(len(self.world.venues))
        devices = self.world.devices[venue]
        self.world.device_turn[venue] += 1
        device = devices[self.world.device_turn[venue] % len(devices)]
        body = json.dumps({"scan_id": str(uuid.uuid4()), "direction": "in"}).encode()
        return http_post(
            f"/api/v1/venues/{self.world.venues[venue]}/scans", {"Authorization": device}, body
        )


def bare_requests(_: int) -> bytes:
    body = json.dumps(
        {
            "scan_id": str(uuid.uuid4()),
            "token": "TL1:" + "A" * 119,
            "scanned_at": datetime.now(UTC).isoformat(),
            "direction": "in",
        }
    ).encode()
    return http_post("/bare", {"Authorization": "Bearer x"}, body)


# --- load ---------------------------------------------------------------------------------------


@dataclass
class Run:
    sent: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else 0


def _verdict(status: int, body: bytes) -> str:
    if status != 201:
        return f"HTTP {status}"
    answer = json.loads(body)
    return "admitted" if answer["admitted"] else answer["reason"]


async def open_loop(port: int, build: Callable[[int], bytes], rate: float, seconds: float) -> Run:
    run = Run()
    idle: list[Connection] = []

    async def one(due: float, raw: bytes) -> None:
        # uvicorn closes a keep-alive connection idle for 5 s: never reuse one idle for 4.
        while idle and time.monotonic() - idle[-1].used > 4:
            idle.pop().close()
        connection = idle.pop() if idle else await Connection.open(port)
        try:
            status, body = await connection.send(raw)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            run.errors[type(error).__name__] += 1
            connection.close()
            return
        run.latencies.append(time.perf_counter() - due)
        run.statuses[status] += 1
        run.verdicts[_verdict(status, body)] += 1
        idle.append(connection)

    total = int(rate * seconds)
    tasks = []
    start = time.perf_counter() + 0.05
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, build(i))))
    await asyncio.gather(*tasks)
    run.sent = total
    run.seconds = time.perf_counter() - start
    for connection in idle:
        connection.close()
    return run


async def closed_loop(
    port: int, build: Callable[[int], bytes], clients: int, seconds: float
) -> Run:
    run = Run()
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def worker() -> None:
        connection = await Connection.open(port)
        try:
            while time.perf_counter() < deadline:
                raw = build(next(counter))
                sent = time.perf_counter()
                try:
                    status, _ = await connection.send(raw)
                except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                    run.errors[type(error).__name__] += 1
                    connection.close()
                    connection = await Connection.open(port)
                    continue
                run.latencies.append(time.perf_counter() - sent)
                run.statuses[status] += 1
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(clients)])
    run.seconds = time.perf_counter() - started
    run.sent = sum(run.statuses.values()) + sum(run.errors.values())
    return run


# --- processes ----------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (uvicorn workers), from /proc."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    for p in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _machine_busy() -> tuple[float, float]:
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    return float(sum(parts) - idle), float(sum(parts))


@contextlib.contextmanager
def server(args: list[str], env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            *args,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start within 60 s") from None
                time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


async def measured(process: subprocess.Popen[bytes], load: Callable[[], Any]) -> Run:
    cpu_before = _cpu_seconds(process.pid)
    busy_before, total_before = _machine_busy()
    run: Run = await load()
    busy_after, total_after = _machine_busy()
    run.cpu = {
        "server_cpu_ms_per_request": 1000
        * (_cpu_seconds(process.pid) - cpu_before)
        / max(sum(run.statuses.values()), 1),
        "machine_busy_pct": 100 * (busy_after - busy_before) / max(total_after - total_before, 1),
    }
    return run


def verifier_rate(tokens: list[str], key: Ed25519PrivateKey, seconds: float = 3.0) -> float:
    from cryptography.hazmat.primitives import serialization

    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    keys = {KEY_ID: PublicKey(KEY_ID, public)}
    now = datetime.now(UTC)
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for token in tokens[:1000]:
            assert verify(token, keys=keys, now=now).admitted
        done += min(len(tokens), 1000)
    return done / (time.perf_counter() - started)


def report(name: str, run: Run) -> None:
    ok = sum(n for s, n in run.statuses.items() if s < 400)
    print(
        f"{name}: {run.sent:,} requests in {run.seconds:.1f} s = "
        f"{sum(run.statuses.values()) / run.seconds:,.0f}/s; p50 {run.percentile(50):.1f} ms, "
        f"p99 {run.percentile(99):.1f} ms, max {run.percentile(100):.1f} ms; "
        f"2xx {ok:,}, other statuses {dict(s for s in run.statuses.items() if s[0] >= 400)}, "
        f"transport errors {dict(run.errors)}"
    )
    if run.verdicts:
        print("  verdicts: " + ", ".join(f"{k} {v:,}" for k, v in run.verdicts.most_common()))
    if run.cpu:
        print(
            f"  server CPU {run.cpu['server_cpu_ms_per_request']:.2f} ms/request, "
            f"machine busy {run.cpu['machine_busy_pct']:.0f} %"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--max-seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--venues", type=int, default=10)
    parser.add_argument("--agents", type=int, default=3000)
    parser.add_argument("--max-agents", type=int, default=12000)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    dsn, name = args.database_url, args.database_url.rsplit("/", 1)[1]
    command = " ".join(["python3 -m uv run --frozen python -m bench.scan", *sys.argv[1:]])

    key = Ed25519PrivateKey.generate()
    signing_keys = encode_key(KEY_ID, key)
    assert KEY_ID in parse_keys(signing_keys)

    admin = await asyncpg.connect(with_database(dsn, "postgres"))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    redis = Redis.from_url(args.redis_url)
    await redis.flushdb()
    await redis.aclose()
    try:
        await migrate(dsn)
        world = await seed(
            dsn,
            key,
            venues=args.venues,
            agents=args.agents,
            max_agents=args.max_agents,
            devices=args.devices,
        )
        verified = verifier_rate([h.token for h in world.open_loop_agents], key)
        env = {
            **os.environ,
            "APP_ENV": "production",
            "DATABASE_URL": dsn,
            "REDIS_URL": args.redis_url,
            "SECRET_KEY": "bench-" + uuid.uuid4().hex + uuid.uuid4().hex,
            "PASS_SIGNING_KEYS": signing_keys,
            "DATA_DIR": tempfile.mkdtemp(prefix="tl-bench-"),
            "LOG_LEVEL": "WARNING",
        }
        workers = ["--workers", str(args.workers)] if args.workers > 1 else []
        port = free_port()
        with server(
            ["service.app.factory:app_from_env", "--factory", *workers], env, port
        ) as process:
            warm = ScanMix(world, world.open_loop_agents, 1)
            await open_loop(port, warm, 50, 2)  # connections, caches, prepared statements
            steady = await measured(
                process,
                lambda: open_loop(
                    port, ScanMix(world, world.open_loop_agents, 2), args.rate, args.duration
                ),
            )
            peak = await measured(
                process,
                lambda: closed_loop(
                    port, ScanMix(world, world.max_agents, 3), args.clients, args.max_seconds
                ),
            )
            floor = await measured(
                process,
                lambda: closed_loop(
                    port, FloorMix(world, [], 4), args.clients, args.max_seconds / 2
                ),
            )
        port = free_port()
        # As a namespace package from the root: "--app-dir bench" would let bench/booking.py
        # shadow the `booking` package in the server process.
        bare_args = ["bench.scan:bare_app", "--factory", *workers]
        with server(bare_args, env, port) as process:
            await closed_loop(port, bare_requests, args.clients, 2)
            bare = await measured(
                process, lambda: closed_loop(port, bare_requests, args.clients, args.max_seconds)
            )
    finally:
        if not args.keep:
            admin = await asyncpg.connect(with_database(dsn, "postgres"))
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()

    peak_rate = sum(peak.statuses.values()) / peak.seconds
    bare_rate = sum(bare.statuses.values()) / bare.seconds
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d}; {os.cpu_count()} CPUs; uvicorn workers: "
        f"{args.workers}; load generator, server, PostgreSQL and Redis on the same machine"
    )
    print(f"command: {command}")
    print(f"verifier alone (one core): {verified:,.0f} tokens/s")
    report(f"open loop at {args.rate:.0f} scans/s", steady)
    report(f"max scan throughput ({args.clients} connections)", peak)
    report(
        f"app floor: authenticated scan refused at validation ({args.clients} connections)", floor
    )
    report(f"bare Litestar endpoint ({args.clients} connections)", bare)
    print(f"ratio max scan / bare endpoint: {100 * peak_rate / bare_rate:.0f} %")


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
