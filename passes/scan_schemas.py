"""API shapes of door scans, offline batches and anomalies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from service.kernel.dates import DatedInput

Direction = Literal["in", "out"]
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
MAX_BATCH = 500


class NewScan(DatedInput, forbid_unknown_fields=True):
    """A pass read at the door. `scan_id` is made by the scanner and makes retries safe."""

    scan_id: uuid.UUID
    token: Token
    scanned_at: AwareDatetime
    direction: Direction


class LocalVerdict(msgspec.Struct, forbid_unknown_fields=True):
    """What the scanner decided alone, with its offline verifier."""

    admitted: bool
    reason: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class OfflineScan(DatedInput, forbid_unknown_fields=True):
    scan_id: uuid.UUID
    token: Token
    scanned_at: AwareDatetime
    direction: Direction
    local_verdict: LocalVerdict


class ScanBatch(msgspec.Struct, forbid_unknown_fields=True):
    scans: Annotated[list[OfflineScan], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


class ScanOut(msgspec.Struct):
    """The verdict at the door. Names are given only when the token's signature is good."""

    scan_id: uuid.UUID
    venue_id: uuid.UUID
    direction: str
    scanned_at: datetime
    admitted: bool
    reason: str | None  # stable code (docs/errors.md, "Scan verdicts") when refused
    serial: int | None
    agent_name: str | None
    organisation_name: str | None
    booking_id: uuid.UUID | None
    visit_id: uuid.UUID | None
    walk_in: bool
    # A meeting attendee: the room and who invited them ("Réunion : salle X, invité(e) de …").
    meeting_room: str | None = None
    meeting_host: str | None = None


class AnomalyRef(msgspec.Struct):
    id: uuid.UUID
    kind: str


class OfflineScanOut(msgspec.Struct):
    """The server's verdict on an offline scan, as of its `scanned_at`, and what it opened."""

    scan_id: uuid.UUID
    admitted: bool  # the server's verdict
    reason: str | None
    local_admitted: bool | None
    agent_name: str | None
    booking_id: uuid.UUID | None
    visit_id: uuid.UUID | None
    anomaly_id: uuid.UUID | None  # the first of `anomalies`, or null when the server agrees
    anomalies: list[AnomalyRef]


class ScanBatchOut(msgspec.Struct):
    results: list[OfflineScanOut]


class AnomalyOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    status: str
    detail: str
    created_at: datetime
    venue_id: uuid.UUID
    venue_name: str
    scan_id: uuid.UUID | None
    visit_id: uuid.UUID | None
    scanned_at: datetime | None
    serial: int | None
    offline: bool | None
    local_admitted: bool | None
    agent_id: uuid.UUID | None
    agent_name: str | None
    billable: bool | None  # the visit's current billability
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    decision_comment: str | None


class Decision(msgspec.Struct, forbid_unknown_fields=True):
    comment: Annotated[str, msgspec.Meta(max_length=2000)]
