"""The audit trail: who did which administrative act, when, on what, changing which fields.

Call `record` inside the act's own transaction (`async with DB.transaction():`), so the act
and its row commit or roll back together. The row names its actor by id and role, never by
name or email, and keeps the fields' values before and after, except secrets (left out
whole) and a person's contact details (kept as "changed", so an erasure leaves the trail
free of them). The table refuses UPDATE, DELETE and TRUNCATE.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

import structlog

from service.kernel.identity import Principal, Role
from service.kernel.tables import AuditEntry

ActorKind = Literal["person", "device", "system"]

# Column names never written to the trail, not even as "changed".
SECRET = re.compile(r"hash|secret|token|password|private|key$", re.IGNORECASE)
# A person's identity and contact details: the trail says they changed, not to what.
PERSONAL = frozenset({"email", "display_name", "phone", "first_name", "last_name", "address"})
REDACTED = "(changed)"


@dataclass(frozen=True)
class Actor:
    """Who acted: a person or door device (from its Principal), or the system (CLI, crons)."""

    kind: ActorKind
    id: uuid.UUID | None = None
    role: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        if principal.is_device:
            return cls("device", principal.device_id, None)
        return cls("person", principal.user_id, principal.role.value if principal.role else None)


SYSTEM = Actor("system")
ADMINISTRATORS = frozenset({Role.NETWORK_ADMIN, Role.VENUE_ADMIN, Role.ORG_ADMIN})


def administrative(principal: Principal) -> bool:
    """Whether this caller's acts are administrative (an agent booking for themselves is not:
    the booking row already says who made or cancelled it)."""
    return not principal.is_device and principal.role in ADMINISTRATORS


# Who acts in this request: set by the access guard once it has admitted the caller, cleared
# by the request middleware. Domain services do not take a principal (the API, the pages,
# the seed and the CLI all call them), so `act` reads the actor from here; outside a request
# (CLI, crons, seed) it is the system.
CURRENT: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)


def acting(principal: Principal) -> None:
    """Name the caller of this request as the actor of the acts it does."""
    CURRENT.set(Actor.of(principal))


def _plain(value: Any) -> Any:
    """A JSON value for the trail."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, date | time):  # datetimes too
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return REDACTED
    return str(value)


def changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[str, list[Any]]:
    """`{field: [before, after]}` for the fields that differ, secrets out, contacts hidden."""
    before, after = before or {}, after or {}
    found: dict[str, list[Any]] = {}
    for name in sorted(set(before) | set(after)):
        if SECRET.search(name):
            continue
        old, new = _plain(before.get(name)), _plain(after.get(name))
        if old == new:
            continue
        if name in PERSONAL:
            old, new = (REDACTED if old is not None else None), REDACTED
        found[name] = [old, new]
    return found


async def record(
    actor: Actor | Principal,
    action: str,
    object_type: str,
    object_id: object = None,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Append one row for this act (call it inside the act's transaction)."""
    who = Actor.of(actor) if isinstance(actor, Principal) else actor
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    await AuditEntry.insert(
        AuditEntry(
            actor_kind=who.kind,
            actor=who.id,
            actor_role=who.role,
            action=action[:80],
            object_type=object_type[:40],
            object_id=None if object_id is None else str(object_id)[:80],
            changes=changes(before, after),
            request_id=None if request_id is None else str(request_id)[:64],
        )
    )


async def act(
    action: str,
    object_type: str,
    object_id: object = None,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """`record` by whoever acts now: the request's caller, else the system."""
    await record(
        CURRENT.get() or SYSTEM, action, object_type, object_id, before=before, after=after
    )
