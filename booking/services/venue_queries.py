"""What the pages read about the network's approved venues: their communes, who opens when."""

from __future__ import annotations

from datetime import time
from typing import Any

from booking.tables import Venue


async def approved_communes() -> list[dict[str, Any]]:
    """Each commune with an approved venue, placed at the mean position of those venues."""
    return await Venue.raw(
        "SELECT commune, avg(latitude) AS latitude, avg(longitude) AS longitude FROM venue"
        " WHERE status = 'approved' GROUP BY commune ORDER BY commune"
    )


async def any_venue_open(weekday: int, start: time | None, end: time | None) -> bool:
    """Whether some approved venue opens for the whole range on that weekday (closures aside)."""
    rows = await Venue.raw(
        "SELECT 1 FROM opening_hours h JOIN venue v ON v.id = h.venue"
        " WHERE v.status = 'approved' AND h.weekday = {} AND h.opens <= {} AND {} <= h.closes"
        " LIMIT 1",
        weekday,
        start,
        end,
    )
    return bool(rows)
