"""Paying the venues: one payout per issued statement, sent as a SEPA credit-transfer file.

The network uploads the pain.001.001.03 file to its bank. Venues with a Stripe Connect
account would be paid by transfer instead; none is connected until Stripe is configured,
so every payout here goes by SEPA.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sepaxml import SepaTransfer

from billing.documents import NetworkIdentity
from billing.tables import Document, Payout
from service.kernel import audit
from service.kernel.errors import Conflict, NotFound
from service.kernel.i18n import N_

PAYOUT_STATUSES = ("pending", "in_file", "sent", "paid", "failed")


class NothingToPay(Conflict):
    default_detail = N_("No payout of this month is waiting for a transfer file.")


async def prepare(period: date) -> int:
    """A pending payout for every statement of the month that has none (idempotent)."""
    async with Payout._meta.db.transaction():
        rows = await _prepare(period)
        await audit.act(
            "payout.prepare", "billing_period", f"{period:%Y-%m}", after={"created": rows}
        )
    return rows


async def _prepare(period: date) -> int:
    rows = await Payout.raw(
        """
        WITH created AS (
            INSERT INTO payout (id, statement, venue, amount_cents, method, status, reference,
                                created_at, updated_at)
            SELECT gen_random_uuid(), d.id, d.venue,
                   d.total_incl_cents - coalesce((
                       SELECT sum(c.total_incl_cents) FROM document c
                        WHERE c.kind = 'credit_note' AND c.corrects = d.id), 0),
                   'sepa', 'pending', NULL, now(), now()
              FROM document d
             WHERE d.kind = 'statement' AND d.period = {}
            ON CONFLICT DO NOTHING
            RETURNING 1)
        SELECT count(*) AS n FROM created
        """,
        period,
    )
    return int(rows[0]["n"])


async def listing(period: date) -> list[dict[str, Any]]:
    return await Payout.raw(
        """
        SELECT p.id, p.statement AS statement_id, d.number AS statement_number, p.venue AS venue_id,
               v.name AS venue_name, p.amount_cents, p.method, p.status, p.reference, p.updated_at
          FROM payout p JOIN document d ON d.id = p.statement JOIN venue v ON v.id = p.venue
         WHERE d.period = {}
         ORDER BY v.name
        """,
        period,
    )


async def status_by_statement(venue_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """How far the payout of each of a venue's statements has gone, by statement."""
    rows = await Payout.select(Payout.statement, Payout.status).where(Payout.venue == venue_id)
    return {row["statement"]: row["status"] for row in rows}


async def status_of_statement(statement_id: uuid.UUID) -> str | None:
    """How far the payout of one statement has gone; None before the month's payouts exist."""
    row = await Payout.select(Payout.status).where(Payout.statement == statement_id).first()
    return row["status"] if row else None


async def sepa_file(period: date, network: NetworkIdentity, execution_date: date) -> bytes:
    """The pain.001.001.03 file paying every pending or filed payout of the month.

    Payouts in it move to `in_file`; asking again gives a file with the same payouts
    (the bank refuses a duplicate message id, so a re-upload by mistake is caught there).
    """
    async with Payout._meta.db.transaction():
        rows = await Payout.raw(
            """
            SELECT p.id, p.amount_cents, d.number, v.legal_name, v.iban, v.bic
              FROM payout p JOIN document d ON d.id = p.statement JOIN venue v ON v.id = p.venue
             WHERE d.period = {} AND p.method = 'sepa' AND p.status IN ('pending', 'in_file')
               AND p.amount_cents > 0
               -- A venue imported without its IBAN is paid once it has given it.
               AND v.iban IS NOT NULL
             ORDER BY d.number
             FOR UPDATE OF p
            """,
            period,
        )
        if not rows:
            raise NothingToPay()
        transfer = SepaTransfer(
            {
                "name": network.name,
                "IBAN": network.iban,
                "BIC": network.bic,
                "batch": True,
                "currency": "EUR",
            },
            clean=True,
        )
        for row in rows:
            payment: dict[str, Any] = {
                "name": row["legal_name"],
                "IBAN": row["iban"],
                "amount": int(row["amount_cents"]),
                "execution_date": execution_date,
                "description": f"Releve {row['number']} periode {period:%Y-%m}",
                "endtoend_id": str(row["id"]).replace("-", "")[:35],
            }
            if row["bic"]:
                payment["BIC"] = row["bic"]
            transfer.add_payment(payment)
        xml: bytes = transfer.export(validate=True)
        await Payout.update(
            {
                Payout.status: "in_file",
                Payout.reference: f"pain.001 {period:%Y-%m}",
                Payout.updated_at: datetime.now(UTC),
            }
        ).where(Payout.id.is_in([row["id"] for row in rows]))
        await audit.act(
            "payout.export_sepa",
            "billing_period",
            f"{period:%Y-%m}",
            after={
                "payouts": [row["id"] for row in rows],
                "execution_date": execution_date,
                "status": "in_file",
            },
        )
    return xml


async def mark(payout_id: uuid.UUID, status: str) -> dict[str, Any]:
    """Record what the bank said: sent, paid or failed."""
    payout = await Payout.select().where(Payout.id == payout_id).first()
    if payout is None:
        raise NotFound(N_("No such payout."))
    async with Payout._meta.db.transaction():
        await Payout.update({Payout.status: status, Payout.updated_at: datetime.now(UTC)}).where(
            Payout.id == payout_id
        )
        await audit.act(
            f"payout.{status}" if status in ("sent", "paid", "failed") else "payout.set_status",
            "payout",
            payout_id,
            before={"status": payout["status"]},
            after={"status": status},
        )
    document = (
        await Document.select(Document.period).where(Document.id == payout["statement"]).first()
    )
    assert document is not None
    return next(p for p in await listing(document["period"]) if p["id"] == payout_id)
