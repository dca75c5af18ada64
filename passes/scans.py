"""Recording door scans: check-in and check-out at a venue, online and offline, each once.

The server judges a token (passes.verdicts) with `passes.verify.verify` exactly as a
scanner does, given the public keys and the state of that one pass (looked up by serial).
Online, it judges at its own clock and the answer decides the door; offline, a scanner
decided alone and uploads its scans later: the server re-judges each AS OF its
`scanned_at` (a revocation before the scan counts, one after does not), keeps what the door
did (trust first: an admitted person has a visit) and opens an anomaly wherever it disagrees.

`scan_id`, made by the scanner, is the idempotency key: the scan row is written last in
the scan's transaction, so a concurrent or later replay fails on its primary key, rolls
back whatever it did, and answers with the stored first result.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import asyncpg

from booking.services.rates import ORGANISATION_RATE_IN_FORCE, VENUE_RATE_IN_FORCE
from passes import anomalies, check_ins
from passes.check_ins import Scanner, ScanWork
from passes.errors import ScanIdReused
from passes.keys import PublicKeyCache
from passes.tables import Scan
from passes.verdicts import (
    FUTURE_TOLERANCE,
    ONLINE_WINDOW,
    UNSIGNED,
    AnomalyRef,
    ScanInput,
    ScanOutcome,
    claimed_serial,
    judge,
)
from passes.verify import verify
from service.kernel.database import fetch_rows, numbered
from service.kernel.dates import within_range
from service.kernel.errors import InvalidValue, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Principal

# Everything the verdict needs, in one round trip: the venue on its local date, the pass and
# its holder, the holder's visit and best booking there that day. `status_then` is the
# pass's status at `at` from its event history (offline); `status` is the current one.
_VENUE = """
ve AS (
    SELECT id, timezone, status, afternoon_start,
           ({}::timestamptz AT TIME ZONE timezone)::date AS local_date
      FROM venue WHERE id = {})
"""
_SITUATION_SELECT = """
SELECT ve.id AS venue_id, ve.timezone, ve.status AS venue_status, ve.afternoon_start, ve.local_date,
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
       b.quantity AS booking_quantity,
       ga.id AS guest_id, ga.display_name AS guest_name, ga.removed_at AS guest_removed_at,
       gb.id AS guest_booking, gb.venue AS guest_venue, gb.status AS guest_booking_status,
       gb.organisation AS guest_organisation, gb.workspace AS guest_workspace,
       gb.quantity AS guest_quantity, gw.name AS guest_room, gv.id AS guest_visit_id,
       (SELECT o2.display_name FROM meeting_attendee o2 WHERE o2.booking = gb.id
           AND o2.role = 'organiser' AND o2.removed_at IS NULL) AS guest_host
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
  -- A guest pass: its meeting (the attendee, the booking, the room) and the guest's visit.
  LEFT JOIN meeting_attendee ga ON ga.id = p.attendee
  LEFT JOIN booking gb ON gb.id = ga.booking
  LEFT JOIN workspace gw ON gw.id = gb.workspace
  LEFT JOIN visit gv ON gv.attendee = ga.id
"""
_SITUATION = numbered(f"WITH {_VENUE}\n{_SITUATION_SELECT}")


# The commonest admitted scan, a booked first check-in (online, in, first of the day), read
# and written in that same round trip, without a transaction: the visit is written only when
# the situation is one `judge` admits online (a known agent, active, of an active
# organisation, a pass neither revoked nor suspended, an approved venue open today; the
# token itself was checked before), with a booking to check in, no visit yet and both rates
# in force (passes.visits, booking.services.rates: their rule, as SQL); the booking is
# checked in and the scan stored only when the visit was written. Anything else writes
# nothing and the caller takes the general path with the situation read here. A replayed
# scan_id fails the whole statement on scan_pkey. The scan's statements go straight through
# asyncpg (fetch_rows), prepared once per connection: Piccolo's building of these texts (25
# columns, 14 parameters) was about a tenth of a scan's CPU.
_GO_VENUE_RATE = VENUE_RATE_IN_FORCE.format(
    "go.venue_id", "go.booking_workspace_kind", "go.booking_unit", "go.local_date"
)
_GO_ORGANISATION_RATE = ORGANISATION_RATE_IN_FORCE.format(
    "go.booking_organisation", "go.booking_workspace_kind", "go.booking_unit", "go.local_date"
)
_SITUATION_AND_CHECK_IN = numbered(f"""
WITH {_VENUE},
s AS ({_SITUATION_SELECT}),
go AS (
    SELECT * FROM s
     WHERE agent_id IS NOT NULL AND agent_active AND organisation_active IS TRUE
       AND pass_status NOT IN ('revoked', 'suspended')
       AND venue_status = 'approved' AND NOT closed
       AND visit_id IS NULL AND booking_id IS NOT NULL),
