"""Availability: which approved venues have a free workspace for a slot or a time range, nearest first.

One SQL statement does the work, so that a search stays fast with a million bookings:
each venue's slot is placed in its own time zone (`local timestamp AT TIME ZONE tz`),
opening hours and closures filter venues, seat counters give the free desks, and an
overlap test on live bookings gives the free rooms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from booking.tables import Venue
from service.kernel.dates import within_range
from service.kernel.errors import InvalidValue
from service.kernel.i18n import N_

MAX_RADIUS_KM = 200


@dataclass(frozen=True)
class Search:
    day: date
    slot: str | None = None  # desks (and rooms by the half-day)
    start: time | None = None  # rooms by the hour, venue-local
    end: time | None = None
    kind: str | None = None
    seats: int = 1
    services: tuple[str, ...] = ()
    commune: str | None = None
    lat: Decimal | None = None
    lon: Decimal | None = None
    radius_km: Decimal | None = None


def check(search: Search, today: date) -> Search:
    within_range(search.day, "date")
    if search.day < today:
        raise InvalidValue(N_("This date is already past."), field="date")
    if search.slot is None and (search.start is None or search.end is None):
        raise InvalidValue(
            N_("Give a slot (morning, afternoon, day) or a start and an end."), field="slot"
        )
    if search.slot is not None and (search.start is not None or search.end is not None):
        raise InvalidValue(N_("Give a slot or a start and an end, not both."), field="slot")
    if search.start is not None and search.end is not None and search.start >= search.end:
        raise InvalidValue(N_("The end comes after the start."), field="end")
    located = [search.lat, search.lon, search.radius_km]
    if any(v is not None for v in located) and not all(v is not None for v in located):
        missing = ["lat", "lon", "radius_km"][[v is None for v in located].index(True)]
        raise InvalidValue(N_("lat, lon and radius_km go together."), field=missing)
    if search.radius_km is not None and not 0 < search.radius_km <= MAX_RADIUS_KM:
        raise InvalidValue(
            N_("The radius is at most %(km)s km."), field="radius_km", km=MAX_RADIUS_KM
        )
    kind = search.kind or ("desk" if search.slot else "meeting_room")
    if search.start is not None and kind == "desk":
        raise InvalidValue(N_("Desks are booked by slot (morning, afternoon, day)."), field="kind")
    return Search(**{**search.__dict__, "kind": kind})


_TEMPLATE = """
WITH params AS (
    SELECT {{}}::date AS day, {{}}::text AS slot, {{}}::time AS start_time, {{}}::time AS end_time,
           {{}}::text AS q_kind, {{}}::int AS seats, {{}}::text[] AS q_services, {{}}::text AS q_commune,
           {{}}::float8 AS lat, {{}}::float8 AS lon, {{}}::float8 AS radius_km
),
venues AS (
    -- Only the columns the answer shows: the rows are kept and sorted twice below.
    SELECT v.id, v.name, v.address, v.postcode, v.commune, v.latitude, v.longitude,
           v.timezone, v.services, p.*,
           CASE WHEN p.slot IS NULL THEN p.start_time
                WHEN p.slot = 'afternoon' THEN v.afternoon_start ELSE v.morning_start END AS from_time,
           CASE WHEN p.slot IS NULL THEN p.end_time
                WHEN p.slot = 'morning' THEN v.morning_end ELSE v.afternoon_end END AS to_time,
           {distance} AS distance_km
      FROM venue v, params p
     WHERE v.status = 'approved'
       AND (p.q_services IS NULL OR v.services @> p.q_services::varchar[])
       AND (p.q_commune IS NULL OR lower(v.commune) = lower(p.q_commune))
{box}       AND NOT EXISTS (SELECT 1 FROM closure c
                        WHERE c.venue = v.id AND p.day BETWEEN c.starts_on AND c.ends_on)
),
open_venues AS (
    SELECT vv.*,
           (vv.day + vv.from_time) AT TIME ZONE vv.timezone AS starts_at,
           (vv.day + vv.to_time) AT TIME ZONE vv.timezone AS ends_at
      FROM venues vv
     WHERE {within}
       AND EXISTS (SELECT 1 FROM opening_hours h
                    WHERE h.venue = vv.id AND h.weekday = extract(isodow FROM vv.day)::int - 1
                      AND CASE WHEN vv.slot IS NULL
                               THEN h.opens <= vv.from_time AND vv.to_time <= h.closes
                               ELSE h.opens < vv.to_time AND vv.from_time < h.closes END)
),
free AS (
    SELECT o.id AS venue_id, w.id AS workspace_id, w.name, w.kind, w.capacity, w.booking_unit,
           w.equipment,
           CASE WHEN w.kind = 'desk' THEN w.capacity - coalesce(taken.seats, 0)
                ELSE w.capacity END AS free_seats
      FROM open_venues o JOIN workspace w ON w.venue = o.id
      LEFT JOIN LATERAL (
          SELECT max(s.seats_taken) AS seats FROM seat_occupancy s
           WHERE w.kind = 'desk' AND s.workspace = w.id AND s.local_date = o.day
             AND s.half = ANY(CASE o.slot WHEN 'morning' THEN ARRAY['am']
                                         WHEN 'afternoon' THEN ARRAY['pm']
                                         ELSE ARRAY['am', 'pm'] END)) taken ON true
     WHERE w.active AND w.kind = o.q_kind
       AND (o.slot IS NOT NULL OR w.booking_unit = 'hour')
       AND (o.slot IS NULL OR w.booking_unit <> 'hour')
       AND NOT (w.booking_unit = 'day' AND coalesce(o.slot, '') <> 'day')
       AND (w.kind = 'desk' OR w.capacity >= o.seats)
       AND (w.kind = 'desk' OR NOT EXISTS (
                SELECT 1 FROM booking b
                 WHERE b.workspace = w.id AND b.exclusive
                   AND b.status IN ('confirmed', 'checked_in', 'completed')
                   AND tstzrange(b.starts_at, b.ends_at) && tstzrange(o.starts_at, o.ends_at)))
)
SELECT o.id, o.name, o.address, o.postcode, o.commune, o.latitude, o.longitude, o.timezone,
       o.services, o.starts_at, o.ends_at, o.distance_km,
       json_agg(json_build_object(
           'id', f.workspace_id, 'name', f.name, 'kind', f.kind, 'capacity', f.capacity,
           'booking_unit', f.booking_unit, 'equipment', f.equipment, 'free_seats', f.free_seats)
           ORDER BY f.name) AS workspaces,
       count(*) OVER () AS total
  FROM open_venues o JOIN free f ON f.venue_id = o.id
 WHERE f.free_seats >= CASE WHEN f.kind = 'desk' THEN o.seats ELSE 1 END
 GROUP BY o.id, o.name, o.address, o.postcode, o.commune, o.latitude, o.longitude, o.timezone,
          o.services, o.starts_at, o.ends_at, o.distance_km
 ORDER BY o.distance_km NULLS LAST, o.name
 LIMIT {{}} OFFSET {{}}
