"""Authentication (JWT for people, opaque tokens for door devices) and the access guard.

Every route handler declares who may call it in `opt["access"]` (see `Access`); the one
app-wide guard enforces it and refuses a handler that declares nothing. The role-matrix
test walks the route table to make sure no route escapes this decision.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from service.kernel import audit
from service.kernel.errors import NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Principal, Role
from service.kernel.principal_cache import PrincipalCache
from service.kernel.settings import Settings
from service.kernel.tokens import DEVICE_TOKEN_PREFIX, JWT_ALGORITHM

# What a handler asks for to get the caller (provided by the app; 401 when anonymous).
CurrentPrincipal = NamedDependency[Principal]

# How the middleware finds who a credential names; the composition root hands in the
# domains' look-ups (accounts for people, door devices for scanners), so the kernel
# knows no table. None means unknown, inactive, revoked or a session that has ended.
UserLookup = Callable[[dict[str, Any]], Awaitable[Principal | None]]
DeviceLookup = Callable[[str], Awaitable[Principal | None]]
# Whether the venue or organisation a scoped path names exists ("venue" | "organisation", id);
# set on `app.state.party_exists` by the composition root.
PartyExists = Callable[[str, uuid.UUID], Awaitable[bool]]


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
    if principal.role is Role.NETWORK_ADMIN and (access.venue_scope or access.organisation_scope):
        # Network admins pass every scope, so the id they name may name nothing: say so (404)
        # rather than answer an empty list for a venue or organisation that does not exist.
        await _scoped_parties_exist(connection, access)
    audit.acting(principal)


async def _scoped_parties_exist(
    connection: ASGIConnection[Any, Any, Any, Any], access: Access
) -> None:
    exists: PartyExists | None = connection.app.state.get("party_exists")
    if exists is None:
        return
    for kind, parameter in (
        ("venue", access.venue_scope),
        ("organisation", access.organisation_scope),
    ):
        if parameter and not await exists(kind, connection.path_params[parameter]):
            raise NotFound(N_("No such venue.") if kind == "venue" else N_("No such organisation."))


class AuthMiddleware(AbstractAuthenticationMiddleware):
    """Turns a Bearer token into a Principal; no header means anonymous (guards decide)."""

    def __init__(
        self, app: ASGIApp, *, user_lookup: UserLookup, device_lookup: DeviceLookup
    ) -> None:
        super().__init__(app)
        self.user_lookup = user_lookup
        self.device_lookup = device_lookup

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
        cache: PrincipalCache | None = connection.app.state.get("principal_cache")
        if token.startswith(DEVICE_TOKEN_PREFIX):
            device = await (
                cache.get(token, lambda: self.device_lookup(token))
                if cache is not None
                else self.device_lookup(token)
            )
            if device is None:
                raise NotAuthorizedException("This door-device token is unknown or revoked.")
            return AuthenticationResult(user=device, auth=token)
        settings: Settings = connection.app.state.settings
        # Looked up on every request, or remembered until PostgreSQL says a person or session
        # changed, so that sign-out, deactivation, a new password and role changes apply at
        # once, on every process (service.kernel.principal_cache).
        claims = token_claims(settings, token)
        user = await (
            cache.get(token, lambda: self.user_lookup(claims))
            if cache is not None
            else self.user_lookup(claims)
        )
        if user is None:
            raise NotAuthorizedException(
                "This session has ended (signed out, or the account changed): sign in again."
            )
        return AuthenticationResult(user=user, auth=token)


# Tokens whose signature this process has checked, with their claims: a token is immutable,
# so the same string signed by the same key always checks the same; only `exp` is checked
# again on each use. Bounded: emptied when full (a new check costs ≈ 0.1 ms of CPU).
_CHECKED: dict[tuple[str, str], dict[str, Any]] = {}
_CHECKED_MAX = 20_000


def token_claims(settings: Settings, token: str) -> dict[str, Any]:
    """The claims of a valid, unexpired access token; NotAuthorizedException otherwise."""
    cached = _CHECKED.get((settings.secret_key, token))
    if cached is not None:
        if cached["exp"] > time.time():
            return cached
        raise NotAuthorizedException("The access token is invalid or expired.")
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
    if isinstance(claims["exp"], int | float):
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        _CHECKED[(settings.secret_key, token)] = claims
    return claims


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The `principal` dependency: the caller, or 401 when anonymous."""
    user = request.scope.get("user")
    if not isinstance(user, Principal):
        raise NotAuthorizedException("Sign in first.")
    return user
