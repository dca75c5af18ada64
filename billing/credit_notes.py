"""Credit notes: the only way to lower an issued amount.

Crediting usage lines of an invoice issues, in one transaction, a credit note to the
organisation (network series) and one on each venue's statement (the venue's series),
so that both sides of the money flow stay equal. A usage line is credited once per side.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg

from billing import numbering
from billing.documents import (
    FRANCHISE_MENTION,
    PAYMENT_MENTIONS,
    SELF_BILLING_MENTION,
    Issued,
    NetworkIdentity,
    _write,
    organisation_party,
    venue_party,
)
from billing.tables import Document, DocumentLine, DocumentUsage
from booking.tables import Organisation, Venue
from service.kernel import audit
from service.kernel.errors import Conflict, InvalidValue, NotFound
from service.kernel.i18n import N_
from service.kernel.problems import register

# The discount and late-payment mentions stay on a credit note: French e-invoicing rules
# (BR-FR-05) want them on every document.
CREDIT_MENTIONS = [
    "Avoir à déduire de la facture corrigée ; aucun paiement n'est dû à ce titre.",
    *PAYMENT_MENTIONS[1:],
]


class AlreadyCredited(Conflict):
    default_detail = N_("Some of these lines are already credited.")


register(AlreadyCredited, "already-credited", 409, "Already credited")


def _rows(usage: list[dict[str, Any]], side: str) -> list[dict[str, Any]]:
    price = "organisation_price_cents" if side == "organisation" else "venue_price_cents"
    vat = "organisation_vat_rate" if side == "organisation" else "venue_vat_rate"
    return [
        {
            "usage_id": u["id"],
            "venue_name": u["venue_name"],
            "commune": u["commune"],
            "workspace_kind": u["workspace_kind"],
            "unit": u["unit"],
            "kind": u["kind"],
            "price": u[price],
            "vat": u[vat] if side == "organisation" or u["charges_vat"] else 0,
            "quantity": u["quantity"],
            "late": False,
        }
        for u in usage
    ]


async def credit(
    invoice_id: uuid.UUID,
    usage_ids: list[uuid.UUID],
    reason: str,
    network: NetworkIdentity,
    issued_on: date,
) -> list[Issued]:
    """Credit these usage lines of the invoice, on the organisation's and the venues' side."""
    if not reason.strip():
        raise InvalidValue(N_("Say why the amount is credited."), field="reason")
    if not usage_ids:
        raise InvalidValue(N_("Name the lines to credit."), field="usage_ids")
    invoice = (
        await Document.select()
        .where((Document.id == invoice_id) & (Document.kind == "invoice"))
        .first()
    )
    if invoice is None:
        raise NotFound(N_("No such invoice."))
    usage = await Document.raw(
        """
        SELECT u.*, v.name AS venue_name, v.commune, v.charges_vat
          FROM usage_line u JOIN venue v ON v.id = u.venue
         WHERE u.id = ANY({}) AND u.period = {} AND u.organisation = {}
         ORDER BY u.local_date, u.id
        """,
        usage_ids,
        invoice["period"],
        invoice["organisation"],
    )
    if len(usage) != len(set(usage_ids)):
        raise NotFound(N_("Some of these lines are not on this invoice."), field="usage_ids")
    organisation = (
        await Organisation.select().where(Organisation.id == invoice["organisation"]).first()
    )
    assert organisation is not None
    mentions = [
        *CREDIT_MENTIONS,
        f"Motif : {reason.strip()}",
        f"Corrige la facture {invoice['number']}.",
    ]
    issued: list[Issued] = []
    try:
        async with Document._meta.db.transaction():
            org_note = await _write(
                kind="credit_note",
                series=numbering.CREDIT_NOTES,
                period=invoice["period"],
                issued_on=issued_on,
                organisation_id=invoice["organisation"],
                venue_id=None,
                seller=network.party(),
                buyer=organisation_party(organisation),
                mentions=mentions,
                rows=_rows(usage, "organisation"),
                with_venue=True,
                corrects=invoice_id,
            )
            await _link(org_note, usage, "organisation")
            issued.append(org_note)
            by_venue: dict[uuid.UUID, list[dict[str, Any]]] = {}
            for line in usage:
                by_venue.setdefault(line["venue"], []).append(line)
            for venue_id, lines in by_venue.items():
                statement = (
                    await Document.select(Document.id, Document.number)
                    .where(
                        (Document.kind == "statement")
                        & (Document.period == invoice["period"])
                        & (Document.venue == venue_id)
                    )
                    .first()
                )
                venue = await Venue.select().where(Venue.id == venue_id).first()
                assert statement is not None
                assert venue is not None
                venue_note = await _write(
                    kind="credit_note",
                    series=numbering.venue_credit_notes_of(venue_id),
                    period=invoice["period"],
                    issued_on=issued_on,
                    organisation_id=None,
                    venue_id=venue_id,
                    seller=venue_party(venue),
                    buyer=network.party(),
                    mentions=[
                        *([] if venue["charges_vat"] else [FRANCHISE_MENTION]),
                        SELF_BILLING_MENTION,
                        *CREDIT_MENTIONS,
                        f"Motif : {reason.strip()}",
                        f"Corrige le relevé d'autofacturation {statement['number']}.",
                    ],
                    rows=_rows(lines, "venue"),
                    with_venue=False,
                    corrects=statement["id"],
                )
                await _link(venue_note, lines, "venue")
                issued.append(venue_note)
            await audit.act(
                "credit_note.create",
                "invoice",
                invoice_id,
                after={
                    "credit_notes": [note.number for note in issued],
                    "usage_ids": usage_ids,
                    "reason": reason.strip(),
                },
            )
    except asyncpg.UniqueViolationError:
        raise AlreadyCredited() from None
    return issued


async def _link(note: Issued, usage: list[dict[str, Any]], side: str) -> None:
    # Lines were written in the order of `usage`, one per usage line (never grouped here).
    lines = (
        await DocumentLine.select(DocumentLine.id)
        .where(DocumentLine.document == note.document_id)
        .order_by(DocumentLine.position)
    )
    await DocumentUsage.insert(
        *[
            DocumentUsage(document=note.document_id, line=line["id"], usage=u["id"], side=side)
            for line, u in zip(lines, usage, strict=True)
        ]
    )