v AS (
    INSERT INTO visit (id, agent, organisation, venue, workspace, booking, local_date, unit,
                       quantity, walk_in, checked_in_at, checked_out_at, venue_rate_cents,
                       venue_vat_rate, organisation_rate_cents, organisation_vat_rate,
                       billable, created_at)
    SELECT {{}}, go.agent_id, go.booking_organisation, go.venue_id, go.booking_workspace,
           go.booking_id, go.local_date, go.booking_unit, go.booking_quantity, false, {{}}, NULL,
           vr.amount_cents, vr.vat_rate, orr.amount_cents, orr.vat_rate, true, now()
      FROM go
     CROSS JOIN LATERAL ({_GO_VENUE_RATE}) vr
     CROSS JOIN LATERAL ({_GO_ORGANISATION_RATE}) orr
    ON CONFLICT DO NOTHING
    RETURNING id, booking),
checked_in AS (
    UPDATE booking SET status = 'checked_in', checked_in_at = {{}}, updated_at = now()
     WHERE id = (SELECT booking FROM v) AND status = 'confirmed'
     RETURNING id),
stored AS (
    INSERT INTO scan (scan_id, venue, device, scanned_by, serial, agent, direction, scanned_at,
                      received_at, offline, local_admitted, admitted, reason, booking, visit)
    SELECT {{}}, go.venue_id, {{}}, {{}}, {{}}, go.agent_id, 'in', {{}}, now(), false, NULL, true,
           NULL, go.booking_id, v.id
      FROM go, v
    RETURNING scan_id)
