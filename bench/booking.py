"""Benchmark of bookings on a large data set: availability search latency, booking throughput,
and a bare Litestar endpoint's throughput in the same run for the ratio.

Seed first (bench/seed.py: 1,000,000 bookings), then:

    python3 -m uv run --frozen python -m bench.booking \
        --database-url postgresql://postgres@127.0.0.1:5432/tl_bench --redis-url redis://127.0.0.1:6379/7

It starts the real application (uvicorn, APP_ENV=production) on that database, measures, and
stops it, through the harness the scan benchmark uses (bench/harness.py); load generator,
server, PostgreSQL and Redis share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench import bare
from bench.harness import closed_loop, command_line, http_get, http_post, measured, report, server
from passes.keys import encode_key
from service.kernel.settings import Settings
from service.kernel.tokens import issue_access_token

PARIS = ZoneInfo("Europe/Paris")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--quick", action="store_true", help="under a minute: 6 s per loop (seed with --quick too)"
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds = min(args.seconds, 6)
    secret = secrets.token_urlsafe(48)
    settings = Settings(secret_key=secret)
    connection = await asyncpg.connect(args.database_url)
    agents = [
        r["id"]
        for r in await connection.fetch(
            "SELECT id FROM app_user WHERE role = 'agent' ORDER BY random() LIMIT 20000"
        )
    ]
    venues = await connection.fetch(
        "SELECT latitude, longitude FROM venue ORDER BY random() LIMIT 500"
    )
    desks = [
        r["id"]
        for r in await connection.fetch(
            "SELECT id FROM workspace WHERE kind = 'desk' ORDER BY random() LIMIT 5000"
        )
    ]
    bookings = await connection.fetchval("SELECT count(*) FROM booking")
    await connection.close()
    print(f"data: {bookings:,} bookings, {len(agents):,} agents sampled")
    tokens = [issue_access_token(settings, a, "agent", generation=0)[0] for a in agents]
    today = datetime.now(PARIS).date()
    future = [today + timedelta(days=d) for d in range(1, 60)]
    future = [d for d in future if d.weekday() < 5]
    rng = random.Random(7)

    def search(_: int) -> bytes:
        venue = rng.choice(venues)
        query = urlencode(
            {
                "date": rng.choice(future).isoformat(),
                "slot": rng.choice(("morning", "afternoon", "day")),
                "lat": f"{venue['latitude']:.4f}",
                "lon": f"{venue['longitude']:.4f}",
                "radius_km": "10",
            }
        )
        return http_get(
            f"/api/v1/availability?{query}", {"Authorization": f"Bearer {rng.choice(tokens)}"}
        )

    turn = iter(range(10**9))

    def book(_: int) -> bytes:
        n = next(turn)
        body = json.dumps(
            {
                "workspace_id": str(desks[n % len(desks)]),
                "date": future[(n // len(desks)) % len(future)].isoformat(),
                "slot": ("morning", "afternoon")[n % 2],
            }
        ).encode()
        return http_post(
            "/api/v1/bookings", {"Authorization": f"Bearer {tokens[n % len(tokens)]}"}, body
        )

    env = {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "SECRET_KEY": secret,
        "PASS_SIGNING_KEYS": encode_key(1, Ed25519PrivateKey.generate()),
        "LOG_LEVEL": "WARNING",
        "DATABASE_POOL_SIZE": "10",
    }
    with server(env, workers=args.workers) as app:
        await closed_loop(app.port, search, 4, 3)  # warm-up
        # Latency at a moderate load (4 concurrent users), then what the server sustains.
        searched = await measured(app, lambda: closed_loop(app.port, search, 4, args.seconds))
        search_peak = await measured(
            app, lambda: closed_loop(app.port, search, args.clients, args.seconds)
        )
        booked = await measured(
            app, lambda: closed_loop(app.port, book, args.clients * 2, args.seconds)
        )
    with server(env, factory=bare.FACTORY, workers=args.workers, ready_path="/") as baseline:
        await closed_loop(baseline.port, bare.bare_requests, args.clients, 2)
        bare_run = await measured(
            baseline,
            lambda: closed_loop(baseline.port, bare.bare_requests, args.clients, args.seconds),
        )
    print(f"date: {today.isoformat()}; workers: {args.workers}; clients: {args.clients}")
    report("availability search, 4 clients (10 km around a venue)", searched)
    report(f"availability search, {args.clients} clients", search_peak)
    report("bookings (POST /api/v1/bookings)", booked)
    report("bare Litestar endpoint", bare_run)
    bookings_per_s = booked.statuses[201] / booked.seconds
    bare_rate = sum(bare_run.statuses.values()) / bare_run.seconds
    search_rate = sum(search_peak.statuses.values()) / search_peak.seconds
    print(f"search p95: {searched.percentile(95):.1f} ms (target < 50 ms)")
    print(f"bookings created per second: {bookings_per_s:,.0f} (target >= 300)")
    print(
        f"ratios to the bare endpoint: search {search_rate / bare_rate:.1%}, "
        f"booking {sum(booked.statuses.values()) / booked.seconds / bare_rate:.1%}"
    )
    print(f"command: {command_line('bench.booking')}")
    print(
        json.dumps(
            {
                "bench": "booking",
                "quick": args.quick,
                "bookings": bookings,
                "bookings_per_s": round(bookings_per_s),
                "booking_conflicts_per_s": round(booked.statuses[409] / booked.seconds),
                "booking_cpu_ms": round(booked.cpu["server_cpu_ms_per_request"], 3),
                "search_p95_ms_at_4": round(searched.percentile(95), 1),
                f"search_p99_ms_at_{args.clients}": round(search_peak.percentile(99), 1),
                "search_cpu_ms": round(search_peak.cpu["server_cpu_ms_per_request"], 3),
                "bare_per_s": round(bare_rate),
                "bare_cpu_ms": round(bare_run.cpu["server_cpu_ms_per_request"], 3),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
