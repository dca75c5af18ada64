"""Issuing documents: the organisation's invoice and the venue's self-billing statement.

A document (a credit note) or a batch of the month's documents is issued in one transaction
that takes the numbers, writes the documents and their lines, so a crash leaves either the
whole of it or nothing, and no gap.
"""

from __future__ import annotations

import json
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


# The month's documents are issued set-based: their lines are grouped, described, priced and
# numbered by PostgreSQL in a few statements per batch of parties, whatever the number of
# documents and lines (an organisation's invoice may have thousands of lines: one per venue,
# workspace kind, unit and price). Each line is what `_write` would write for it: the same
# description, VAT rounded half-up on the line (PostgreSQL's round() of a positive numeric
# is half-up, as `money.vat_cents`), totals that are sums of the rounded lines.

# Invoice lines of several organisations in one pass: by venue, workspace kind, unit, price.
_INVOICE_GROUPS = """
    SELECT u.organisation AS party, u.venue, v.name AS venue_name, v.commune,
           u.workspace_kind, u.unit, u.kind,
           u.organisation_price_cents AS price, u.organisation_vat_rate AS vat,
           sum(u.quantity) AS quantity, bool_or(u.local_date < u.period) AS late
      FROM usage_line u JOIN venue v ON v.id = u.venue
     WHERE u.period = $1 AND u.organisation = ANY($2::uuid[])
     GROUP BY u.organisation, u.venue, v.name, v.commune, u.workspace_kind, u.unit, u.kind,
              u.organisation_price_cents, u.organisation_vat_rate
"""
_INVOICE_ORDER = "g.venue_name, g.workspace_kind, g.unit, g.kind, g.price, g.venue, g.vat"
# Statement lines of several venues in one pass; no VAT for venues under the franchise.
_STATEMENT_GROUPS = """
    SELECT u.venue AS party, u.workspace_kind, u.unit, u.kind, u.venue_price_cents AS price,
           CASE WHEN v.charges_vat THEN u.venue_vat_rate ELSE 0 END AS vat,
           sum(u.quantity) AS quantity, bool_or(u.local_date < u.period) AS late
      FROM usage_line u JOIN venue v ON v.id = u.venue
     WHERE u.period = $1 AND u.venue = ANY($2::uuid[])
     GROUP BY u.venue, u.workspace_kind, u.unit, u.kind, u.venue_price_cents, 6
"""
_STATEMENT_ORDER = "g.workspace_kind, g.unit, g.kind, g.price, g.vat"
# `_describe` in SQL: $3, $4, $5 are KIND_LABELS, UNIT_LABELS, USAGE_LABELS as JSON.
_DESCRIPTION = """
    coalesce($3::jsonb ->> g.workspace_kind, g.workspace_kind) || ' à la '
    || coalesce($4::jsonb ->> g.unit, g.unit) || coalesce($5::jsonb ->> g.kind, '')
    || CASE WHEN g.late THEN ' — régularisation de mois antérieurs' ELSE '' END
"""
_WITH_VENUE = "g.venue_name || ' (' || g.commune || ') — ' || "


def _lines_sql(groups: str, order: str, with_venue: bool) -> str:
    description = (_WITH_VENUE if with_venue else "") + _DESCRIPTION
    return f"""
        CREATE TEMP TABLE close_line ON COMMIT DROP AS
        SELECT g.party,
               row_number() OVER (PARTITION BY g.party ORDER BY {order}) AS position,
               {description} AS description,
               g.workspace_kind, g.unit, g.quantity, g.price, g.vat,
               g.quantity * g.price AS excl_cents,
               round(g.quantity * g.price * g.vat)::bigint AS vat_cents
          FROM ({groups}) g
         ORDER BY g.party, position
    """


