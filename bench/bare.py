"""The bare Litestar endpoint the benchmarks compare the real routes with.

Served by uvicorn as `bench.bare:bare_app` from the project's root (a namespace package:
`--app-dir bench` would let bench/booking.py shadow the `booking` package).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from litestar import Litestar, post

from bench.harness import http_post
from passes.scan_schemas import NewScan

FACTORY = "bench.bare:bare_app"


class BareAnswer(NewScan):
    admitted: bool = True


def bare_app() -> Litestar:
    """Litestar alone: parse the same JSON body, answer a small JSON. No middleware, no database."""

    @post("/bare", status_code=201)
    async def bare(data: NewScan) -> BareAnswer:
        return BareAnswer(data.scan_id, data.token, data.scanned_at, data.direction)

    return Litestar([bare], debug=False, logging_config=None, openapi_config=None)


def bare_requests(_: int) -> bytes:
    body = json.dumps(
        {
            "scan_id": str(uuid.uuid4()),
            "token": "TL1:" + "A" * 119,
            "scanned_at": datetime.now(UTC).isoformat(),
            "direction": "in",
        }
    ).encode()
    return http_post("/bare", {"Authorization": "Bearer x"}, body)
