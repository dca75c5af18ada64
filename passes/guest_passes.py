"""Guest passes: the pass of a meeting's outside guest, in the same signed format as any pass.

It is issued when the guest first opens their invitation link, valid only for the meeting's
window with the door margin (docs/pass-format.md), tied server-side to its attendee row (so
to the venue and the booking), and revoked by the database when the guest is removed or the
meeting cancelled (migration passes_2026_12_04t10_00_00).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from booking.errors import MeetingClosed
from booking.services.meetings import DOOR_MARGIN, LIVE_BOOKING, Invitation, invitation
from passes.keys import Keyring
from passes.services import sign
from passes.tables import Pass, PassStatusEvent


async def guest_pass(
    secret: str, token: str, keyring: Keyring, *, now: datetime | None = None
) -> tuple[Invitation, Pass | None]:
    """The invitation a link names and, for a guest still invited, their live guest pass."""
    now = now or datetime.now(UTC)
    found = await invitation(secret, token)
    if found.attendee.kind != "guest" or not found.open or found.ends_at + DOOR_MARGIN <= now:
        return found, None
    return found, await _ensure(found.attendee.id, keyring, now)


async def _ensure(attendee_id: uuid.UUID, keyring: Keyring, now: datetime) -> Pass:
    async with Pass._meta.db.transaction():
        # The attendee's row lock serialises two first openings of the same link.
        rows = await Pass.raw(
            "SELECT a.removed_at, b.status, b.starts_at, b.ends_at FROM meeting_attendee a "
            "JOIN booking b ON b.id = a.booking WHERE a.id = {} FOR UPDATE OF a",
            attendee_id,
        )
        meeting = rows[0]
        if meeting["removed_at"] is not None or meeting["status"] not in LIVE_BOOKING:
            raise MeetingClosed()
        existing = (
            await Pass.objects()
            .where((Pass.attendee == attendee_id) & (Pass.status != "revoked"))
            .first()
        )
        if existing is not None:
            return existing
        serial_row = await Pass.raw("SELECT nextval('pass_serial_seq') AS serial")
        serial = int(serial_row[0]["serial"])
        not_before = (meeting["starts_at"] - DOOR_MARGIN).replace(microsecond=0)
        not_after = (meeting["ends_at"] + DOOR_MARGIN).replace(microsecond=0)
        issued = Pass(
            serial=serial,
            agent=None,
            attendee=attendee_id,
            status="active",
            key_id=keyring.current.key_id,
            not_before=not_before,
            not_after=not_after,
            token=sign(keyring, serial, not_before, not_after),
            issued_at=now,
            status_changed_at=now,
        )
        await issued.save()
        await PassStatusEvent(serial=serial, status="active").save()
        return issued
