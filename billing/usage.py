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
   AND NOT EXISTS (SELECT 1 FROM usage_fact u WHERE u.booking = b.id AND u.kind <> 'adjustment')
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
    # The billed visit is its own record: one narrow row says which month bills it, and the
    # visit's trigger freezes what was billed (migration billing 2026-12-05T10:00).
    # Visits billed before are skipped, whether in billed_visit or, billed before that
    # table existed, in usage_fact (not written here: its anti-join stays a hash join).
    visits = await UsageLine.raw(
        """
        WITH inserted AS (
            INSERT INTO billed_visit (visit, period)
            SELECT v.id, {} FROM visit v
             -- A meeting attendee's visit is never billed: the room is, once, as its booking.
             WHERE v.local_date < {} AND v.billable AND v.attendee IS NULL
               AND NOT EXISTS (SELECT 1 FROM usage_fact u
                                WHERE u.visit = v.id AND u.kind <> 'adjustment')
            -- Visits already in billed_visit are skipped by its primary key. (A NOT EXISTS on
            -- billed_visit lets the planner, trusting the statistics of a still empty table,
            -- rescan the growing table for every row: quadratic, 300 s for 100,000 visits.)
            ON CONFLICT DO NOTHING
            RETURNING 1)
        SELECT count(*) AS n FROM inserted
        """,
        first,
        following,
    )
    # The close reads the month back through the usage_line view at once: the planner must
    # know how many visits it just billed (a first close would find the table "empty").
    await UsageLine.raw("ANALYZE billed_visit")
    # The names as billed, for every workspace and organisation (a few thousand rows): a
    # rename after the close never rewrites the month. After the visits, in the same
    # transaction: whatever workspace a billed visit names is already there to be read.
    await UsageLine.raw(
        """
        INSERT INTO billed_workspace (period, workspace, workspace_kind, workspace_name,
                                      venue_name, venue_commune)
        SELECT {}, w.id, w.kind, w.name, vn.name, vn.commune
          FROM workspace w JOIN venue vn ON vn.id = w.venue
        ON CONFLICT DO NOTHING
        """,
        first,
    )
    await UsageLine.raw(
        """
        INSERT INTO billed_organisation (period, organisation, organisation_name)
        SELECT {}, o.id, o.name FROM organisation o
        ON CONFLICT DO NOTHING
        """,
        first,
    )
    bookings = await UsageLine.raw(
        """
        WITH inserted AS (
            INSERT INTO usage_fact (id, period, kind, visit, booking, anomaly, organisation, agent,
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
