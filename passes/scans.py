"""Door scans: check-in and check-out at a venue, online and offline, with the offline verifier's verdicts.

The server judges a token with `passes.verify.verify` exactly as a scanner does, given the
public keys and the state of that one pass (looked up by serial). Online, it judges at
its own clock and the answer decides the door; offline, a scanner decided alone and
uploads its scans later: the server re-judges each AS OF its `scanned_at` (a revocation
before the scan counts, one after does not), keeps what the door did (trust first: an
admitted person has a visit) and opens an anomaly wherever it disagrees.

`scan_id`, made by the scanner, is the idempotency key: the scan row is written last in
the scan's transaction, so a concurrent or later replay fails on its primary key, rolls
back whatever it did, and answers with the stored first result.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from redis.asyncio import Redis

from booking.errors import AgentAlreadyBooked, AllowanceExceeded, CapacityExhausted
from booking.services.walk_ins import book_walk_in
from passes import anomalies, visits
from passes.errors import ScanIdReused, TooManyScans
from passes.keys import public_keys
from passes.tables import Scan
from passes.verify import MalformedToken, PublicKey, Reason, Verdict, decode, verify
from service.kernel.errors import InvalidValue, NotFound
from service.kernel.identity import Principal

# A scanner reads a QR code in about a second; ten a second is a stuck or hostile loop.
SCANS_PER_SECOND = 10
# An online scan is about now; older ones are offline scans and go through scans:batch.
ONLINE_WINDOW = timedelta(minutes=15)
# A scanner's clock may run a little fast, not hours.
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_SERIAL = 2**31 - 1  # pass.serial is an int4; a larger serial cannot be a pass of ours
KEY_CACHE_SECONDS = 10.0

# Refusal reasons beyond the verifier's own (passes.verify.Reason).
UNKNOWN_PASS = "unknown_pass"
AGENT_INACTIVE = "agent_inactive"
VENUE_CLOSED = "venue_closed"
NO_SEAT = "no_booking_no_seat"
ALLOWANCE_EXCEEDED = "allowance_exceeded"
BOOKED_ELSEWHERE = "booked_elsewhere"
NOT_CHECKED_IN = "not_checked_in"

# Verdicts reached before the signature was found good: the token tells us nothing trustworthy.
_UNSIGNED = frozenset(
    {Reason.MALFORMED, Reason.UNSUPPORTED_VERSION, Reason.UNKNOWN_KEY, Reason.BAD_SIGNATURE}
)
# The anomaly opened when an offline scanner admitted someone the server refuses for this reason.
_ANOMALY_KIND = {NO_SEAT: "over_capacity", ALLOWANCE_EXCEEDED: "over_allowance"}


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


class ScanRateLimit:
    """Scans per second per scanner, counted in Redis so that every API process shares it."""

    def __init__(self, redis: Redis, per_second: int | None = None) -> None:
        self.redis = redis
        self.per_second = per_second

    async def hit(self, who: str) -> None:
        limit = self.per_second if self.per_second is not None else SCANS_PER_SECOND
        key = f"scan-rate:{who}:{int(time.time())}"
        count = int(await self.redis.incr(key))
        if count == 1:
            # The window's first scan sets its expiry; a key left without one (a crash in
            # between) names a second that never comes back, so it can only waste a little memory.
            await self.redis.expire(key, 2)
        if count > limit:
            raise TooManyScans(retry_after=1)


class PublicKeyCache:
    """The pass_key table, kept a few seconds per process.

    Correctness does not rest on it: a key id it does not hold (a key published since by
    another process) reloads at once, and published keys never change or disappear.
    """

    def __init__(self, seconds: float = KEY_CACHE_SECONDS) -> None:
        self.seconds = seconds
        self._keys: dict[int, PublicKey] = {}
        self._loaded = float("-inf")

    async def get(self, key_id: int | None) -> Mapping[int, PublicKey]:
        stale = time.monotonic() - self._loaded > self.seconds
        if stale or (key_id is not None and key_id not in self._keys):
            self._keys = await public_keys()
            self._loaded = time.monotonic()
        return self._keys


@dataclass(frozen=True)
class _Scanner:
    venue_id: uuid.UUID
    device_id: uuid.UUID | None
    user_id: uuid.UUID | None


# Everything the verdict needs, in one round trip: the venue on its local date, the pass and
# its holder, the holder's visit and best booking there that day. `status_then` is the
# pass's status at `at` from its event history (offline); `status` is the current one.
_SITUATION = """
WITH ve AS (
    SELECT id, timezone, status, afternoon_start,
           ({}::timestamptz AT TIME ZONE timezone)::date AS local_date
      FROM venue WHERE id = {})