async def _issue_many(
    *,
    kind: str,
    period: date,
    issued_on: date,
    parties: list[uuid.UUID],
    party_column: str,
    series: list[numbering.Series],
    sellers: list[dict[str, Any]],
    buyers: list[dict[str, Any]],
    mentions: list[list[str]],
    groups: str,
    order: str,
    with_venue: bool,
) -> list[Issued]:
    """Documents for `parties` (call inside one transaction): numbers in the parties' order."""
    transaction = Document._meta.db.current_transaction.get()
    assert transaction is not None, "documents are issued inside a transaction"
    connection = transaction.connection
    # The month's lines are grouped and sorted in memory rather than spilled to disk.
    await connection.execute("SET LOCAL work_mem = '64MB'")
    await connection.execute("DROP TABLE IF EXISTS pg_temp.close_line")
    await connection.execute(
        _lines_sql(groups, order, with_venue),
        period,
        parties,
        json.dumps(KIND_LABELS),
        json.dumps(UNIT_LABELS),
        json.dumps(USAGE_LABELS),
    )
    totals = {
        row["party"]: row
        for row in await connection.fetch(
            "SELECT party, count(*) AS lines, sum(excl_cents)::bigint AS excl, "
            "sum(vat_cents)::bigint AS vat FROM close_line GROUP BY party"
        )
    }
    # One counter bump per series, by as many numbers as it issues here.
    wanted: dict[tuple[str, str], int] = {}
    for one in series:
        wanted[(one.issuer, one.code)] = wanted.get((one.issuer, one.code), 0) + 1
    keys = sorted(wanted)  # the same order for every issuer: no deadlock between two closes
    last = {
        (row["issuer"], row["series"]): int(row["last_number"])
        for row in await connection.fetch(
            """
            INSERT INTO number_sequence (issuer, series, year, last_number)
            SELECT t.issuer, t.series, $3, t.n
              FROM unnest($1::text[], $2::text[], $4::int[]) AS t(issuer, series, n)
            ON CONFLICT (issuer, series, year)
            DO UPDATE SET last_number = number_sequence.last_number + EXCLUDED.last_number
            RETURNING issuer, series, last_number
            """,
            [k[0] for k in keys],
            [k[1] for k in keys],
            issued_on.year,
            [wanted[k] for k in keys],
        )
    }
    next_of = {k: last[k] - wanted[k] + 1 for k in keys}
    issued: list[Issued] = []
    sequence_numbers: list[int] = []
    for party, one in zip(parties, series, strict=True):
        sequence_number = next_of[(one.issuer, one.code)]
        next_of[(one.issuer, one.code)] += 1
        sequence_numbers.append(sequence_number)
        total = totals.get(party)
        excl = int(total["excl"]) if total else 0
        vat = int(total["vat"]) if total else 0
        issued.append(
            Issued(
                kind,
                uuid.uuid4(),
                one.format(issued_on.year, sequence_number),
                excl,
                vat,
                excl + vat,
                int(total["lines"]) if total else 0,
            )
        )
    await connection.execute(
        f"""
        INSERT INTO document (id, kind, number, issuer, series, year, sequence_number, period,
                              {party_column}, issued_on, due_on, currency, total_excl_cents,
                              total_vat_cents, total_incl_cents, seller, buyer, mentions,
                              created_at)
        SELECT t.id, $1, t.number, t.issuer, t.series, $2, t.sequence_number, $3, t.party,
               $4, $5, 'EUR', t.excl, t.vat, t.excl + t.vat, t.seller::jsonb, t.buyer::jsonb,
               t.mentions::jsonb, now()
          FROM unnest($6::uuid[], $7::text[], $8::text[], $9::text[], $10::int[], $11::uuid[],
                      $12::int[], $13::int[], $14::text[], $15::text[], $16::text[])
               WITH ORDINALITY
               AS t(id, number, issuer, series, sequence_number, party, excl, vat, seller,
                    buyer, mentions, ord)
         ORDER BY t.ord
        """,
        kind,
        issued_on.year,
        period,
        issued_on,
        issued_on + timedelta(days=PAYMENT_TERM_DAYS),
        [d.document_id for d in issued],
        [d.number for d in issued],
        [one.issuer for one in series],
        [one.code for one in series],
        sequence_numbers,
        parties,
        [d.total_excl_cents for d in issued],
        [d.total_vat_cents for d in issued],
        [json.dumps(seller) for seller in sellers],
        [json.dumps(buyer) for buyer in buyers],
        [json.dumps(document_mentions) for document_mentions in mentions],
    )
    await connection.execute(
        """
        INSERT INTO document_line (document, position, description, workspace_kind, unit,
                                   quantity, unit_price_cents, vat_rate, excl_cents, vat_cents,
                                   incl_cents)
        SELECT m.document, l.position, l.description, l.workspace_kind, l.unit, l.quantity,
               l.price, l.vat, l.excl_cents, l.vat_cents, l.excl_cents + l.vat_cents
          FROM close_line l JOIN unnest($1::uuid[], $2::uuid[]) AS m(party, document)
               ON m.party = l.party
        """,
        parties,
        [d.document_id for d in issued],
    )
    await connection.execute("DROP TABLE pg_temp.close_line")
    return issued


async def issue_invoices(
    period: date, organisation_ids: list[uuid.UUID], network: NetworkIdentity, issued_on: date
) -> list[Issued]:
    """The organisations' invoices for the month (call inside one transaction)."""
    organisations = {
        o["id"]: o
        for o in await Organisation.select().where(Organisation.id.is_in(organisation_ids))
    }
    return await _issue_many(
        kind="invoice",
        period=period,
        issued_on=issued_on,
        parties=organisation_ids,
        party_column="organisation",
        series=[numbering.INVOICES for _ in organisation_ids],
        sellers=[network.party() for _ in organisation_ids],
        buyers=[organisation_party(organisations[o]) for o in organisation_ids],
        mentions=[PAYMENT_MENTIONS for _ in organisation_ids],
        groups=_INVOICE_GROUPS,
        order=_INVOICE_ORDER,
        with_venue=True,
    )


async def issue_statements(
    period: date, venue_ids: list[uuid.UUID], network: NetworkIdentity, issued_on: date
) -> list[Issued]:
    """The venues' self-billing statements for the month (call inside one transaction)."""
    venues = {v["id"]: v for v in await Venue.select().where(Venue.id.is_in(venue_ids))}
    mentions = []
    for venue_id in venue_ids:
        these = [SELF_BILLING_MENTION, *PAYMENT_MENTIONS]
        if not venues[venue_id]["charges_vat"]:
            these.insert(0, FRANCHISE_MENTION)
        mentions.append(these)
    return await _issue_many(
        kind="statement",
        period=period,
        issued_on=issued_on,
        parties=venue_ids,
        party_column="venue",
        series=[numbering.statements_of(v) for v in venue_ids],
        sellers=[venue_party(venues[v]) for v in venue_ids],
        buyers=[network.party() for _ in venue_ids],
        mentions=mentions,
        groups=_STATEMENT_GROUPS,
        order=_STATEMENT_ORDER,
        with_venue=False,
    )
