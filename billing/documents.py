"""Issuing documents: the organisation's invoice and the venue's self-billing statement.

Each document is issued in one transaction that takes its number, writes the document
and its lines, so a crash leaves either the whole document or nothing, and no gap.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from billing import numbering
from billing.money import line_amounts
from billing.tables import Document
from booking.tables import Organisation, Venue

PAYMENT_TERM_DAYS = 30
ZERO = Decimal("0")

KIND_LABELS = {
    "desk": "Poste de travail",
    "meeting_room": "Salle de réunion",
    "private_office": "Bureau privatif",
    "lab": "Fablab / atelier",
}
UNIT_LABELS = {"half_day": "demi-journée", "day": "journée", "hour": "heure"}
USAGE_LABELS = {
    "visit": "",
    "no_show": " — absence non excusée",
    "late_cancellation": " — annulation tardive",
    "anomaly": " — anomalie acceptée",
    "adjustment": " — régularisation",
}
PAYMENT_MENTIONS = [
    "Paiement à 30 jours à compter de la date d'émission, par virement ou prélèvement.",
    "Pas d'escompte pour paiement anticipé.",
    "En cas de retard de paiement : pénalités au taux de trois fois le taux d'intérêt légal "
    "(art. L441-10 du Code de commerce).",
    "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 € "
    "(art. D441-5 du Code de commerce).",
]
FRANCHISE_MENTION = "TVA non applicable, art. 293 B du CGI"
SELF_BILLING_MENTION = (
    "Autofacturation : facture émise par le réseau au nom et pour le compte du fournisseur "
    "(art. 289-I-2 du CGI), selon le mandat de facturation signé entre les parties."
)


@dataclass(frozen=True)
class NetworkIdentity:
    """The régie, as it appears on its documents (from the settings)."""

    name: str
    legal_form: str
    siret: str
    vat_number: str | None
    address: str
    email: str
    iban: str
    bic: str

    def party(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "legal_form": self.legal_form,
            "siret": self.siret,
            "vat_number": self.vat_number,
            "address": self.address,
            "email": self.email,
            "iban": self.iban,
            "bic": self.bic,
        }


@dataclass
class Issued:
    kind: str
    document_id: uuid.UUID
    number: str
    total_excl_cents: int
    total_vat_cents: int
    total_incl_cents: int
    lines: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _describe(row: dict[str, Any], with_venue: bool) -> str:
    base = (
        f"{KIND_LABELS.get(row['workspace_kind'], row['workspace_kind'])} à la "
        + UNIT_LABELS.get(row["unit"], row["unit"])
    )
    if with_venue:
        base = f"{row['venue_name']} ({row['commune']}) — {base}"
    suffix = USAGE_LABELS.get(row["kind"], "")
    if row.get("late"):
        suffix += " — régularisation de mois antérieurs"
    return base + suffix


async def _write(
    *,
    kind: str,
    series: numbering.Series,
    period: date,
    issued_on: date,
    organisation_id: uuid.UUID | None,
    venue_id: uuid.UUID | None,
    seller: dict[str, Any],
    buyer: dict[str, Any],
    mentions: list[str],
    rows: list[dict[str, Any]],
    with_venue: bool,
    corrects: uuid.UUID | None = None,
) -> Issued:
    sequence_number = await numbering.next_number(series, issued_on.year)
    number = series.format(issued_on.year, sequence_number)
    lines = []
    for position, row in enumerate(rows, start=1):
        amounts = line_amounts(int(row["quantity"]), int(row["price"]), Decimal(row["vat"]))
        lines.append((position, row, amounts))
    total_excl = sum(a.excl_cents for _, _, a in lines)
    total_vat = sum(a.vat_cents for _, _, a in lines)
    document = Document(
        kind=kind,
        number=number,
        issuer=series.issuer,
        series=series.code,
        year=issued_on.year,
        sequence_number=sequence_number,
        period=period,
        organisation=organisation_id,
        venue=venue_id,
        corrects=corrects,
        issued_on=issued_on,
        due_on=issued_on + timedelta(days=PAYMENT_TERM_DAYS),
        total_excl_cents=total_excl,
        total_vat_cents=total_vat,
        total_incl_cents=total_excl + total_vat,
        seller=seller,
        buyer=buyer,
        mentions=mentions,
    )
    await document.save()
    if lines:
        # COPY on the issuing transaction's connection: an organisation's invoice may have
        # thousands of lines (one per venue, workspace kind and price), and row-by-row
        # inserts through the ORM dominated the close.
        transaction = Document._meta.db.current_transaction.get()
        assert transaction is not None, "documents are issued inside a transaction"
        await transaction.connection.copy_records_to_table(
            "document_line",
            columns=[
                "document",
                "position",
                "description",
                "workspace_kind",
                "unit",
                "quantity",
                "unit_price_cents",
                "vat_rate",
                "excl_cents",
                "vat_cents",
                "incl_cents",
            ],
            records=[
                (
                    document.id,
                    position,
                    _describe(row, with_venue),
                    row["workspace_kind"],
                    row["unit"],
                    int(row["quantity"]),
                    int(row["price"]),
                    Decimal(row["vat"]),
                    amounts.excl_cents,
                    amounts.vat_cents,
                    amounts.incl_cents,
                )
                for position, row, amounts in lines
            ],
        )
    return Issued(
        kind, document.id, number, total_excl, total_vat, total_excl + total_vat, len(lines)
    )


def organisation_party(org: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": org["name"],
        "siren": org["siren"],
        "siret": org["siret"],
        "kind": org["kind"],
        "address": org["billing_address"],
        "email": org["billing_email"],
        "chorus_service_code": org["chorus_service_code"],
        "chorus_engagement_number": org["chorus_engagement_number"],
    }


def venue_party(venue: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": venue["legal_name"],
        "trade_name": venue["name"],
        "siret": venue["siret"],
        "vat_number": venue["vat_number"],
        "charges_vat": venue["charges_vat"],
        "address": f"{venue['address']}, {venue['postcode']} {venue['commune']}",
        "email": venue["contact_email"],
        "iban": venue["iban"],
        "bic": venue["bic"],
    }


async def invoice_lines(
    period: date, organisation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Invoice lines of several organisations in one pass: by venue, workspace kind, unit, price."""
    rows = await Document.raw(
        """
        SELECT u.organisation AS party, u.venue, v.name AS venue_name, v.commune,
               u.workspace_kind, u.unit, u.kind,
               u.organisation_price_cents AS price, u.organisation_vat_rate AS vat,
               sum(u.quantity) AS quantity, bool_or(u.local_date < u.period) AS late
          FROM usage_line u JOIN venue v ON v.id = u.venue
         WHERE u.period = {} AND u.organisation = ANY({})
         GROUP BY u.organisation, u.venue, v.name, v.commune, u.workspace_kind, u.unit, u.kind,
                  u.organisation_price_cents, u.organisation_vat_rate
         ORDER BY v.name, u.workspace_kind, u.unit, u.kind, price
        """,
        period,
        organisation_ids,
    )
    return _by_party(rows)


