"""Backups an operator can restore and prove: `tierslieux backup DEST`, `tierslieux restore SRC`.

A backup is a folder:

- `database.dump`: `pg_dump --format=custom` of the whole database, one consistent snapshot
  (pg_dump reads in one repeatable-read transaction, so a close or a booking running meanwhile
  is either all in or all out). Issued documents and their renderings live there.
- `data/`: what lives outside PostgreSQL under DATA_DIR: the pass signing keys generated
  there outside production (`pass-keys/`) and the demo's token secret. In production both are
  settings (PASS_SIGNING_KEYS, SECRET_KEY) kept with the environment file, not here.
- `manifest.json`: the SHA-256 of each file above, the migrations the database had, and the
  SHA-256 of every issued document's rendering with the totals per kind of document, so that
  a restore proves it gave back the same books, byte for byte.

Restore refuses a database that holds any table, and any file whose checksum differs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from service.app.embedded import EmbeddedPostgres
from service.kernel.database import ensure_database

FORMAT = 1
DUMP = "database.dump"
MANIFEST = "manifest.json"
DATA = "data"
# What DATA_DIR holds that a restored service needs (passes/keys.py, service/app/demo.py).
DATA_ENTRIES = ("pass-keys", "secret_key")
CONNECT_TIMEOUT_S = 10


class BackupFailed(RuntimeError):
    """The backup or the restore could not be made; the message says why."""


@dataclass(frozen=True)
class Tool:
    path: Path
    major: int


def _major(executable: Path) -> int | None:
    try:
        output = subprocess.run(
            [str(executable), "--version"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"\) (\d+)", output)
    return int(found[1]) if found else None


def _candidates(name: str) -> list[Path]:
    """Every `name` on the machine: Debian's per-version clients, the PATH, the wheel's own."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    on_path = shutil.which(name)
    if on_path:
        found.append(Path(on_path))
    # The wheel missing or unusable: the machine's clients are enough.
    with contextlib.suppress(Exception):
        found.append(EmbeddedPostgres(Path(".")).bin_dir / name)
    return [path for path in found if path.exists()]


def client_tool(name: str, at_least: int) -> Tool:
    """The `pg_dump`/`pg_restore` made for this server: its own major version, else the oldest
    newer one (a client may be newer than the server, never older)."""
    tools = [
        Tool(path, major)
        for path in _candidates(name)
        if (major := _major(path)) is not None and major >= at_least
    ]
    if not tools:
        raise BackupFailed(
            f"no {name} of PostgreSQL {at_least} or newer on this machine: install "
            f"postgresql-client-{at_least} (apt-get install postgresql-client-{at_least})."
        )
    return min(tools, key=lambda tool: tool.major)


def _libpq(dsn: str) -> tuple[str, dict[str, str]]:
    """The DSN without its password (which `ps` would show), and PGPASSWORD for it."""
    parts = urlsplit(dsn)
    env = {**os.environ, "PGCONNECT_TIMEOUT": str(CONNECT_TIMEOUT_S)}
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        user = parts.username or ""
        netloc = f"{user}@{host}" if user else host
        if parts.port:
            netloc += f":{parts.port}"
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts), env


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


async def _books(connection: asyncpg.Connection) -> dict[str, Any]:
    """What a restore must give back unchanged: the documents' files and totals, the migrations."""
    files = await connection.fetch(
        "SELECT f.document::text AS document, f.kind, encode(sha256(f.content), 'hex') AS sha256 "
        "FROM document_file f ORDER BY 1, 2",
        timeout=600,
    )
    totals = await connection.fetch(
        "SELECT kind, count(*) AS n, sum(total_incl_cents) AS incl FROM document GROUP BY kind "
        "ORDER BY kind",
        timeout=600,
    )
    migrations = await connection.fetch(
        "SELECT app_name, name FROM migration ORDER BY app_name, name", timeout=60
    )
    return {
        "migrations": [f"{r['app_name']}:{r['name']}" for r in migrations],
        "documents": {
            r["kind"]: {"count": r["n"], "total_incl_cents": int(r["incl"] or 0)} for r in totals
        },
        "document_files": {f"{r['document']}/{r['kind']}": r["sha256"] for r in files},
    }


async def _server_major(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval("SHOW server_version_num", timeout=10)) // 10000


def _run(command: list[str], env: dict[str, str], timeout_s: float, what: str) -> None:
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise BackupFailed(f"{what} took longer than {timeout_s:.0f} s and was stopped") from None
    if result.returncode != 0:
        raise BackupFailed(f"{what} failed: {result.stderr.strip()[-2000:]}")


