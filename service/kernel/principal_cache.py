"""Who a credential names, remembered between requests for as long as PostgreSQL says nothing changed.

Finding the person (or door device) behind a token is one query on every authenticated
request: a round trip that cost about a fifth of the request floor's CPU
(docs/performance.md). The answer only changes when a row it was read from changes, and the
database says so: triggers on `app_user`, `ended_session` and `door_device` send
`NOTIFY principals_changed` in the transaction that changes them (sign-out, a new password,
a role or membership change, deactivation, a revoked door device, whoever makes it). Every
API process listens on a connection of its own and forgets everything it remembered when a
notification arrives, so a revocation applies on every process as soon as PostgreSQL
delivers it (milliseconds).

The cache is used only while that is true:
- while the listening connection is down (not yet open, lost, failing its health check every
  `HEALTH_SECONDS`), nothing is remembered and every request asks PostgreSQL, as without
  the cache;
- a look-up that was running when a notification arrived is not remembered (its answer
  may predate the change);
- nothing is remembered longer than `max_age` seconds (`AUTH_CACHE_MS`), whatever happens;
- refusals (unknown, revoked, ended) are never remembered: they are asked again each time.

`AUTH_CACHE_MS=0` turns it off (every request asks PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

import asyncpg
import structlog

from service.kernel.identity import Principal

log = structlog.get_logger(__name__)

CHANNEL = "principals_changed"
# How often the listening connection is checked, and how long the check may take.
HEALTH_SECONDS = 5.0
HEALTH_TIMEOUT = 1.0
# Beyond this many entries the cache starts again from empty.
MAX_ENTRIES = 50_000


class PrincipalCache:
    """Principals by credential, emptied by PostgreSQL's notifications; off while not listening."""

    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self.listening = False
        self.epoch = 0  # raised by every notification and every loss of the listener
        self._entries: dict[Hashable, tuple[float, Principal]] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.listening and self.max_age > 0

    def forget_all(self, *_: Any) -> None:
        self.epoch += 1
        self._entries.clear()

    async def get(
        self, key: Hashable, look_up: Callable[[], Awaitable[Principal | None]]
    ) -> Principal | None:
        """The principal remembered for `key`, or `look_up()`'s answer (remembered if usable)."""
        if not self.enabled:
            return await look_up()
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        epoch = self.epoch
        principal = await look_up()
        if principal is not None and self.enabled and epoch == self.epoch:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (now + self.max_age, principal)
        return principal

    # --- the listening connection -----------------------------------------------------------

    def start(self, connect: Callable[[], Awaitable[asyncpg.Connection]]) -> None:
        """Listen in the background (reconnecting while the process runs); no-op when off."""
        if self.max_age > 0 and self._task is None:
            self._task = asyncio.create_task(self._listen(connect), name="principal-cache")

    async def stop(self) -> None:
        self._set_listening(False)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _set_listening(self, listening: bool) -> None:
        self.listening = listening
        self.forget_all()

    def _on_lost(self, lost: asyncio.Event, *_: Any) -> None:
        """The listening connection closed: stop remembering now, not at the next check."""
        self._set_listening(False)
        lost.set()

    async def _listen(self, connect: Callable[[], Awaitable[asyncpg.Connection]]) -> None:
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await connect()
                lost = asyncio.Event()
                connection.add_termination_listener(functools.partial(self._on_lost, lost))
                await connection.add_listener(CHANNEL, self.forget_all)
                # Anything that changed before LISTEN took effect was remembered by nobody.
                self._set_listening(True)
                while not lost.is_set():
                    await _wait(lost, HEALTH_SECONDS)
                    if not lost.is_set():
                        await connection.fetchval("SELECT 1", timeout=HEALTH_TIMEOUT)
                log.warning("principal_cache.listener_lost")
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: stop remembering, try again later
                log.warning("principal_cache.listener_failed", error=repr(error))
            finally:
                self._set_listening(False)
                if connection is not None:
                    connection.terminate()
            await asyncio.sleep(HEALTH_SECONDS)


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Until `event` is set or `seconds` have passed, whichever comes first.

    Not `wait_for` under `suppress(TimeoutError)`: on Python 3.11, a cancellation that arrives
    as the timeout fires comes out of `wait_for` as a TimeoutError, which the suppress then
    swallowed, so `stop()` waited forever for a task that had lost its cancellation (seen in
    CI). `asyncio.wait` lets a cancellation through and leaves the event's waiter to cancel.
    """
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({waiter}, timeout=seconds)
    finally:
        waiter.cancel()
