"""What the pages read about the network's organisations beyond one organisation's console."""

from __future__ import annotations

from typing import Any

from booking.tables import Organisation


async def active_organisations() -> list[dict[str, Any]]:
    """The active organisations' ids and names, by name (a rate card's possible owners)."""
    return (
        await Organisation.select(Organisation.id, Organisation.name)
        .where(Organisation.active == True)  # noqa: E712
        .order_by(Organisation.name)
    )
