"""Idempotency-Key support for POST routes, stored in PostgreSQL so every API process sees it.

Put `middleware=[IdempotencyMiddleware]` on a route handler. The first request with a key
claims it (a row with no status yet), runs, and stores its response; a retry with the same
key and the same body gets that response back (`Idempotent-Replayed: true`); the same key
with another body is refused; a retry while the first still runs gets 409
`idempotency-in-progress` with `Retry-After` (Stripe's model). Only what the handler answered
to a completely received request is stored: a body cut short by a client that went away is
never run and claims nothing; server errors (5xx) and answers about the caller's
circumstances (401, 403, 408, 429) release the key so that a retry runs again.
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
# What a retry that finds the first request still running is told to wait, in seconds.
IN_PROGRESS_RETRY_AFTER = 1
# Answers that say nothing about the request itself, only about the caller's circumstances
# (signed out, not allowed, too slow, too many): a retry must be judged afresh.
_NOT_STORED = frozenset({401, 403, 408, 429})


async def _read_body(receive: Receive, expected_length: str | None) -> bytes | None:
    """The whole request body, or None when the client went away before sending all of it."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None  # a disconnect mid-body: what came is not the request that was meant
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    declared = expected_length.strip() if expected_length is not None else ""
    if declared.isdigit() and int(declared) != len(body):
        return None
    return body


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
    send: Send,
    scope: Scope,
    problem: problems.ProblemType,
    detail: str,
    *,
    retry_after: int | None = None,
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
    headers = [
        (b"content-type", problems.PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": problem.status,
        "headers": headers,
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
        body = await _read_body(receive, headers.get("content-length"))
        if body is None:
            # Nobody is left to answer, and a handler run on half a body would store a
            # refusal that the client's honest retry with the whole body would then replay.
            return
        principal = scope.get("user")
        owner = principal.key if isinstance(principal, Principal) else "anonymous"
        request_hash = hashlib.sha256(
            http_scope["method"].encode() + b" " + http_scope["path"].encode() + b"\n" + body
        ).hexdigest()

        claimed_at = await self._claim_or_answer(send, scope, owner, key, http_scope, request_hash)
        if claimed_at is None:
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
            # Only our own claim: one taken over as stale belongs to another request now.
            if status is None or status >= 500 or status in _NOT_STORED:
                await IdempotencyRecord.raw(
                    "DELETE FROM idempotency_record"
                    " WHERE principal = {} AND key = {} AND created_at = {}",
                    owner,
                    key,
                    claimed_at,
                )
            else:
                await IdempotencyRecord.raw(
                    """
                    UPDATE idempotency_record
                       SET status_code = {}, response_headers = {}, response_body = {}
                     WHERE principal = {} AND key = {} AND created_at = {}
                    """,
                    status,
                    json.dumps(
                        [[k.decode("latin-1"), v.decode("latin-1")] for k, v in response_headers]
                    ),
                    b"".join(response_body),
                    owner,
                    key,
                    claimed_at,
                )

    async def _claim_or_answer(
        self,
        send: Send,
        scope: Scope,
        owner: str,
        key: str,
        http_scope: HTTPScope,
        request_hash: str,
    ) -> datetime | None:
        """Claim the key (its claim time) or answer from the record someone else holds (None).

        The handler runs only under a claim this request won: when the holder releases the key
        between our failed claim and our look at its record, we try to claim it again, and
        answer "in progress" rather than run unclaimed.
        """
        for _ in range(3):
            claimed_at = await self._claim(owner, key, http_scope, request_hash)
            if claimed_at is not None:
                return claimed_at
            record = (
                await IdempotencyRecord.objects()
                .where((IdempotencyRecord.principal == owner) & (IdempotencyRecord.key == key))
                .first()
            )
            if record is None:
                continue  # released between our claim and our look: try to claim it again
            if record.request_hash != request_hash:
                await _send_problem(
                    send,
                    scope,
                    problems.IDEMPOTENCY_KEY_REUSED,
                    "This Idempotency-Key was already used for a different request.",
                )
            elif record.status_code is None:
                await self._in_progress(send, scope)
            else:
                await self._replay(send, record)
            return None
        await self._in_progress(send, scope)
        return None

    async def _in_progress(self, send: Send, scope: Scope) -> None:
        await _send_problem(
            send,
            scope,
            problems.IDEMPOTENCY_IN_PROGRESS,
            "The first request with this Idempotency-Key has not finished; retry shortly.",
            retry_after=IN_PROGRESS_RETRY_AFTER,
        )

    async def _claim(
        self, owner: str, key: str, scope: HTTPScope, request_hash: str
    ) -> datetime | None:
        """The claim's time (which names it) if this request now holds the key, else None."""
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
            RETURNING created_at
            """,
            owner,
            key,
            scope["method"],
            scope["path"][:500],
            request_hash,
            stale_before,
        )
        return rows[0]["created_at"] if rows else None

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