SELECT ve.timezone, ve.status AS venue_status, ve.afternoon_start, ve.local_date,
       EXISTS (SELECT 1 FROM closure c WHERE c.venue = ve.id
                  AND ve.local_date BETWEEN c.starts_on AND c.ends_on) AS closed,
       p.serial, p.status AS pass_status,
       (SELECT e.status FROM pass_status_event e WHERE e.serial = p.serial AND e.at <= {}
         ORDER BY e.at DESC, e.id DESC LIMIT 1) AS status_then,
       u.id AS agent_id, u.display_name AS agent_name, u.active AS agent_active,
       u.deactivated_at, o.id AS organisation_id, o.name AS organisation_name,
       o.active AS organisation_active,
       vi.id AS visit_id, vi.booking AS visit_booking, vi.walk_in AS visit_walk_in,
       b.id AS booking_id, b.status AS booking_status, b.organisation AS booking_organisation,
       b.workspace AS booking_workspace, w.kind AS booking_workspace_kind, b.unit AS booking_unit,
       b.quantity AS booking_quantity
  FROM ve
  LEFT JOIN pass p ON p.serial = {}::int
  LEFT JOIN app_user u ON u.id = p.agent
  LEFT JOIN organisation o ON o.id = u.organisation
  LEFT JOIN visit vi ON vi.agent = u.id AND vi.venue = ve.id AND vi.local_date = ve.local_date
  LEFT JOIN LATERAL (
      SELECT b.* FROM booking b
       WHERE b.agent = u.id AND b.venue = ve.id AND b.local_date = ve.local_date
         AND b.status IN ('confirmed', 'checked_in', 'completed')
       -- The booking to check in: still confirmed, the slot we are in, the earliest.
       ORDER BY b.status <> 'confirmed', NOT (tstzrange(b.starts_at, b.ends_at) @> {}::timestamptz),
                b.starts_at
       LIMIT 1) b ON true
  LEFT JOIN workspace w ON w.id = b.workspace
