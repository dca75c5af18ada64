"""Accounting export in the French FEC layout (Fichier des écritures comptables, art. A47 A-1 LPF).

One entry per document, each balanced: an invoice debits the customer account and
credits revenue and collected VAT; a self-billing statement debits purchases and
deductible VAT and credits the supplier; credit notes are the same entries reversed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from billing.tables import Document

COLUMNS = [
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
]

CUSTOMERS = ("411000", "Clients")
REVENUE = ("706000", "Prestations de services")
VAT_COLLECTED = ("445710", "TVA collectée")
PURCHASES = ("604000", "Achats de prestations de services")
VAT_DEDUCTIBLE = ("445660", "TVA déductible sur autres biens et services")
SUPPLIERS = ("401000", "Fournisseurs")


@dataclass(frozen=True)
class Movement:
    account: tuple[str, str]
    debit_cents: int
    credit_cents: int
    auxiliary: tuple[str, str] = ("", "")


def _amount(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def _day(value: date) -> str:
    return value.strftime("%Y%m%d")


def _movements(document: dict[str, Any], corrected_kind: str | None) -> tuple[str, list[Movement]]:
    excl, vat, incl = (
        document["total_excl_cents"],
        document["total_vat_cents"],
        document["total_incl_cents"],
    )
    kind = corrected_kind or document["kind"]
    reverse = document["kind"] == "credit_note"
    if kind == "invoice":
        auxiliary = (f"C{str(document['organisation'])[:8].upper()}", document["buyer_name"])
        moves = [
            Movement(CUSTOMERS, incl, 0, auxiliary),
            Movement(REVENUE, 0, excl),
            Movement(VAT_COLLECTED, 0, vat),
        ]
        journal = "VE"
    else:
        auxiliary = (f"F{str(document['venue'])[:8].upper()}", document["seller_name"])
        moves = [
            Movement(PURCHASES, excl, 0),
            Movement(VAT_DEDUCTIBLE, vat, 0),
            Movement(SUPPLIERS, 0, incl, auxiliary),
        ]
        journal = "AC"
    if reverse:
        moves = [Movement(m.account, m.credit_cents, m.debit_cents, m.auxiliary) for m in moves]
    return journal, [m for m in moves if m.debit_cents or m.credit_cents]


async def export(period: date) -> str:
    """The FEC lines (pipe-separated, with header) of every document issued for `period`.

    Not written through the CSV writer's formula neutralising: this is the legal reproduction
    of the accounting entries, read by the tax administration's tools, and its labels must be
    the entries' labels as recorded (docs/reliability.md, "CSV formula injection").
    """
    documents = await Document.raw(
        """
        SELECT d.id, d.kind, d.number, d.issued_on, d.organisation, d.venue,
               d.total_excl_cents, d.total_vat_cents, d.total_incl_cents,
               d.buyer->>'name' AS buyer_name, d.seller->>'name' AS seller_name,
               c.kind AS corrected_kind
          FROM document d LEFT JOIN document c ON c.id = d.corrects
         WHERE d.period = {}
         ORDER BY d.issued_on, d.kind, d.number
        """,
        period,
    )
    lines = ["|".join(COLUMNS)]
    journals = {"VE": "Ventes", "AC": "Achats (autofacturation)"}
    for sequence, document in enumerate(documents, start=1):
        journal, moves = _movements(document, document["corrected_kind"])
        label = {
            "invoice": "Facture",
            "statement": "Autofacturation",
            "credit_note": "Avoir",
        }[document["kind"]] + f" {document['number']}"
        for move in moves:
            lines.append(
                "|".join(
                    [
                        journal,
                        journals[journal],
                        f"{journal}{period:%Y%m}-{sequence:06d}",
                        _day(document["issued_on"]),
                        move.account[0],
                        move.account[1],
                        move.auxiliary[0],
                        move.auxiliary[1].replace("|", " "),
                        document["number"],
                        _day(document["issued_on"]),
                        label,
                        _amount(move.debit_cents),
                        _amount(move.credit_cents),
                        "",
                        "",
                        _day(document["issued_on"]),
                        "",
                        "",
                    ]
                )
            )
    return "\r\n".join(lines) + "\r\n"
