"""Access tokens: the signed JWT that the API's bearer header and the pages' cookie both carry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt

from service.kernel.settings import Settings

JWT_ALGORITHM = "HS256"
# Door-device tokens are opaque, not JWTs; the prefix tells them apart at a glance.
DEVICE_TOKEN_PREFIX = "tldev_"


def issue_access_token(settings: Settings, user_id: uuid.UUID, role: str) -> tuple[str, int]:
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=settings.access_token_minutes)
    claims = {
        "sub": str(user_id),
        "role": role,
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, settings.secret_key, algorithm=JWT_ALGORITHM)
    return token, int(lifetime.total_seconds())
