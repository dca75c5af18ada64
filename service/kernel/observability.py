"""Request ids, access logs and the health endpoints."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable
from typing import Any

import structlog
from litestar import Controller, Request, get
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.response import Response
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from piccolo.engine.postgres import PostgresEngine

from service.kernel import audit
from service.kernel.addresses import resolve
from service.kernel.auth import PUBLIC
from service.kernel.outages import POSTGRESQL, REDIS

# Each dependency's check gets this long; both run at once, so /readyz answers within it.
READY_CHECK_SECONDS = 1.0

log = structlog.get_logger("tierslieux.access")


# Paths that carry a secret (calendar feed tokens, invitation links, a meeting attendee's
# signed link and its guest pass) are logged without it.
_SECRET_PATH = re.compile(
    r"^(/calendars/(?!workspaces/)|/invitation/|/reunion/|/api/v1/meeting-answers/)[^/]+"
    r"(?=/pass\.svg$|$)"
)


def _loggable(path: str) -> str:
    return _SECRET_PATH.sub(r"\1***", path)


def _client(scope: Scope) -> str:
    """The client's address, believing X-Forwarded-For from TRUSTED_PROXIES only."""
    peer = scope.get("client")
    settings = getattr(scope["app"].state, "settings", None)
    proxies = settings.trusted_proxies if settings is not None else ()
    forwarded = [
        value.decode("latin-1")
        for name, value in scope.get("headers", [])
        if name.lower() == b"x-forwarded-for"
    ]
    return resolve(peer[0] if peer else None, forwarded, proxies)


class RequestContextMiddleware(ASGIMiddleware):
    """Gives each request an id (kept from X-Request-ID when sane), logs one JSON line per request."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        incoming = MutableScopeHeaders.from_message(scope).get("x-request-id")  # type: ignore[arg-type]
        request_id = (
            incoming
            if incoming and len(incoming) <= 64 and incoming.isprintable()
            else uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        # No actor leaks from one request into the next one run in the same context.
        acting = audit.CURRENT.set(None)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableScopeHeaders.from_message(message)
                headers["X-Request-ID"] = request_id
            await send(message)

        try:
            await next_app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                client=_client(scope),
                method=scope.get("method"),
                path=_loggable(scope.get("path", "")),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.unbind_contextvars("request_id")
            audit.CURRENT.reset(acting)


class HealthController(Controller):
    path = ""
    include_in_schema = True
    tags = ["operations"]

    @get("/healthz", opt=PUBLIC, summary="The process is up")
    async def healthz(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/readyz", opt=PUBLIC, summary="PostgreSQL and Redis are reachable")
    async def readyz(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        engine: PostgresEngine = request.app.state.db
        postgresql, redis = await asyncio.gather(
            _check(engine.run_ddl("SELECT 1")), _check(request.app.state.redis.ping())
        )
        checks = {POSTGRESQL: postgresql, REDIS: redis}
        down = [name for name, result in checks.items() if result != "ok"]
        body: dict[str, Any] = {"status": "unavailable" if down else "ready", "checks": checks}
        if down:
            body["down"] = down
        return Response(body, status_code=503 if down else 200)


async def _check(call: Awaitable[Any]) -> str:
    """Say "ok", or why not: report, don't raise, this endpoint exists to say what is down."""
    try:
        async with asyncio.timeout(READY_CHECK_SECONDS):
            await call
    except TimeoutError:
        return f"error: no answer within {READY_CHECK_SECONDS:g} s"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"