async def statement_lines(
    period: date, venue_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Statement lines of several venues in one pass; no VAT for venues under the franchise."""
    rows = await Document.raw(
        """
        SELECT u.venue AS party, u.workspace_kind, u.unit, u.kind, u.venue_price_cents AS price,
               CASE WHEN v.charges_vat THEN u.venue_vat_rate ELSE 0 END AS vat,
               sum(u.quantity) AS quantity, bool_or(u.local_date < u.period) AS late
          FROM usage_line u JOIN venue v ON v.id = u.venue
         WHERE u.period = {} AND u.venue = ANY({})
         GROUP BY u.venue, u.workspace_kind, u.unit, u.kind, u.venue_price_cents, 6
         ORDER BY u.workspace_kind, u.unit, u.kind, price
        """,
        period,
        venue_ids,
    )
    return _by_party(rows)


def _by_party(rows: list[dict[str, Any]]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    grouped: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["party"], []).append(row)
    return grouped


async def issue_invoices(
    period: date, organisation_ids: list[uuid.UUID], network: NetworkIdentity, issued_on: date
) -> list[Issued]:
    """The organisations' invoices for the month (call inside one transaction)."""
    lines = await invoice_lines(period, organisation_ids)
    organisations = {
        o["id"]: o
        for o in await Organisation.select().where(Organisation.id.is_in(organisation_ids))
    }
    issued = []
    for organisation_id in organisation_ids:
        issued.append(
            await _write(
                kind="invoice",
                series=numbering.INVOICES,
                period=period,
                issued_on=issued_on,
                organisation_id=organisation_id,
                venue_id=None,
                seller=network.party(),
                buyer=organisation_party(organisations[organisation_id]),
                mentions=PAYMENT_MENTIONS,
                rows=lines.get(organisation_id, []),
                with_venue=True,
            )
        )
    return issued


async def issue_statements(
    period: date, venue_ids: list[uuid.UUID], network: NetworkIdentity, issued_on: date
) -> list[Issued]:
    """The venues' self-billing statements for the month (call inside one transaction)."""
    lines = await statement_lines(period, venue_ids)
    venues = {v["id"]: v for v in await Venue.select().where(Venue.id.is_in(venue_ids))}
    issued = []
    for venue_id in venue_ids:
        venue = venues[venue_id]
        mentions = [SELF_BILLING_MENTION, *PAYMENT_MENTIONS]
        if not venue["charges_vat"]:
            mentions.insert(0, FRANCHISE_MENTION)
        issued.append(
            await _write(
                kind="statement",
                series=numbering.statements_of(venue_id),
                period=period,
                issued_on=issued_on,
                organisation_id=None,
                venue_id=venue_id,
                seller=venue_party(venue),
                buyer=network.party(),
                mentions=mentions,
                rows=lines.get(venue_id, []),
                with_venue=False,
            )
        )
    return issued
