"""Benchmark of the monthly close: 1,000,000 visits, 3,500 venues, 200 organisations.

Seeds a fresh database with COPY, closes the month with the real code path
(billing.close.close_period), then times a bare SQL GROUP BY over the same visits that
computes the same two totals (per organisation and per venue), and prints the ratio.

    python3 -m uv run --frozen python -m bench.close \
        --database-url postgresql://postgres@127.0.0.1:5432/tl_bench_close

The database is dropped and re-created: point it at a scratch database only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal

import asyncpg

from bench import rows
from billing.close import close_period
from billing.documents import NetworkIdentity
from service.kernel.database import DB, migrate, use_database, with_database

MONTH = date(2026, 10, 1)
NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
NETWORK = NetworkIdentity(
    name="Réseau (bench)",
    legal_form="Association",
    siret="73282932000074",
    vat_number=None,
    address="Lille",
    email="bench@example.org",
    iban="FR7630006000011234567890189",
    bic="AGRIFRPP",
)


async def seed(dsn: str, visits: int, venues: int, organisations: int, agents: int) -> None:
    rng = random.Random(20261124)
    connection = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        org_ids = [uuid.uuid4() for _ in range(organisations)]
        await connection.copy_records_to_table(
            "organisation",
            columns=rows.ORGANISATION_COLUMNS,
            records=[
                rows.organisation(o, i, now, kind="public_body" if i % 2 else "company")
                for i, o in enumerate(org_ids)
            ],
        )
        venue_ids = [uuid.uuid4() for _ in range(venues)]
        await connection.copy_records_to_table(
            "venue",
            columns=rows.VENUE_COLUMNS,
            records=[
                rows.venue(
                    v,
                    i,
                    now,
                    commune=f"Commune {i % 300}",
                    insee_code=f"59{i % 1000:03d}",
                    latitude=Decimal("50.6") + Decimal(i % 100) / 1000,
                    charges_vat=i % 5 != 0,
                )
                for i, v in enumerate(venue_ids)
            ],
        )
        workspace_ids = [uuid.uuid4() for _ in venue_ids]
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
                (w, v, "desk", "Open space", 20, "half_day", [], True, now)
                for w, v in zip(workspace_ids, venue_ids, strict=True)
            ],
        )
        agent_rows = []
        agent_org = []
        for i in range(agents):
            agent_id = uuid.uuid4()
            org = org_ids[i % organisations]
            agent_rows.append(
                (
                    agent_id,
                    f"agent{i}@example.org",
                    f"Agent {i}",
                    None,
                    "agent",
                    None,
                    org,
                    None,
                    f"P{i:09d}",
                    None,
                    True,
                    now,
                    None,
                )
            )
            agent_org.append((agent_id, org))
        await connection.copy_records_to_table(
            "app_user",
            columns=[
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
            records=agent_rows,
        )
        # Unique (agent, venue, day): walk agents over venues and days deterministically.
        days = [MONTH + timedelta(days=d) for d in range(31)]
        rates = [(1200, 800), (1500, 1000), (2000, 1400), (1234, 900)]
        visit_rows = []
        for n in range(visits):
            agent_id, org = agent_org[n % agents]
            slot = n // agents
            venue_index = (slot * 7 + n) % venues
            day = days[slot % 31]
            org_cents, venue_cents = rates[rng.randrange(len(rates))]
            checked_in = datetime.combine(day, dtime(8), tzinfo=UTC)
            visit_rows.append(
                (
                    uuid.uuid4(),
                    agent_id,
                    org,
                    venue_ids[venue_index],
                    workspace_ids[venue_index],
                    None,
                    day,
                    "half_day",
                    1,
                    False,
                    checked_in,
                    None,
                    venue_cents,
                    Decimal("0.2"),
                    org_cents,
                    Decimal("0.2"),
                    True,
                    now,
                )
            )
        started = time.perf_counter()
        await connection.copy_records_to_table(
            "visit",
            columns=[
                "id",
                "agent",
                "organisation",
                "venue",
                "workspace",
                "booking",
                "local_date",
                "unit",
                "quantity",
                "walk_in",
                "checked_in_at",
                "checked_out_at",
                "venue_rate_cents",
                "venue_vat_rate",
                "organisation_rate_cents",
                "organisation_vat_rate",
                "billable",
                "created_at",
            ],
            records=visit_rows,
        )
        await connection.execute("ANALYZE")
        print(f"seeded {visits:,} visits in {time.perf_counter() - started:.1f} s (COPY)")
    finally:
        await connection.close()


async def bare_aggregate(dsn: str) -> float:
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        await connection.fetch(
            """
            SELECT organisation, sum(quantity * organisation_rate_cents) FROM visit
             WHERE local_date >= $1 AND local_date < $2 AND billable GROUP BY organisation
            """,
            MONTH,
            date(2026, 11, 1),
        )
        await connection.fetch(
            """
            SELECT venue, sum(quantity * venue_rate_cents) FROM visit
             WHERE local_date >= $1 AND local_date < $2 AND billable GROUP BY venue
            """,
            MONTH,
            date(2026, 11, 1),
        )
        return time.perf_counter() - started
    finally:
        await connection.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--venues", type=int, default=3_500)
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument("--agents", type=int, default=40_000)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="under a minute: 100,000 visits, 500 venues, 50 organisations, 5,000 agents",
    )
    args = parser.parse_args()
    if args.quick:
        args.visits, args.venues = min(args.visits, 100_000), min(args.venues, 500)
        args.organisations, args.agents = min(args.organisations, 50), min(args.agents, 5_000)
    dsn = args.database_url
    name = dsn.rsplit("/", 1)[1]
    admin = await asyncpg.connect(with_database(dsn, "postgres"))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    await migrate(dsn)
    await seed(dsn, args.visits, args.venues, args.organisations, args.agents)

    use_database(dsn)
    await DB.start_connection_pool(min_size=1, max_size=4)
    steps: dict[str, float] = {}
    mark = [time.perf_counter()]
    current = ["start"]

    async def checkpoint(step: str) -> None:
        # Time spent since the previous checkpoint belongs to the step that just ended.
        now = time.perf_counter()
        steps[current[0]] = steps.get(current[0], 0.0) + now - mark[0]
        mark[0], current[0] = now, step.split(" ")[0]

    try:
        started = time.perf_counter()
        result = await close_period(MONTH, NETWORK, now=NOW, checkpoint=checkpoint)
        close_seconds = time.perf_counter() - started
    finally:
        await DB.close_connection_pool()
    aggregate_seconds = min([await bare_aggregate(dsn) for _ in range(3)])
    assert result.collected is not None
    reconciles = (
        result.organisations_excl_cents - result.venues_excl_cents == result.network_share_cents
    )
    print(f"date: {datetime.now(UTC):%Y-%m-%d}")
    print(
        f"command: python3 -m uv run --frozen {' '.join(['python -m bench.close', *sys.argv[1:]])}"
    )
    print(f"visits billed: {result.collected.visits:,}")
    print(f"invoices: {len(result.invoices)}, statements: {len(result.statements)}")
    print(
        f"organisations excl: {result.organisations_excl_cents:,} cents; "
        f"venues excl: {result.venues_excl_cents:,} cents; "
        f"network share: {result.network_share_cents:,} cents; reconciles: {reconciles}"
    )
    print(f"close: {close_seconds:.1f} s")
    print("  by step: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items() if k != "start"))
    print(f"bare GROUP BY (same rows, both totals, best of 3): {aggregate_seconds:.2f} s")
    print(f"ratio close / bare aggregate: {close_seconds / aggregate_seconds:.1f}x")
    print(
        json.dumps(
            {
                "bench": "close",
                "quick": args.quick,
                "visits": result.collected.visits,
                "close_s": round(close_seconds, 2),
                "steps_s": {k: round(v, 2) for k, v in steps.items() if k != "start"},
                "bare_group_by_s": round(aggregate_seconds, 3),
                "ratio": round(close_seconds / aggregate_seconds, 1),
                "reconciles": reconciles,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
