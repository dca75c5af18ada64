"""Scan verdicts: a door scan's input and answer, and the pure decisions on a token and its holder."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from passes.verify import MalformedToken, PublicKey, Reason, Verdict, decode, verify

# An online scan is about now; older ones are offline scans and go through scans:batch.
ONLINE_WINDOW = timedelta(minutes=15)


# A scanner's clock may run a little fast, not hours.
FUTURE_TOLERANCE = timedelta(minutes=5)


MAX_SERIAL = 2**31 - 1  # pass.serial is an int4; a larger serial cannot be a pass of ours


# Refusal reasons beyond the verifier's own (passes.verify.Reason).
UNKNOWN_PASS = "unknown_pass"


AGENT_INACTIVE = "agent_inactive"


VENUE_CLOSED = "venue_closed"


NO_SEAT = "no_booking_no_seat"


ALLOWANCE_EXCEEDED = "allowance_exceeded"


BOOKED_ELSEWHERE = "booked_elsewhere"


NOT_CHECKED_IN = "not_checked_in"


# A guest pass shown at a venue, or for a meeting, it was not issued for (or withdrawn).
NOT_INVITED = "not_invited"


# Verdicts reached before the signature was found good: the token tells us nothing trustworthy.
UNSIGNED = frozenset(
    {Reason.MALFORMED, Reason.UNSUPPORTED_VERSION, Reason.UNKNOWN_KEY, Reason.BAD_SIGNATURE}
)


# The anomaly opened when an offline scanner admitted someone the server refuses for this reason.
ANOMALY_KIND = {NO_SEAT: "over_capacity", ALLOWANCE_EXCEEDED: "over_allowance"}


@dataclass(frozen=True)
class ScanInput:
    scan_id: uuid.UUID
    token: str
    scanned_at: datetime
    direction: str  # in | out
    local_admitted: bool | None = None  # offline: what the scanner decided
    local_reason: str | None = None


@dataclass(frozen=True)
class AnomalyRef:
    id: uuid.UUID
    kind: str


@dataclass
class ScanOutcome:
    """The answer to one scan; a replay rebuilds the same from the stored row."""

    scan_id: uuid.UUID
    venue_id: uuid.UUID
    direction: str
    scanned_at: datetime
    admitted: bool
    reason: str | None
    serial: int | None = None
    agent_id: uuid.UUID | None = None
    agent_name: str | None = None
    organisation_name: str | None = None
    booking_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    walk_in: bool = False
    offline: bool = False
    local_admitted: bool | None = None
    anomalies: list[AnomalyRef] = field(default_factory=list)
    replayed: bool = False
    # A meeting attendee admitted: the room and who invited them (the door says both).
    meeting_room: str | None = None
    meeting_host: str | None = None


def claimed_serial(token: str) -> tuple[int | None, int | None]:
    """Key id and serial as the token claims them (not trusted yet), for the lookups."""
    try:
        claims, _, _ = decode(token)
    except MalformedToken:
        return None, None
    serial = claims.serial if 0 < claims.serial <= MAX_SERIAL else None
    return claims.key_id, serial


def judge(
    token: str,
    keys: Mapping[int, PublicKey],
    verdict: Verdict,
    situation: dict[str, Any],
    at: datetime,
    *,
    as_of: bool,
) -> tuple[str | None, bool]:
    """The refusal reason at `at` (None: admitted) and whether the holder is known and trusted.

    `verdict` is the verifier's on the token alone; a pass that is not active is judged again
    with its status, so that the reason is exactly the one a scanner's verifier gives.
    """
    status = (situation["status_then"] or "active") if as_of else situation["pass_status"]
    if verdict.admitted and status in ("revoked", "suspended"):
        serial = situation["serial"]
        verdict = verify(
            token,
            keys=keys,
            revoked={serial} if status == "revoked" else set(),
            suspended={serial} if status == "suspended" else set(),
            now=at,
        )
    guest = situation["agent_id"] is None and situation.get("guest_id") is not None
    trusted = situation["agent_id"] is not None or guest
    if not verdict.admitted:
        return str(verdict.reason), trusted
    if guest:
        return _judge_guest(situation, at, as_of=as_of), True
    if situation["agent_id"] is None:
        return UNKNOWN_PASS, False
    deactivated = situation["deactivated_at"]
    agent_inactive = (
        (deactivated is not None and deactivated <= at) if as_of else not situation["agent_active"]
    )
    if agent_inactive or not situation["organisation_active"]:
        return AGENT_INACTIVE, True
    if situation["venue_status"] != "approved" or situation["closed"]:
        return VENUE_CLOSED, True
    return None, True


def _judge_guest(situation: dict[str, Any], at: datetime, *, as_of: bool) -> str | None:
    """A meeting guest's pass: admitted at the meeting's venue while still invited to it.

    Its validity window (the meeting, with the door margin) was checked with the token; the
    pass is revoked when the guest is removed or the meeting cancelled, and the server also
    checks both here, so that a scanner whose revocation list is behind is corrected.
    """
    removed = situation["guest_removed_at"]
    withdrawn = (removed is not None and removed <= at) if as_of else removed is not None
    if (
        withdrawn
        or situation["guest_venue"] != situation["venue_id"]
        or situation["guest_booking_status"] not in ("confirmed", "checked_in", "completed")
    ):
        return NOT_INVITED
    if situation["venue_status"] != "approved" or situation["closed"]:
        return VENUE_CLOSED
    return None
