"""`tierslieux demo`: embedded PostgreSQL and Redis, migrations, demo data, the API and a worker.

Every process started here is stopped here, in order (API and worker, then Redis, then
PostgreSQL), on Ctrl-C or SIGTERM. Signals only set a flag: the main loop notices it and
stops what it started, so a signal arriving half-way through the start-up still leaves
nothing behind. The API and the worker also ask the kernel to stop them if this process
dies without cleaning up (SIGKILL); a PostgreSQL or Redis left over by such a death is
stopped at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from service.app.embedded import EmbeddedPostgres, EmbeddedRedis, EmbeddedServerError
from service.app.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, seed
from service.kernel.database import ensure_database, migrate, use_database, with_database
from service.kernel.logs import configure as configure_logs

DATABASE_NAME = "tierslieux"
SECRET_FILE = "secret_key"
READY_TIMEOUT = 90.0
# Crash recovery after a killed run can take a while on a slow disk.
ACCEPT_TIMEOUT = 120.0
# How long the API and the worker get to finish in-flight work before being killed.
STOP_TIMEOUT = 15.0


class DemoFailed(RuntimeError):
    """The demo could not start; the message says why, in words for the person at the terminal."""


class Stopping(Exception):
    """A stop was asked for (Ctrl-C or SIGTERM) while starting."""


def demo_secret(data_dir: Path) -> str:
    """The demo's token-signing key: generated on first use, then read from DATA_DIR (0600)."""
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text().strip()
        if len(secret) >= 32:
            return secret
        raise DemoFailed(f"{path} holds no usable key; delete it to get a new one.") from None
    secret = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w") as out:
        out.write(secret + "\n")
    return secret


def mask_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _die_with_parent(parent: int) -> Callable[[], None]:
    """Run in the child before exec: SIGTERM it when the demo process dies, even by SIGKILL."""

    def prepare() -> None:
        if sys.platform.startswith("linux"):
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return prepare


def _stop_leftover_redis(pid_file: Path) -> None:
    """Stop a redis-server that a demo killed with SIGKILL left running on this DATA_DIR."""
    try:
        pid = int(pid_file.read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if b"redis-server" not in command:
        return  # the pid was reused by something else
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.1)
    pid_file.unlink(missing_ok=True)


