"""`tierslieux demo` as a user runs it: embedded servers, demo data, Ctrl-C leaves no orphan."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.app.embedded import free_port
from service.kernel.database import with_database

READY_TIMEOUT = 120
STOP_TIMEOUT = 30
# What a developer's shell may hold that would make the demo use other servers.
SCRUBBED = ("APP_ENV", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "BASE_URL", "DATA_DIR")

pytestmark = pytest.mark.slow


@dataclass
class DemoProcess:
    """A running `tierslieux demo`, its output collected by a thread (the pipe never fills)."""

    process: subprocess.Popen[str]
    base_url: str
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def database_url(self) -> str:
        found = re.search(r"PostgreSQL\s+(postgresql://\S+)", self.output)
        assert found, self.output
        return found.group(1)


def _tierslieux() -> list[str]:
    script = Path(sys.executable).with_name("tierslieux")
    return [str(script)] if script.exists() else [sys.executable, "-m", "service.app.cli"]


def start_demo(data_dir: Path, variables: dict[str, str] | None = None) -> DemoProcess:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env |= {"DATA_DIR": str(data_dir), **(variables or {})}
    process = subprocess.Popen(
        [*_tierslieux(), "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    demo = DemoProcess(process, f"http://127.0.0.1:{port}")
    assert process.stdout is not None
    threading.Thread(target=lambda: demo.lines.extend(process.stdout), daemon=True).start()  # type: ignore[arg-type]
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        assert process.poll() is None, f"demo exited with {process.returncode}:\n{demo.output}"
        assert time.monotonic() < deadline, f"not ready in {READY_TIMEOUT} s:\n{demo.output}"
        try:
            if httpx.get(f"{demo.base_url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    # The banner comes right after readiness.
    while "Press Ctrl-C to stop." not in demo.output:
        assert time.monotonic() < deadline, demo.output
        time.sleep(0.05)
    return demo


def descendants(pid: int) -> set[int]:
    """Every process under `pid`, from /proc (children of children included)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command and alive(int(entry.name)):
            found.append(f"{entry.name}: {command}")
    return found


def stop_demo(demo: DemoProcess, sig: signal.Signals) -> set[int]:
    """Send `sig`, expect exit code 0, and return the processes it had started."""
    started = descendants(demo.process.pid)
    demo.process.send_signal(sig)
    try:
        code = demo.process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        demo.process.kill()
        pytest.fail(f"demo still running {STOP_TIMEOUT} s after {sig.name}:\n{demo.output}")
    assert code == 0, demo.output
    return started


def assert_nothing_left(data_dir: Path, started: set[int], output: str) -> None:
    # The children exit before the demo does; give the kernel a moment to reap them.
    deadline = time.monotonic() + 5
    while (
        any(alive(pid) for pid in started) or processes_mentioning(str(data_dir))
    ) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_mentioning(str(data_dir)), output
    assert not [pid for pid in started if alive(pid)], output


