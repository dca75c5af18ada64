"""Idempotency-Key support for POST routes, stored in PostgreSQL so every API process sees it.

Put `middleware=[IdempotencyMiddleware]` on a route handler. The first request with a key
claims it (a row with no status yet), runs, and stores its response; a retry with the same
key and the same body gets that response back (`Idempotent-Replayed: true`); the same key
with another body is refused. Server errors (5xx) release the key so that a retry runs again.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import (
    ASGIApp,
    HTTPDisconnectEvent,
    HTTPRequestEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    Message,
    Receive,
    Scope,
    Send,
)

from service.kernel import problems
from service.kernel.identity import Principal
from service.kernel.tables import IdempotencyRecord

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 200
# A claim whose request died with its process is taken over after this long.
STALE_CLAIM = timedelta(minutes=2)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away: what came is all there is
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay_receive(body: bytes) -> Receive:
    sent = False

    async def receive() -> HTTPRequestEvent | HTTPDisconnectEvent:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _send_problem(
    send: Send, scope: Scope, problem: problems.ProblemType, detail: str
) -> None:
    body = json.dumps(
        {
            "type": problem.uri,
            "title": problem.title,
            "status": problem.status,
            "detail": detail,
            "instance": scope["path"],
            "field": "Idempotency-Key",
        }
    ).encode()
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": problem.status,
        "headers": [
            (b"content-type", problems.PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})


class Idempotency(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        # `scopes` lets HTTP requests only through.
        http_scope = cast("HTTPScope", scope)
        headers = MutableScopeHeaders.from_message(scope)  # type: ignore[arg-type]
        key = headers.get(HEADER)
        if key is None or scope.get("method") != "POST":
            await next_app(scope, receive, send)
            return
        if not key or len(key) > MAX_KEY_LENGTH:
            await _send_problem(
                send,
                scope,
                problems.VALIDATION,
                f"Idempotency-Key must have 1 to {MAX_KEY_LENGTH} characters.",
            )
            return
        body = await _read_body(receive)
        principal = scope.get("user")
        owner = principal.key if isinstance(principal, Principal) else "anonymous"
        request_hash = hashlib.sha256(
            http_scope["method"].encode() + b" " + http_scope["path"].encode() + b"\n" + body
        ).hexdigest()

        claimed = await self._claim(owner, key, http_scope, request_hash)
        if not claimed:
            record = (
                await IdempotencyRecord.objects()
                .where((IdempotencyRecord.principal == owner) & (IdempotencyRecord.key == key))
                .first()
            )
            if record is None:  # released between our insert and select: run it
                await self._claim(owner, key, http_scope, request_hash)
            elif record.request_hash != request_hash:
                await _send_problem(
                    send,
                    scope,
                    problems.IDEMPOTENCY_KEY_REUSED,
                    "This Idempotency-Key was already used for a different request.",
                )
                return
            elif record.status_code is None:
                await _send_problem(
                    send,
                    scope,
                    problems.IDEMPOTENCY_IN_PROGRESS,
                    "The first request with this Idempotency-Key has not finished; retry shortly.",
                )
                return
            else:
                await self._replay(send, record)
                return

        status: int | None = None
        response_headers: list[tuple[bytes, bytes]] = []
        response_body: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, response_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                response_body.append(message.get("body", b""))
            await send(message)

        try:
            await next_app(scope, _replay_receive(body), capture)
        finally:
            where = (IdempotencyRecord.principal == owner) & (IdempotencyRecord.key == key)
            if status is None or status >= 500:
                await IdempotencyRecord.delete().where(where)
            else:
                await IdempotencyRecord.update(
                    {
                        IdempotencyRecord.status_code: status,
                        IdempotencyRecord.response_headers: json.dumps(
                            [
                                [k.decode("latin-1"), v.decode("latin-1")]
                                for k, v in response_headers
                            ]
                        ),
                        IdempotencyRecord.response_body: b"".join(response_body),
                    }
                ).where(where)

    async def _claim(self, owner: str, key: str, scope: HTTPScope, request_hash: str) -> bool:
        stale_before = datetime.now(UTC) - STALE_CLAIM
        rows = await IdempotencyRecord.raw(
            """
            INSERT INTO idempotency_record
                (principal, key, method, path, request_hash, status_code, response_headers,
                 response_body, created_at)
            VALUES ({}, {}, {}, {}, {}, NULL, '[]', '', now())
            ON CONFLICT (principal, key) DO UPDATE SET created_at = now()
                WHERE idempotency_record.status_code IS NULL
                  AND idempotency_record.created_at < {}
                  AND idempotency_record.request_hash = excluded.request_hash
            RETURNING 1 AS claimed
            """,
            owner,
            key,
            scope["method"],
            scope["path"][:500],
            request_hash,
            stale_before,
        )
        return bool(rows)

    async def _replay(self, send: Send, record: Any) -> None:
        stored = record.response_headers
        pairs = json.loads(stored) if isinstance(stored, str) else stored
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]
        headers.append((b"idempotent-replayed", b"true"))
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": record.status_code,
            "headers": headers,
        }
        await send(start)
        await send(
            {"type": "http.response.body", "body": bytes(record.response_body), "more_body": False}
        )


# The instance a handler lists: `@post(..., middleware=[IdempotencyMiddleware])`.
IdempotencyMiddleware = Idempotency()
