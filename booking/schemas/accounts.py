"""API shapes for sign-in and the current user."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password


class TokenResponse(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int


class Me(msgspec.Struct):
    id: uuid.UUID
    email: str
    display_name: str
    role: str
    venue_id: uuid.UUID | None
    organisation_id: uuid.UUID | None
