"""Upgrades: `migrate --check` for deploy pipelines, and migrating while the old code serves."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path

import asyncpg
import httpx

from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.conftest import live_env
from tests.factories import auth, make_user, make_venue, make_workspace
from tests.service.test_cli import _env, empty_database_url, run_tierslieux, tierslieux

__all__ = ["empty_database_url"]  # the fixture, shared with tests/service/test_cli.py

ROOT = Path(__file__).resolve().parents[2]
PROBE_CONF = "tests.service.upgrade_probe.piccolo_conf"
PROBE_MIGRATION = "upgrade_probe:2026-12-04T14:00:00:000000"


async def test_check_says_what_is_pending_and_changes_nothing(
    empty_database_url: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, DATABASE_URL=empty_database_url)

    missing = await run_tierslieux("migrate", "--check", env=env)
    assert missing.returncode == 1, missing.stdout + missing.stderr
    assert "pending migration(s)" in missing.stdout
    assert "booking:2026-12-03T09:10:00:000000" in missing.stdout
    # Nothing was created: the check is read-only.
    admin = await asyncpg.connect(empty_database_url.rsplit("/", 1)[0] + "/postgres")
    try:
        name = empty_database_url.rsplit("/", 1)[1]
        assert await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name) is None
    finally:
        await admin.close()

    assert (await run_tierslieux("migrate", env=env)).returncode == 0
    done = await run_tierslieux("migrate", "--check", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is up to date" in done.stdout

    # A release that brings one more migration: exactly that one is pending.
    probe = await run_tierslieux("migrate", "--check", env={**env, "PICCOLO_CONF": PROBE_CONF})
    assert probe.returncode == 1
    assert probe.stdout.splitlines()[1:] == [f"  {PROBE_MIGRATION}"], probe.stdout


def test_check_that_cannot_reach_the_server_is_not_mistaken_for_up_to_date(
    tmp_path: Path,
) -> None:
    result = tierslieux(
        "migrate", "--check", env=_env(tmp_path, DATABASE_URL="postgresql://u:pw@127.0.0.1:1/x")
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "cannot reach PostgreSQL" in result.stderr
    assert "pw" not in result.stderr


def _read_in_a_loop(
    urls: list[tuple[str, dict[str, str]]], stop: threading.Event, answers: list[int | str]
) -> None:
    with httpx.Client(timeout=10) as http:
        while not stop.is_set():
            for url, headers in urls:
                try:
                    answers.append(http.get(url, headers=headers).status_code)
                except httpx.HTTPError as error:
                    answers.append(repr(error))


async def test_the_expand_migration_applies_while_the_running_code_keeps_answering_reads(
    settings: Settings, live_server: str, tmp_path: Path
) -> None:
    venue = await make_venue(name="La Filature")
    await make_workspace(venue, capacity=4)
    agent = auth(settings, await make_user(Role.AGENT))
    env = {**live_env(settings), "PICCOLO_CONF": PROBE_CONF}
    before = await run_tierslieux("migrate", "--check", env=env)
    assert before.returncode == 1
    assert PROBE_MIGRATION in before.stdout

    stop = threading.Event()
    answers: list[int | str] = []
    reads = [
        (f"{live_server}/api/v1/venues", {}),
        (f"{live_server}/api/v1/venues/{venue.id}", {}),
        (f"{live_server}/api/v1/me/bookings", agent),
    ]
    reader = threading.Thread(target=_read_in_a_loop, args=(reads, stop, answers))
    reader.start()
    try:
        await asyncio.sleep(0.5)
        during_start = len(answers)
        started = time.monotonic()
        migrated = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "service.app.cli", "migrate"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        took = time.monotonic() - started
        during = answers[during_start:]
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        reader.join(20)

    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert took > 1.5  # the migration ran while the reads went on
    assert len(during) >= 10, during
    assert set(answers) == {200}, [a for a in answers if a != 200][:5]
    after = await run_tierslieux("migrate", "--check", env=env)
    assert after.returncode == 0, after.stdout
    connection = await asyncpg.connect(settings.database_url)
    try:
        labels = await connection.fetch("SELECT probe_label FROM venue")
    finally:
        await connection.close()
    assert [r["probe_label"] for r in labels] == ["La Filature"]
