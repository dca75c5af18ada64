"""Retention of personal data: what the worker removes or pseudonymises, and when.

Each job takes `now` so a test can move the clock past its cutoff, and each is idempotent:
a second run finds nothing left to do. The periods are settings (docs/configuration.md),
their reasons are in docs/privacy.md. This module lives in billing/ because the visits'
and bookings' retention waits for their month to be closed, which only billing knows.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import structlog
from arq.cron import CronJob

from booking.jobs import MAX_ATTEMPTS
from booking.tables import Booking, Outbox, User
from service.kernel.jobs import once_cron

log = structlog.get_logger(__name__)

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Periods:
    """The retention periods, read from the settings (defaults: docs/privacy.md)."""

    scan_days: int = 90
    visit_months: int = 13
    outbox_days: int = 90
    invitation_days: int = 30

    @classmethod
    def of(cls, ctx: dict[str, Any]) -> Periods:
        settings = ctx.get("settings")
        if settings is None:
            return cls()
        return cls(
            scan_days=settings.scan_retention_days,
            visit_months=settings.visit_retention_months,
            outbox_days=settings.outbox_retention_days,
            invitation_days=settings.invitation_validity_days,
        )


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


# Door scans


async def unlink_scans(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Remove the person from door scans older than the retention (CNIL: three months at most).

    Whatever leads back to the person who came goes: the agent, the pass serial (a pass
    names its agent), the booking and the visit (both name the agent for longer). What
    stays — venue, device or staff member who scanned, time, direction, verdict — still
    counts entries and says who operated the door, not who walked through it.
    """
    cutoff = _now(now) - timedelta(days=Periods.of(ctx).scan_days)
    rows = await Booking.raw(
        """
        UPDATE scan SET agent = NULL, serial = NULL, booking = NULL, visit = NULL
         WHERE scanned_at < {}
           AND (agent IS NOT NULL OR serial IS NOT NULL OR booking IS NOT NULL
                OR visit IS NOT NULL)
        RETURNING 1
        """,
        cutoff,
    )
    log.info("retention.scans_unlinked", count=len(rows), cutoff=cutoff.isoformat())
    return len(rows)


# Visits and bookings


def _months_before(day: date, months: int) -> date:
    """The first day of the month `months` months before the month of `day`."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def visit_cutoff(now: datetime, months: int) -> date:
    """Visits and bookings dated before this day are past the retention.

    A month is pseudonymised once `months` months have passed since it ended: with 13,
    January 2026 (ended on the 31st) goes on 1 March 2027, Paris time.
    """
    return _months_before(now.astimezone(PARIS).date(), months)


# A row's month must be closed, and the month after it too: that later close collected
# whatever of this month was billed late, so nothing still waits for the agent's name.
_SETTLED = """
    {alias}.local_date < {{cutoff}}
    AND EXISTS (SELECT 1 FROM billing_period p WHERE p.status = 'closed'
                   AND p.month = date_trunc('month', {alias}.local_date)::date)
    AND EXISTS (SELECT 1 FROM billing_period p WHERE p.status = 'closed'
                   AND p.month = (date_trunc('month', {alias}.local_date)
                                  + interval '1 month')::date)
"""


def _settled(alias: str, cutoff_placeholder: str = "{}") -> str:
    return _SETTLED.format(alias=alias).replace("{cutoff}", cutoff_placeholder)


_NO_OPEN_ANOMALY = "NOT EXISTS (SELECT 1 FROM anomaly a WHERE a.visit = v.id AND a.status = 'open')"


async def pseudonymise_visits(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Replace the agent by a pseudonym on the visits, bookings and usage lines of old months.

    One fresh pseudonym per agent and month: within a month (an invoice's period) the lines
    of one person still read as one person, but nothing links two months, nor a pseudonym
    to an account — no table keeps the correspondence. Issued documents never name the
    agent, so they, their totals and their files stay byte-identical. Returns the number of
    (agent, month) pairs pseudonymised.
    """
    cutoff = visit_cutoff(_now(now), Periods.of(ctx).visit_months)
    pairs = await Booking.raw(
        f"""
        SELECT v.agent, date_trunc('month', v.local_date)::date AS month FROM visit v
         WHERE v.agent IS NOT NULL AND {_settled("v")} AND {_NO_OPEN_ANOMALY}
        UNION
        SELECT b.agent, date_trunc('month', b.local_date)::date FROM booking b
         WHERE b.agent IS NOT NULL AND {_settled("b")}
        UNION
        SELECT u.agent, date_trunc('month', u.local_date)::date FROM usage_fact u
         WHERE u.agent IS NOT NULL AND {_settled("u")}
           AND EXISTS (SELECT 1 FROM billing_period p
                        WHERE p.month = u.period AND p.status = 'closed')
        """,
        cutoff,
        cutoff,
        cutoff,
    )
    months: dict[date, list[uuid.UUID]] = {}
    for pair in pairs:
        months.setdefault(pair["month"], []).append(pair["agent"])
    for month, agents in sorted(months.items()):
        await _pseudonymise(month, agents, cutoff)
    log.info("retention.visits_pseudonymised", pairs=len(pairs), cutoff=cutoff.isoformat())
    return len(pairs)


