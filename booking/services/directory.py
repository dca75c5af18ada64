"""The public directory of venues: the approved ones, their week, today's hours and free seats.

What anyone may read without signing in (`/lieux`): no SIRET, IBAN, contact person or
closure reason. One query per page, whatever the number of venues: hours and workspace
counts are aggregated in PostgreSQL, "today" is each venue's own local date.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from functools import cached_property
from typing import Any

from booking.services.open_data import KINDS
from booking.tables import Venue
from service.kernel.identity import Principal, Role

PAGE_SIZE = 50

# `{chosen}` picks the venues (a page of the list, or one slug) before anything is aggregated,
# so a page costs the same with 100 venues or 3,500.
_SELECT = """
WITH chosen AS ({chosen}),
v AS (
    SELECT v.*, (now() AT TIME ZONE v.timezone)::date AS local_today
      FROM venue v JOIN chosen USING (id)
)
SELECT v.id, v.slug, v.name, v.address, v.postcode, v.commune, v.latitude, v.longitude,
       v.services, v.website, v.description, v.status, v.local_today,
       coalesce((SELECT json_agg(json_build_array(h.weekday, h.opens, h.closes)
                                 ORDER BY h.weekday, h.opens)
                   FROM opening_hours h WHERE h.venue = v.id), '[]') AS hours,
       coalesce((SELECT json_object_agg(k.kind, k.n) FROM (
                   SELECT w.kind, count(*) AS n FROM workspace w
                    WHERE w.venue = v.id AND w.active GROUP BY w.kind) k), json_build_object()) AS kinds,
       EXISTS (SELECT 1 FROM closure c WHERE c.venue = v.id
                  AND v.local_today BETWEEN c.starts_on AND c.ends_on) AS closed_today,
       coalesce((SELECT sum(w.capacity - coalesce(
                          (SELECT max(o.seats_taken) FROM seat_occupancy o
                            WHERE o.workspace = w.id AND o.local_date = v.local_today), 0))
                   FROM workspace w
                  WHERE w.venue = v.id AND w.active AND w.kind = 'desk'), 0) AS desk_seats_free
  FROM v
 ORDER BY v.commune, v.name, v.id
"""


@dataclass(frozen=True)
class PublicVenue:
    id: uuid.UUID
    slug: str
    name: str
    address: str
    postcode: str
    commune: str
    latitude: Decimal
    longitude: Decimal
    services: list[str]
    website: str | None
    description: str
    status: str
    local_today: date
    # (weekday, opens, closes), Monday = 0, in the venue's local time.
    week: list[tuple[int, time, time]]
    kinds: dict[str, int]
    closed_today: bool
    desk_seats_free: int

    @cached_property
    def by_day(self) -> tuple[str, ...]:
        """Each day's ranges as read, Monday first: « 08:30–12:30, 13:30–18:00 », "" when closed."""
        days: list[list[str]] = [[] for _ in range(7)]
        for day, opens, closes in self.week:
            days[day].append(f"{opens:%H:%M}–{closes:%H:%M}")
        return tuple(", ".join(ranges) for ranges in days)

    @cached_property
    def today(self) -> str:
        """Today's ranges as read; "" on a closure day or a day it does not open."""
        return "" if self.closed_today else self.by_day[self.local_today.weekday()]

    @property
    def free_seats_today(self) -> int:
        """Shared desk seats free today (the busier half-day counts); none when it is closed."""
        return max(self.desk_seats_free, 0) if self.today else 0

    @property
    def accessible(self) -> bool:
        return "accessibility" in self.services


def _venue(row: dict[str, Any]) -> PublicVenue:
    hours = json.loads(row["hours"]) if isinstance(row["hours"], str) else row["hours"]
    kinds = json.loads(row["kinds"]) if isinstance(row["kinds"], str) else row["kinds"]
    return PublicVenue(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        address=row["address"],
        postcode=row["postcode"],
        commune=row["commune"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        services=list(row["services"]),
        website=row["website"],
        description=row["description"],
        status=row["status"],
        local_today=row["local_today"],
        week=[(int(d), time.fromisoformat(o), time.fromisoformat(c)) for d, o, c in hours],
        kinds={kind: int(kinds[kind]) for kind in KINDS if kinds.get(kind)},
        closed_today=bool(row["closed_today"]),
        desk_seats_free=int(row["desk_seats_free"]),
    )


async def approved(
    *, commune: str | None, kind: str | None, limit: int = PAGE_SIZE, offset: int = 0
) -> tuple[list[PublicVenue], int]:
    """A page of approved venues by commune and name, and how many match in all."""
    conditions = ["v.status = 'approved'"]
    args: list[Any] = []
    if commune:
        conditions.append("lower(v.commune) = lower({})")
        args.append(commune)
    if kind:
        conditions.append(
            "EXISTS (SELECT 1 FROM workspace w WHERE w.venue = v.id AND w.active AND w.kind = {})"
        )
        args.append(kind)
    where = " AND ".join(conditions)
    total = await Venue.raw(f"SELECT count(*) AS n FROM venue v WHERE {where}", *args)
    chosen = (
        f"SELECT v.id FROM venue v WHERE {where} ORDER BY v.commune, v.name, v.id"
        " LIMIT {} OFFSET {}"
    )
    rows = await Venue.raw(_SELECT.replace("{chosen}", chosen), *args, limit, offset)
    return [_venue(r) for r in rows], int(total[0]["n"])


async def communes() -> list[dict[str, Any]]:
    """The communes with an approved venue, and how many each has."""
    return await Venue.raw(
        "SELECT commune, count(*) AS venues FROM venue WHERE status = 'approved'"
        " GROUP BY commune ORDER BY commune"
    )


async def by_slug(slug: str, principal: Principal | None) -> tuple[PublicVenue, bool] | None:
    """The venue at `/lieux/{slug}` and whether it is only a preview.

    Anyone reads an approved venue; a venue that is not (applied, suspended, closed) is
    shown only to its own admins and to the network, as a preview that is never public.
    """
    rows = await Venue.raw(
        _SELECT.replace("{chosen}", "SELECT id FROM venue WHERE slug = {}"), slug
    )
    if not rows:
        return None
    venue = _venue(rows[0])
    if venue.status == "approved":
        return venue, False
    may_preview = principal is not None and (
        principal.is_network_admin
        or (principal.role == Role.VENUE_ADMIN and principal.venue_id == venue.id)
    )
    return (venue, True) if may_preview else None


async def slug_of(venue_id: uuid.UUID) -> str | None:
    row = await Venue.select(Venue.slug).where(Venue.id == venue_id).first()
    return None if row is None else str(row["slug"])


async def by_ids(venue_ids: list[uuid.UUID]) -> dict[uuid.UUID, PublicVenue]:
    """Today's hours and free seats of these venues, whatever their status, for a map's popups."""
    if not venue_ids:
        return {}
    rows = await Venue.raw(
        _SELECT.replace("{chosen}", "SELECT id FROM venue WHERE id = ANY({}::uuid[])"),
        list(venue_ids),
    )
    return {row["id"]: _venue(row) for row in rows}
