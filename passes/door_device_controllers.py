"""Door devices over HTTP: a venue's scanner tokens, and the device asking who it is."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get, post
from litestar.params import JSONBody

from passes import door_devices
from passes.schemas import DeviceOut, NewDevice, NewDeviceOut, WhoAmIDevice
from service.kernel.auth import CurrentPrincipal, allow
from service.kernel.idempotency import IdempotencyMiddleware
from service.kernel.identity import Role

VENUE_ADMINS = allow(Role.VENUE_ADMIN, Role.NETWORK_ADMIN, venue_scope="venue_id")
VENUE_PEOPLE = allow(Role.VENUE_ADMIN, Role.VENUE_STAFF, Role.NETWORK_ADMIN, venue_scope="venue_id")


class DoorDeviceController(Controller):
    path = "/venues/{venue_id:uuid}/door-devices"
    tags = ["door devices"]

    @post(
        "",
        opt=VENUE_ADMINS,
        middleware=[IdempotencyMiddleware],
        summary="A scanner token (shown once)",
    )
    async def create(
        self, principal: CurrentPrincipal, venue_id: uuid.UUID, data: JSONBody[NewDevice]
    ) -> NewDeviceOut:
        assert principal.user_id is not None
        device, token = await door_devices.create(venue_id, data.name, principal.user_id)
        return NewDeviceOut(DeviceOut.of(device), token)

    @get("", opt=VENUE_PEOPLE, summary="The venue's door devices (no tokens)")
    async def list_devices(self, venue_id: uuid.UUID) -> list[DeviceOut]:
        return [DeviceOut.of(d) for d in await door_devices.of_venue(venue_id)]

    @post("/{device_id:uuid}/revoke", opt=VENUE_ADMINS, status_code=200, summary="Revoke a device")
    async def revoke(self, venue_id: uuid.UUID, device_id: uuid.UUID) -> DeviceOut:
        return DeviceOut.of(await door_devices.revoke(venue_id, device_id))


class DeviceSelfController(Controller):
    path = "/devices/me"
    tags = ["door devices"]

    @get("", opt=allow(devices=True), summary="The door device calling, and its venue")
    async def whoami(self, principal: CurrentPrincipal) -> WhoAmIDevice:
        assert principal.device_id is not None
        device = await door_devices.whoami(principal.device_id)
        return msgspec.convert(device, WhoAmIDevice, from_attributes=True)


DOOR_DEVICE_API_CONTROLLERS: list[type] = [DoorDeviceController, DeviceSelfController]