"""


async def _situation(venue_id: uuid.UUID, serial: int | None, at: datetime) -> dict[str, Any]:
    rows = await Scan.raw(_SITUATION, at, venue_id, at, serial, at)
    if not rows:
        raise NotFound("No such venue.")
    return rows[0]


def _serial(token: str) -> tuple[int | None, int | None]:
    """Key id and serial as the token claims them (not trusted yet), for the lookups."""
    try:
        claims, _, _ = decode(token)
    except MalformedToken:
        return None, None
    serial = claims.serial if 0 < claims.serial <= MAX_SERIAL else None
    return claims.key_id, serial


def _judge(
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
    trusted = situation["agent_id"] is not None
    if not verdict.admitted:
        return str(verdict.reason), trusted
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
class _Work:
    """What one scan does, decided step by step, then written in one transaction."""

    outcome: ScanOutcome
    anomaly_kinds: list[str] = field(default_factory=list)
    anomaly_visit: uuid.UUID | None = None  # the visit this scan created, if any


async def _check_in(
    work: _Work,
    scanner: _Scanner,
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
    problems = [] if outcome.reason is None else [_ANOMALY_KIND.get(outcome.reason, outcome.reason)]
    if situation["visit_id"] is not None:
        # The same pass again today at this venue: the same visit.
        outcome.visit_id = situation["visit_id"]
        outcome.booking_id = situation["visit_booking"]
        outcome.walk_in = situation["visit_walk_in"]
        work.anomaly_kinds.extend(problems)
        return
    agent_id = situation["agent_id"]
    plan: visits.VisitPlan | None = None
    if situation["booking_id"] is not None:
        outcome.booking_id = situation["booking_id"]
        if situation["booking_status"] == "confirmed":
            await Scan.raw(
                "UPDATE booking SET status = 'checked_in', checked_in_at = {}, updated_at = now() "
                "WHERE id = {} AND status = 'confirmed'",
                at,
                situation["booking_id"],
            )
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
            problems.append(_ANOMALY_KIND.get(reason, reason))
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
    visit = await visits.create(plan, billable=not problems)
    if visit.created and not visit.priced:
        problems.append("missing_rate")
    outcome.visit_id = visit.id
    outcome.booking_id = visit.booking_id
    outcome.walk_in = visit.walk_in
    work.anomaly_kinds.extend(problems)
    if visit.created:
        work.anomaly_visit = visit.id


async def _check_out(
    work: _Work, situation: dict[str, Any] | None, at: datetime, *, offline: bool, trusted: bool
) -> None:
    outcome = work.outcome
    door_admitted = bool(outcome.local_admitted) if offline else outcome.admitted
    if not door_admitted or not trusted or situation is None:
        return
    if situation["visit_id"] is None:
        outcome.admitted, outcome.reason = False, NOT_CHECKED_IN
        return
    outcome.visit_id = situation["visit_id"]
    outcome.booking_id = situation["visit_booking"]
    outcome.walk_in = situation["visit_walk_in"]
    await visits.check_out(situation["visit_id"], at)


async def _store(work: _Work, scanner: _Scanner, item: ScanInput) -> None:
    outcome = work.outcome
    await Scan.raw(
        """
        INSERT INTO scan (scan_id, venue, device, scanned_by, serial, agent, direction,
                          scanned_at, received_at, offline, local_admitted, admitted, reason,
                          booking, visit)
        VALUES ({}, {}, {}, {}, {}, {}, {}, {}, now(), {}, {}, {}, {}, {}, {})
        """,
        item.scan_id,
        scanner.venue_id,
        scanner.device_id,
        scanner.user_id,
        outcome.serial,
        outcome.agent_id,
        item.direction,
        item.scanned_at,
        outcome.offline,
        outcome.local_admitted,
        outcome.admitted,
        outcome.reason,
        outcome.booking_id,
        outcome.visit_id,
    )
    for kind in sorted(set(work.anomaly_kinds)):
        anomaly_id = await anomalies.record(
            kind,
            venue_id=scanner.venue_id,
            scan_id=item.scan_id,
            visit_id=work.anomaly_visit,
        )
        outcome.anomalies.append(AnomalyRef(anomaly_id, kind))


def _needs_transaction(
    item: ScanInput, outcome: ScanOutcome, situation: dict[str, Any] | None, offline: bool
) -> bool:
    """Whether the scan writes more than its own row (then all of it is one transaction)."""
    if offline:
        return True  # anomalies go with their scan
    if situation is None or not outcome.admitted:
        return False
    has_visit = situation["visit_id"] is not None
    return not has_visit if item.direction == "in" else has_visit


async def _process(
    scanner: _Scanner,
    item: ScanInput,
    keys: PublicKeyCache,
    *,
    at: datetime,
    offline: bool,
) -> ScanOutcome:
    key_id, serial = _serial(item.token)
    key_set = await keys.get(key_id)
    verdict = verify(item.token, keys=key_set, now=at)
    outcome = ScanOutcome(
        scan_id=item.scan_id,
        venue_id=scanner.venue_id,
        direction=item.direction,
        scanned_at=item.scanned_at,
        admitted=False,
        reason=str(verdict.reason),
        serial=serial,
        offline=offline,
        local_admitted=item.local_admitted if offline else None,
    )
    situation: dict[str, Any] | None = None
    trusted = False
    # A token whose signature fails names nobody: no need to look anything up.
    if verdict.reason not in _UNSIGNED:
        situation = await _situation(scanner.venue_id, serial, at)
        reason, trusted = _judge(item.token, key_set, verdict, situation, at, as_of=offline)
        outcome.admitted, outcome.reason = reason is None, reason
    if trusted:
        assert situation is not None
        outcome.agent_id = situation["agent_id"]
        outcome.agent_name = situation["agent_name"]
        outcome.organisation_name = situation["organisation_name"]
    work = _Work(outcome)
    atomic = (
        Scan._meta.db.transaction()
        if _needs_transaction(item, outcome, situation, offline)
        else contextlib.nullcontext()
    )
    try:
        async with atomic:
            if item.direction == "in":
                await _check_in(work, scanner, situation, at, offline=offline, trusted=trusted)
            else:
                await _check_out(work, situation, at, offline=offline, trusted=trusted)
            await _store(work, scanner, item)
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name != "scan_pkey":
            raise
        # A replay (maybe concurrent): everything above was rolled back; answer as the first time.
        stored = await stored_outcomes([item.scan_id])
        return _same_scan(stored[item.scan_id], scanner, item)
    except asyncpg.ForeignKeyViolationError as error:
        if error.constraint_name != "scan_venue_fkey":
            raise
        raise NotFound("No such venue.") from None
    return outcome


def _same_scan(stored: ScanOutcome, scanner: _Scanner, item: ScanInput) -> ScanOutcome:
    if stored.venue_id != scanner.venue_id or stored.direction != item.direction:
        raise ScanIdReused()
    return replace(stored, replayed=True)


async def stored_outcomes(scan_ids: list[uuid.UUID]) -> dict[uuid.UUID, ScanOutcome]:
    """The answers given to scans already recorded, rebuilt from their rows."""
    rows = await Scan.raw(
        """
        SELECT s.scan_id, s.venue, s.direction, s.scanned_at, s.admitted, s.reason, s.serial,
               s.agent, u.display_name AS agent_name, o.name AS organisation_name, s.booking,
               s.visit, coalesce(vi.walk_in, false) AS walk_in, s.offline, s.local_admitted,
               coalesce((SELECT json_agg(json_build_array(a.id, a.kind) ORDER BY a.kind)
                           FROM anomaly a WHERE a.scan = s.scan_id), '[]') AS anomalies
          FROM scan s
          LEFT JOIN app_user u ON u.id = s.agent
          LEFT JOIN organisation o ON o.id = u.organisation
          LEFT JOIN visit vi ON vi.id = s.visit
         WHERE s.scan_id = ANY({}::uuid[])
        """,
        scan_ids,
    )
    return {
        r["scan_id"]: ScanOutcome(
            scan_id=r["scan_id"],
            venue_id=r["venue"],
            direction=r["direction"],
            scanned_at=r["scanned_at"],
            admitted=r["admitted"],
            reason=r["reason"],
            serial=r["serial"],
            agent_id=r["agent"],
            agent_name=r["agent_name"],
            organisation_name=r["organisation_name"],
            booking_id=r["booking"],
            visit_id=r["visit"],
            walk_in=r["walk_in"],
            offline=r["offline"],
            local_admitted=r["local_admitted"],
            anomalies=[
                AnomalyRef(uuid.UUID(a), k)
                for a, k in (
                    json.loads(r["anomalies"])
                    if isinstance(r["anomalies"], str)
                    else r["anomalies"]
                )
            ],
        )
        for r in rows
    }


def _scanner(principal: Principal, venue_id: uuid.UUID) -> _Scanner:
    return _Scanner(
        venue_id=venue_id,
        device_id=principal.device_id,
        user_id=None if principal.is_device else principal.user_id,
    )


async def scan(
    principal: Principal,
    venue_id: uuid.UUID,
    item: ScanInput,
    keys: PublicKeyCache,
    *,
    now: datetime | None = None,
) -> ScanOutcome:
    """An online scan: judged at the server's clock; the answer opens the door or not."""
    now = now or datetime.now(UTC)
    if abs(item.scanned_at - now) > ONLINE_WINDOW:
        raise InvalidValue(
            "An online scan is made now; upload older scans through scans:batch.",
            field="scanned_at",
        )
    return await _process(_scanner(principal, venue_id), item, keys, at=now, offline=False)


