"""The monthly close: usage lines, then one invoice per organisation and one statement per venue.

One close at a time: a PostgreSQL advisory lock held on a dedicated connection for the
whole run (released by PostgreSQL itself if the worker dies). Idempotent and resumable:
every step skips what is already done and each document is its own transaction, so a
close killed at any point and run again ends with the same documents, none twice, no
gap in the numbers. A dry run does the same work inside one transaction and rolls it back.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.engine.postgres import PostgresEngine

from billing.documents import Issued, NetworkIdentity, issue_invoices, issue_statements
from billing.tables import BillingPeriod, Document
from billing.usage import Collected, collect, month_bounds
from service.kernel import audit
from service.kernel.errors import Conflict, InvalidValue
from service.kernel.i18n import N_
from service.kernel.problems import register

NETWORK_TZ = ZoneInfo("Europe/Paris")
# Any constant both sides agree on; it names "the billing close" among advisory locks.
CLOSE_LOCK = 7_202_611
# Held with the month (YYYYMM) by the worker running that month's close: anyone can see in
# pg_locks whether a worker is on it, with PostgreSQL alone.
CLOSE_MONTH_LOCK = 7_202_612
# A close asked for and not picked up by a worker after this long is said to be waiting.
WAITING_AFTER = timedelta(minutes=1)
# Documents issued per transaction: each batch is all-or-nothing with its numbers, and a
# killed close resumes at the first batch not committed. A batch is issued set-based
# (billing/documents.py), its cost is its passes over the month's usage: few, large batches.
BATCH = 5_000


class CloseInProgress(Conflict):
    default_detail = N_("A close is already running; try again when it has finished.")


register(CloseInProgress, "close-in-progress", 409, "A close is running")


class PeriodNotOver(InvalidValue):
    default_detail = N_("A month can be closed once it is over (Europe/Paris).")


register(PeriodNotOver, "period-not-over", 422, "Month not over")


class ClosedPeriodUnchanged(Conflict):
    default_detail = N_("This month is closed; late usage goes into the next month.")


@dataclass
class CloseResult:
    month: date
    status: str
    dry_run: bool
    collected: Collected | None
    invoices: list[Issued] = field(default_factory=list)
    statements: list[Issued] = field(default_factory=list)

    @property
    def organisations_excl_cents(self) -> int:
        return sum(d.total_excl_cents for d in self.invoices)

    @property
    def venues_excl_cents(self) -> int:
        return sum(d.total_excl_cents for d in self.statements)

    @property
    def network_share_cents(self) -> int:
        return self.organisations_excl_cents - self.venues_excl_cents


# Called between steps with the step name; tests use it to kill a close half-way.
Checkpoint = Callable[[str], Awaitable[None]]


async def _no_checkpoint(step: str) -> None:
    return None


def paris_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(NETWORK_TZ).date()


async def _progress(first: date, **fields: Any) -> None:
    updates: dict[Any, Any] = {}
    if "status" in fields:
        updates[BillingPeriod.status] = fields["status"]
    if "step" in fields:
        updates[BillingPeriod.step] = fields["step"]
    if "started_at" in fields:
        updates[BillingPeriod.started_at] = fields["started_at"]
    if "closed_at" in fields:
        updates[BillingPeriod.closed_at] = fields["closed_at"]
    if updates:
        await BillingPeriod.update(updates).where(BillingPeriod.month == first)
    if "progress" in fields:
        # Merged, not replaced: the statements' count does not wipe the invoices'.
        await BillingPeriod.raw(
            "UPDATE billing_period SET progress = progress || {}::jsonb WHERE month = {}",
            json.dumps(fields["progress"]),
            first,
        )


async def _issued(first: date, kind: str) -> list[Issued]:
    rows = (
        await Document.select(
            Document.id,
            Document.number,
            Document.total_excl_cents,
            Document.total_vat_cents,
            Document.total_incl_cents,
        )
        .where((Document.period == first) & (Document.kind == kind))
        .order_by(Document.sequence_number)
    )
    return [
        Issued(
            kind,
            r["id"],
            r["number"],
            r["total_excl_cents"],
            r["total_vat_cents"],
            r["total_incl_cents"],
        )
        for r in rows
    ]


async def _parties_to_bill(first: date) -> dict[str, list[Any]]:
    """Organisations to invoice and venues to pay for the month, without a document yet.

    Both lists in one pass over the month's usage (GROUPING SETS), in the order of their ids.
    """
    rows = await Document.raw(
        """
        SELECT u.organisation, u.venue FROM usage_line u WHERE u.period = {}
         GROUP BY GROUPING SETS ((u.organisation), (u.venue))
        """,
        first,
    )
    issued = await Document.raw(
        "SELECT kind, organisation, venue FROM document "
        "WHERE period = {} AND kind IN ('invoice', 'statement')",
        first,
    )
    invoiced = {d["organisation"] for d in issued if d["kind"] == "invoice"}
    stated = {d["venue"] for d in issued if d["kind"] == "statement"}
    return {
        "invoice": sorted(
            r["organisation"]
            for r in rows
            if r["organisation"] is not None and r["organisation"] not in invoiced
        ),
        "statement": sorted(
            r["venue"] for r in rows if r["venue"] is not None and r["venue"] not in stated
        ),
    }


async def _run(
    first: date,
    network: NetworkIdentity,
    issued_on: date,
    checkpoint: Checkpoint,
    *,
    transactional: bool,
    batch: int,
) -> Collected:
    """The steps; with `transactional`, each step opens its own transaction."""
    db = BillingPeriod._meta.db

    async def step(name: str, work: Callable[[], Awaitable[Any]]) -> Any:
        await checkpoint(name)
        if transactional:
            async with db.transaction():
                return await work()
        return await work()

    collected: Collected = await step("usage", lambda: collect(first))
    to_bill = await _parties_to_bill(first)
    for kind, issue in (("invoice", issue_invoices), ("statement", issue_statements)):
        parties = to_bill[kind]
        batches = [parties[i : i + batch] for i in range(0, len(parties), batch)]
        for index, parties_batch in enumerate(batches):
            await step(
                f"{kind} {index + 1}/{len(batches)}",
                functools.partial(issue, first, parties_batch, network, issued_on),
            )
            if transactional:
                await _progress(
                    first,
                    step=f"{kind}s",
                    progress={f"{kind}s": min((index + 1) * batch, len(parties))},
                )
    await checkpoint("done")
    return collected


async def close_period(
    month: date,
    network: NetworkIdentity,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    checkpoint: Checkpoint = _no_checkpoint,
    batch: int = BATCH,
) -> CloseResult:
    first, _ = month_bounds(month)
    today = paris_today(now)
    if first >= today.replace(day=1):
        raise PeriodNotOver(field="period")
    db = BillingPeriod._meta.db
    assert isinstance(db, PostgresEngine)
    lock = await db.get_new_connection()
    try:
        if not await lock.fetchval("SELECT pg_try_advisory_lock($1)", CLOSE_LOCK):
            raise CloseInProgress()
        if not dry_run:
            await lock.execute(
                "SELECT pg_advisory_lock($1, $2)", CLOSE_MONTH_LOCK, _month_key(first)
            )
        await BillingPeriod.raw(
            "INSERT INTO billing_period (month, status, progress) VALUES ({}, 'open', '{{}}') "
            "ON CONFLICT (month) DO NOTHING",
            first,
        )
        period = await BillingPeriod.select().where(BillingPeriod.month == first).first()
        assert period is not None
        if period["status"] == "closed":
            return CloseResult(
                first,
                "closed",
                dry_run,
                None,
                await _issued(first, "invoice"),
                await _issued(first, "statement"),
            )
        if dry_run:
            async with db.transaction() as transaction:
                collected = await _run(
                    first, network, today, checkpoint, transactional=False, batch=batch
                )
                result = CloseResult(
                    first,
                    period["status"],
                    True,
                    collected,
                    await _issued(first, "invoice"),
                    await _issued(first, "statement"),
                )
                await transaction.rollback()
            return result
        await _progress(
            first, status="closing", step="usage", started_at=period["started_at"] or now_utc()
        )
        collected = await _run(first, network, today, checkpoint, transactional=True, batch=batch)
        invoices = await _issued(first, "invoice")
        statements = await _issued(first, "statement")
        async with db.transaction():
            await _progress(first, status="closed", step="done", closed_at=now_utc())
            await audit.act(
                "period.close",
                "billing_period",
                f"{first:%Y-%m}",
                before={"status": period["status"]},
                after={
                    "status": "closed",
                    "invoices": [i.number for i in invoices],
                    "statements": [s.number for s in statements],
                },
            )
        return CloseResult(first, "closed", False, collected, invoices, statements)
    finally:
        await lock.close()  # closing the session releases the advisory lock


def now_utc() -> datetime:
    return datetime.now(UTC)


def _month_key(first: date) -> int:
    return first.year * 100 + first.month


async def mark_queued(month: date, *, now: datetime | None = None) -> str:
    """Record in PostgreSQL that `month` is to be closed, before its job is queued.

    The period becomes `closing` with `queued_at` (the first time it was asked for), so the
    work is pending in PostgreSQL whatever happens to the job in Redis. A closed month stays
    closed. Answers the period's status.
    """
    first, _ = month_bounds(month)
    if first >= paris_today(now).replace(day=1):
        raise PeriodNotOver(field="period")
    async with BillingPeriod._meta.db.transaction():
        status = await _mark_queued(first, now)
        await audit.act(
            "period.close_request", "billing_period", f"{first:%Y-%m}", after={"status": status}
        )
    return status


async def _mark_queued(first: date, now: datetime | None) -> str:
    rows = await BillingPeriod.raw(
        """
        INSERT INTO billing_period (month, status, progress, queued_at)
        VALUES ({}, 'closing', {}::jsonb, {})
        ON CONFLICT (month) DO UPDATE
           SET status = 'closing',
               queued_at = COALESCE(billing_period.queued_at, EXCLUDED.queued_at)
         WHERE billing_period.status <> 'closed'
        RETURNING status
        """,
        first,
        "{}",
        now or now_utc(),
    )
    return "closing" if rows else "closed"


async def pending_closes() -> list[date]:
    """Months asked to close and not closed, that no worker is closing right now."""
    rows = await BillingPeriod.raw(
        """
        SELECT p.month FROM billing_period p
         WHERE p.status = 'closing'
           AND NOT EXISTS (SELECT 1 FROM pg_locks l
                            WHERE l.locktype = 'advisory' AND l.granted
                              AND l.database = (SELECT oid FROM pg_database
                                                 WHERE datname = current_database())
                              AND l.classid = {} AND l.objsubid = 2
                              AND l.objid = (extract(year FROM p.month) * 100
                                             + extract(month FROM p.month))::int::oid)
         ORDER BY p.month
        """,
        CLOSE_MONTH_LOCK,
    )
    return [row["month"] for row in rows]


async def period_status(month: date, *, now: datetime | None = None) -> dict[str, Any]:
    """Where a month's close stands; `waiting_since` is set when it was asked for more than
    a minute ago and no worker is running it (none picked up its job, or the one that did
    died): the operator then knows to look at the workers."""
    first, _ = month_bounds(month)
    row = await BillingPeriod.select().where(BillingPeriod.month == first).first()
    if row is None:
        return {
            "month": first,
            "status": "open",
            "step": None,
            "progress": {},
            "queued_at": None,
            "started_at": None,
            "closed_at": None,
            "waiting_since": None,
        }
    row = dict(row)
    queued_at = row.get("queued_at")
    row["waiting_since"] = None
    if (
        row["status"] == "closing"
        and queued_at is not None
        and (now or now_utc()) - queued_at >= WAITING_AFTER
        and first in await pending_closes()
    ):
        row["waiting_since"] = queued_at
    return row
