"""Benchmark of the public directory with 3,500 venues: /lieux, a venue's page, 304s, open data.

The database is dropped and re-created (point it at a scratch database), migrated, and filled
with COPY: 3,500 approved venues in 350 communes, each open Monday to Friday in two ranges and
Saturday morning, with 1 to 4 workspaces. The real application then runs under uvicorn in
production mode; a bare Litestar endpoint in the same run gives the floor.

    python3 -m uv run --frozen python -m bench.directory \
        --database-url postgresql://postgres@127.0.0.1:5432/tl_bench_directory \
        --redis-url redis://127.0.0.1:6379/5 [--quick]

Prints one line per run, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from datetime import time as clock
from decimal import Decimal
from urllib.parse import quote

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench import bare, rows
from bench.harness import Run, closed_loop, command_line, http_get, measured, report, server
from passes.keys import encode_key
from service.kernel.database import migrate, with_database

CITIES = [
    (50.6292, 3.0573, "59"),
    (48.8566, 2.3522, "75"),
    (45.7640, 4.8357, "69"),
    (43.2965, 5.3698, "13"),
    (44.8378, -0.5792, "33"),
    (43.6047, 1.4442, "31"),
    (47.2184, -1.5536, "44"),
    (48.5734, 7.7521, "67"),
    (49.2583, 4.0317, "51"),
    (48.1173, -1.6778, "35"),
]
SERVICES = ["wifi", "cafe", "printer", "accessibility", "bike_parking", "kitchen", "fablab"]


async def fill(database_url: str, venues: int) -> list[str]:
    """The venues, their hours and workspaces, by COPY; the communes' names."""
    rng = random.Random(11)
    now = datetime.now(UTC)
    communes = []
    for n in range(venues // 10):
        lat, lon, department = CITIES[n % len(CITIES)]
        communes.append(
            (
                f"Commune {n:03d}",
                f"{department}{n:03d}",
                lat + rng.uniform(-0.4, 0.4),
                lon + rng.uniform(-0.6, 0.6),
            )
        )
    venue_rows, hour_rows, workspace_rows = [], [], []
    for n in range(venues):
        commune, insee, lat, lon = communes[n % len(communes)]
        venue_id = uuid.uuid4()
        venue_rows.append(
            rows.venue(
                venue_id,
                n,
                now,
                commune=commune,
                insee_code=insee,
                latitude=Decimal(f"{lat + rng.uniform(-0.03, 0.03):.6f}"),
                longitude=Decimal(f"{lon + rng.uniform(-0.04, 0.04):.6f}"),
                services=rng.sample(SERVICES, rng.randint(1, 4)),
                name=f"Tiers-lieu {n:04d}",
            )
        )
        for day in range(5):
            hour_rows.append((venue_id, day, clock(8, 30), clock(12, 30)))
            hour_rows.append((venue_id, day, clock(13, 30), clock(18)))
        hour_rows.append((venue_id, 5, clock(9), clock(12)))
        for k in range(rng.randint(1, 4)):
            kind = ("desk", "meeting_room", "private_office", "lab")[k]
            workspace_rows.append(
                (
                    uuid.uuid4(),
                    venue_id,
                    kind,
                    f"Espace {k}",
                    rng.randint(4, 30) if kind == "desk" else 1,
                    "half_day" if kind == "desk" else "hour",
                    [],
                    True,
                    now,
                )
            )
    connection = await asyncpg.connect(database_url)
    try:
        await connection.copy_records_to_table(
            "venue", records=venue_rows, columns=rows.VENUE_COLUMNS
        )
        await connection.copy_records_to_table(
            "opening_hours", records=hour_rows, columns=["venue", "weekday", "opens", "closes"]
        )
        await connection.copy_records_to_table(
            "workspace",
            records=workspace_rows,
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
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return [c[0] for c in communes]


def _load(
    port: int, build: Callable[[int], bytes], clients: int, seconds: float
) -> Callable[[], Awaitable[Run]]:
    return lambda: closed_loop(port, build, clients, seconds)


def _rate(run: Run) -> float:
    return sum(run.statuses.values()) / run.seconds if run.seconds else 0.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--venues", type=int, default=3_500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--quick", action="store_true", help="3 s per run, 4 clients")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.clients = 3.0, 4
    name = args.database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(with_database(args.database_url, "postgres"))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        await migrate(args.database_url)
        communes = await fill(args.database_url, args.venues)
        connection = await asyncpg.connect(args.database_url)
        slugs = [r["slug"] for r in await connection.fetch("SELECT slug FROM venue")]
        await connection.close()
        rng = random.Random(5)
        env = {
            **os.environ,
            "APP_ENV": "production",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "PASS_SIGNING_KEYS": encode_key(1, Ed25519PrivateKey.generate()),
            "LOG_LEVEL": "WARNING",
            "DATABASE_POOL_SIZE": "10",
        }
        figures: dict[str, dict[str, float]] = {}
        runs: list[tuple[str, Run]] = []
        with server(env) as app:

            def first_page(_: int) -> bytes:
                return http_get("/lieux", {"Accept-Language": "fr"})

            def by_commune(_: int) -> bytes:
                return http_get(f"/lieux?commune={quote(rng.choice(communes))}", {})

            def venue_page(_: int) -> bytes:
                return http_get(f"/lieux/{rng.choice(slugs)}", {})

            await closed_loop(app.port, first_page, 2, 2)  # warm-up
            probe = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
            probe.request("GET", "/lieux")
            answer = probe.getresponse()
            etag = answer.getheader("ETag") or ""
            answer.read()
            probe.close()

            def revalidate(_: int) -> bytes:
                return http_get("/lieux", {"If-None-Match": etag})

            def geojson(_: int) -> bytes:
                return http_get("/opendata/venues.geojson", {})

            for label, build, clients in (
                ("/lieux, first page of 50 (all 3,500 counted)", first_page, args.clients),
                ("/lieux?commune=… (10 venues)", by_commune, args.clients),
                ("/lieux/{slug} (one venue, JSON-LD)", venue_page, args.clients),
                ("/lieux with If-None-Match (304)", revalidate, args.clients),
                ("/opendata/venues.geojson (3,500 features)", geojson, 2),
            ):
                runs.append(
                    (label, await measured(app, _load(app.port, build, clients, args.seconds)))
                )
        with server(env, factory=bare.FACTORY, ready_path="/") as baseline:
            await closed_loop(baseline.port, bare.bare_requests, args.clients, 1)
            bare_run = await measured(
                baseline,
                lambda: closed_loop(baseline.port, bare.bare_requests, args.clients, args.seconds),
            )
            runs.append(("bare Litestar endpoint (floor)", bare_run))
        print(
            f"date: {datetime.now(UTC).date().isoformat()}; venues: {args.venues:,}; "
            f"clients: {args.clients}; seconds per run: {args.seconds:g}"
        )
        for label, run in runs:
            report(label, run)
            figures[label] = {
                "per_second": round(_rate(run), 1),
                "p50_ms": round(run.percentile(50), 2),
                "p95_ms": round(run.percentile(95), 2),
                "p99_ms": round(run.percentile(99), 2),
                "server_cpu_ms": round(run.cpu.get("server_cpu_ms_per_request", 0.0), 3),
                "non_2xx_3xx": sum(n for s, n in run.statuses.items() if s >= 400),
            }
        print(f"command: {command_line('bench.directory')}")
        print(json.dumps({"benchmark": "directory", "venues": args.venues, "runs": figures}))
    finally:
        if not args.keep:
            admin = await asyncpg.connect(with_database(args.database_url, "postgres"))
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
