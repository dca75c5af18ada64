"""Check-ins and check-outs: what an admitted scan does to bookings, walk-ins and visits.

Runs inside the scan's transaction (see passes.scans); it decides step by step what the scan
writes and leaves the scan row and its anomalies to the caller.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from booking.errors import AgentAlreadyBooked, AllowanceExceeded, CapacityExhausted
from booking.services.walk_ins import book_walk_in
from passes import attendance, visits
from passes.tables import Scan
from passes.verdicts import (
    ALLOWANCE_EXCEEDED,
    ANOMALY_KIND,
    BOOKED_ELSEWHERE,
    NO_SEAT,
    NOT_CHECKED_IN,
    ScanOutcome,
)


@dataclass(frozen=True)
class Scanner:
    venue_id: uuid.UUID
    device_id: uuid.UUID | None
    user_id: uuid.UUID | None


async def _half_day_elsewhere(situation: dict[str, Any], venue_id: uuid.UUID, at: datetime) -> bool:
    """Was this agent checked in at another venue in the same half-day as `at`?"""
    rows = await Scan.raw(
        "SELECT checked_in_at FROM visit WHERE agent = {} AND local_date = {} AND venue <> {}",
        situation["agent_id"],
        situation["local_date"],
        venue_id,
    )
    zone = ZoneInfo(situation["timezone"])

    def afternoon(moment: datetime) -> bool:
        return moment.astimezone(zone).time() >= situation["afternoon_start"]

    return any(afternoon(r["checked_in_at"]) == afternoon(at) for r in rows)


@dataclass
class ScanWork:
    """What one scan does, decided step by step, then written in one transaction."""

    outcome: ScanOutcome
    anomaly_kinds: list[str] = field(default_factory=list)
    anomaly_visit: uuid.UUID | None = None  # the visit this scan created, if any


async def check_in(
    work: ScanWork,
    scanner: Scanner,
    situation: dict[str, Any] | None,
    at: datetime,
    *,
    offline: bool,
    trusted: bool,
) -> None:
    outcome = work.outcome
    door_admitted = bool(outcome.local_admitted) if offline else outcome.admitted
    if not door_admitted:
        if offline and outcome.admitted:
            work.anomaly_kinds.append("refused_but_valid")
        return
    if not trusted or situation is None:
        # Admitted at the door on a token we cannot tie to anyone: nothing to bill, a case to review.
        work.anomaly_kinds.append(str(outcome.reason))
        return
    problems = [] if outcome.reason is None else [ANOMALY_KIND.get(outcome.reason, outcome.reason)]
    if situation["agent_id"] is None:
        # A meeting guest (trusted: their pass names their invitation). Admitted at the door,
        # they have their visit (trust first), the anomaly says where the server disagrees.
        meeting = attendance.guest_meeting(situation)
        outcome.visit_id = await attendance.record(meeting, scanner.venue_id, at)
        outcome.booking_id = meeting.booking_id
        work.anomaly_kinds.extend(problems)
        return
    if situation["visit_id"] is not None:
        # The same pass again today at this venue: the same visit.
        outcome.visit_id = situation["visit_id"]
        outcome.booking_id = situation["visit_booking"]
        outcome.walk_in = situation["visit_walk_in"]
        work.anomaly_kinds.extend(problems)
        return
    agent_id = situation["agent_id"]
    plan: visits.VisitPlan | None = None
    check_in_booking: uuid.UUID | None = None
    if situation["booking_id"] is not None:
        outcome.booking_id = situation["booking_id"]
        if situation["booking_status"] == "confirmed":
            # Checked in by the statement that writes the visit (passes.visits.create).
            check_in_booking = situation["booking_id"]
        plan = visits.VisitPlan(
            agent_id=agent_id,
            organisation_id=situation["booking_organisation"],
            venue_id=scanner.venue_id,
            workspace_id=situation["booking_workspace"],
            workspace_kind=situation["booking_workspace_kind"],
            booking_id=situation["booking_id"],
            local_date=situation["local_date"],
            unit=situation["booking_unit"],
            quantity=situation["booking_quantity"],
            walk_in=False,
            checked_in_at=at,
        )
    elif outcome.admitted and (
        attending := await attendance.colleague_meeting(
            agent_id, situation["organisation_id"], scanner.venue_id, at
        )
    ):
        # Invited to a meeting here now: admitted to the room, no desk, no allowance.
        outcome.visit_id = await attendance.record(attending, scanner.venue_id, at)
        outcome.booking_id = attending.booking_id
        outcome.meeting_room, outcome.meeting_host = attending.room, attending.host
        return
    elif outcome.admitted:
        try:
            walk_in = await book_walk_in(
                agent_id, scanner.venue_id, at=at, created_by=scanner.user_id
            )
        except (CapacityExhausted, AllowanceExceeded, AgentAlreadyBooked) as refusal:
            concurrent = await visits.day_visit(agent_id, scanner.venue_id, situation["local_date"])
            if concurrent is not None:
                # Another door seated this agent while we waited for their lock: same visit.
                outcome.visit_id = concurrent["id"]
                outcome.booking_id = concurrent["booking"]
                outcome.walk_in = concurrent["walk_in"]
                work.anomaly_kinds.extend(problems)
                return
            reason = {
                CapacityExhausted: NO_SEAT,
                AllowanceExceeded: ALLOWANCE_EXCEEDED,
                AgentAlreadyBooked: BOOKED_ELSEWHERE,
            }[type(refusal)]
            outcome.admitted, outcome.reason = False, reason
            if not offline:
                return  # refused at the door
            problems.append(ANOMALY_KIND.get(reason, reason))
        else:
            outcome.booking_id = walk_in.booking_id
            plan = visits.VisitPlan(
                agent_id=agent_id,
                organisation_id=situation["organisation_id"],
                venue_id=scanner.venue_id,
                workspace_id=walk_in.workspace_id,
                workspace_kind=walk_in.workspace_kind,
                booking_id=walk_in.booking_id,
                local_date=walk_in.local_date,
                unit=walk_in.unit,
                quantity=walk_in.quantity,
                walk_in=True,
                checked_in_at=at,
            )
    if plan is None:
        # Offline only: the door admitted someone the server could not seat or refuses; the
        # visit exists (trust first) on the venue's first desk area, without a booking.
        workspace = await visits.fallback_workspace(scanner.venue_id)
        if workspace is None:
            work.anomaly_kinds.extend(problems)
            return
        plan = visits.VisitPlan(
            agent_id=agent_id,
            organisation_id=situation["organisation_id"],
            venue_id=scanner.venue_id,
            workspace_id=workspace["id"],
            workspace_kind=workspace["kind"],
            booking_id=None,
            local_date=situation["local_date"],
            unit=visits.unit_of(workspace),
            quantity=1,
            walk_in=True,
            checked_in_at=at,
        )
    if offline and await _half_day_elsewhere(situation, scanner.venue_id, at):
        problems.append("same_pass_two_venues")
    visit = await visits.create(plan, billable=not problems, check_in_booking=check_in_booking)
    if visit.created and not visit.priced:
        problems.append("missing_rate")
    outcome.visit_id = visit.id
    outcome.booking_id = visit.booking_id
    outcome.walk_in = visit.walk_in
    work.anomaly_kinds.extend(problems)
    if visit.created:
        work.anomaly_visit = visit.id


async def check_out(
    work: ScanWork, situation: dict[str, Any] | None, at: datetime, *, offline: bool, trusted: bool
) -> None:
    outcome = work.outcome
    door_admitted = bool(outcome.local_admitted) if offline else outcome.admitted
    if not door_admitted or not trusted or situation is None:
        return
    if situation["agent_id"] is None and situation["guest_visit_id"] is not None:
        outcome.visit_id = situation["guest_visit_id"]
        await visits.check_out(situation["guest_visit_id"], at)
        return
    if situation["visit_id"] is None:
        outcome.admitted, outcome.reason = False, NOT_CHECKED_IN
        return
    outcome.visit_id = situation["visit_id"]
    outcome.booking_id = situation["visit_booking"]
    outcome.walk_in = situation["visit_walk_in"]
    await visits.check_out(situation["visit_id"], at)
