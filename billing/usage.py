"""Turning a month's billable facts into usage lines, with both prices copied.

Billable: visits (billable, i.e. not waiting on or refused by an anomaly decision, and not
a meeting attendee's: the room is billed once, through the organiser's booking),
no-shows and late cancellations when the organisation's policy bills them. A fact not
billed yet whose local date is before the end of the month is billed in that month,
including late arrivals from a month already closed (an offline scan synced late, an
anomaly accepted late): a closed month never changes, the next one carries them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from billing.tables import UsageLine


class MissingRate(Exception):
    """A billable booking has no venue or organisation rate in force on its date."""

    def __init__(self, rows: list[dict[str, object]]) -> None:
        self.rows = rows
        super().__init__(f"{len(rows)} billable booking(s) without a rate in force")


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1)


# Rates in force for a booking that has no visit (no-show, late cancellation): the
# organisation's own card beats the network default; the latest start on or before the day.
_RATES = """
  LEFT JOIN LATERAL (
      SELECT r.amount_cents, r.vat_rate FROM organisation_rate r
       WHERE (r.organisation = b.organisation OR r.organisation IS NULL)
         AND r.workspace_kind = w.kind AND r.unit = b.unit AND r.effective_from <= b.local_date
       ORDER BY (r.organisation IS NULL), r.effective_from DESC LIMIT 1) orate ON true
  LEFT JOIN LATERAL (
      SELECT r.amount_cents, r.vat_rate FROM venue_rate r
       WHERE r.venue = b.venue AND r.workspace_kind = w.kind AND r.unit = b.unit
         AND r.effective_from <= b.local_date
       ORDER BY r.effective_from DESC LIMIT 1) vrate ON true
"""

_UNBILLED_BOOKINGS = (
    """
  FROM booking b
  JOIN organisation o ON o.id = b.organisation
  JOIN workspace w ON w.id = b.workspace
"""
    + _RATES
    + """
 WHERE b.local_date < {}
   AND ((b.status = 'no_show' AND o.bill_no_shows)
        OR (b.status = 'late_cancelled' AND o.bill_late_cancellations))
   AND NOT EXISTS (SELECT 1 FROM visit v WHERE v.booking = b.id)
   AND NOT EXISTS (SELECT 1 FROM usage_line u WHERE u.booking = b.id AND u.kind <> 'adjustment')
"""
)


@dataclass(frozen=True)
class Collected:
    visits: int
    no_shows: int
    late_cancellations: int


async def collect(month: date) -> Collected:
    """Insert the month's usage lines (idempotent: what is already billed is skipped)."""
    first, following = month_bounds(month)
    missing = await UsageLine.raw(
        "SELECT b.id AS booking, b.local_date, w.kind AS workspace_kind, b.unit "
        + _UNBILLED_BOOKINGS
        + " AND (orate.amount_cents IS NULL OR vrate.amount_cents IS NULL)",
        following,
    )
    if missing:
        raise MissingRate(missing)
    visits = await UsageLine.raw(
        """
        WITH inserted AS (
            INSERT INTO usage_line (id, period, kind, visit, booking, anomaly, organisation, agent,
                venue, workspace, local_date, workspace_kind, unit, quantity,
                organisation_price_cents, organisation_vat_rate, venue_price_cents,
                venue_vat_rate, venue_name, venue_commune, workspace_name, organisation_name,
                created_at)
            SELECT gen_random_uuid(), {}, 'visit', v.id, v.booking, NULL, v.organisation, v.agent,
                   v.venue, v.workspace, v.local_date, w.kind, v.unit, v.quantity,
                   v.organisation_rate_cents, v.organisation_vat_rate, v.venue_rate_cents,
                   v.venue_vat_rate, vn.name, vn.commune, w.name, o.name, now()
              FROM visit v JOIN workspace w ON w.id = v.workspace
              JOIN venue vn ON vn.id = v.venue
              JOIN organisation o ON o.id = v.organisation
             -- A meeting attendee's visit is never billed: the room is, once, as its booking.
             WHERE v.local_date < {} AND v.billable AND v.attendee IS NULL
            -- Visits billed before are skipped by the unique index usage_line_one_per_visit.
            -- (A NOT EXISTS here let the planner, trusting the statistics of a still empty
            -- usage_line, rescan the growing table for every row: quadratic.)
            ON CONFLICT DO NOTHING
            RETURNING 1)
        SELECT count(*) AS n FROM inserted
        """,
        first,
        following,
    )
    bookings = await UsageLine.raw(
        """
        WITH inserted AS (
            INSERT INTO usage_line (id, period, kind, visit, booking, anomaly, organisation, agent,
                venue, workspace, local_date, workspace_kind, unit, quantity,
                organisation_price_cents, organisation_vat_rate, venue_price_cents,
                venue_vat_rate, venue_name, venue_commune, workspace_name, organisation_name,
                created_at)
            SELECT gen_random_uuid(), {},
                   CASE b.status WHEN 'no_show' THEN 'no_show' ELSE 'late_cancellation' END,
                   NULL, b.id, NULL, b.organisation, b.agent, b.venue, b.workspace, b.local_date,
                   w.kind, b.unit, b.quantity, orate.amount_cents, orate.vat_rate,
                   vrate.amount_cents, vrate.vat_rate,
                   (SELECT name FROM venue WHERE id = b.venue),
                   (SELECT commune FROM venue WHERE id = b.venue), w.name, o.name, now()
        """
        + _UNBILLED_BOOKINGS
        + """
            ON CONFLICT DO NOTHING
            RETURNING kind)
        SELECT kind, count(*) AS n FROM inserted GROUP BY kind
        """,
        first,
        following,
    )
    counts = {row["kind"]: int(row["n"]) for row in bookings}
    return Collected(
        visits=int(visits[0]["n"]),
        no_shows=counts.get("no_show", 0),
        late_cancellations=counts.get("late_cancellation", 0),
    )
