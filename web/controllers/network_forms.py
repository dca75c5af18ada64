"""The network console's rate form read into what the catalogue takes: owner, amount, VAT, day."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal, InvalidOperation

from service.kernel.dates import within_range
from service.kernel.errors import InvalidValue
from service.kernel.i18n import N_

MAX_CENTS = 100_000_000  # the API's bound on an amount (booking/schemas/catalogue.py)


def parse_euros(text: str) -> int:
    """'12,50' or '12.50' euros in cents; refuses more than two decimals or a negative amount."""
    cleaned = text.strip().replace("\u202f", "").replace(" ", "").replace("€", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidValue(
            N_("Give a price in euros, zero or more, with at most two decimals (e.g. 12.50)."),
            field="amount",
        ) from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise InvalidValue(
            N_("Give a price in euros, zero or more, with at most two decimals (e.g. 12.50)."),
            field="amount",
        )
    cents = int(value * 100)
    if not 0 <= cents <= MAX_CENTS:
        raise InvalidValue(
            N_("Give a price in euros, zero or more, with at most two decimals (e.g. 12.50)."),
            field="amount",
        )
    return cents


def parse_vat_percent(text: str) -> Decimal:
    """'20' or '5,5' (per cent) as the API's decimal rate 0.20 / 0.055."""
    try:
        value = Decimal(text.strip().replace(",", ".").replace("%", ""))
    except InvalidOperation:
        raise InvalidValue(
            N_("Give a VAT rate in per cent (e.g. 20 or 5.5)."), field="vat"
        ) from None
    if not value.is_finite():
        raise InvalidValue(N_("Give a VAT rate in per cent (e.g. 20 or 5.5)."), field="vat")
    return value / 100


def owner_of(text: str) -> tuple[str, uuid.UUID | None]:
    """`default`, `venue:<id>` or `organisation:<id>`: whose rate card a form is about."""
    if text == "default":
        return "default", None
    kind, _, raw = text.partition(":")
    if kind not in ("venue", "organisation"):
        raise InvalidValue(N_("Pick a card from the list."), field="owner")
    try:
        return kind, uuid.UUID(raw)
    except ValueError:
        raise InvalidValue(N_("Pick a card from the list."), field="owner") from None


def day_of(text: str) -> date:
    try:
        return within_range(date.fromisoformat(text.strip()), "effective_from")
    except ValueError:
        raise InvalidValue(N_("Give a date (YYYY-MM-DD)."), field="effective_from") from None
