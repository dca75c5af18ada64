"""The network's indicators: visits per month by venue, commune and organisation, and occupancy.

Read by the network console's dashboard. Visits are counted whatever their billing fate (an
anomaly under review still means someone came); occupancy compares the seats booked in shared
workspaces with the seats offered on the half-days each venue was open.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from passes.tables import Visit
from service.kernel.replica import reporting_read


def months_back(last: date, count: int) -> list[date]:
    """The first days of `count` months ending with the month of `last`, oldest first."""
    first = last.replace(day=1)
    months = []
    for _ in range(count):
        months.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(months))


def _next_month(first: date) -> date:
    return (first.replace(day=28) + 4 * timedelta(days=1)).replace(day=1)


async def visits_per_month(first: date, last: date) -> list[dict[str, Any]]:
    """Visits per month from the month of `first` to the month of `last` (months without any: 0)."""
    return await reporting_read(
        Visit.raw(
            """
            SELECT m.month::date AS month, count(v.id) AS visits
              FROM generate_series({}::date, {}::date, interval '1 month') AS m(month)
              LEFT JOIN visit v ON v.local_date >= m.month AND v.local_date < m.month + interval '1 month'
             GROUP BY m.month ORDER BY m.month
            """,
            first.replace(day=1),
            last.replace(day=1),
        ),
        "indicators.visits_per_month",
    )


async def visits_by(dimension: str, month: date) -> list[dict[str, Any]]:
    """Visits of one month by venue, commune or organisation, most visited first."""
    label, join = {
        "venue": ("ve.name", "JOIN venue ve ON ve.id = v.venue"),
        "commune": ("ve.commune", "JOIN venue ve ON ve.id = v.venue"),
        "organisation": ("o.name", "JOIN organisation o ON o.id = v.organisation"),
    }[dimension]
    first = month.replace(day=1)
    return await reporting_read(
        Visit.raw(
            f"""
            SELECT {label} AS label, count(*) AS visits
              FROM visit v {join}
             WHERE v.local_date >= {{}} AND v.local_date < {{}}
             GROUP BY {label} ORDER BY visits DESC, label
            """,
            first,
            _next_month(first),
        ),
        "indicators.visits_by",
    )


async def occupancy_per_month(first: date, last: date) -> list[dict[str, Any]]:
    """Seats booked / seats offered in shared workspaces (desks), per month, in half-days.

    Offered: every active desk workspace's capacity, twice a day, on the days its venue
    opens that weekday and is not closed. Booked: the seat counters the bookings hold.
    """
    start, end = first.replace(day=1), _next_month(last.replace(day=1))
    return await reporting_read(
        Visit.raw(
            """
            WITH days AS (
                SELECT d::date AS day FROM generate_series({}::date, {}::date - 1, interval '1 day') d
            ), offered AS (
                SELECT date_trunc('month', days.day)::date AS month, sum(w.capacity * 2) AS seats
                  FROM days
                  JOIN workspace w ON w.kind = 'desk' AND w.active
                  JOIN venue ve ON ve.id = w.venue AND ve.status = 'approved'
                 WHERE EXISTS (SELECT 1 FROM opening_hours h
                                WHERE h.venue = ve.id AND h.weekday = extract(isodow FROM days.day) - 1)
                   AND NOT EXISTS (SELECT 1 FROM closure c
                                    WHERE c.venue = ve.id AND days.day BETWEEN c.starts_on AND c.ends_on)
                 GROUP BY 1
            ), used AS (
                SELECT date_trunc('month', o.local_date)::date AS month, sum(o.seats_taken) AS seats
                  FROM seat_occupancy o JOIN workspace w ON w.id = o.workspace AND w.kind = 'desk'
                 WHERE o.local_date >= {} AND o.local_date < {}
                 GROUP BY 1
            )
            SELECT m.month::date AS month, coalesce(u.seats, 0) AS used, coalesce(f.seats, 0) AS offered
              FROM generate_series({}::date, {}::date, interval '1 month') AS m(month)
              LEFT JOIN offered f ON f.month = m.month
              LEFT JOIN used u ON u.month = m.month
             ORDER BY m.month
            """,
            start,
            end,
            start,
            end,
            start,
            last.replace(day=1),
        ),
        "indicators.occupancy_per_month",
    )


async def venue_points() -> list[dict[str, Any]]:
    """Every venue the network knows (pending ones too), for the map."""
    return await reporting_read(
        Visit.raw(
            "SELECT id, name, commune, status, latitude::float AS latitude, "
            "longitude::float AS longitude FROM venue WHERE status <> 'closed' ORDER BY name"
        ),
        "indicators.venue_points",
    )
