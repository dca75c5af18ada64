"""Background work of the service layer, run by the arq worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from service.kernel.tables import IdempotencyRecord

log = structlog.get_logger(__name__)

# A client retries within minutes; a day is generous and keeps the table small.
IDEMPOTENCY_RETENTION = timedelta(hours=24)


async def purge_idempotency_records(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Delete idempotency records older than the retention; returns how many went."""
    cutoff = (now or datetime.now(UTC)) - IDEMPOTENCY_RETENTION
    deleted = (
        await IdempotencyRecord.delete()
        .where(IdempotencyRecord.created_at < cutoff)
        .returning(IdempotencyRecord.key)
    )
    log.info("idempotency.purged", deleted=len(deleted), cutoff=cutoff.isoformat())
    return len(deleted)
