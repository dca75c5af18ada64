"""Visits: one per agent, venue and local day, priced when it happens (both rates copied).

A later price change never rewrites a visit: the rates in force on its local date are
copied onto it at check-in. The unique index visit_one_per_agent_venue_day makes a second
check-in the same day land on the first visit instead of creating another.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from booking.services.rates import ORGANISATION_RATE_IN_FORCE, VENUE_RATE_IN_FORCE
from passes.tables import Visit


@dataclass(frozen=True)
class VisitPlan:
    agent_id: uuid.UUID
    organisation_id: uuid.UUID
    venue_id: uuid.UUID
    workspace_id: uuid.UUID
    workspace_kind: str
    booking_id: uuid.UUID | None
    local_date: date
    unit: str
    quantity: int
    walk_in: bool
    checked_in_at: datetime


@dataclass(frozen=True)
class VisitRef:
    id: uuid.UUID
    booking_id: uuid.UUID | None
    walk_in: bool
    created: bool  # False: the day's visit already existed
    priced: bool  # False: a rate was missing and the visit is priced 0


# One round trip for a first check-in: the booking checked in (when there is one to check
# in), both rates in force read by the catalogue's rule, the visit written with them.
_CREATE = f"""
WITH checked_in AS (
    UPDATE booking SET status = 'checked_in', checked_in_at = {{}}, updated_at = now()
     WHERE id = {{}} AND status = 'confirmed'
     RETURNING id),
vr AS ({VENUE_RATE_IN_FORCE}),
orr AS ({ORGANISATION_RATE_IN_FORCE}),
priced AS (
    SELECT EXISTS (SELECT 1 FROM vr) AND EXISTS (SELECT 1 FROM orr) AS priced)
INSERT INTO visit (id, agent, organisation, venue, workspace, booking, local_date, unit,
                   quantity, walk_in, checked_in_at, checked_out_at, venue_rate_cents,
                   venue_vat_rate, organisation_rate_cents, organisation_vat_rate,
                   billable, created_at)
SELECT {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, NULL,
       coalesce((SELECT amount_cents FROM vr), 0), coalesce((SELECT vat_rate FROM vr), 0),
       coalesce((SELECT amount_cents FROM orr), 0), coalesce((SELECT vat_rate FROM orr), 0),
       {{}} AND priced.priced, now()
  FROM priced
ON CONFLICT DO NOTHING
RETURNING id, (SELECT priced FROM priced) AS priced
"""


def _priced_visit(plan: VisitPlan, visit_id: uuid.UUID) -> tuple[Any, ...]:
    """The visit statement's parameters, in their order: the venue's rate look-up, the
    organisation's, then the visit's own columns."""
    on = plan.local_date
    return (
        plan.venue_id,
        plan.workspace_kind,
        plan.unit,
        on,
        plan.organisation_id,
        plan.workspace_kind,
        plan.unit,
        on,
        visit_id,
        plan.agent_id,
        plan.organisation_id,
        plan.venue_id,
        plan.workspace_id,
        plan.booking_id,
        plan.local_date,
        plan.unit,
        plan.quantity,
    )


async def create(
    plan: VisitPlan, *, billable: bool, check_in_booking: uuid.UUID | None = None
) -> VisitRef:
    """The day's visit for the plan: created and priced, or the one that already exists.

    `check_in_booking`: a confirmed booking this visit checks in, in the same statement.
    """
    visit_id = uuid.uuid4()
    rows = await Visit.raw(
        _CREATE,
        plan.checked_in_at,
        check_in_booking,
        *_priced_visit(plan, visit_id),
        plan.walk_in,
        plan.checked_in_at,
        billable,
    )
    if rows:
        return VisitRef(
            visit_id, plan.booking_id, plan.walk_in, created=True, priced=rows[0]["priced"]
        )
    # A concurrent scan of the same agent created the day's visit first (we waited for it).
    existing = await day_visit(plan.agent_id, plan.venue_id, plan.local_date)
    assert existing is not None, "visit insert conflicted but no visit of the day exists"
    return VisitRef(
        existing["id"], existing["booking"], existing["walk_in"], created=False, priced=True
    )


async def day_visit(
    agent_id: uuid.UUID, venue_id: uuid.UUID, local_date: date
) -> dict[str, Any] | None:
    rows = await Visit.raw(
        "SELECT id, booking, walk_in FROM visit WHERE agent = {} AND venue = {} "
        "AND local_date = {}",
        agent_id,
        venue_id,
        local_date,
    )
    return rows[0] if rows else None


async def check_out(visit_id: uuid.UUID, at: datetime) -> None:
    """The visit ends at `at` (the last exit of the day counts) and its booking is completed."""
    rows = await Visit.raw(
        "UPDATE visit SET checked_out_at = greatest(checked_in_at, {}) WHERE id = {} "
        "RETURNING booking",
        at,
        visit_id,
    )
    if rows and rows[0]["booking"] is not None:
        await Visit.raw(
            "UPDATE booking SET status = 'completed', checked_out_at = {}, updated_at = now() "
            "WHERE id = {} AND status = 'checked_in'",
            at,
            rows[0]["booking"],
        )


async def fallback_workspace(venue_id: uuid.UUID) -> dict[str, Any] | None:
    """Where to place a visit that has no booking (a walk-in the server could not seat)."""
    rows = await Visit.raw(
        "SELECT id, kind, booking_unit FROM workspace WHERE venue = {} "
        "ORDER BY active DESC, kind <> 'desk', booking_unit <> 'half_day', name, id LIMIT 1",
        venue_id,
    )
    return rows[0] if rows else None


def unit_of(workspace: dict[str, Any]) -> str:
    return {"half_day": "half_day", "day": "day"}.get(workspace["booking_unit"], "hour")
