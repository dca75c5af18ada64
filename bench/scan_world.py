"""The door-scan benchmark's world: venues, door devices, agents with signed passes, bookings.

Seeded with COPY into a freshly migrated database, as the service would have written it:
venues with desk areas and rates, one venue admin per venue who registered its door
devices, agents with passes signed by a bench key (the last tenth revoked), and today's
bookings for seven in ten agents; the others will walk in.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from zoneinfo import ZoneInfo

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench import rows
from passes.verify import HEADER, VERSION, encode

PARIS = ZoneInfo("Europe/Paris")
KEY_ID = 7
DESK_AREAS_PER_VENUE = 3
DESK_CAPACITY = 1000  # the workspace CHECK's maximum


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
