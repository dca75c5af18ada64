"""API shapes for sign-in and the current user."""

from __future__ import annotations

import uuid
from datetime import datetime
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


Token = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Language = Annotated[str, msgspec.Meta(min_length=2, max_length=5)]


class PasswordResetRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email


class PasswordResetConfirm(msgspec.Struct, forbid_unknown_fields=True):
    token: Token
    password: Password


class Accepted(msgspec.Struct):
    detail: str


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password


class EmailChangeRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password


class EmailChangeConfirm(msgspec.Struct, forbid_unknown_fields=True):
    token: Token


class LanguageChoice(msgspec.Struct, forbid_unknown_fields=True):
    language: Language


class Session(msgspec.Struct):
    id: uuid.UUID
    created_at: datetime
    expires_at: datetime
    user_agent: str
    method: str
    current: bool