async def _pseudonymise(month: date, agents: list[uuid.UUID], cutoff: date) -> None:
    """One month, in one transaction (never half a month under names), one statement a table.

    Each agent of the month draws a fresh pseudonym; the mapping lives only in this call.
    """
    pseudonyms = ["P-" + secrets.token_hex(5).upper() for _ in agents]
    following = _months_before(month, -1)
    # {alias}.local_date within the month: a range the (agent, local_date) indexes can use.
    mapped = """
        WITH map AS (SELECT * FROM unnest({{}}::uuid[], {{}}::text[]) AS m(agent, pseudonym))
        UPDATE {table} {alias} SET agent = NULL, agent_pseudonym = map.pseudonym{extra}
          FROM map{join}
         WHERE {where}{alias}.agent = map.agent
           AND {alias}.local_date >= {{}} AND {alias}.local_date < {{}}
           AND {settled}
    """

    def statement(
        table: str, alias: str, *, extra: str = "", join: str = "", where: str = ""
    ) -> str:
        return mapped.format(
            table=table, alias=alias, extra=extra, join=join, where=where, settled=_settled(alias)
        )

    args = (agents, pseudonyms, month, following, cutoff)
    async with Booking._meta.db.transaction():
        await Booking.raw(
            # The lines without a visit; a billed visit's line is the visit, just below.
            statement("usage_fact", "u")
            + """ AND EXISTS (SELECT 1 FROM billing_period p
                               WHERE p.month = u.period AND p.status = 'closed')""",
            *args,
        )
        await Booking.raw(statement("visit", "v") + f" AND {_NO_OPEN_ANOMALY}", *args)
        # Who made or cancelled the booking and why are people and their words too.
        series = await Booking.raw(
            statement(
                "booking",
                "b",
                extra=(
                    ", created_by = NULL, cancelled_by = NULL, cancel_reason = NULL, series = NULL"
                ),
                # The row as it was, to learn which series it belonged to.
                join=", booking old",
                where="old.id = b.id AND ",
            )
            + " RETURNING old.series",
            *args,
        )
        # A series is expanded into its bookings when made: one with none left is over.
        ended = {row["series"] for row in series if row["series"] is not None}
        if ended:
            await Booking.raw(
                """
                DELETE FROM booking_series s
                 WHERE s.id = ANY({}::uuid[])
                   AND NOT EXISTS (SELECT 1 FROM booking b WHERE b.series = s.id)
                """,
                list(ended),
            )


# Outbox


async def purge_outbox(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Delete messages sent (or given up on) longer ago than the retention.

    A message holds an address, a name and what was booked: once delivered it is only
    kept to answer "did you send it?", which three months answer.
    """
    cutoff = _now(now) - timedelta(days=Periods.of(ctx).outbox_days)
    rows = await Outbox.raw(
        """
        DELETE FROM outbox
         WHERE sent_at < {} OR (sent_at IS NULL AND attempts >= {} AND created_at < {})
        RETURNING 1
        """,
        cutoff,
        MAX_ATTEMPTS,
        cutoff,
    )
    log.info("retention.outbox_purged", count=len(rows), cutoff=cutoff.isoformat())
    return len(rows)


# Invitations


async def expire_invitations(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Remove the accounts of invitations never accepted within their validity.

    Such an account holds a name and an address its owner never agreed to use; deleting it
    also lets the organisation invite the address again. An account something already
    refers to (a booking or a pass made for the person) cannot be deleted: its invitation
    is only made unusable, and erasure (docs/rights.md) is the way to remove the rest.
    """
    cutoff = _now(now) - timedelta(days=Periods.of(ctx).invitation_days)
    expired = await User.raw(
        """
        SELECT id FROM app_user
         WHERE invitation_token_hash IS NOT NULL AND password_hash IS NULL AND created_at < {}
        """,
        cutoff,
    )
    for row in expired:
        try:
            async with User._meta.db.transaction():
                await User.raw("DELETE FROM app_user WHERE id = {}", row["id"])
        # PostgreSQL reports a RESTRICT foreign key as either, depending on its version.
        except (asyncpg.ForeignKeyViolationError, asyncpg.RestrictViolationError):
            await User.raw(
                "UPDATE app_user SET invitation_token_hash = NULL WHERE id = {}", row["id"]
            )
    log.info("retention.invitations_expired", count=len(expired), cutoff=cutoff.isoformat())
    return len(expired)


# Meeting guests


async def forget_guests(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Remove the name and address of outside guests of meetings ended before the retention.

    A guest has no account: their address and name only served to invite them and to name
    them at the door, so they go with the door logs (three months); the row stays, without
    anyone in it, so that the meeting's count of attendees and the visit it explains remain.
    """
    cutoff = _now(now) - timedelta(days=Periods.of(ctx).scan_days)
    rows = await Booking.raw(
        """
        UPDATE meeting_attendee a
           SET email = 'guest-' || left(a.id::text, 8) || '@erased.invalid', display_name = '—'
          FROM booking b
         WHERE b.id = a.booking AND a.kind = 'guest' AND b.ends_at < {}
           AND a.email NOT LIKE '%@erased.invalid'
        RETURNING 1
        """,
        cutoff,
    )
    log.info("retention.guests_forgotten", count=len(rows), cutoff=cutoff.isoformat())
    return len(rows)


def cron_jobs(settings: Any) -> list[CronJob]:
    """Every retention job, once a day at night (UTC), each at its own minute."""
    return [
        once_cron(unlink_scans, hour=1, minute=5),
        once_cron(pseudonymise_visits, hour=1, minute=20),
        once_cron(purge_outbox, hour=1, minute=35),
        once_cron(expire_invitations, hour=1, minute=50),
        once_cron(forget_guests, hour=1, minute=58),
    ]
