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
   no database) to give the ratio scan / bare;
5. the application floors: a request refused at validation after authentication, once with a
   door device's token and once with a person's (the session check on every request).
   `--floors-only` measures just these and the bare endpoint.

    python3 -m uv run --frozen python -m bench.scan \\
        --database-url postgresql://postgres@127.0.0.1:5432/tl_bench_scan \\
        --redis-url redis://127.0.0.1:6379/10

The database is dropped and re-created, then dropped at the end (--keep to keep it); the
Redis database is flushed: point both at scratch databases only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime

import asyncpg
import base45
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from redis.asyncio import Redis

from bench import bare
from bench.harness import (
    Connection,
    Run,
    closed_loop,
    command_line,
    http_post,
    measured,
    open_loop,
    report,
    server,
)
from bench.scan_world import KEY_ID, Holder, World, seed
from passes.keys import encode_key, parse_keys
from passes.verify import HEADER, PublicKey, encode, verify
from service.kernel.database import migrate, with_database
from service.kernel.settings import Settings
from service.kernel.tokens import issue_access_token


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


class PersonFloorMix:
    """A booking with no fields, sent by a signed-in agent: refused at validation (422).

    What every request of a person pays before its service runs: the middleware stack, the
    token's signature, the one query that finds the person and checks the session, the
    guards and the JSON body.
    """

    def __init__(self, bearers: list[str], seed: int) -> None:
        self.bearers = bearers
        self.rng = random.Random(seed)

    def __call__(self, _: int) -> bytes:
        bearer = self.rng.choice(self.bearers)
        return http_post("/api/v1/bookings", {"Authorization": bearer}, b"{}")


