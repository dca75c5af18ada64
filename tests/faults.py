"""Embedded PostgreSQL and Redis that a test may freeze, and the freezing itself.

Shared by the fault tests (tests/service/test_faults.py) and the door page's browser test
under a frozen database (tests/web/test_scanner_faults_browser.py). They never touch the
machine's own servers, which other test runs share: each module starts its own here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg

from service.app.embedded import EmbeddedPostgres, EmbeddedRedis
from service.kernel.database import migrate, with_database


@contextlib.contextmanager
def own_servers(prefix: str) -> Iterator[tuple[EmbeddedPostgres, EmbeddedRedis]]:
    """A PostgreSQL and a Redis of our own, thawed and stopped when the block ends."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    postgres = EmbeddedPostgres(folder / "pg", ephemeral=True)
    redis = EmbeddedRedis(folder / "redis", persist=False)
    postgres.start()
    try:
        redis.start()
        try:
            yield postgres, redis
        finally:
            resume(redis.process.pid if redis.process else None)
            redis.stop()
    finally:
        if postgres.process is not None:
            for pid in postgres_pids(postgres):
                send(pid, signal.SIGCONT)
        postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def migrated_database(postgres: EmbeddedPostgres, name: str) -> str:
    """A new database `name` on `postgres` with every migration applied; its DSN."""
    dsn = with_database(postgres.url(), name)
    admin = await asyncpg.connect(postgres.url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await migrate(dsn)
    return dsn


def send(pid: int | None, sig: signal.Signals) -> None:
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def resume(pid: int | None) -> None:
    send(pid, signal.SIGCONT)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid …": the command may hold spaces, so split after its ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def postgres_pids(postgres: EmbeddedPostgres) -> list[int]:
    assert postgres.process is not None
    return [postgres.process.pid, *children(postgres.process.pid)]


class Frozen:
    """SIGSTOP on the postmaster and every backend (a frozen postmaster alone still lets
    existing backends answer); SIGCONT on all of them when the block ends, whatever happens."""

    def __init__(self, postgres: EmbeddedPostgres) -> None:
        self.postgres = postgres
        self.pids: set[int] = set()

    def __enter__(self) -> Frozen:
        assert self.postgres.process is not None
        try:
            # The postmaster first, so that it forks no backend we would miss.
            self._stop([self.postgres.process.pid])
            for _ in range(2):
                self._stop(children(self.postgres.process.pid))
        except BaseException:
            self._resume()
            raise
        return self

    def _stop(self, pids: list[int]) -> None:
        for pid in pids:
            self.pids.add(pid)
            send(pid, signal.SIGSTOP)

    def _resume(self) -> None:
        for pid in self.pids:
            send(pid, signal.SIGCONT)

    def __exit__(self, *_: object) -> None:
        self._resume()


class FrozenRedis:
    def __init__(self, redis: EmbeddedRedis) -> None:
        assert redis.process is not None
        self.pid = redis.process.pid

    def __enter__(self) -> FrozenRedis:
        send(self.pid, signal.SIGSTOP)
        return self

    def __exit__(self, *_: object) -> None:
        resume(self.pid)
