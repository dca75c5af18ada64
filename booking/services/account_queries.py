"""What a signed-in person's account page reads about them."""

from __future__ import annotations

import uuid
from typing import Any

from booking.tables import User


async def account_of(user_id: uuid.UUID) -> dict[str, Any] | None:
    """The person's email, name and role, or None if there is no such person."""
    return (
        await User.select(User.email, User.display_name, User.role)
        .where(User.id == user_id)
        .first()
    )