async def agent_bearers(dsn: str, secret_key: str, count: int) -> list[str]:
    """Access tokens of `count` seeded agents, as a sign-in would issue them."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT id, role, session_generation FROM app_user WHERE role = 'agent' LIMIT $1",
            count,
        )
    finally:
        await connection.close()
    settings = Settings(secret_key=secret_key)
    return [
        "Bearer "
        + issue_access_token(
            settings, row["id"], row["role"], generation=row["session_generation"]
        )[0]
        for row in rows
    ]


def verdict(status: int, body: bytes) -> str:
    """What the door said: admitted, the refusal's reason, or the HTTP status."""
    if status != 201:
        return f"HTTP {status}"
    answer = json.loads(body)
    return "admitted" if answer["admitted"] else answer["reason"]


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
    parser.add_argument(
        "--floors-only", action="store_true", help="only the two floors and the bare endpoint"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="under a minute: a smaller world, 10 s open loop, 8 s closed loops",
    )
    args = parser.parse_args()
    if args.quick:
        args.duration, args.max_seconds = min(args.duration, 10), min(args.max_seconds, 8)
        args.agents, args.max_agents = min(args.agents, 1500), min(args.max_agents, 5000)
        args.devices = min(args.devices, 200)
    dsn, name = args.database_url, args.database_url.rsplit("/", 1)[1]
    command = command_line("bench.scan")

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
        secret_key = "bench-" + uuid.uuid4().hex + uuid.uuid4().hex
        bearers = await agent_bearers(dsn, secret_key, 1000)
        env = {
            **os.environ,
            "APP_ENV": "production",
            "DATABASE_URL": dsn,
            "REDIS_URL": args.redis_url,
            "SECRET_KEY": secret_key,
            "PASS_SIGNING_KEYS": signing_keys,
            "DATA_DIR": tempfile.mkdtemp(prefix="tl-bench-"),
            "LOG_LEVEL": "WARNING",
        }
        with server(env, workers=args.workers) as app:
            warm = ScanMix(world, world.open_loop_agents, 1)
            await open_loop(app.port, warm, 50, 2)  # connections, caches, prepared statements
            steady = peak = None
            if not args.floors_only:
                steady = await measured(
                    app,
                    lambda: open_loop(
                        app.port,
                        ScanMix(world, world.open_loop_agents, 2),
                        args.rate,
                        args.duration,
                        verdict,
                    ),
                )
                peak = await measured(
                    app,
                    lambda: closed_loop(
                        app.port,
                        ScanMix(world, world.max_agents, 3),
                        args.clients,
                        args.max_seconds,
                    ),
                )
            # Each device and person once first: the floors are those of tokens already in use
            # (a token's first request also pays its look-up in PostgreSQL, ≈ 0.25 ms).
            await send_each(
                app.port,
                [
                    http_post(
                        f"/api/v1/venues/{world.venues[v]}/scans", {"Authorization": d}, b"{}"
                    )
                    for v, devices in enumerate(world.devices)
                    for d in devices
                ],
            )
            await send_each(
                app.port,
                [http_post("/api/v1/bookings", {"Authorization": b}, b"{}") for b in bearers],
            )
            floor = await measured(
                app,
                lambda: closed_loop(
                    app.port, FloorMix(world, [], 4), args.clients, args.max_seconds / 2
                ),
            )
            await closed_loop(app.port, PersonFloorMix(bearers, 6), args.clients, 1)
            person_floor = await measured(
                app,
                lambda: closed_loop(
                    app.port, PersonFloorMix(bearers, 5), args.clients, args.max_seconds / 2
                ),
            )
        with server(env, factory=bare.FACTORY, workers=args.workers, ready_path="/") as baseline:
            await closed_loop(baseline.port, bare.bare_requests, args.clients, 2)
            bare_run = await measured(
                baseline,
                lambda: closed_loop(
                    baseline.port, bare.bare_requests, args.clients, args.max_seconds
                ),
            )
    finally:
        if not args.keep:
            admin = await asyncpg.connect(with_database(dsn, "postgres"))
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()

    bare_rate = sum(bare_run.statuses.values()) / bare_run.seconds
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d}; {os.cpu_count()} CPUs; uvicorn workers: "
        f"{args.workers}; load generator, server, PostgreSQL and Redis on the same machine"
    )
    print(f"command: {command}")
    print(f"verifier alone (one core): {verified:,.0f} tokens/s")
    if steady is not None and peak is not None:
        report(f"open loop at {args.rate:.0f} scans/s", steady)
        report(f"max scan throughput ({args.clients} connections)", peak)
    report(
        f"app floor: authenticated scan refused at validation ({args.clients} connections)", floor
    )
    report(
        f"app floor: signed-in agent's booking refused at validation ({args.clients} connections)",
        person_floor,
    )
    report(f"bare Litestar endpoint ({args.clients} connections)", bare_run)
    figures: dict[str, object] = {"bench": "scan", "quick": args.quick}
    if steady is not None and peak is not None:
        peak_rate = sum(peak.statuses.values()) / peak.seconds
        print(f"ratio max scan / bare endpoint: {100 * peak_rate / bare_rate:.0f} %")
        figures |= {
            "peak_per_s": round(peak_rate),
            "server_cpu_ms": round(peak.cpu["server_cpu_ms_per_request"], 3),
            f"p99_ms_at_{args.rate:.0f}": round(steady.percentile(99), 1),
        }
    figures |= {
        "device_floor_per_s": round(rate(floor)),
        "device_floor_cpu_ms": round(floor.cpu["server_cpu_ms_per_request"], 3),
        "person_floor_per_s": round(rate(person_floor)),
        "person_floor_cpu_ms": round(person_floor.cpu["server_cpu_ms_per_request"], 3),
        "bare_per_s": round(bare_rate),
        "bare_cpu_ms": round(bare_run.cpu["server_cpu_ms_per_request"], 3),
        "machine_busy_pct": round(person_floor.cpu["machine_busy_pct"]),
    }
    print(json.dumps(figures))


async def send_each(port: int, raws: list[bytes], clients: int = 16) -> None:
    """Every request once, over `clients` connections."""

    async def worker(share: list[bytes]) -> None:
        connection = await Connection.open(port)
        try:
            for raw in share:
                await connection.send(raw)
        finally:
            connection.close()

    await asyncio.gather(*[worker(raws[i::clients]) for i in range(clients)])


def rate(run: Run) -> float:
    return sum(run.statuses.values()) / max(run.seconds, 1e-9)


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
