"""The pass lifecycle: issue, reissue, suspend, resume, revoke, and the revocation feed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from booking.tables import User
from passes.keys import Keyring
from passes.tables import Pass, PassStatusEvent
from passes.verify import HEADER, VERSION, encode
from service.kernel import audit
from service.kernel.errors import Conflict, Forbidden, InvalidStatusChange, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Principal, Role

PASS_VALIDITY = timedelta(days=366)


class PassRevoked(Conflict):
    default_detail = N_("This pass is revoked; issue a new one.")


@dataclass(frozen=True)
class StatusChange:
    serial: int
    status: str
    cursor: int


def sign(keyring: Keyring, serial: int, not_before: datetime, not_after: datetime) -> str:
    key = keyring.current
    header = HEADER.pack(
        VERSION, key.key_id, serial, int(not_before.timestamp()), int(not_after.timestamp())
    )
    return encode(header, key.sign(header))


async def _record(serial: int, status: str) -> None:
    await PassStatusEvent(serial=serial, status=status).save()


async def issue(agent_id: uuid.UUID, keyring: Keyring, *, now: datetime | None = None) -> Pass:
    """A new active pass for the agent; the previous live one, if any, is revoked."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    async with Pass._meta.db.transaction():
        agent = await User.raw(
            "SELECT id, role, active FROM app_user WHERE id = {} FOR NO KEY UPDATE", agent_id
        )
        if not agent or agent[0]["role"] != Role.AGENT.value:
            raise NotFound(N_("No such agent."))
        if not agent[0]["active"]:
            raise InvalidStatusChange(N_("A deactivated agent gets no pass."))
        previous = await Pass.select(Pass.serial).where(
            (Pass.agent == agent_id) & (Pass.status != "revoked")
        )
        for row in previous:
            await _set_status(row["serial"], "revoked", "reissued", now)
        serial_row = await Pass.raw("SELECT nextval('pass_serial_seq') AS serial")
        serial = int(serial_row[0]["serial"])
        not_after = now + PASS_VALIDITY
        new_pass = Pass(
            serial=serial,
            agent=agent_id,
            status="active",
            key_id=keyring.current.key_id,
            not_before=now,
            not_after=not_after,
            token=sign(keyring, serial, now, not_after),
            issued_at=now,
            status_changed_at=now,
        )
        await new_pass.save()
        await _record(serial, "active")
        await audit.act(
            "pass.issue",
            "pass",
            serial,
            after={"agent": agent_id, "revoked": [r["serial"] for r in previous]},
        )
        return new_pass


async def _set_status(serial: int, status: str, reason: str | None, now: datetime) -> None:
    await Pass.update(
        {Pass.status: status, Pass.status_changed_at: now, Pass.status_reason: reason}
    ).where(Pass.serial == serial)
    await _record(serial, status)


async def current_pass(agent_id: uuid.UUID) -> Pass | None:
    return await Pass.objects().where((Pass.agent == agent_id) & (Pass.status != "revoked")).first()


async def ensure_pass(agent_id: uuid.UUID, keyring: Keyring) -> Pass:
    """The agent's live pass, issued on first use."""
    existing = await current_pass(agent_id)
    return existing if existing is not None else await issue(agent_id, keyring)


async def admin_scope(principal: Principal, agent_id: uuid.UUID) -> None:
    """Organisation admins act on their own agents; network admins on anyone's."""
    await _agent_in_scope(principal, agent_id)


async def admin_view(principal: Principal, agent_id: uuid.UUID) -> Pass:
    await _agent_in_scope(principal, agent_id)
    current = await current_pass(agent_id)
    if current is None:
        raise NotFound(N_("This agent has no live pass."))
    return current


async def _agent_in_scope(principal: Principal, agent_id: uuid.UUID) -> None:
    agent = await User.select(User.organisation, User.role).where(User.id == agent_id).first()
    if agent is None or agent["role"] != Role.AGENT.value:
        raise NotFound(N_("No such agent."))
    if not principal.may_act_for_organisation(agent["organisation"]):
        raise NotFound(N_("No such agent."))
    if principal.role not in (Role.ORG_ADMIN, Role.NETWORK_ADMIN):
        raise Forbidden(N_("Only organisation and network admins change a pass."))


async def change_status(
    principal: Principal,
    agent_id: uuid.UUID,
    status: str,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> Pass:
    """Suspend, resume (status active) or revoke the agent's live pass."""
    await _agent_in_scope(principal, agent_id)
    now = now or datetime.now(UTC)
    async with Pass._meta.db.transaction():
        rows = await Pass.raw(
            "SELECT serial, status FROM pass WHERE agent = {} AND status <> 'revoked' FOR UPDATE",
            agent_id,
        )
        if not rows:
            raise NotFound(N_("This agent has no live pass."))
        current = rows[0]
        allowed = {
            ("active", "suspended"),
            ("suspended", "active"),
            ("active", "revoked"),
            ("suspended", "revoked"),
        }
        if (current["status"], status) not in allowed:
            raise InvalidStatusChange(
                N_("A %(current)s pass cannot become %(status)s."),
                current=current["status"],
                status=status,
            )
        await _set_status(current["serial"], status, reason, now)
        await audit.act(
            f"pass.{VERBS[status]}",
            "pass",
            current["serial"],
            before={"status": current["status"]},
            after={"status": status, "reason": reason},
        )
    result = await Pass.objects().where(Pass.serial == current["serial"]).first()
    assert result is not None
    return result


# The audit trail's verb for each status a pass is given.
VERBS = {"suspended": "suspend", "active": "resume", "revoked": "revoke"}


async def revoke_for_agent(agent_id: uuid.UUID, reason: str) -> None:
    """Deactivating an agent revokes their pass (called in the deactivation's transaction)."""
    now = datetime.now(UTC)
    rows = await Pass.select(Pass.serial).where(
        (Pass.agent == agent_id) & (Pass.status != "revoked")
    )
    for row in rows:
        await _set_status(row["serial"], "revoked", reason, now)


async def status_changes(since: int, limit: int) -> tuple[list[StatusChange], int]:
    """Changes after cursor `since`, oldest first, and the cursor to ask from next time."""
    rows = (
        await PassStatusEvent.select()
        .where(PassStatusEvent.id > since)
        .order_by(PassStatusEvent.id)
        .limit(limit)
    )
    changes = [StatusChange(r["serial"], r["status"], r["id"]) for r in rows]
    return changes, (changes[-1].cursor if changes else since)


async def revocation_state() -> tuple[set[int], set[int]]:
    """Serials revoked and serials suspended, as the server's verifier needs them."""
    rows: list[dict[str, Any]] = await Pass.select(Pass.serial, Pass.status).where(
        Pass.status != "active"
    )
    revoked = {r["serial"] for r in rows if r["status"] == "revoked"}
    suspended = {r["serial"] for r in rows if r["status"] == "suspended"}
    return revoked, suspended
