"""`tierslieux passes rotate-key`: new passes signed with the new key, old ones still valid."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from passes import keys as pass_keys
from passes import services
from passes.cli import passes
from passes.tables import PassKey
from passes.verify import decode, verify
from service.kernel.identity import Role
from service.kernel.tables import AuditEntry
from tests.factories import make_user


async def test_rotation_in_demo_mode_signs_new_passes_with_the_new_key(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("APP_ENV", "demo")
    monkeypatch.delenv("PASS_SIGNING_KEYS", raising=False)
    first_ring = pass_keys.Keyring.from_settings(None, tmp_path, generate=True)
    await pass_keys.publish(first_ring)
    old = await services.issue((await make_user(Role.AGENT)).id, first_ring)

    result = await asyncio.to_thread(CliRunner().invoke, passes, ["rotate-key"])

    assert result.exit_code == 0, result.output
    ring = pass_keys.Keyring.from_settings(None, tmp_path, generate=False)
    assert ring.current.key_id == 2
    new = await services.issue((await make_user(Role.AGENT)).id, ring)
    assert decode(new.token)[0].key_id == 2
    published = await pass_keys.public_keys()
    assert verify(old.token, keys=published).admitted
    assert verify(new.token, keys=published).admitted
    retired = await PassKey.select(PassKey.key_id, PassKey.retired_at).order_by(PassKey.key_id)
    assert [r["retired_at"] is not None for r in retired] == [True, False]
    trail = await AuditEntry.select(
        AuditEntry.actor_kind, AuditEntry.action, AuditEntry.object_id
    ).where(AuditEntry.object_type == "pass_key")
    assert trail == [{"actor_kind": "system", "action": "pass_key.rotate", "object_id": "2"}]


async def test_rotation_in_production_prints_a_new_entry_and_changes_nothing(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = pass_keys.encode_key(1, pass_keys.Ed25519PrivateKey.generate())
    monkeypatch.setenv("PASS_SIGNING_KEYS", existing)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))

    result = await asyncio.to_thread(CliRunner().invoke, passes, ["rotate-key", "--print"])

    assert result.exit_code == 0, result.output
    entry = result.stdout.strip().splitlines()[0]
    assert entry.startswith("2:")
    assert set(pass_keys.parse_keys(f"{existing},{entry}")) == {1, 2}
    assert not (tmp_path / "pass-keys").exists()
    # Nothing changes but the trail, which says a key was made (the operator installs it).
    trail = await AuditEntry.select(AuditEntry.actor_kind, AuditEntry.action, AuditEntry.object_id)
    assert trail == [{"actor_kind": "system", "action": "pass_key.generate", "object_id": "2"}]