async def scan_batch(
    principal: Principal,
    venue_id: uuid.UUID,
    items: list[ScanInput],
    keys: PublicKeyCache,
    *,
    now: datetime | None = None,
) -> list[ScanOutcome]:
    """Scans a device made offline, re-judged as of their own time; answers in request order."""
    now = now or datetime.now(UTC)
    for index, item in enumerate(items):
        if item.scanned_at > now + FUTURE_TOLERANCE:
            raise InvalidValue(
                "This scan is dated in the future; check the scanner's clock.",
                field=f"scans[{index}].scanned_at",
            )
        if item.local_admitted is None:
            raise InvalidValue(
                "An offline scan says what the scanner decided.",
                field=f"scans[{index}].local_verdict",
            )
    scanner = _scanner(principal, venue_id)
    first: dict[uuid.UUID, ScanInput] = {}
    for item in items:
        earlier = first.setdefault(item.scan_id, item)
        if earlier.direction != item.direction or earlier.token != item.token:
            raise ScanIdReused("Two scans of this batch share a scan_id.")
    known = await stored_outcomes(list(first))
    for item in items:
        if item.scan_id in known:
            _same_scan(known[item.scan_id], scanner, item)  # refuse a reused id before any write
    answers: dict[uuid.UUID, ScanOutcome] = {}
    # In the order they happened, so that a check-in precedes its check-out.
    for item in sorted(items, key=lambda i: i.scanned_at):
        if item.scan_id in answers:
            answers[item.scan_id] = replace(answers[item.scan_id], replayed=True)
        elif item.scan_id in known:
            answers[item.scan_id] = replace(known[item.scan_id], replayed=True)
        else:
            answers[item.scan_id] = await _process(
                scanner, item, keys, at=item.scanned_at, offline=True
            )
    return [answers[item.scan_id] for item in items]