async def _count(database_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(database_url)
    try:
        return {
            "approved_venues": await connection.fetchval(
                "SELECT count(*) FROM venue WHERE status = 'approved'"
            ),
            "users": await connection.fetchval("SELECT count(*) FROM app_user"),
            "organisations": await connection.fetchval("SELECT count(*) FROM organisation"),
            "workspaces": await connection.fetchval("SELECT count(*) FROM workspace"),
        }
    finally:
        await connection.close()


def sign_in(base_url: str, email: str) -> str:
    response = httpx.post(
        f"{base_url}/api/v1/auth/token",
        json={"email": email, "password": "demo-password"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def me(base_url: str, token: str) -> httpx.Response:
    return httpx.get(
        f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def test_demo_starts_seeds_once_and_stops_everything_on_ctrl_c(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"

    # First run: embedded servers, migrations, demo data, API and worker.
    demo = start_demo(data_dir)
    try:
        assert "Demo data created." in demo.output
        for expected in (
            demo.base_url,
            f"{demo.base_url}/schema",
            "demo-password",
            "reseau@demo.test",
            "lieu@demo.test",
            "accueil@demo.test",
            "orga@demo.test",
            "agent@demo.test",
        ):
            assert expected in demo.output
        token = sign_in(demo.base_url, "reseau@demo.test")
        response = me(demo.base_url, token)
        assert response.status_code == 200, response.text
        assert response.json()["role"] == "network_admin"
        assert response.json()["email"] == "reseau@demo.test"
        for email, role in (("lieu@demo.test", "venue_admin"), ("agent@demo.test", "agent")):
            assert me(demo.base_url, sign_in(demo.base_url, email)).json()["role"] == role
        assert httpx.get(f"{demo.base_url}/schema/openapi.json", timeout=10).status_code == 200
        first_counts = asyncio.run(_count(demo.database_url()))
        assert first_counts["approved_venues"] >= 12
        assert first_counts["organisations"] == 3
        # Both servers and both Python processes run under the demo.
        commands = " ".join(processes_mentioning(str(data_dir)))
        assert "postgres" in commands
        assert len(descendants(demo.process.pid)) >= 4, "postgres, redis, API, worker"
    finally:
        started = stop_demo(demo, signal.SIGINT)
    assert "Stopped." in demo.output
    assert_nothing_left(data_dir, started, demo.output)

    secret = data_dir / "secret_key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600

    # Second run on the same DATA_DIR: same data, not duplicated; same signing key.
    demo = start_demo(data_dir)
    try:
        assert "Demo data already there: kept as is." in demo.output
        assert asyncio.run(_count(demo.database_url())) == first_counts
        still_valid = me(demo.base_url, token)
        assert still_valid.status_code == 200, still_valid.text
    finally:
        started = stop_demo(demo, signal.SIGTERM)
    assert_nothing_left(data_dir, started, demo.output)


def test_demo_refuses_a_port_in_use_and_starts_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
        result = subprocess.run(
            [*_tierslieux(), "demo", "--port", str(port)],
            env={**env, "DATA_DIR": str(data_dir)},
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stdout
    assert not (data_dir / "postgres").exists()
    assert not processes_mentioning(str(data_dir))


@pytest.fixture
async def fresh_database_url(postgres_url: str) -> AsyncIterator[str]:
    name = f"tl_demo_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    yield with_database(postgres_url, name)
    admin = await asyncpg.connect(with_database(postgres_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def test_demo_uses_the_servers_named_in_the_environment(
    tmp_path: Path, fresh_database_url: str, redis_url: str
) -> None:
    data_dir = tmp_path / "var"

    demo = start_demo(data_dir, {"DATABASE_URL": fresh_database_url, "REDIS_URL": redis_url})
    try:
        assert "Starting PostgreSQL" not in demo.output
        assert "Starting Redis" not in demo.output
        assert "(embedded)" not in demo.output
        assert demo.database_url() == fresh_database_url
        assert me(demo.base_url, sign_in(demo.base_url, "orga@demo.test")).json()["role"] == (
            "org_admin"
        )
        assert asyncio.run(_count(fresh_database_url))["approved_venues"] >= 12
    finally:
        started = stop_demo(demo, signal.SIGINT)
    assert_nothing_left(data_dir, started, demo.output)
    assert not (data_dir / "postgres").exists()
    assert not (data_dir / "redis").exists()


def test_a_demo_killed_with_sigkill_leaves_the_next_one_able_to_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    killed = start_demo(data_dir)
    orphans = descendants(killed.process.pid)
    assert len(orphans) >= 4, "postgres, redis, API, worker"

    killed.process.kill()  # no chance to clean up
    killed.process.wait(10)

    demo = start_demo(data_dir)
    try:
        assert "Demo data already there: kept as is." in demo.output
        token = sign_in(demo.base_url, "accueil@demo.test")
        assert me(demo.base_url, token).json()["role"] == "venue_staff"
    finally:
        started = stop_demo(demo, signal.SIGINT)
    # The API and the worker died with their parent; the servers it left behind were
    # stopped by the second run.
    assert_nothing_left(data_dir, started | orphans, killed.output + demo.output)