SELECT s.*, EXISTS (SELECT 1 FROM stored) AS checked_in FROM s
""")
_STORE = numbered(
    """
    INSERT INTO scan (scan_id, venue, device, scanned_by, serial, agent, direction,
                      scanned_at, received_at, offline, local_admitted, admitted, reason,
                      booking, visit)
    VALUES ({}, {}, {}, {}, {}, {}, {}, {}, now(), {}, {}, {}, {}, {}, {})
    """
)


async def _situation(venue_id: uuid.UUID, serial: int | None, at: datetime) -> dict[str, Any]:
    rows = await fetch_rows(_SITUATION, at, venue_id, at, serial, at)
    if not rows:
        raise NotFound(N_("No such venue."))
    return rows[0]


async def _situation_checking_in(
    scanner: Scanner, item: ScanInput, serial: int | None, at: datetime
) -> tuple[dict[str, Any], uuid.UUID | None]:
    """The situation, and the visit written with the scan when it was a booked first check-in.

    For an online check-in whose token the verifier admitted (_SITUATION_AND_CHECK_IN).
    """
    visit_id = uuid.uuid4()
    rows = await fetch_rows(
        _SITUATION_AND_CHECK_IN,
        at,
        scanner.venue_id,
        at,
        serial,
        at,
        visit_id,
        at,
        at,
        item.scan_id,
        scanner.device_id,
        scanner.user_id,
        serial,
        item.scanned_at,
    )
    if not rows:
        raise NotFound(N_("No such venue."))
    situation = rows[0]
    return situation, visit_id if situation.pop("checked_in") else None


async def _store(work: ScanWork, scanner: Scanner, item: ScanInput) -> None:
    outcome = work.outcome
    await fetch_rows(
        _STORE,
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
    scanner: Scanner,
    item: ScanInput,
    keys: PublicKeyCache,
    *,
    at: datetime,
    offline: bool,
) -> ScanOutcome:
    key_id, serial = claimed_serial(item.token)
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
    checked_in: uuid.UUID | None = None
    # A token whose signature fails names nobody: no need to look anything up.
    if verdict.reason not in UNSIGNED:
        try:
            if verdict.admitted and not offline and item.direction == "in":
                situation, checked_in = await _situation_checking_in(scanner, item, serial, at)
            else:
                situation = await _situation(scanner.venue_id, serial, at)
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name != "scan_pkey":
                raise
            stored = await stored_outcomes([item.scan_id])
            return _same_scan(stored[item.scan_id], scanner, item)
        reason, trusted = judge(item.token, key_set, verdict, situation, at, as_of=offline)
        outcome.admitted, outcome.reason = reason is None, reason
    if trusted:
        assert situation is not None
        outcome.agent_id = situation["agent_id"]
        outcome.agent_name = situation["agent_name"] or situation["guest_name"]
        outcome.organisation_name = situation["organisation_name"]
        if situation["guest_id"] is not None:
            outcome.meeting_room = situation["guest_room"]
            outcome.meeting_host = situation["guest_host"]
    if checked_in is not None:
        assert situation is not None
        assert outcome.admitted, f"checked in by SQL, refused by judge(): {outcome.reason}"
        outcome.booking_id = situation["booking_id"]
        outcome.visit_id = checked_in
        outcome.walk_in = False
        return outcome
    work = ScanWork(outcome)
    atomic = (
        Scan._meta.db.transaction()
        if _needs_transaction(item, outcome, situation, offline)
        else contextlib.nullcontext()
    )
    try:
        async with atomic:
            if item.direction == "in":
                await check_ins.check_in(
                    work, scanner, situation, at, offline=offline, trusted=trusted
                )
            else:
                await check_ins.check_out(work, situation, at, offline=offline, trusted=trusted)
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
        raise NotFound(N_("No such venue.")) from None
    return outcome


def _same_scan(stored: ScanOutcome, scanner: Scanner, item: ScanInput) -> ScanOutcome:
    if stored.venue_id != scanner.venue_id or stored.direction != item.direction:
        raise ScanIdReused()
    return replace(stored, replayed=True)


async def stored_outcomes(scan_ids: list[uuid.UUID]) -> dict[uuid.UUID, ScanOutcome]:
    """The answers given to scans already recorded, rebuilt from their rows."""
    rows = await Scan.raw(
        """
        SELECT s.scan_id, s.venue, s.direction, s.scanned_at, s.admitted, s.reason, s.serial,
               s.agent, coalesce(u.display_name, ma.display_name) AS agent_name,
               o.name AS organisation_name, s.booking, mw.name AS meeting_room,
               (SELECT mo.display_name FROM meeting_attendee mo WHERE mo.booking = ma.booking
                   AND mo.role = 'organiser' AND mo.removed_at IS NULL) AS meeting_host,
               s.visit, coalesce(vi.walk_in, false) AS walk_in, s.offline, s.local_admitted,
               coalesce((SELECT json_agg(json_build_array(a.id, a.kind) ORDER BY a.kind)
                           FROM anomaly a WHERE a.scan = s.scan_id), '[]') AS anomalies
          FROM scan s
          LEFT JOIN app_user u ON u.id = s.agent
          LEFT JOIN organisation o ON o.id = u.organisation
          LEFT JOIN visit vi ON vi.id = s.visit
          LEFT JOIN meeting_attendee ma ON ma.id = vi.attendee
          LEFT JOIN booking mb ON mb.id = ma.booking
          LEFT JOIN workspace mw ON mw.id = mb.workspace
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
            meeting_room=r["meeting_room"],
            meeting_host=r["meeting_host"],
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


def _scanner(principal: Principal, venue_id: uuid.UUID) -> Scanner:
    return Scanner(
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
    within_range(item.scanned_at, "scanned_at")
    if abs(item.scanned_at - now) > ONLINE_WINDOW:
        raise InvalidValue(
            N_("An online scan is made now; upload older scans through scans:batch."),
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
        within_range(item.scanned_at, f"scans[{index}].scanned_at")
        if item.scanned_at > now + FUTURE_TOLERANCE:
            raise InvalidValue(
                N_("This scan is dated in the future; check the scanner's clock."),
                field=f"scans[{index}].scanned_at",
            )
        if item.local_admitted is None:
            raise InvalidValue(
                N_("An offline scan says what the scanner decided."),
                field=f"scans[{index}].local_verdict",
            )
    scanner = _scanner(principal, venue_id)
    first: dict[uuid.UUID, ScanInput] = {}
    for item in items:
        earlier = first.setdefault(item.scan_id, item)
        if earlier.direction != item.direction or earlier.token != item.token:
            raise ScanIdReused(N_("Two scans of this batch share a scan_id."))
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
