"""The `tierslieux` command line, run as real processes against the test servers."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis

from booking.services import accounts
from booking.tables import User
from service.app.piccolo_conf import APP_REGISTRY
from service.app.worker import WorkerSettings, cron_jobs
from service.kernel.database import with_database
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.conftest import TEST_SECRET
from tests.factories import make_organisation, make_user, make_venue

PASSWORD = "a-long-enough-password"
# The variables a developer's shell may hold that would change what the command sees.
SCRUBBED = ("APP_ENV", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DATA_DIR", "BASE_URL")


def _env(tmp_path: Path, **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    return {**env, "DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING", **variables}


def tierslieux(
    *args: str, env: dict[str, str], input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.app.cli", *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


async def run_tierslieux(
    *args: str, env: dict[str, str], input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`tierslieux` from an async test, off the event loop that the factories use."""
    return await asyncio.to_thread(tierslieux, *args, env=env, input=input)


# Migration modules, one per applied migration (not the packages' __init__.py).
MIGRATION_MODULES = [
    path for path in Path("migrations").glob("*/*.py") if path.name != "__init__.py"
]
# piccolo-admin's sign-in tables (BaseUser, sessions) come with their packages' migrations.
PACKAGED_MIGRATION_FOLDERS = [
    Path(app.migrations_folder_path)
    for name, app in APP_REGISTRY.app_configs.items()
    if name in ("user", "session_auth")
]
PACKAGED_MIGRATIONS = [
    path
    for folder in PACKAGED_MIGRATION_FOLDERS
    for path in folder.glob("*.py")
    if path.name != "__init__.py"
]


# --- serve / worker refuse an unsafe production configuration -------------------------------


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_production_refuses_to_start_without_a_real_secret_key(
    tmp_path: Path, command: str
) -> None:
    env = _env(
        tmp_path,
        DATABASE_URL="postgresql://postgres@127.0.0.1:1/none",
        REDIS_URL="redis://127.0.0.1:1/0",
    )

    missing = tierslieux(command, env=env)
    too_short = tierslieux(command, env={**env, "SECRET_KEY": "short"})

    for result in (missing, too_short):
        assert result.returncode == 2, result.stderr
        assert "SECRET_KEY must be set to a random value of at least 32 characters" in (
            result.stderr
        )
        assert "Traceback" not in result.stderr


def test_serve_in_production_also_needs_the_database_and_redis(tmp_path: Path) -> None:
    result = tierslieux("serve", env=_env(tmp_path, SECRET_KEY="x" * 40))

    assert result.returncode == 2, result.stderr
    assert "DATABASE_URL must be set in production." in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_app_env_is_named(tmp_path: Path) -> None:
    result = tierslieux("serve", env=_env(tmp_path, APP_ENV="staging"))

    assert result.returncode == 2
    assert "APP_ENV must be production, demo or test, got 'staging'" in result.stderr


# --- migrate -------------------------------------------------------------------------------


