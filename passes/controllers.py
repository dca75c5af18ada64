"""The pass over HTTP: my pass and its QR, admins' pass actions, keys and revocations for devices."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody

from passes import qr, services
from passes.keys import Keyring, published_keys
from passes.schemas import KeyOut, PassChange, PassOut, RevocationFeed, StatusChangeOut
from passes.tables import Pass
from service.kernel.auth import PUBLIC, CurrentPrincipal, allow
from service.kernel.identity import Role
from service.kernel.pagination import Limit, Offset

ORG_ADMINS = allow(Role.ORG_ADMIN, Role.NETWORK_ADMIN, organisation_scope="organisation_id")


def _keyring(request: Request[Any, Any, Any]) -> Keyring:
    keyring: Keyring = request.app.state.keyring
    return keyring


def _out(request: Request[Any, Any, Any], issued: Pass) -> PassOut:
    base = str(request.app.state.settings.base_url)
    return PassOut(
        serial=issued.serial,
        status=issued.status,
        token=issued.token,
        key_id=issued.key_id,
        not_before=issued.not_before,
        not_after=issued.not_after,
        issued_at=issued.issued_at,
        agent_id=issued.agent,
        svg_url=f"{base}/api/v1/me/pass.svg",
        png_url=f"{base}/api/v1/me/pass.png",
    )


NO_STORE = {"Cache-Control": "no-store"}


async def provide_my_pass(request: Request[Any, Any, Any], principal: CurrentPrincipal) -> Pass:
    """The signed-in agent's live pass, issued on first use."""
    assert principal.user_id is not None
    return await services.ensure_pass(principal.user_id, _keyring(request))


class MyPassController(Controller):
    path = "/me"
    tags = ["pass"]
    dependencies = {"my_pass": Provide(provide_my_pass)}

    @get("/pass", opt=allow(Role.AGENT), summary="My pass (issued on first request)")
    async def my_pass(self, request: Request[Any, Any, Any], my_pass: Pass) -> Response[PassOut]:
        return Response(_out(request, my_pass), headers=NO_STORE)

    @get(
        "/pass.png",
        opt=allow(Role.AGENT),
        media_type="image/png",
        summary="My pass as a PNG QR code",
        responses={
            200: ResponseSpec(data_container=bytes, media_type="image/png", description="QR code")
        },
    )
    async def my_pass_png(self, my_pass: Pass) -> Response[bytes]:
        return Response(qr.png(my_pass.token), media_type="image/png", headers=NO_STORE)

    @get(
        "/pass.svg",
        opt=allow(Role.AGENT),
        media_type="image/svg+xml",
        summary="My pass as an SVG QR code",
        responses={
            200: ResponseSpec(
                data_container=bytes, media_type="image/svg+xml", description="QR code"
            )
        },
    )
    async def my_pass_svg(self, my_pass: Pass) -> Response[bytes]:
        return Response(qr.svg(my_pass.token), media_type="image/svg+xml", headers=NO_STORE)


class AgentPassController(Controller):
    path = "/organisations/{organisation_id:uuid}/agents/{agent_id:uuid}/pass"
    tags = ["pass"]

    @get("", opt=ORG_ADMINS, summary="An agent's live pass")
    async def read(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        organisation_id: uuid.UUID,
        agent_id: uuid.UUID,
    ) -> PassOut:
        return _out(request, await services.admin_view(principal, agent_id))

    @post("/suspend", opt=ORG_ADMINS, status_code=200, summary="Suspend the agent's pass")
    async def suspend(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        organisation_id: uuid.UUID,
        agent_id: uuid.UUID,
        data: JSONBody[PassChange | None] = None,
    ) -> PassOut:
        return _out(
            request,
            await services.change_status(
                principal, agent_id, "suspended", reason=data.reason if data else None
            ),
        )

    @post("/resume", opt=ORG_ADMINS, status_code=200, summary="Resume a suspended pass")
    async def resume(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        organisation_id: uuid.UUID,
        agent_id: uuid.UUID,
    ) -> PassOut:
        return _out(request, await services.change_status(principal, agent_id, "active"))

    @post(
        "/reissue",
        opt=ORG_ADMINS,
        status_code=200,
        summary="A new pass (new serial); the old one is revoked",
    )
    async def reissue(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        organisation_id: uuid.UUID,
        agent_id: uuid.UUID,
    ) -> PassOut:
        await services.admin_scope(principal, agent_id)
        return _out(request, await services.issue(agent_id, _keyring(request)))


class PassKeysController(Controller):
    path = "/passes"
    tags = ["pass"]

    @get("/keys", opt=PUBLIC, summary="Public keys that sign passes (for offline verifiers)")
    async def keys(self) -> list[KeyOut]:
        return [
            KeyOut(
                key_id=k.key_id,
                algorithm="Ed25519",
                public_key=base64.urlsafe_b64encode(k.public_key).decode().rstrip("="),
                created_at=k.created_at,
                retired_at=k.retired_at,
            )
            for k in await published_keys()
        ]

    @get(
        "/revocations",
        opt=allow(Role.VENUE_STAFF, Role.VENUE_ADMIN, Role.NETWORK_ADMIN, devices=True),
        summary="Pass status changes after a cursor (start at 0), oldest first",
    )
    async def revocations(self, since: Offset = 0, limit: Limit = 500) -> RevocationFeed:
        changes, _ = await services.status_changes(since, limit + 1)
        more = len(changes) > limit
        changes = changes[:limit]
        return RevocationFeed(
            changes=[StatusChangeOut(c.serial, c.status, c.cursor) for c in changes],
            next_cursor=changes[-1].cursor if changes else since,
            more=more,
        )


PASS_API_CONTROLLERS: list[type] = [MyPassController, AgentPassController, PassKeysController]