"""

# A search around a point: a box on both coordinates (the latitude's through the partial
# index venue_approved_latitude_idx), then the exact great-circle distance. Its own text, not
# `lat IS NULL OR …` in one statement: a prepared statement's generic plan could not use the
# index behind such an OR, and replanning each search cost more than running it.
_LOCATED = _TEMPLATE.format(
    distance="""2 * 6371 * asin(sqrt(
                   power(sin(radians((v.latitude::float8 - p.lat) / 2)), 2)
                   + cos(radians(p.lat)) * cos(radians(v.latitude::float8))
                     * power(sin(radians((v.longitude::float8 - p.lon) / 2)), 2)))""",
    box="""       AND v.latitude::float8 BETWEEN p.lat - p.radius_km / 111.0
                                  AND p.lat + p.radius_km / 111.0
       AND v.longitude::float8
           BETWEEN p.lon - p.radius_km / (111.0 * greatest(cos(radians(p.lat)), 0.01))
               AND p.lon + p.radius_km / (111.0 * greatest(cos(radians(p.lat)), 0.01))
""",
    within="vv.distance_km <= vv.radius_km",
)
_ANYWHERE = _TEMPLATE.format(distance="NULL::float8", box="", within="true")


async def search(query: Search, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    statement = _ANYWHERE if query.lat is None else _LOCATED
    rows = await Venue.raw(statement, *_args(query), limit, offset)
    total = int(rows[0]["total"]) if rows else 0
    for row in rows:
        zone = ZoneInfo(row["timezone"])
        row["starts_at"] = row["starts_at"].astimezone(zone)
        row["ends_at"] = row["ends_at"].astimezone(zone)
        if isinstance(row["workspaces"], str):
            row["workspaces"] = json.loads(row["workspaces"])
        if row["distance_km"] is not None:
            row["distance_km"] = round(float(row["distance_km"]), 2)
    if not rows and offset:
        # A page past the end still says how many there are.
        probe = await Venue.raw(statement, *_args(query), 1, 0)
        total = int(probe[0]["total"]) if probe else 0
    return rows, total


def _args(query: Search) -> list[Any]:
    return [
        query.day,
        query.slot,
        query.start,
        query.end,
        query.kind,
        query.seats,
        list(query.services) or None,
        query.commune,
        float(query.lat) if query.lat is not None else None,
        float(query.lon) if query.lon is not None else None,
        float(query.radius_km) if query.radius_km is not None else None,
    ]