@pytest.fixture
async def empty_database_url(postgres_url: str) -> AsyncIterator[str]:
    """A database name that does not exist yet on the test server (dropped afterwards)."""
    name = f"tl_cli_migrate_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    yield with_database(postgres_url, name)
    admin = await asyncpg.connect(with_database(postgres_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_migrate_creates_the_database_and_every_table(
    empty_database_url: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, DATABASE_URL=empty_database_url)

    first = await run_tierslieux("migrate", env=env)
    again = await run_tierslieux("migrate", env=env)

    assert first.returncode == 0, first.stderr
    assert "is up to date" in first.stdout
    assert again.returncode == 0, again.stderr
    connection = await asyncpg.connect(empty_database_url)
    try:
        tables = {
            row["tablename"]
            for row in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        migrations = await connection.fetchval("SELECT count(*) FROM migration")
    finally:
        await connection.close()
    assert {"venue", "workspace", "app_user", "booking", "idempotency_record", "visit"} <= tables
    assert {"document", "usage_fact", "billed_visit", "pass"} <= tables
    assert {"piccolo_user", "sessions"} <= tables
    assert migrations == len(MIGRATION_MODULES) + len(PACKAGED_MIGRATIONS)


def test_migrate_without_database_url_says_so(tmp_path: Path) -> None:
    result = tierslieux("migrate", env=_env(tmp_path))

    assert result.returncode == 2
    assert "DATABASE_URL must be set." in result.stderr


def test_migrate_names_an_unreachable_server_without_its_password(tmp_path: Path) -> None:
    url = "postgresql://app:s3cret@127.0.0.1:1/tierslieux"

    result = tierslieux("migrate", env=_env(tmp_path, DATABASE_URL=url))

    assert result.returncode == 1
    assert "cannot reach PostgreSQL at postgresql://app:***@127.0.0.1:1/tierslieux" in (
        result.stderr
    )
    assert "s3cret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


# --- user create ---------------------------------------------------------------------------


async def test_user_create_reads_the_password_from_stdin_and_the_user_can_sign_in(
    database_url: str, tmp_path: Path
) -> None:
    organisation = await make_organisation()

    result = await run_tierslieux(
        "user",
        "create",
        "--email",
        "Nadia.Benali@Example.org",
        "--role",
        "agent",
        "--organisation",
        str(organisation.id),
        "--name",
        "Nadia Benali",
        env=_env(tmp_path, DATABASE_URL=database_url),
        input=PASSWORD + "\n",
    )

    assert result.returncode == 0, result.stderr
    user_id = uuid.UUID(result.stdout.strip())
    assert PASSWORD not in result.stdout + result.stderr
    user = await accounts.authenticate("nadia.benali@example.org", PASSWORD)
    assert user.id == user_id
    assert (user.role, user.organisation, user.display_name) == (
        "agent",
        organisation.id,
        "Nadia Benali",
    )


async def test_user_create_for_a_venue_and_a_network_admin(
    database_url: str, tmp_path: Path
) -> None:
    venue = await make_venue()
    env = _env(tmp_path, DATABASE_URL=database_url)

    staff = await run_tierslieux(
        "user", "create", "--email", "accueil@lieu.example", "--role", "venue_staff",
        "--venue", str(venue.id), env=env, input=PASSWORD + "\n",
    )  # fmt: skip
    admin = await run_tierslieux(
        "user", "create", "--email", "regie@reseau.example", "--role", "network_admin",
        env=env, input=PASSWORD + "\n",
    )  # fmt: skip

    assert staff.returncode == 0, staff.stderr
    assert admin.returncode == 0, admin.stderr
    rows = {
        r["email"]: r
        for r in await User.select(User.id, User.email, User.role, User.venue).order_by(User.email)
    }
    assert rows["accueil@lieu.example"]["venue"] == venue.id
    assert rows["accueil@lieu.example"]["role"] == "venue_staff"
    assert str(rows["accueil@lieu.example"]["id"]) == staff.stdout.strip()
    assert rows["regie@reseau.example"]["role"] == "network_admin"


async def test_user_create_refuses_a_duplicate_email(database_url: str, tmp_path: Path) -> None:
    existing = await make_user(Role.NETWORK_ADMIN, email="taken@example.org")

    result = await run_tierslieux(
        "user", "create", "--email", "TAKEN@example.org", "--role", "network_admin",
        env=_env(tmp_path, DATABASE_URL=database_url), input=PASSWORD + "\n",
    )  # fmt: skip

    assert result.returncode == 1
    assert "Error: a user with the email TAKEN@example.org already exists." in result.stderr
    assert "Traceback" not in result.stderr
    assert [u["id"] for u in await User.select(User.id)] == [existing.id]


async def test_user_create_refuses_an_unknown_venue_and_a_missing_membership(
    database_url: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, DATABASE_URL=database_url)
    unknown = uuid.uuid4()

    no_such_venue = await run_tierslieux(
        "user", "create", "--email", "a@example.org", "--role", "venue_admin",
        "--venue", str(unknown), env=env, input=PASSWORD + "\n",
    )  # fmt: skip
    no_venue = await run_tierslieux(
        "user", "create", "--email", "b@example.org", "--role", "venue_admin",
        env=env, input=PASSWORD + "\n",
    )  # fmt: skip

    assert no_such_venue.returncode == 1
    assert f"Error: no venue with the id {unknown}." in no_such_venue.stderr
    assert no_venue.returncode == 1
    assert "--venue: Venue roles belong to exactly one venue." in no_venue.stderr
    assert await User.count() == 0


async def test_user_create_refuses_a_short_password_and_a_bad_role(
    database_url: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, DATABASE_URL=database_url)

    short = await run_tierslieux(
        "user", "create", "--email", "a@example.org", "--role", "network_admin",
        env=env, input="short\n",
    )  # fmt: skip
    empty = await run_tierslieux(
        "user", "create", "--email", "a@example.org", "--role", "network_admin",
        env=env, input="",
    )  # fmt: skip
    bad_role = await run_tierslieux(
        "user", "create", "--email", "a@example.org", "--role", "king",
        env=env, input=PASSWORD + "\n",
    )  # fmt: skip

    assert short.returncode == 1
    assert "password: The password must have at least 10 characters." in short.stderr
    assert empty.returncode == 1
    assert "no password on standard input" in empty.stderr
    assert bad_role.returncode == 2
    assert "Invalid value for '--role'" in bad_role.stderr
    assert await User.count() == 0


def _read_until(fd: int, marker: bytes, timeout: float = 30) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {marker!r} in {seen!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            seen += chunk
    return seen


def _create_user_at_a_terminal(env: dict[str, str]) -> tuple[int, bytes]:
    """Run `user create` on a pseudo-terminal, type the password at both prompts."""
    main, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "service.app.cli", "user", "create", "--email", "tty@example.org",
         "--role", "network_admin"],
        env=env,
        stdin=terminal, stdout=terminal, stderr=terminal,
        # A session of its own whose controlling terminal is the pty, as in a real shell:
        # getpass turns the echo off on /dev/tty.
        start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )  # fmt: skip
    os.close(terminal)
    try:
        output = _read_until(main, b"Password:")
        os.write(main, PASSWORD.encode() + b"\n")
        output += _read_until(main, b"Repeat for confirmation:")
        os.write(main, PASSWORD.encode() + b"\n")
        output += _drain(main, process)
    finally:
        os.close(main)
    return process.returncode, output


async def test_user_create_at_a_terminal_asks_twice_without_echoing(
    database_url: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, DATABASE_URL=database_url)

    code, output = await asyncio.to_thread(_create_user_at_a_terminal, env)

    assert code == 0, output
    assert PASSWORD.encode() not in output
    user = await accounts.authenticate("tty@example.org", PASSWORD)
    assert str(user.id).encode() in output


def _drain(fd: int, process: subprocess.Popen[bytes], timeout: float = 30) -> bytes:
    """What the process writes until it exits."""
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                chunk = b""
            seen += chunk
            if chunk:
                continue
        if process.poll() is not None:
            return seen
    process.kill()
    raise AssertionError(f"still running after {timeout} s: {seen!r}")


# --- worker --------------------------------------------------------------------------------


def _run_worker_until_started(env: dict[str, str], log: Path, check: Callable[[], bool]) -> int:
    """Start `tierslieux worker`, wait for its first job, run `check`, stop it with SIGTERM."""
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.app.cli", "worker"], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 30
        # The purge runs at start-up, once our on_startup (the database pool) has run.
        while "← cron:purge_idempotency_records" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert check()
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(15)
    return code


async def test_worker_starts_against_the_database_and_stops_cleanly_on_sigterm(
    database_url: str, redis_url: str, redis: Redis, tmp_path: Path
) -> None:
    env = _env(
        tmp_path, APP_ENV="test", DATABASE_URL=database_url, REDIS_URL=redis_url,
        SECRET_KEY=TEST_SECRET,
    )  # fmt: skip
    log = tmp_path / "worker.log"
    loop = asyncio.get_running_loop()

    def registered_in_redis() -> bool:
        found = asyncio.run_coroutine_threadsafe(redis.exists("arq:queue:health-check"), loop)
        return bool(found.result(10))

    code = await asyncio.to_thread(_run_worker_until_started, env, log, registered_in_redis)

    output = await asyncio.to_thread(log.read_text)
    assert code == 0, output
    expected = len(WorkerSettings.functions) + len(cron_jobs(Settings()))
    assert (
        f"Starting worker for {expected} functions: close_month, render_documents, "
        "render_document, push_invoices_to_stripe, deliver_outbox" in output
    )
    assert "cron:monthly_close" in output
    assert "cron:requeue_lost_jobs" in output  # the sweeper of lost jobs
    assert "Traceback" not in output
