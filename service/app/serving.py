"""The API served by uvicorn in a child process, for what must cross a real socket.

The tests' live server (races, schemathesis, browsers) and the benchmarks start the app the
way production does, `uvicorn service.app.factory:app_from_env --factory`, on a free local port,
wait until it answers, and stop it afterwards; this is that one launcher.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from service.app.embedded import free_port

APP_FACTORY = "service.app.factory:app_from_env"


@dataclass(frozen=True)
class Served:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def served(
    env: Mapping[str, str],
    *,
    factory: str = APP_FACTORY,
    uvicorn_args: Sequence[str] = (),
    ready_path: str = "/readyz",
    timeout: float = 60,
    cwd: Path | None = None,
    port: int | None = None,
) -> Iterator[Served]:
    """Serve `factory` with uvicorn on 127.0.0.1 (on `port`, else a free one) until the block ends.

    Ready when `ready_path` answers below 500: the app's /readyz says 503 until PostgreSQL
    and Redis answer; an app without that route answers 404 as soon as it listens.
    """
    port = port or free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            factory,
            "--factory",
            *uvicorn_args,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=dict(env),
        cwd=cwd,
    )
    try:
        _wait_until_ready(process, f"http://127.0.0.1:{port}{ready_path}", timeout)
        yield Served(process, port)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not become ready within {timeout:.0f} s")
        time.sleep(0.1)
