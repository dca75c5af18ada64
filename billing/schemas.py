"""API shapes of the reconciliation. Amounts are integer cents; VAT rates are decimal strings."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from billing.close import CloseResult


class PeriodOut(msgspec.Struct):
    period: str
    status: str
    step: str | None
    progress: dict[str, Any]
    # When the close was asked for; set while `closing` and kept once closed.
    queued_at: datetime | None
    started_at: datetime | None
    closed_at: datetime | None
    # Set when a close asked for over a minute ago has no worker on it: since `queued_at`.
    waiting_for_worker_since: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PeriodOut:
        progress = row.get("progress") or {}
        if isinstance(progress, str):
            progress = msgspec.json.decode(progress)
        return cls(
            period=row["month"].strftime("%Y-%m"),
            status=row["status"],
            step=row.get("step"),
            progress=progress,
            queued_at=row.get("queued_at"),
            started_at=row.get("started_at"),
            closed_at=row.get("closed_at"),
            waiting_for_worker_since=row.get("waiting_since"),
        )


class CloseAccepted(msgspec.Struct):
    period: str
    status: str
    queued: bool


class NewCreditNote(msgspec.Struct, forbid_unknown_fields=True):
    usage_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=10_000)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class DocumentTotals(msgspec.Struct):
    number: str
    total_excl_cents: int
    total_vat_cents: int
    total_incl_cents: int


class DryRunResult(msgspec.Struct):
    period: str
    dry_run: bool
    visits: int
    no_shows: int
    late_cancellations: int
    invoices: list[DocumentTotals]
    statements: list[DocumentTotals]
    organisations_excl_cents: int
    venues_excl_cents: int
    network_share_cents: int

    @classmethod
    def from_result(cls, result: CloseResult) -> DryRunResult:
        collected = result.collected
        return cls(
            period=result.month.strftime("%Y-%m"),
            dry_run=result.dry_run,
            visits=collected.visits if collected else 0,
            no_shows=collected.no_shows if collected else 0,
            late_cancellations=collected.late_cancellations if collected else 0,
            invoices=[
                DocumentTotals(d.number, d.total_excl_cents, d.total_vat_cents, d.total_incl_cents)
                for d in result.invoices
            ],
            statements=[
                DocumentTotals(d.number, d.total_excl_cents, d.total_vat_cents, d.total_incl_cents)
                for d in result.statements
            ],
            organisations_excl_cents=result.organisations_excl_cents,
            venues_excl_cents=result.venues_excl_cents,
            network_share_cents=result.network_share_cents,
        )


class DocumentSummary(msgspec.Struct):
    id: uuid.UUID
    kind: str
    number: str
    period: str
    issued_on: date
    due_on: date
    organisation_id: uuid.UUID | None
    venue_id: uuid.UUID | None
    corrects: uuid.UUID | None
    currency: str
    total_excl_cents: int
    total_vat_cents: int
    total_incl_cents: int
    paid_cents: int
    seller_name: str
    buyer_name: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> DocumentSummary:
        seller, buyer = row.get("seller"), row.get("buyer")
        if isinstance(seller, str):
            seller = msgspec.json.decode(seller)
        if isinstance(buyer, str):
            buyer = msgspec.json.decode(buyer)
        return cls(
            id=row["id"],
            kind=row["kind"],
            number=row["number"],
            period=row["period"].strftime("%Y-%m"),
            issued_on=row["issued_on"],
            due_on=row["due_on"],
            organisation_id=row["organisation"],
            venue_id=row["venue"],
            corrects=row["corrects"],
            currency=row["currency"],
            total_excl_cents=row["total_excl_cents"],
            total_vat_cents=row["total_vat_cents"],
            total_incl_cents=row["total_incl_cents"],
            paid_cents=int(row.get("paid_cents") or 0),
            seller_name=row.get("seller_name") or (seller or {}).get("name", ""),
            buyer_name=row.get("buyer_name") or (buyer or {}).get("name", ""),
        )


class LineOut(msgspec.Struct):
    position: int
    description: str
    workspace_kind: str
    unit: str
    quantity: int
    unit_price_cents: int
    vat_rate: Decimal
    excl_cents: int
    vat_cents: int
    incl_cents: int


class DocumentDetail(msgspec.Struct):
    document: DocumentSummary
    seller: dict[str, Any]
    buyer: dict[str, Any]
    mentions: list[str]
    lines: list[LineOut]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> DocumentDetail:
        def decoded(value: Any) -> Any:
            return msgspec.json.decode(value) if isinstance(value, str | bytes) else value

        return cls(
            document=DocumentSummary.from_row(row),
            seller=decoded(row["seller"]),
            buyer=decoded(row["buyer"]),
            mentions=decoded(row["mentions"]),
            lines=[
                LineOut(
                    position=line["position"],
                    description=line["description"],
                    workspace_kind=line["workspace_kind"],
                    unit=line["unit"],
                    quantity=line["quantity"],
                    unit_price_cents=line["unit_price_cents"],
                    vat_rate=line["vat_rate"],
                    excl_cents=line["excl_cents"],
                    vat_cents=line["vat_cents"],
                    incl_cents=line["incl_cents"],
                )
                for line in row["lines"]
            ],
        )


class UsageOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    local_date: date
    agent: str
    venue: str
    commune: str
    organisation: str
    workspace: str
    workspace_kind: str
    unit: str
    quantity: int
    organisation_price_cents: int
    organisation_vat_rate: Decimal
    venue_price_cents: int
    venue_vat_rate: Decimal
    visit_id: uuid.UUID | None
    booking_id: uuid.UUID | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> UsageOut:
        return msgspec.convert(
            {**row, "visit_id": row["visit"], "booking_id": row["booking"]}, cls, strict=False
        )


class PayoutOut(msgspec.Struct):
    id: uuid.UUID
    statement_id: uuid.UUID
    statement_number: str
    venue_id: uuid.UUID
    venue_name: str
    amount_cents: int
    method: str
    status: str
    reference: str | None
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PayoutOut:
        return msgspec.convert(row, cls, strict=False)


class PayoutStatus(msgspec.Struct, forbid_unknown_fields=True):
    status: Literal["sent", "paid", "failed"]


class BankLine(msgspec.Struct):
    reference: str
    booked_on: date
    amount_cents: int
    label: str
    invoice_number: str | None


class BankImportOut(msgspec.Struct):
    matched: list[BankLine]
    partial: list[BankLine]
    unmatched: list[BankLine]
    already_imported: int


class BankEntryOut(msgspec.Struct):
    id: uuid.UUID
    reference: str
    booked_on: date
    amount_cents: int
    label: str
    status: str
    invoice_number: str | None
