"""Backup and restore as an operator runs them: the demo closed and rendered, backed up,
restored into a fresh database, served again with every issued document byte-identical."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from billing.close import close_period
from billing.jobs import network_identity, render_documents
from billing.tables import Document, DocumentFile
from booking.tables import User
from passes.keys import Keyring
from service.app import seed
from service.app.serving import served
from service.kernel.database import with_database
from service.kernel.settings import Settings
from tests.conftest import live_env
from tests.factories import auth
from tests.service.test_cli import run_tierslieux

TODAY = date(2026, 12, 1)
NOVEMBER = date(2026, 11, 1)
NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)
ROUTES = {"invoice": "invoices", "statement": "statements", "credit_note": "credit-notes"}
# The file each download route answers with (billing/rendering.py's kinds).
DOWNLOADS = {"pdf": "facturx_pdf", "pdf?plain=true": "pdf", "xml": "cii_xml"}


@pytest.fixture
async def fresh_database_url(postgres_url: str) -> AsyncIterator[str]:
    """A database name not yet on the server: restore creates it (dropped afterwards)."""
    name = f"tl_restored_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    yield with_database(postgres_url, name)
    admin = await asyncpg.connect(with_database(postgres_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _downloads(url: str, headers: dict[str, str], documents: list[dict]) -> dict[str, str]:
    """SHA-256 of every document file as the served API hands it out."""
    sums = {}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        for document in documents:
            for suffix, kind in DOWNLOADS.items():
                answer = await http.get(
                    f"/api/v1/{ROUTES[document['kind']]}/{document['id']}/{suffix}"
                )
                assert answer.status_code == 200, (document, suffix, answer.text[:300])
                sums[f"{document['id']}/{kind}"] = hashlib.sha256(answer.content).hexdigest()
    return sums


async def _period(url: str, headers: dict[str, str]) -> dict:
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        answer = await http.get(f"/api/v1/billing/periods/{NOVEMBER:%Y-%m}")
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_restored_backup_serves_the_same_documents_byte_for_byte(
    settings: Settings, fresh_database_url: str, tmp_path: Path
) -> None:
    await seed.seed(TODAY)
    await close_period(NOVEMBER, network_identity(settings), now=NOW)
    assert await render_documents({}, f"{NOVEMBER:%Y-%m}") > 0
    Keyring.from_settings(None, settings.data_dir, generate=True)  # DATA_DIR/pass-keys
    documents = await Document.select(Document.id, Document.kind).order_by(Document.number)
    files = await DocumentFile.raw(
        "SELECT document::text AS d, kind, encode(sha256(content), 'hex') AS s FROM document_file"
    )
    originals = {f"{r['d']}/{r['kind']}": r["s"] for r in files}
    assert len(originals) == 3 * len(documents) > 0
    admin = auth(settings, await User.objects().where(User.email == "reseau@demo.test").first())
    env = live_env(settings)

    with served(env, timeout=60) as original:
        assert await _downloads(original.url, admin, documents) == originals
        period_before = await _period(original.url, admin)

    dest = tmp_path / "backups" / "2026-12-01"
    made = await run_tierslieux("backup", str(dest), env=env)
    assert made.returncode == 0, made.stderr
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["document_files"] == originals
    assert set(manifest["files"]) == {"database.dump", "data/pass-keys/00001.key"}
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((dest / name).read_bytes()).hexdigest() == entry["sha256"]
    # A second backup into the same folder would mix two: refused.
    again = await run_tierslieux("backup", str(dest), env=env)
    assert again.returncode == 1
    assert "is not empty" in again.stderr

    restored_data = tmp_path / "restored-data"
    restored_env = {**env, "DATABASE_URL": fresh_database_url, "DATA_DIR": str(restored_data)}
    # Into a database that already holds tables: refused, nothing touched.
    into_live = await run_tierslieux(
        "restore", str(dest), env={**restored_env, **{"DATABASE_URL": settings.database_url or ""}}
    )
    assert into_live.returncode == 1
    assert "restore only into an empty database" in into_live.stderr

    restored = await run_tierslieux("restore", str(dest), env=restored_env)
    assert restored.returncode == 0, restored.stderr
    assert "identical to the backup's" in restored.stdout
    assert (restored_data / "pass-keys" / "00001.key").read_bytes() == (
        settings.data_dir / "pass-keys" / "00001.key"
    ).read_bytes()

    with served(restored_env, timeout=60) as service:
        assert await _downloads(service.url, admin, documents) == originals
        assert await _period(service.url, admin) == period_before


async def test_restore_refuses_a_backup_whose_checksum_differs(
    settings: Settings, fresh_database_url: str, tmp_path: Path
) -> None:
    env = live_env(settings)
    dest = tmp_path / "backup"
    assert (await run_tierslieux("backup", str(dest), env=env)).returncode == 0
    dump = dest / "database.dump"
    content = bytearray(dump.read_bytes())
    content[len(content) // 2] ^= 0xFF
    dump.write_bytes(bytes(content))

    result = await run_tierslieux(
        "restore", str(dest), env={**env, "DATABASE_URL": fresh_database_url}
    )

    assert result.returncode == 1
    assert "database.dump does not match its SHA-256" in result.stderr
    admin = await asyncpg.connect(with_database(fresh_database_url, "postgres"))
    try:
        name = fresh_database_url.rsplit("/", 1)[1]
        assert await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name) is None
    finally:
        await admin.close()


async def test_a_failed_backup_leaves_no_folder_that_looks_like_one(
    settings: Settings, postgres_url: str, tmp_path: Path
) -> None:
    dest = tmp_path / "backup"
    missing = with_database(postgres_url, f"tl_missing_{uuid.uuid4().hex[:8]}")

    result = await run_tierslieux(
        "backup", str(dest), env={**live_env(settings), "DATABASE_URL": missing}
    )

    assert result.returncode == 1
    assert "backup failed" in result.stderr
    assert "does not exist" in result.stderr
    assert not dest.exists()
