"""Throttling in Redis, shared by every API process: failed sign-ins, and requests per second (door scans)."""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Awaitable
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from service.kernel.errors import TooManyAttempts
from service.kernel.i18n import N_
from service.kernel.outages import FALLBACKS, REDIS, REDIS_DOWN, fell_back


class LoginThrottle:
    """Failed sign-ins per (account, client address) and per client address, with growing delays.

    Only the address that failed is slowed down: each (account, address) pair may fail
    `free_attempts` times, then waits 30 s, then 60 s, 120 s … up to 15 min after each further
    failure; an address has ten times as many failures across all accounts (an office behind one
    NAT), then waits the same way up to an hour. Unknown emails count against the address
    only as every failure does; no counter belongs to an account alone, so nobody elsewhere
    can lock a person out of their account by guessing. A success clears its pair, never its
    address (a guesser with an account of their own cannot reset their budget by signing in).
    IPv6 addresses count by /64, what one subscriber usually holds. Emails are hashed in keys.
    Redis errors are not caught here: a sign-in with no throttle answers 503, not 401.
    """

    window_seconds = 60 * 60  # failures are forgotten an hour after the last one
    first_delay_seconds = 30
    pair_max_delay_seconds = 15 * 60
    address_max_delay_seconds = 60 * 60
    address_factor = 10

    def __init__(self, redis: Redis, free_attempts: int) -> None:
        self.redis = redis
        self.pair_free = free_attempts
        self.address_free = free_attempts * self.address_factor

    @staticmethod
    def _keys(email: str, client: str) -> tuple[str, str]:
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        address = _bucket(client)
        return f"login-fail:pair:{account}:{address}", f"login-fail:address:{address}"

    async def check(self, email: str, client: str) -> None:
        """TooManyAttempts while this pair or this address must wait."""
        pair, address = self._keys(email, client)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.pttl(pair + ":wait")
            pipe.pttl(address + ":wait")
            waits = await pipe.execute()
        wait_ms = max(int(w) for w in waits)
        if wait_ms > 0:
            raise TooManyAttempts(retry_after=max(1, math.ceil(wait_ms / 1000)))

    async def failed(self, email: str, client: str) -> None:
        pair, address = self._keys(email, client)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(pair)
            pipe.expire(pair, self.window_seconds)
            pipe.incr(address)
            pipe.expire(address, self.window_seconds)
            pair_failures, _, address_failures, _ = await pipe.execute()
        waits = [
            (pair, _delay(pair_failures - self.pair_free + 1, self.pair_max_delay_seconds)),
            (
                address,
                _delay(address_failures - self.address_free + 1, self.address_max_delay_seconds),
            ),
        ]
        if any(seconds for _, seconds in waits):
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, seconds in waits:
                    if seconds:
                        pipe.set(key + ":wait", 1, ex=seconds)
                await pipe.execute()

    async def succeeded(self, email: str, client: str) -> None:
        pair, _ = self._keys(email, client)
        await self.redis.delete(pair, pair + ":wait")


def _delay(over: int, cap: int) -> int:
    """Seconds to wait after a failure that is the `over`-th from the last free one (0: none)."""
    if over <= 0:
        return 0
    return min(LoginThrottle.first_delay_seconds * 2 ** min(over - 1, 20), cap)


def _bucket(client: str) -> str:
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class HourlyQuota:
    """At most so many requests an hour per email and per client address (password-reset mails).

    Counts every request, whether the email has an account or not, so that a refusal says
    nothing about the account; each counter is a fixed hour from its first request. The
    address counter is larger (an office behind one NAT). Emails are hashed in keys, IPv6
    addresses counted by /64. Redis errors are not caught: no quota, no mail (503).
    """

    window_seconds = 60 * 60

    def __init__(self, redis: Redis, name: str, per_email: int, per_address: int) -> None:
        self.redis = redis
        self.name = name
        self.per_email = per_email
        self.per_address = per_address

    async def spend(self, email: str, client: str) -> None:
        """Count one request; TooManyAttempts (with the wait) once either counter is past."""
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        keys = (f"{self.name}:email:{account}", f"{self.name}:address:{_bucket(client)}")
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in keys:
                # The first request of the hour starts the counter and its expiry (Redis 6 has
                # no EXPIRE NX); later ones only count.
                pipe.set(key, 0, ex=self.window_seconds, nx=True)
                pipe.incr(key)
                pipe.pttl(key)
            _, email_count, email_ttl, _, address_count, address_ttl = await pipe.execute()
        waits = [
            int(ttl)
            for count, ttl, limit in (
                (email_count, email_ttl, self.per_email),
                (address_count, address_ttl, self.per_address),
            )
            if int(count) > limit
        ]
        if waits:
            raise TooManyAttempts(
                retry_after=max(1, math.ceil(max(waits) / 1000)),
                detail=N_("Too many requests for this address; wait before asking again."),
            )


# Counts one request and, for the window's first, sets its expiry: one round trip (was an
# INCR, then an EXPIRE for each window's first request, i.e. two for most door scans at a
# scanner's pace of about one a second). Atomic, so no key is ever left without its expiry.
_COUNT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], 2) end
return count
"""
_COUNT_SHA = hashlib.sha1(_COUNT.encode(), usedforsecurity=False).hexdigest()  # its name in Redis


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
            try:
                count = int(await cast("Awaitable[int]", self.redis.evalsha(_COUNT_SHA, 1, key)))
            except NoScriptError:  # a Redis that restarted (or a new one) forgot the script
                count = int(await cast("Awaitable[int]", self.redis.eval(_COUNT, 1, key)))
        except REDIS_DOWN as error:
            self._paused_until[self.name] = time.monotonic() + self.pause_seconds
            fell_back(REDIS, self.name, error)
            return True
        return count <= self.per_second
