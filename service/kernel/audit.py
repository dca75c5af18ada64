"""The audit trail: who did which administrative act, when, on what, changing which fields.

Call `record` inside the act's own transaction (`async with DB.transaction():`), so the act
and its row commit or roll back together. The row names its actor by id and role, never by
name or email, and keeps the fields' values before and after, except secrets (left out
whole) and a person's contact details (kept as "changed", so an erasure leaves the trail
free of them). The table refuses UPDATE, DELETE and TRUNCATE.
"""

from __future__ import annotations

import json
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

from service.kernel.dates import within_range
from service.kernel.errors import InvalidValue
from service.kernel.i18n import N_
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


# Reading the trail


@dataclass(frozen=True)
class Filters:
    """What `GET /api/v1/audit` and the network's audit page narrow the trail to."""

    actor: uuid.UUID | None = None
    actor_kind: ActorKind | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: date | None = None  # first day, in the network's zone (Europe/Paris)
    until: date | None = None  # last day, included


NETWORK_ZONE = "Europe/Paris"
COLUMNS = (
    "id",
    "at",
    "actor_kind",
    "actor",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "changes",
    "request_id",
)


def day(text: str | None, field: str) -> date | None:
    """A `YYYY-MM-DD` filter, inside the accepted range, or the `InvalidValue` naming it."""
    if text is None or not text.strip():
        return None
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidValue(N_("A date is written YYYY-MM-DD."), field=field) from None
    return within_range(value, field)


# The longest value each text filter can match (the columns' lengths).
LENGTHS = {"action": 80, "object_type": 40, "object_id": 80}


def check(filters: Filters) -> Filters:
    """The filters, or the `InvalidValue` that says which one is wrong."""
    for name, length in LENGTHS.items():
        value = getattr(filters, name)
        if value is not None and not 0 < len(value) <= length:
            raise InvalidValue(N_("At most %(length)s characters."), field=name, length=length)
    if filters.since and filters.until and filters.until < filters.since:
        raise InvalidValue(N_("The last day comes on or after the first."), field="to")
    return filters


def _where(filters: Filters) -> tuple[str, list[Any]]:
    clauses: list[str] = ["TRUE"]
    args: list[Any] = []
    plain = {
        "actor": filters.actor,
        "actor_kind": filters.actor_kind,
        "object_type": filters.object_type,
        "object_id": filters.object_id,
    }
    for column, value in plain.items():
        if value is not None:
            clauses.append(f"{column} = {{}}")
            args.append(value)
    if filters.action:
        # `venue.` names every act on venues; `venue.approve` one act.
        if filters.action.endswith("."):
            clauses.append("starts_with(action, {})")
        else:
            clauses.append("action = {}")
        args.append(filters.action)
    # Whole days of the network's zone, so a row at 00:30 in Paris falls on its Paris day.
    if filters.since:
        clauses.append(f"at >= ({{}}::date)::timestamp AT TIME ZONE '{NETWORK_ZONE}'")
        args.append(filters.since)
    if filters.until:
        clauses.append(f"at < ({{}}::date + 1)::timestamp AT TIME ZONE '{NETWORK_ZONE}'")
        args.append(filters.until)
    return " AND ".join(clauses), args


async def entries(filters: Filters, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """The rows matching, newest first, and how many match in all."""
    where, args = _where(check(filters))
    total = await AuditEntry.raw(f"SELECT count(*) AS n FROM audit_entry WHERE {where}", *args)
    rows = await AuditEntry.raw(
        f"SELECT {', '.join(COLUMNS)} FROM audit_entry WHERE {where} "
        "ORDER BY id DESC LIMIT {} OFFSET {}",
        *args,
        limit,
        offset,
    )
    for row in rows:
        if isinstance(row["changes"], str):
            row["changes"] = json.loads(row["changes"])
    return rows, int(total[0]["n"])
