"""The load harness the benchmarks share: the app under uvicorn, bounded load, figures.

A small HTTP/1.1 keep-alive client, cheap enough not to be what is measured; an open loop
(requests at a fixed rate, latency counted from when each was due) and a closed loop (C
connections back to back); the server's CPU time and the machine's busy share per run;
percentiles and one printed line per run, with the command that reproduces them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from service.app.serving import APP_FACTORY, Served, served

ROOT = Path(__file__).resolve().parent.parent


def command_line(module: str) -> str:
    """How to run this benchmark again with the same arguments."""
    return " ".join(["python3 -m uv run --frozen python -m", module, *sys.argv[1:]])


def server(
    env: Mapping[str, str],
    *,
    factory: str = APP_FACTORY,
    workers: int = 1,
    ready_path: str = "/readyz",
) -> contextlib.AbstractContextManager[Served]:
    """The app (or another factory) under uvicorn, importing from the project's root."""
    return served(
        env,
        factory=factory,
        uvicorn_args=["--workers", str(workers)] if workers > 1 else [],
        ready_path=ready_path,
        cwd=ROOT,
    )


# --- a small HTTP/1.1 keep-alive client ---------------------------------------------------------


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.used = time.monotonic()

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length) if length else b""
        self.used = time.monotonic()
        return status, body

    def close(self) -> None:
        self.writer.close()


def http_post(path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: bench", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def http_get(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: bench", *[f"{k}: {v}" for k, v in headers.items()]]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# --- load ---------------------------------------------------------------------------------------


def quiet_collector() -> None:
    """Keep the load generator's own garbage collector out of the latencies it measures.

    The generator holds the benchmark's world (tokens, bookings, the app's modules): a full
    collection walked all of it, up to hundreds of milliseconds with no request sent or
    answer read, counted as the server's latency. Frozen before each loop, it is not walked.
    """
    gc.collect()
    gc.freeze()


@dataclass
class Run:
    sent: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else 0


async def open_loop(
    port: int,
    build: Callable[[int], bytes],
    rate: float,
    seconds: float,
    verdict: Callable[[int, bytes], str] | None = None,
) -> Run:
    """`rate` requests a second for `seconds`, each timed from when it was due."""
    quiet_collector()
    run = Run()
    idle: list[Connection] = []

    async def one(due: float, raw: bytes) -> None:
        # uvicorn closes a keep-alive connection idle for 5 s: never reuse one idle for 4.
        while idle and time.monotonic() - idle[-1].used > 4:
            idle.pop().close()
        connection = idle.pop() if idle else await Connection.open(port)
        try:
            status, body = await connection.send(raw)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            run.errors[type(error).__name__] += 1
            connection.close()
            return
        run.latencies.append(time.perf_counter() - due)
        run.statuses[status] += 1
        if verdict is not None:
            run.verdicts[verdict(status, body)] += 1
        idle.append(connection)

    total = int(rate * seconds)
    tasks = []
    start = time.perf_counter() + 0.05
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, build(i))))
    await asyncio.gather(*tasks)
    run.sent = total
    run.seconds = time.perf_counter() - start
    for connection in idle:
        connection.close()
    return run


async def closed_loop(
    port: int, build: Callable[[int], bytes], clients: int, seconds: float
) -> Run:
    """`clients` connections sending back to back for `seconds`: what the server sustains."""
    quiet_collector()
    run = Run()
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def worker() -> None:
        connection = await Connection.open(port)
        try:
            while time.perf_counter() < deadline:
                raw = build(next(counter))
                sent = time.perf_counter()
                try:
                    status, _ = await connection.send(raw)
                except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                    run.errors[type(error).__name__] += 1
                    connection.close()
                    connection = await Connection.open(port)
                    continue
                run.latencies.append(time.perf_counter() - sent)
                run.statuses[status] += 1
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(clients)])
    run.seconds = time.perf_counter() - started
    run.sent = sum(run.statuses.values()) + sum(run.errors.values())
    return run


# --- what it cost -------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (uvicorn workers), from /proc."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    for p in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _machine_busy() -> tuple[float, float]:
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    return float(sum(parts) - idle), float(sum(parts))


async def measured(server: Served, load: Callable[[], Awaitable[Run]]) -> Run:
    """Run `load`, adding the server's CPU time per request and how busy the machine was."""
    pid = server.process.pid
    cpu_before = _cpu_seconds(pid)
    busy_before, total_before = _machine_busy()
    run = await load()
    busy_after, total_after = _machine_busy()
    run.cpu = {
        "server_cpu_ms_per_request": 1000
        * (_cpu_seconds(pid) - cpu_before)
        / max(sum(run.statuses.values()), 1),
        "machine_busy_pct": 100 * (busy_after - busy_before) / max(total_after - total_before, 1),
    }
    return run


def report(name: str, run: Run) -> None:
    ok = sum(n for s, n in run.statuses.items() if s < 400)
    print(
        f"{name}: {run.sent:,} requests in {run.seconds:.1f} s = "
        f"{sum(run.statuses.values()) / run.seconds:,.0f}/s; p50 {run.percentile(50):.1f} ms, "
        f"p99 {run.percentile(99):.1f} ms, max {run.percentile(100):.1f} ms; "
        f"2xx {ok:,}, other statuses {dict(s for s in run.statuses.items() if s[0] >= 400)}, "
        f"transport errors {dict(run.errors)}"
    )
    if run.verdicts:
        print("  verdicts: " + ", ".join(f"{k} {v:,}" for k, v in run.verdicts.most_common()))
    if run.cpu:
        print(
            f"  server CPU {run.cpu['server_cpu_ms_per_request']:.2f} ms/request, "
            f"machine busy {run.cpu['machine_busy_pct']:.0f} %"
        )
