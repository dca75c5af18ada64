"""The rights of access and erasure over HTTP: a person's own export, and admins' exports and erasures."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec

from passes import personal_data
from service.kernel.auth import SIGNED_IN, CurrentPrincipal, allow
from service.kernel.identity import Role

NETWORK = allow(Role.NETWORK_ADMIN)
ORG_ADMINS = allow(Role.ORG_ADMIN, Role.NETWORK_ADMIN, organisation_scope="organisation_id")
ZIP = "application/zip"
# Documented as problem+json by service.kernel.openapi (every 4xx is).
ERASED = {410: ResponseSpec(data_container=dict, description="The person's data has been erased")}
LAST_ADMIN = {409: ResponseSpec(data_container=dict, description="The last network admin")}
ZIP_RESPONSE = {
    200: ResponseSpec(data_container=bytes, media_type=ZIP, description="JSON and CSV files"),
    **ERASED,
}


class ErasedOut(msgspec.Struct):
    id: uuid.UUID
    pseudonym: str
    cancelled_bookings: int


def _zip(content: bytes, user_id: uuid.UUID) -> Response[bytes]:
    return Response(
        content,
        media_type=ZIP,
        headers={
            "Content-Disposition": f'attachment; filename="donnees-{user_id}.zip"',
            "Cache-Control": "no-store",
        },
    )


def _base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.app.state.settings.base_url)


class MyDataController(Controller):
    path = "/me/export"
    tags = ["privacy"]

    @get("", opt=SIGNED_IN, summary="Everything held about me (zip)", responses=ZIP_RESPONSE)
    async def export_mine(self, principal: CurrentPrincipal) -> Response[bytes]:
        assert principal.user_id is not None
        content = await personal_data.export(principal, principal.user_id, None)
        return _zip(content, principal.user_id)


class AgentDataController(Controller):
    path = "/organisations/{organisation_id:uuid}/agents/{agent_id:uuid}"
    tags = ["privacy"]

    @get(
        "/export",
        opt=ORG_ADMINS,
        summary="Everything held about an agent (zip)",
        responses=ZIP_RESPONSE,
    )
    async def export_agent(
        self, principal: CurrentPrincipal, organisation_id: uuid.UUID, agent_id: uuid.UUID
    ) -> Response[bytes]:
        content = await personal_data.export(principal, agent_id, organisation_id)
        return _zip(content, agent_id)

    @post(
        "/erase",
        opt=ORG_ADMINS,
        status_code=200,
        summary="Erase an agent's personal data",
        responses=ERASED,
    )
    async def erase_agent(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        organisation_id: uuid.UUID,
        agent_id: uuid.UUID,
    ) -> ErasedOut:
        erased = await personal_data.erase(
            principal, agent_id, organisation_id, base_url=_base_url(request)
        )
        return msgspec.convert(erased, ErasedOut)


class UserDataController(Controller):
    path = "/users/{user_id:uuid}"
    tags = ["privacy"]

    @get(
        "/export", opt=NETWORK, summary="Everything held about anyone (zip)", responses=ZIP_RESPONSE
    )
    async def export_user(self, principal: CurrentPrincipal, user_id: uuid.UUID) -> Response[bytes]:
        return _zip(await personal_data.export(principal, user_id, None), user_id)

    @post(
        "/erase",
        opt=NETWORK,
        status_code=200,
        summary="Erase anyone's personal data (not the last network admin)",
        responses={**ERASED, **LAST_ADMIN},
    )
    async def erase_user(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, user_id: uuid.UUID
    ) -> ErasedOut:
        erased = await personal_data.erase(principal, user_id, None, base_url=_base_url(request))
        return msgspec.convert(erased, ErasedOut)


PERSONAL_DATA_API_CONTROLLERS: list[type] = [
    MyDataController,
    AgentDataController,
    UserDataController,
]
