"""Door scans and anomalies over HTTP: thin translations to passes.scans and passes.anomalies."""

from __future__ import annotations

import uuid
from typing import Any, Literal

import msgspec
from litestar import Controller, Litestar, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import JSONBody

from passes import anomalies, scans
from passes.errors import TooManyScans
from passes.keys import PublicKeyCache
from passes.scan_schemas import (
    AnomalyOut,
    AnomalyRef,
    Decision,
    NewScan,
    OfflineScanOut,
    ScanBatch,
    ScanBatchOut,
    ScanOut,
)
from passes.verdicts import ScanInput, ScanOutcome
from service.kernel.auth import CurrentPrincipal, allow
from service.kernel.idempotency import IdempotencyMiddleware
from service.kernel.identity import Principal, Role
from service.kernel.pagination import Limit, Offset, Page
from service.kernel.throttle import PerSecondLimit

# A scanner reads a QR code in about a second; ten a second is a stuck or hostile loop.
SCANS_PER_SECOND = 10

SCANNERS = allow(
    Role.VENUE_STAFF, Role.VENUE_ADMIN, Role.NETWORK_ADMIN, devices=True, venue_scope="venue_id"
)


async def scan_rate_limit(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Runs after the access guard: counts the scanner's requests per second (429 past it)."""
    principal = connection.scope.get("user")
    if isinstance(principal, Principal):
        limit = PerSecondLimit(connection.app.state.redis, "scan-rate", SCANS_PER_SECOND)
        if not await limit.hit(principal.key):
            raise TooManyScans(retry_after=1)


def _key_cache(app: Litestar) -> PublicKeyCache:
    # One per application instance, so a test's fresh app never sees another test's keys.
    cache = app.state.get("pass_key_cache")
    if cache is None:
        cache = app.state.pass_key_cache = PublicKeyCache()
    return cache


def _scan_out(outcome: ScanOutcome) -> ScanOut:
    return ScanOut(
        scan_id=outcome.scan_id,
        venue_id=outcome.venue_id,
        direction=outcome.direction,
        scanned_at=outcome.scanned_at,
        admitted=outcome.admitted,
        reason=outcome.reason,
        serial=outcome.serial,
        agent_name=outcome.agent_name,
        organisation_name=outcome.organisation_name,
        booking_id=outcome.booking_id,
        visit_id=outcome.visit_id,
        walk_in=outcome.walk_in,
        meeting_room=outcome.meeting_room,
        meeting_host=outcome.meeting_host,
    )


def _offline_out(outcome: ScanOutcome) -> OfflineScanOut:
    refs = [AnomalyRef(a.id, a.kind) for a in outcome.anomalies]
    return OfflineScanOut(
        scan_id=outcome.scan_id,
        admitted=outcome.admitted,
        reason=outcome.reason,
        local_admitted=outcome.local_admitted,
        agent_name=outcome.agent_name,
        booking_id=outcome.booking_id,
        visit_id=outcome.visit_id,
        anomaly_id=refs[0].id if refs else None,
        anomalies=refs,
    )


class VenueScanController(Controller):
    path = "/venues/{venue_id:uuid}"
    tags = ["scans"]
    guards = [scan_rate_limit]

    @post(
        "/scans",
        opt=SCANNERS,
        middleware=[IdempotencyMiddleware],
        status_code=201,
        summary="Check a pass in or out at the door (scan_id makes retries safe)",
    )
    async def scan(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        venue_id: uuid.UUID,
        data: JSONBody[NewScan],
    ) -> Response[ScanOut]:
        outcome = await scans.scan(
            principal,
            venue_id,
            ScanInput(data.scan_id, data.token, data.scanned_at, data.direction),
            _key_cache(request.app),
        )
        headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
        return Response(_scan_out(outcome), status_code=201, headers=headers)

    @post(
        "/scans:batch",
        opt=SCANNERS,
        status_code=200,
        summary="Upload up to 500 scans made offline; each is re-judged as of its scanned_at",
    )
    async def batch(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        venue_id: uuid.UUID,
        data: JSONBody[ScanBatch],
    ) -> ScanBatchOut:
        outcomes = await scans.scan_batch(
            principal,
            venue_id,
            [
                ScanInput(
                    s.scan_id,
                    s.token,
                    s.scanned_at,
                    s.direction,
                    local_admitted=s.local_verdict.admitted,
                    local_reason=s.local_verdict.reason,
                )
                for s in data.scans
            ],
            _key_cache(request.app),
        )
        return ScanBatchOut([_offline_out(o) for o in outcomes])


class AnomalyController(Controller):
    path = "/anomalies"
    tags = ["scans"]

    @get(
        "",
        opt=allow(Role.NETWORK_ADMIN),
        summary="Anomalies to review (open first), by status and venue",
    )
    async def list_anomalies(
        self,
        status: Literal["open", "accepted", "rejected"] | None = None,
        venue_id: uuid.UUID | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[AnomalyOut]:
        rows, total = await anomalies.listing(
            status=status, venue_id=venue_id, limit=limit, offset=offset
        )
        return Page([msgspec.convert(r, AnomalyOut) for r in rows], total, limit, offset)

    @post(
        "/{anomaly_id:uuid}/accept",
        opt=allow(Role.NETWORK_ADMIN),
        status_code=200,
        summary="Accept: the visit becomes billable (once every anomaly on it is accepted)",
    )
    async def accept(
        self, principal: CurrentPrincipal, anomaly_id: uuid.UUID, data: JSONBody[Decision]
    ) -> AnomalyOut:
        row = await anomalies.decide(principal, anomaly_id, accept=True, comment=data.comment)
        return msgspec.convert(row, AnomalyOut)

    @post(
        "/{anomaly_id:uuid}/reject",
        opt=allow(Role.NETWORK_ADMIN),
        status_code=200,
        summary="Reject: the visit is not billed",
    )
    async def reject(
        self, principal: CurrentPrincipal, anomaly_id: uuid.UUID, data: JSONBody[Decision]
    ) -> AnomalyOut:
        row = await anomalies.decide(principal, anomaly_id, accept=False, comment=data.comment)
        return msgspec.convert(row, AnomalyOut)


SCAN_API_CONTROLLERS: list[type] = [VenueScanController, AnomalyController]
