"""Paginated lists: every list endpoint says the total and the window it returns."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import msgspec
from litestar.params import Parameter

T = TypeVar("T")

Limit = Annotated[int, Parameter(ge=1, le=500, description="Page size")]
Offset = Annotated[int, Parameter(ge=0, le=10_000_000, description="Items to skip")]


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
