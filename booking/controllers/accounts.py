"""Sign-in and the current user."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import JSONBody

from booking.schemas.accounts import Me, TokenRequest, TokenResponse
from booking.services.accounts import sign_in, user_of
from service.kernel.addresses import client_address
from service.kernel.auth import PUBLIC, SIGNED_IN, CurrentPrincipal
from service.kernel.errors import NotFound


class AuthController(Controller):
    path = "/auth"
    tags = ["accounts"]

    @post("/token", opt=PUBLIC, status_code=200, summary="Exchange email and password for a JWT")
    async def token(
        self, request: Request[Any, Any, Any], data: JSONBody[TokenRequest]
    ) -> TokenResponse:
        client = client_address(request)
        token, expires_in = await sign_in(
            request.app.state.settings, request.app.state.redis, data.email, data.password, client
        )
        return TokenResponse(access_token=token, token_type="bearer", expires_in=expires_in)


class MeController(Controller):
    path = "/me"
    tags = ["accounts"]

    @get("", opt=SIGNED_IN, summary="The signed-in user, their role and membership")
    async def me(self, principal: CurrentPrincipal) -> Me:
        if principal.user_id is None:
            raise NotAuthorizedException("Door devices have no user.")
        user = await user_of(principal.user_id)
        if user is None:
            raise NotFound()
        return Me(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            venue_id=user.venue,
            organisation_id=user.organisation,
        )
