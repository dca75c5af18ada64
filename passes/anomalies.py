"""Anomalies: where the server disagrees with what happened at the door; the network decides once.

Trust first, regulate afterwards: a visit the door admitted exists even when the server
disagrees, but it is not billable while an anomaly on it is open. Accepting every anomaly
of a visit makes it billable; rejecting one keeps it out of the invoices. A decision is
final and audited (who, when, why); the database refuses to change or delete it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from passes.errors import AnomalyAlreadyDecided, RateStillMissing
from passes.pricing import prices_in_force
from passes.tables import Anomaly
from service.kernel import audit
from service.kernel.errors import InvalidValue, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Principal

STATUSES = ("open", "accepted", "rejected")

# What each kind means, for the detail text the network reads.
KIND_DETAILS = {
    "revoked": "The pass was already revoked when it was scanned.",
    "suspended": "The pass was suspended when it was scanned.",
    "expired": "The pass had expired when it was scanned.",
    "not_yet_valid": "The pass was not valid yet when it was scanned.",
    "key_expired": "The pass was signed by a key no longer valid at the time of the scan.",
    "bad_signature": "The token's signature is not the network's (forged or damaged).",
    "unknown_key": "The token names a signing key the network does not know.",
    "unsupported_version": "The token has a format version the network does not issue.",
    "malformed": "The scanned text is not a pass token.",
    "unknown_pass": "No pass with this serial exists.",
    "agent_inactive": "The agent or their organisation was inactive.",
    "venue_closed": "The venue was closed that day.",
    "over_capacity": "No desk was free for this walk-in: the venue was over capacity.",
    "over_allowance": "This walk-in exceeds the agent's monthly allowance.",
    "booked_elsewhere": "The agent had a booking at another venue at the same time.",
    "same_pass_two_venues": "The same pass was checked in at another venue the same half-day.",
    "missing_rate": "No venue or organisation rate was in force; the visit was priced 0.",
    "refused_but_valid": "The scanner refused a pass the server finds valid.",
}


async def record(
    kind: str,
    *,
    venue_id: uuid.UUID,
    scan_id: uuid.UUID | None,
    visit_id: uuid.UUID | None,
    detail: str | None = None,
) -> uuid.UUID:
    """Open an anomaly (in the caller's transaction, beside the scan it is about)."""
    anomaly_id = uuid.uuid4()
    await Anomaly.raw(
        "INSERT INTO anomaly (id, kind, scan, visit, venue, detail, status, created_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, 'open', now())",
        anomaly_id,
        kind,
        scan_id,
        visit_id,
        venue_id,
        detail or KIND_DETAILS.get(kind, kind),
    )
    return anomaly_id


_SELECT = """
SELECT a.id, a.kind, a.status, a.detail, a.created_at, a.venue AS venue_id,
       ve.name AS venue_name, a.scan AS scan_id, a.visit AS visit_id,
       s.scanned_at, s.serial, s.offline, s.local_admitted, s.agent AS agent_id,
       u.display_name AS agent_name, vi.billable,
       a.decided_by, a.decided_at, a.decision_comment
  FROM anomaly a
  JOIN venue ve ON ve.id = a.venue
  LEFT JOIN scan s ON s.scan_id = a.scan
  LEFT JOIN app_user u ON u.id = s.agent
  LEFT JOIN visit vi ON vi.id = a.visit
"""


async def one(anomaly_id: uuid.UUID) -> dict[str, Any]:
    rows = await Anomaly.raw(_SELECT + " WHERE a.id = {}", anomaly_id)
    if not rows:
        raise NotFound(N_("No such anomaly."))
    return rows[0]


async def listing(
    *, status: str | None, venue_id: uuid.UUID | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Anomalies, oldest open first for the review queue, newest first once decided."""
    where = ["true"]
    args: list[Any] = []
    if status is not None:
        where.append("a.status = {}")
        args.append(status)
    if venue_id is not None:
        where.append("a.venue = {}")
        args.append(venue_id)
    condition = " AND ".join(where)
    total = await Anomaly.raw(f"SELECT count(*) AS n FROM anomaly a WHERE {condition}", *args)
    rows = await Anomaly.raw(
        f"{_SELECT} WHERE {condition} "
        "ORDER BY a.status <> 'open', "
        "CASE WHEN a.status = 'open' THEN a.created_at END ASC, a.decided_at DESC, a.id "
        "LIMIT {} OFFSET {}",
        *args,
        limit,
        offset,
    )
    return rows, int(total[0]["n"])


async def _reprice(visit_id: uuid.UUID) -> None:
    """A visit priced without a rate takes the rates in force on its date now that they exist."""
    rows = await Anomaly.raw(
        "SELECT v.venue, v.organisation, v.unit, v.local_date, w.kind FROM visit v "
        "JOIN workspace w ON w.id = v.workspace WHERE v.id = {}",
        visit_id,
    )
    visit = rows[0]
    prices = await prices_in_force(
        visit["venue"], visit["organisation"], visit["kind"], visit["unit"], visit["local_date"]
    )
    if prices.venue is None or prices.organisation is None:
        raise RateStillMissing()
    await Anomaly.raw(
        "UPDATE visit SET venue_rate_cents = {}, venue_vat_rate = {}, "
        "organisation_rate_cents = {}, organisation_vat_rate = {} WHERE id = {}",
        prices.venue.amount_cents,
        prices.venue.vat_rate,
        prices.organisation.amount_cents,
        prices.organisation.vat_rate,
        visit_id,
    )


async def decide(
    principal: Principal,
    anomaly_id: uuid.UUID,
    *,
    accept: bool,
    comment: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Accept (the visit becomes billable once none of its anomalies is left undecided or
    rejected) or reject (the visit stays out of the invoices). Once only."""
    comment = comment.strip()
    if not comment:
        raise InvalidValue(N_("Say why: a decision needs a comment."), field="comment")
    if "\x00" in comment:  # PostgreSQL text cannot hold it
        raise InvalidValue(N_("The comment contains a NUL character."), field="comment")
    now = now or datetime.now(UTC)
    async with Anomaly._meta.db.transaction():
        rows = await Anomaly.raw(
            "SELECT id, kind, status, visit FROM anomaly WHERE id = {} FOR UPDATE", anomaly_id
        )
        if not rows:
            raise NotFound(N_("No such anomaly."))
        anomaly = rows[0]
        if anomaly["status"] != "open":
            raise AnomalyAlreadyDecided(
                N_("This anomaly was already %(status)s."), status=anomaly["status"]
            )
        if accept and anomaly["kind"] == "missing_rate" and anomaly["visit"] is not None:
            await _reprice(anomaly["visit"])
        await Anomaly.raw(
            "UPDATE anomaly SET status = {}, decided_by = {}, decided_at = {}, "
            "decision_comment = {} WHERE id = {}",
            "accepted" if accept else "rejected",
            principal.user_id,
            now,
            comment,
            anomaly_id,
        )
        if anomaly["visit"] is not None:
            # Billable only when every anomaly about the visit has been accepted.
            await Anomaly.raw(
                "UPDATE visit SET billable = NOT EXISTS ("
                "  SELECT 1 FROM anomaly WHERE visit = {} AND status <> 'accepted') "
                "WHERE id = {}",
                anomaly["visit"],
                anomaly["visit"],
            )
        await audit.act(
            f"anomaly.{'accept' if accept else 'reject'}",
            "anomaly",
            anomaly_id,
            before={"status": "open"},
            after={"status": "accepted" if accept else "rejected", "comment": comment},
        )
    return await one(anomaly_id)