@dataclass
class Child:
    """The API or the worker: a Python subprocess with its log file."""

    name: str
    command: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str]) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group: a Ctrl-C at the terminal reaches only the demo
                # process, which stops the children in order.
                process_group=0,
                preexec_fn=_die_with_parent(os.getpid()),
            )

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@dataclass
class Demo:
    host: str
    port: int
    data_dir: Path
    environ: dict[str, str]
    echo: Callable[[str], None] = print
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None
    children: list[Child] = field(default_factory=list)
    stop_requested: bool = False
    stop_signal: str = ""

    # --- signals ---

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop_requested = True
        self.stop_signal = signal.Signals(signum).name

    def _check_stop(self) -> None:
        if self.stop_requested:
            raise Stopping()

    # --- lifecycle ---

    def run(self) -> int:
        """Start everything, wait for a stop, stop everything. The exit code."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        code = 0
        try:
            self._start()
            code = self._wait()
        except Stopping:
            code = 0
        except DemoFailed as error:
            if not self.stop_requested:
                self.echo(f"Error: {error}")
                code = 1
        except Exception as error:
            # A failure caused by the stop itself (initdb interrupted …) is not an error.
            if not self.stop_requested:
                self.echo(f"Error: {type(error).__name__}: {error}")
                code = 1
        finally:
            # A second Ctrl-C must not interrupt the clean-up half-way.
            for sig in previous:
                signal.signal(sig, signal.SIG_IGN)
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return code

    def _start(self) -> None:
        if not port_is_free(self.host, self.port):
            raise DemoFailed(
                f"Port {self.port} on {self.host} is already in use; choose another with --port."
            )
        secret = self.environ.get("SECRET_KEY") or demo_secret(self.data_dir)
        database_url = self.environ.get("DATABASE_URL") or None
        if database_url is None:
            self.echo("Starting PostgreSQL (embedded) …")
            self.postgres = EmbeddedPostgres(self.data_dir / "postgres")
            try:
                server = self.postgres.start()
            except EmbeddedServerError as error:
                raise DemoFailed(f"PostgreSQL did not start: {error}") from None
            except subprocess.CalledProcessError as error:
                output = (error.stderr or b"").decode(errors="replace")[-2000:]
                raise DemoFailed(
                    f"initdb failed in {self.data_dir / 'postgres'}:\n{output}"
                ) from None
            database_url = with_database(server, DATABASE_NAME)
        self._check_stop()
        redis_url = self.environ.get("REDIS_URL") or None
        if redis_url is None:
            self.echo("Starting Redis (embedded) …")
            redis_dir = self.data_dir / "redis"
            _stop_leftover_redis(redis_dir / "redis-server.pid")
            self.redis = EmbeddedRedis(redis_dir)
            try:
                redis_url = self.redis.start()
            except EmbeddedServerError as error:
                raise DemoFailed(f"Redis did not start: {error}") from None
            assert self.redis.process is not None
            (redis_dir / "redis-server.pid").write_text(f"{self.redis.process.pid}\n")
        self._check_stop()
        self.echo("Applying migrations and demo data …")
        created = asyncio.run(prepare_database(database_url))
        self.echo("Demo data created." if created else "Demo data already there: kept as is.")
        self._check_stop()

        env = {
            **self.environ,
            "APP_ENV": "demo",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "DATA_DIR": str(self.data_dir),
            "SECRET_KEY": secret,
            "BASE_URL": self.environ.get("BASE_URL") or self.url,
            "PYTHONUNBUFFERED": "1",
        }
        logs = self.data_dir / "logs"
        cli = [sys.executable, "-m", "service.app.cli"]
        self.children = [
            Child(
                "API",
                [*cli, "serve", "--host", self.host, "--port", str(self.port)],
                logs / "api.log",
            ),
            Child("worker", [*cli, "worker"], logs / "worker.log"),
        ]
        for child in self.children:
            child.start(env)
        self._wait_until_ready()
        self._banner(database_url, redis_url)

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            self._check_stop()
            self._check_children()
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise DemoFailed(
                    f"The API did not become ready within {READY_TIMEOUT:.0f} s; see "
                    f"{self.children[0].log_path}"
                )
            time.sleep(0.2)

    def _check_children(self) -> None:
        for child in self.children:
            if child.exited():
                assert child.process is not None
                raise DemoFailed(
                    f"the {child.name} stopped (exit code {child.process.returncode}); "
                    f"end of {child.log_path}:\n{child.log_tail()}"
                )
        for name, server in (("PostgreSQL", self.postgres), ("Redis", self.redis)):
            process = server.process if server is not None else None
            if server is not None and process is not None and process.poll() is not None:
                raise DemoFailed(f"{name} stopped; see {server.data_dir / 'server.log'}")

    def _wait(self) -> int:
        while not self.stop_requested:
            self._check_children()
            time.sleep(0.2)
        return 0

    def _banner(self, database_url: str, redis_url: str) -> None:
        width = max(len(a.email) for a in DEMO_ACCOUNTS)
        embedded_pg = " (embedded)" if self.postgres else ""
        embedded_redis = " (embedded)" if self.redis else ""
        lines = [
            "",
            "Pass Tiers-Lieux demo is running.",
            "",
            f"  Pages       {self.url}/  (sign in with a demo account below)",
            f"  API         {self.url}/api/v1",
            f"  OpenAPI     {self.url}/schema  (JSON: {self.url}/schema/openapi.json)",
            f"  PostgreSQL  {mask_password(database_url)}{embedded_pg}",
            f"  Redis       {mask_password(redis_url)}{embedded_redis}",
            f"  Data        {self.data_dir}",
            f"  Logs        {self.data_dir / 'logs'} (api.log, worker.log)",
            "",
            f"Demo accounts (password: {DEMO_PASSWORD}):",
            *(f"  {a.email.ljust(width)}  {a.label}" for a in DEMO_ACCOUNTS),
            "",
            "Press Ctrl-C to stop.",
        ]
        self.echo("\n".join(lines))

    def _stop_all(self) -> None:
        started = [c for c in self.children if c.process is not None]
        if started or self.postgres or self.redis:
            reason = f" ({self.stop_signal})" if self.stop_signal else ""
            self.echo(f"Stopping{reason} …")
        # The API and the worker first: they finish what they are doing, then let go of
        # their connections, and only then do the servers go.
        for child in started:
            assert child.process is not None
            if child.process.poll() is None:
                child.process.terminate()
        for child in started:
            assert child.process is not None
            try:
                child.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait(5)
        if self.redis is not None:
            self.redis.stop()
            (self.redis.data_dir / "redis-server.pid").unlink(missing_ok=True)
        if self.postgres is not None:
            self.postgres.stop()
        if started or self.postgres or self.redis:
            self.echo("Stopped.")


async def wait_until_accepting(database_url: str) -> None:
    """PostgreSQL listens before it accepts connections (start-up, crash recovery): wait."""
    deadline = time.monotonic() + ACCEPT_TIMEOUT
    while True:
        try:
            connection = await asyncpg.connect(with_database(database_url, "postgres"))
        except (asyncpg.CannotConnectNowError, ConnectionError) as error:
            if time.monotonic() > deadline:
                raise DemoFailed(f"PostgreSQL does not accept connections: {error}") from None
            await asyncio.sleep(0.2)
        else:
            await connection.close()
            return


async def prepare_database(database_url: str) -> bool:
    """Create the database if missing, migrate it, seed it once. True if data was created."""
    await wait_until_accepting(database_url)
    await ensure_database(database_url)
    await migrate(database_url)
    use_database(database_url)
    result = await seed()
    return result.created


def run(host: str, port: int, environ: dict[str, str] | None = None) -> int:
    environ = dict(os.environ if environ is None else environ)
    # The terminal shows the banner; the servers' own lines go to their log files.
    configure_logs("WARNING", json=False)
    data_dir = Path(environ.get("DATA_DIR") or "var").resolve()

    def echo(text: str) -> None:
        print(text, flush=True)

    return Demo(host=host, port=port, data_dir=data_dir, environ=environ, echo=echo).run()
