"""A large data set, fast, with COPY: 3,500 venues, 20,000 workspaces, 100,000 agents, 1,000,000 bookings.

Bookings are desk half-days or days over a year (six months back, six ahead), consistent
with the database's guarantees: seat counters within capacity, one booking per agent and
day. The database is dropped and re-created: point it at a scratch database only.

    python3 -m uv run --frozen python -m bench.seed \
        --database-url postgresql://postgres@127.0.0.1:5432/tl_bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from zoneinfo import ZoneInfo

import asyncpg

from bench import rows
from service.kernel.database import migrate, with_database

PARIS = ZoneInfo("Europe/Paris")
# Metropolitan France, roughly: venues cluster around these cities.
CITIES = [
    (50.6292, 3.0573),
    (48.8566, 2.3522),
    (45.7640, 4.8357),
    (43.2965, 5.3698),
    (44.8378, -0.5792),
    (43.6047, 1.4442),
    (47.2184, -1.5536),
    (48.5734, 7.7521),
    (49.2583, 4.0317),
    (48.1173, -1.6778),
]


async def seed(
    dsn: str, *, venues: int, workspaces: int, agents: int, bookings: int, today: date
) -> dict[str, float]:
    rng = random.Random(20261124)
    timings: dict[str, float] = {}
    connection = await asyncpg.connect(dsn)
    now = datetime.now(UTC)

    async def copy(table: str, columns: list[str], records: list[tuple[object, ...]]) -> None:
        started = time.perf_counter()
        await connection.copy_records_to_table(table, columns=columns, records=records)
        timings[table] = time.perf_counter() - started
        print(f"  {table}: {len(records):,} rows in {timings[table]:.1f} s", flush=True)

    try:
        organisation_ids = [uuid.uuid4() for _ in range(200)]
        await copy(
            "organisation",
            rows.ORGANISATION_COLUMNS,
            [
                rows.organisation(o, i, now, allowance=1000, horizon_days=366)
                for i, o in enumerate(organisation_ids)
            ],
        )
        venue_ids = [uuid.uuid4() for _ in range(venues)]
        coordinates = []
        for _ in venue_ids:
            lat, lon = rng.choice(CITIES)
            coordinates.append(
                (
                    Decimal(f"{lat + rng.uniform(-0.3, 0.3):.6f}"),
                    Decimal(f"{lon + rng.uniform(-0.4, 0.4):.6f}"),
                )
            )
        await copy(
            "venue",
            rows.VENUE_COLUMNS,
            [
                rows.venue(
                    v,
                    i,
                    now,
                    name=f"Tiers-lieu {i}",
                    commune=f"Commune {i % 700}",
                    latitude=lat,
                    longitude=lon,
                    services=["wifi", "cafe"][: 1 + i % 2],
                )
                for i, (v, (lat, lon)) in enumerate(zip(venue_ids, coordinates, strict=True))
            ],
        )
        await copy(
            "opening_hours",
            ["venue", "weekday", "opens", "closes"],
            [(v, d, clock(8), clock(19)) for v in venue_ids for d in range(5)],
        )
        desks: list[tuple[uuid.UUID, uuid.UUID, int]] = []
        workspace_rows = []
        for i in range(workspaces):
            venue = venue_ids[i % venues]
            workspace = uuid.uuid4()
            capacity = rng.choice((6, 8, 10, 12))
            desks.append((workspace, venue, capacity))
            workspace_rows.append(
                (workspace, venue, "desk", f"Open space {i}", capacity, "half_day", [], True, now)
            )
        await copy(
            "workspace",
            [
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
            workspace_rows,
        )
        agent_rows = []
        agent_org = []
        for i in range(agents):
            agent = uuid.uuid4()
            organisation = organisation_ids[i % len(organisation_ids)]
            agent_org.append((agent, organisation))
            agent_rows.append(
                (
                    agent,
                    f"agent{i}@bench.example",
                    f"Agent {i}",
                    None,
                    "agent",
                    None,
                    organisation,
                    None,
                    f"B{i:010d}"[:12],
                    None,
                    True,
                    now,
                    None,
                )
            )
        await copy(
            "app_user",
            [
                "id",
                "email",
                "display_name",
                "password_hash",
                "role",
                "venue",
                "organisation",
                "monthly_allowance_units",
                "pseudonym",
                "invitation_token_hash",
                "active",
                "created_at",
                "deactivated_at",
            ],
            agent_rows,
        )
        first_day = today - timedelta(days=182)
        days = [first_day + timedelta(days=d) for d in range(365)]
        days = [d for d in days if d.weekday() < 5]
        taken: Counter[tuple[int, int, str]] = Counter()
        agent_days: set[tuple[int, int]] = set()
        booking_rows = []
        slots = {"morning": ("am",), "afternoon": ("pm",), "day": ("am", "pm")}
        while len(booking_rows) < bookings:
            w = rng.randrange(len(desks))
            d = rng.randrange(len(days))
            a = rng.randrange(agents)
            slot = rng.choice(("morning", "afternoon", "day"))
            workspace, venue, capacity = desks[w]
            if (a, d) in agent_days or any(taken[(w, d, h)] >= capacity for h in slots[slot]):
                continue
            agent_days.add((a, d))
            for half in slots[slot]:
                taken[(w, d, half)] += 1
            day = days[d]
            start = datetime.combine(
                day, clock(13) if slot == "afternoon" else clock(8, 30), tzinfo=PARIS
            )
            end = datetime.combine(day, clock(13) if slot == "morning" else clock(18), tzinfo=PARIS)
            agent, organisation = agent_org[a]
            booking_rows.append(
                (
                    uuid.uuid4(),
                    agent,
                    organisation,
                    venue,
                    workspace,
                    None,
                    start,
                    end,
                    day,
                    slot,
                    "day" if slot == "day" else "half_day",
                    1,
                    1,
                    False,
                    len(slots[slot]),
                    "completed" if day < today else "confirmed",
                    False,
                    0,
                    None,
                    now,
                    now,
                )
            )
        await copy(
            "booking",
            [
                "id",
                "agent",
                "organisation",
                "venue",
                "workspace",
                "series",
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
                "created_by",
                "created_at",
                "updated_at",
            ],
            booking_rows,
        )
        await copy(
            "seat_occupancy",
            ["workspace", "local_date", "half", "seats_taken", "capacity"],
            [(desks[w][0], days[d], half, n, desks[w][2]) for (w, d, half), n in taken.items()],
        )
        started = time.perf_counter()
        await connection.execute("ANALYZE")
        timings["analyze"] = time.perf_counter() - started
    finally:
        await connection.close()
    return timings


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--venues", type=int, default=3_500)
    parser.add_argument("--workspaces", type=int, default=20_000)
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a twentieth of the data (50,000 bookings), for bench.booking --quick",
    )
    args = parser.parse_args()
    if args.quick:
        args.venues, args.workspaces = args.venues // 20, args.workspaces // 20
        args.agents, args.bookings = args.agents // 20, args.bookings // 20
    name = args.database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(with_database(args.database_url, "postgres"))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    await migrate(args.database_url)
    started = time.perf_counter()
    await seed(
        args.database_url,
        venues=args.venues,
        workspaces=args.workspaces,
        agents=args.agents,
        bookings=args.bookings,
        today=datetime.now(PARIS).date(),
    )
    seconds = time.perf_counter() - started
    print(f"seeded in {seconds:.0f} s")
    print(
        json.dumps(
            {
                "bench": "seed",
                "quick": args.quick,
                "bookings": args.bookings,
                "seconds": round(seconds, 1),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
