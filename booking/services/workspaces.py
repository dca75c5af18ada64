"""Workspaces: the desks, rooms, offices and labs a venue offers, their kinds, units and equipment."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from booking.tables import (
    Venue,
    Workspace,
)
from service.kernel import audit
from service.kernel.errors import InvalidValue, NotFound
from service.kernel.i18n import N_

EQUIPMENT = frozenset(
    {
        "screen",
        "video_conference",
        "whiteboard",
        "projector",
        "3d_printer",
        "laser_cutter",
        "sewing_machine",
        "computer",
        "standing_desk",
        "docking_station",
        "sound_system",
    }
)


WORKSPACE_KINDS = ("desk", "meeting_room", "private_office", "lab")


UNITS_BY_KIND = {
    "desk": ("half_day", "day"),
    "meeting_room": ("hour", "half_day"),
    "private_office": ("hour", "half_day"),
    "lab": ("hour", "half_day"),
}


def check_equipment(values: list[str]) -> list[str]:
    unknown = sorted(set(values) - EQUIPMENT)
    if unknown:
        raise InvalidValue(
            N_("Unknown equipment: %(unknown)s."), field="equipment", unknown=", ".join(unknown)
        )
    return sorted(set(values))


def check_workspace(kind: str, booking_unit: str, capacity: int) -> None:
    if kind not in WORKSPACE_KINDS:
        raise InvalidValue(
            N_("A workspace is one of %(kinds)s."), field="kind", kinds=", ".join(WORKSPACE_KINDS)
        )
    if booking_unit not in UNITS_BY_KIND[kind]:
        raise InvalidValue(
            N_("A %(kind)s is booked by %(units)s."),
            field="booking_unit",
            kind=kind,
            units=" or ".join(UNITS_BY_KIND[kind]),
        )
    if not 1 <= capacity <= 1000:
        raise InvalidValue(N_("The capacity is between 1 and 1000 seats."), field="capacity")


async def add_workspace(venue_id: uuid.UUID, fields: dict[str, Any]) -> uuid.UUID:
    if not await Venue.exists().where(Venue.id == venue_id):
        raise NotFound(N_("No such venue."))
    check_workspace(fields["kind"], fields["booking_unit"], fields["capacity"])
    workspace = Workspace(
        venue=venue_id,
        kind=fields["kind"],
        name=fields["name"],
        capacity=fields["capacity"],
        booking_unit=fields["booking_unit"],
        equipment=check_equipment(fields.get("equipment", [])),
        active=fields.get("active", True),
    )
    async with Workspace._meta.db.transaction():
        await workspace.save()
        await audit.act(
            "workspace.create", "workspace", workspace.id, after={"venue": venue_id, **fields}
        )
    return workspace.id


@dataclass(frozen=True)
class CatalogueWorkspace:
    """A workspace as the venue's catalogue lists it."""

    id: uuid.UUID
    venue_id: uuid.UUID
    kind: str
    name: str
    capacity: int
    booking_unit: str
    equipment: list[str]
    active: bool


def _workspace(row: dict[str, Any]) -> CatalogueWorkspace:
    return CatalogueWorkspace(
        id=row["id"],
        venue_id=row["venue"],
        kind=row["kind"],
        name=row["name"],
        capacity=row["capacity"],
        booking_unit=row["booking_unit"],
        equipment=list(row["equipment"]),
        active=row["active"],
    )


async def workspace_of(venue_id: uuid.UUID, workspace_id: uuid.UUID) -> CatalogueWorkspace:
    workspace = (
        await Workspace.select()
        .where((Workspace.id == workspace_id) & (Workspace.venue == venue_id))
        .first()
    )
    if workspace is None:
        raise NotFound(N_("No such workspace."))
    return _workspace(workspace)


async def workspaces_of(venue_id: uuid.UUID, *, include_inactive: bool) -> list[CatalogueWorkspace]:
    query = Workspace.select().where(Workspace.venue == venue_id)
    if not include_inactive:
        query = query.where(Workspace.active == True)  # noqa: E712
    rows = await query.order_by(Workspace.kind).order_by(Workspace.name)
    return [_workspace(r) for r in rows]


async def update_workspace(
    venue_id: uuid.UUID, workspace_id: uuid.UUID, fields: dict[str, Any]
) -> None:
    current = await workspace_of(venue_id, workspace_id)
    check_workspace(
        fields.get("kind", current.kind),
        fields.get("booking_unit", current.booking_unit),
        fields.get("capacity", current.capacity),
    )
    if "equipment" in fields:
        fields["equipment"] = check_equipment(fields["equipment"])
    async with Workspace._meta.db.transaction():
        if fields:
            await Workspace.update({getattr(Workspace, k): v for k, v in fields.items()}).where(
                Workspace.id == workspace_id
            )
        before = {k: getattr(current, k) for k in fields if hasattr(current, k)}
        await audit.act("workspace.update", "workspace", workspace_id, before=before, after=fields)
