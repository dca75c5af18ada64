"""Piccolo tables of the pass: signing keys, passes and their status history, scans, visits, anomalies.

Visits live here because a door scan creates them; `billing/` prices them into documents.
"""

from __future__ import annotations

import uuid

from piccolo.columns import (
    UUID,
    BigSerial,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from booking.tables import Booking, MeetingAttendee, Organisation, User, Venue, Workspace


class DoorDevice(Table, tablename="door_device"):
    """A scanner with no personal login, authenticated by a revocable token scoped to one venue."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=False)
    name = Varchar(length=100)
    # SHA-256 of the token: the token itself is shown once, at creation.
    token_hash = Varchar(length=64, unique=True)
    token_prefix = Varchar(length=16)
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class PassKey(Table, tablename="pass_key"):
    """A public Ed25519 key that signs passes; the private half never enters the database."""

    key_id = Integer(unique=True)
    public_key = Bytea()
    created_at = Timestamptz(default=TimestamptzNow())
    # No new pass is signed with a retired key; passes it signed stay valid until they expire.
    retired_at = Timestamptz(null=True, default=None)


class Pass(Table, tablename="pass"):
    """An agent's pass, or a meeting guest's pass; one live pass per agent or guest.

    Reissue revokes the old one. A guest pass (`attendee`, no `agent`) is valid only for its
    meeting's window and is revoked when the guest is removed or the meeting cancelled.
    """

    id = UUID(primary_key=True, default=uuid.uuid4)
    serial = Integer(unique=True)  # from the pass_serial sequence, see the migration
    agent = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    attendee = ForeignKey(
        references=MeetingAttendee, on_delete=OnDelete.restrict, null=True, default=None
    )
    status = Varchar(length=10, default="active")  # active | suspended | revoked
    key_id = Integer()
    not_before = Timestamptz()
    not_after = Timestamptz()
    token = Text()  # signed, no personal data: version, key id, serial, validity
    issued_at = Timestamptz(default=TimestamptzNow())
    status_changed_at = Timestamptz(default=TimestamptzNow())
    status_reason = Text(null=True, default=None)


class PassStatusEvent(Table, tablename="pass_status_event"):
    """Every status change of a pass, in order: the delta feed devices sync from a cursor."""

    id = BigSerial(primary_key=True)
    serial = Integer()
    status = Varchar(length=10)
    at = Timestamptz(default=TimestamptzNow())


class Visit(Table, tablename="visit"):
    """An agent's presence at a venue on a local date, priced when it happens (rates copied)."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    # None once the retention has replaced the agent by `agent_pseudonym` (billing/retention.py).
    agent = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    agent_pseudonym = Varchar(length=12, null=True, default=None)
    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=False)
    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=False)
    workspace = ForeignKey(references=Workspace, on_delete=OnDelete.restrict, null=False)
    booking = ForeignKey(references=Booking, on_delete=OnDelete.restrict, null=True, default=None)
    local_date = Date()
    unit = Varchar(length=10)
    quantity = Integer(default=1)
    walk_in = Boolean(default=False)
    checked_in_at = Timestamptz()
    checked_out_at = Timestamptz(null=True, default=None)
    venue_rate_cents = Integer()
    venue_vat_rate = Numeric(digits=(5, 4))
    organisation_rate_cents = Integer()
    organisation_vat_rate = Numeric(digits=(5, 4))
    # False while an anomaly on it waits for the network's decision, or after a rejection.
    billable = Boolean(default=True)
    # A meeting attendee's visit: counted in the statistics, never billed (the room is).
    attendee = ForeignKey(
        references=MeetingAttendee, on_delete=OnDelete.restrict, null=True, default=None
    )
    created_at = Timestamptz(default=TimestamptzNow())


class Scan(Table, tablename="scan"):
    """Every scan at a door, kept for the audit: who scanned, where, when, and the verdict.

    After three months the retention (billing/retention.py) removes every link to a person
    (agent, serial, booking, visit); venue, device or scanner, time and verdict stay.
    """

    scan_id = UUID(primary_key=True)  # made by the device: the idempotency key
    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=False)
    device = ForeignKey(references=DoorDevice, on_delete=OnDelete.restrict, null=True, default=None)
    scanned_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    serial = Integer(null=True, default=None)
    agent = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    direction = Varchar(length=3)  # in | out
    scanned_at = Timestamptz()
    received_at = Timestamptz(default=TimestamptzNow())
    offline = Boolean(default=False)
    local_admitted = Boolean(null=True, default=None)  # the device's own verdict, offline
    admitted = Boolean()
    reason = Varchar(length=40, null=True, default=None)
    booking = ForeignKey(references=Booking, on_delete=OnDelete.restrict, null=True, default=None)
    visit = ForeignKey(references=Visit, on_delete=OnDelete.restrict, null=True, default=None)


class Anomaly(Table, tablename="anomaly"):
    """Where the server disagrees with what happened at the door; the network decides later."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    kind = Varchar(length=40)
    scan = ForeignKey(references=Scan, on_delete=OnDelete.restrict, null=True, default=None)
    visit = ForeignKey(references=Visit, on_delete=OnDelete.restrict, null=True, default=None)
    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=False)
    detail = Text()
    status = Varchar(length=10, default="open")  # open | accepted | rejected
    created_at = Timestamptz(default=TimestamptzNow())
    decided_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decision_comment = Text(null=True, default=None)
