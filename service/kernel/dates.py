"""The range of dates the service accepts (2000-01-01 to 2100-12-31), checked at every edge.

A year 9999 or 0001 is never a real booking, closure, rate, scan or accounting month, and
near the ends of Python's calendar any `+ timedelta` overflows into a 500. One rule, one
error (`date-out-of-range`), used by the API's input structs, the domains and the pages.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

import msgspec

from service.kernel.errors import InvalidValue
from service.kernel.i18n import N_

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
When = TypeVar("When", date, datetime)


class DateOutOfRange(InvalidValue):
    default_detail = N_("Dates run from 2000-01-01 to 2100-12-31.")


class MonthNotValid(InvalidValue):
    default_detail = N_("A month is written YYYY-MM, from 2000-01 to 2100-12.")


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def within_range(value: When, field: str | None = None) -> When:
    """The value itself when it falls in the accepted range; `DateOutOfRange` otherwise."""
    if not EARLIEST <= _day(value) <= LATEST:
        raise DateOutOfRange(field=field)
    return value


def parse_month(text: str | None, field: str = "month") -> date:
    """`YYYY-MM` (as typed or as a URL segment) to the month's first day, inside the range."""
    cleaned = (text or "").strip()
    if len(cleaned) != 7 or cleaned[4] != "-":
        raise MonthNotValid(field=field)
    try:
        first = date.fromisoformat(f"{cleaned}-01")
    except ValueError:
        raise MonthNotValid(field=field) from None
    if not EARLIEST <= first <= LATEST:
        raise MonthNotValid(field=field)
    return first


class DatedInput(msgspec.Struct):
    """Base of every API input struct holding a date or a datetime: each is range-checked.

    msgspec runs `__post_init__` after decoding, so a struct deriving from this refuses an
    out-of-range date before any handler sees it (tests/service/test_hostile_input.py checks
    that every input struct with a date field derives from it).
    """

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value: Any = getattr(self, name)
            if isinstance(value, date):
                within_range(value, _encoded_name(type(self), name))


def _encoded_name(struct: type[msgspec.Struct], name: str) -> str:
    encoded = dict(zip(struct.__struct_fields__, struct.__struct_encode_fields__, strict=True))
    return encoded.get(name, name)
