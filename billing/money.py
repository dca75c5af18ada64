"""Money arithmetic: integer cents, VAT rates as Decimal, half-up rounding per line."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


def vat_cents(excl_cents: int, rate: Decimal) -> int:
    """VAT of one line, rounded half-up to the cent (never on a total)."""
    return int((Decimal(excl_cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class LineAmounts:
    excl_cents: int
    vat_cents: int
    incl_cents: int


def line_amounts(quantity: int, unit_price_cents: int, rate: Decimal) -> LineAmounts:
    excl = quantity * unit_price_cents
    vat = vat_cents(excl, rate)
    return LineAmounts(excl, vat, excl + vat)


def euros(cents: int) -> str:
    """French display of an amount: 1 234,56 €."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", "\u202f") + f",{rest:02d} €"
