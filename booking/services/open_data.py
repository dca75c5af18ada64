"""Open data for the metropole's portal: approved venues as GeoJSON (RFC 7946) and CSV.

No personal data: names, addresses, coordinates, services, workspace counts and opening
hours in OpenStreetMap `opening_hours` syntax.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import time
from typing import Any

from booking.tables import Venue
from service.kernel.csv_export import csv_text
from service.kernel.replica import reporting_read

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
KINDS = ("desk", "meeting_room", "private_office", "lab")


def osm_opening_hours(ranges: list[tuple[int, time, time]]) -> str:
    """`Mo-Fr 08:30-12:30,13:30-18:00; Sa 09:00-12:00`: consecutive days with the same ranges grouped."""
    by_day: dict[int, list[str]] = defaultdict(list)
    for weekday, opens, closes in sorted(ranges):
        by_day[weekday].append(f"{opens:%H:%M}-{closes:%H:%M}")
    rules: list[str] = []
    day = 0
    while day < 7:
        if day not in by_day:
            day += 1
            continue
        end = day
        while end + 1 < 7 and by_day.get(end + 1) == by_day[day]:
            end += 1
        days = (
            DAYS[day] if end == day else f"{DAYS[day]}{',' if end == day + 1 else '-'}{DAYS[end]}"
        )
        rules.append(f"{days} {','.join(by_day[day])}")
        day = end + 1
    return "; ".join(rules)


async def approved_venues() -> list[dict[str, Any]]:
    rows = await reporting_read(
        Venue.raw(
            """
        SELECT v.id, v.name, v.address, v.postcode, v.commune, v.insee_code, v.latitude,
               v.longitude, v.services, v.website, v.timezone,
               coalesce((SELECT json_agg(json_build_array(h.weekday, h.opens, h.closes))
                           FROM opening_hours h WHERE h.venue = v.id), '[]') AS hours,
               coalesce((SELECT json_object_agg(kind, n) FROM (
                           SELECT w.kind, count(*) AS n FROM workspace w
                            WHERE w.venue = v.id AND w.active GROUP BY w.kind) k), '{{}}') AS workspaces
          FROM venue v WHERE v.status = 'approved' ORDER BY v.commune, v.name
        """
        ),
        "open_data.approved_venues",
    )
    for row in rows:
        hours = json.loads(row["hours"]) if isinstance(row["hours"], str) else row["hours"]
        row["opening_hours"] = osm_opening_hours(
            [(int(d), time.fromisoformat(o), time.fromisoformat(c)) for d, o, c in hours]
        )
        counts = (
            json.loads(row["workspaces"])
            if isinstance(row["workspaces"], str)
            else row["workspaces"]
        )
        row["workspaces"] = {kind: int(counts.get(kind, 0)) for kind in KINDS}
    return rows


def geojson(venues: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": str(v["id"]),
                # RFC 7946: longitude first; six decimals is ~10 cm.
                "geometry": {
                    "type": "Point",
                    "coordinates": [float(v["longitude"]), float(v["latitude"])],
                },
                "properties": {
                    "name": v["name"],
                    "address": v["address"],
                    "postcode": v["postcode"],
                    "commune": v["commune"],
                    "insee_code": v["insee_code"],
                    "services": list(v["services"]),
                    "website": v["website"],
                    "opening_hours": v["opening_hours"],
                    **{f"workspaces_{kind}": n for kind, n in v["workspaces"].items()},
                },
            }
            for v in venues
        ],
    }


CSV_COLUMNS = [
    "id",
    "name",
    "address",
    "postcode",
    "commune",
    "insee_code",
    "latitude",
    "longitude",
    "services",
    "website",
    "opening_hours",
    *[f"workspaces_{k}" for k in KINDS],
]


def to_csv(venues: list[dict[str, Any]]) -> str:
    # Comma-separated: what open-data portals and their validators expect.
    return csv_text(
        CSV_COLUMNS,
        (
            [
                v["id"],
                v["name"],
                v["address"],
                v["postcode"],
                v["commune"],
                v["insee_code"],
                v["latitude"],
                v["longitude"],
                ";".join(v["services"]),
                v["website"] or "",
                v["opening_hours"],
                *[v["workspaces"][k] for k in KINDS],
            ]
            for v in venues
        ),
        delimiter=",",
    )
