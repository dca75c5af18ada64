"""The audit trail's kernel: rows written with their act, never changed, free of secrets."""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal

import asyncpg
import pytest

from service.kernel import audit
from service.kernel.database import DB
from service.kernel.identity import Principal, Role
from service.kernel.tables import AuditEntry


async def test_a_row_commits_and_rolls_back_with_its_act(database_url: str) -> None:
    admin = Principal(Role.NETWORK_ADMIN, user_id=uuid.uuid4())
    async with DB.transaction():
        await audit.record(
            admin,
            "venue.approve",
            "venue",
            "v1",
            before={"status": "pending"},
            after={"status": "approved"},
        )

    async def failing_act() -> None:
        async with DB.transaction():
            await audit.record(admin, "venue.reject", "venue", "v2")
            raise RuntimeError("the act failed")

    with pytest.raises(RuntimeError):
        await failing_act()

    rows = await AuditEntry.select().order_by(AuditEntry.id)
    assert [(r["action"], r["object_id"]) for r in rows] == [("venue.approve", "v1")]
    row = rows[0]
    assert (row["actor_kind"], row["actor"], row["actor_role"]) == (
        "person",
        admin.user_id,
        "network_admin",
    )
    assert json.loads(row["changes"]) == {"status": ["pending", "approved"]}


async def test_the_database_refuses_to_change_or_remove_a_row(database_url: str) -> None:
    await audit.record(audit.SYSTEM, "period.close", "billing_period", "2026-11")
    connection = await asyncpg.connect(database_url)
    try:
        for statement in (
            "UPDATE audit_entry SET action = 'nothing'",
            "DELETE FROM audit_entry",
            "TRUNCATE audit_entry",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await connection.execute(statement)
        assert await connection.fetchval("SELECT action FROM audit_entry") == "period.close"
    finally:
        await connection.close()


def test_changes_keep_values_but_never_secrets_or_contact_details() -> None:
    found = audit.changes(
        {"name": "Le Lieu", "email": "a@example.org", "password_hash": "x", "rate": Decimal("1")},
        {
            "name": "Le Lieu bis",
            "email": "b@example.org",
            "password_hash": "y",
            "token_hash": "z",
            "api_key": "k",
            "rate": Decimal("1"),
            "from": date(2026, 12, 1),
        },
    )

    assert found == {
        "name": ["Le Lieu", "Le Lieu bis"],
        "email": ["(changed)", "(changed)"],
        "from": [None, "2026-12-01"],
    }


def test_a_door_device_is_named_by_its_id() -> None:
    device = Principal(None, device_id=uuid.uuid4())

    assert audit.Actor.of(device) == audit.Actor("device", device.device_id, None)
