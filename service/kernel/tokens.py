"""Access tokens: the signed JWT that the API's bearer header and the pages' cookie both carry.

A token names a session (`sid`, ended one by one at sign-out) and the person's session
generation when it was issued (`gen`, raised by the database when their password, role,
membership or activity changes, which ends all their sessions at once). Both are checked on
every request in the one query that finds the person, so every API process refuses an
ended session at its next request.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt

from service.kernel.settings import Settings

JWT_ALGORITHM = "HS256"
# Door-device tokens are opaque, not JWTs; the prefix tells them apart at a glance.
DEVICE_TOKEN_PREFIX = "tldev_"


def issue_access_token(
    settings: Settings,
    user_id: uuid.UUID,
    role: str,
    *,
    generation: int,
    session_id: uuid.UUID | None = None,
) -> tuple[str, int]:
    """A new session's token for a person whose session generation is `generation`."""
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=settings.access_token_minutes)
    claims = {
        "sub": str(user_id),
        "role": role,
        "iat": now,
        "exp": now + lifetime,
        "sid": str(session_id or uuid.uuid4()),
        "gen": generation,
    }
    token = jwt.encode(claims, settings.secret_key, algorithm=JWT_ALGORITHM)
    return token, int(lifetime.total_seconds())