def _new_folder(dest: Path) -> None:
    if dest.exists() and any(dest.iterdir()):
        raise BackupFailed(f"{dest} is not empty: give a new folder for each backup")
    dest.mkdir(parents=True, exist_ok=True)


def _copy_data(source_root: Path, target_root: Path) -> None:
    for entry in DATA_ENTRIES:
        source = source_root / entry
        if source.is_dir():
            shutil.copytree(source, target_root / entry)
        elif source.is_file():
            target_root.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target_root / entry)


def _file_sums(dest: Path) -> dict[str, dict[str, Any]]:
    return {
        str(path.relative_to(dest)): {"sha256": sha256(path), "bytes": path.stat().st_size}
        for path in sorted(dest.rglob("*"))
        if path.is_file()
    }


async def backup(dsn: str, data_dir: Path, dest: Path, *, timeout_s: float) -> dict[str, Any]:
    """Write a backup of `dsn` and DATA_DIR into the new folder `dest`; its manifest.

    A backup that fails leaves no folder behind: a half-written one would look like a backup.
    """
    _new_folder(dest)
    try:
        return await _backup_into(dsn, data_dir, dest, timeout_s=timeout_s)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


async def _backup_into(dsn: str, data_dir: Path, dest: Path, *, timeout_s: float) -> dict[str, Any]:
    connection = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S)
    try:
        major = await _server_major(connection)
        version = await connection.fetchval("SHOW server_version", timeout=10)
        tool = client_tool("pg_dump", major)
        # The books are read in the snapshot pg_dump will use: exported from this transaction.
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await connection.fetchval("SELECT pg_export_snapshot()", timeout=10)
            books = await _books(connection)
            target, env = _libpq(dsn)
            await asyncio.to_thread(
                _run,
                [
                    str(tool.path),
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={dest / DUMP}",
                    f"--dbname={target}",
                ],
                env,
                timeout_s,
                "pg_dump",
            )
    finally:
        await connection.close(timeout=CONNECT_TIMEOUT_S)
    _copy_data(data_dir, dest / DATA)
    files = _file_sums(dest)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "server_version": version,
        "pg_dump_major": tool.major,
        "files": files,
        **books,
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def verify(src: Path) -> dict[str, Any]:
    """The manifest of `src`, once every file it lists has its checksum (and nothing is extra)."""
    try:
        manifest: dict[str, Any] = json.loads((src / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupFailed(f"no readable {MANIFEST} in {src}: {error}") from None
    if manifest.get("format") != FORMAT:
        raise BackupFailed(f"{src} is a backup of format {manifest.get('format')}, not {FORMAT}")
    present = {
        str(path.relative_to(src))
        for path in src.rglob("*")
        if path.is_file() and path.name != MANIFEST
    }
    if present != set(manifest["files"]):
        raise BackupFailed(
            f"{src} does not hold the files its manifest lists "
            f"(missing: {sorted(set(manifest['files']) - present)}, "
            f"unexpected: {sorted(present - set(manifest['files']))})"
        )
    for name, expected in manifest["files"].items():
        if sha256(src / name) != expected["sha256"]:
            raise BackupFailed(f"{name} does not match its SHA-256 in {MANIFEST}: refused")
    return manifest


async def restore(src: Path, dsn: str, data_dir: Path, *, timeout_s: float) -> dict[str, Any]:
    """Restore `src` into the empty (or missing) database `dsn` and DATA_DIR; check the books."""
    manifest = verify(src)
    await ensure_database(dsn)
    connection = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S)
    try:
        tables = await connection.fetchval(
            "SELECT count(*) FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
            timeout=10,
        )
        if tables:
            raise BackupFailed(
                f"the database holds {tables} table(s): restore only into an empty database"
            )
        major = await _server_major(connection)
    finally:
        await connection.close(timeout=CONNECT_TIMEOUT_S)
    for entry in DATA_ENTRIES:
        if (src / DATA / entry).exists() and (data_dir / entry).exists():
            raise BackupFailed(f"{data_dir / entry} exists: restore DATA_DIR into a new folder")
    tool = client_tool("pg_restore", max(major, int(manifest["pg_dump_major"])))
    target, env = _libpq(dsn)
    await asyncio.to_thread(
        _run,
        [
            str(tool.path),
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            f"--dbname={target}",
            str(src / DUMP),
        ],
        env,
        timeout_s,
        "pg_restore",
    )
    _copy_data(src / DATA, data_dir)
    connection = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S)
    try:
        books = await _books(connection)
    finally:
        await connection.close(timeout=CONNECT_TIMEOUT_S)
    for key in ("migrations", "documents", "document_files"):
        if books[key] != manifest[key]:
            raise BackupFailed(f"the restored database's {key} differ from the manifest's")
    return manifest
