"""Team meetings: the attendees of a booked meeting room, their invitations and their answers.

Every change to one meeting runs in one transaction that first locks the booking's row
(SELECT … FOR UPDATE): the count of attendees against the room's capacity, the single
organiser and the cancellation all serialise on it, so two organisers filling the last
places at once never exceed the capacity. The partial unique indexes of the table refuse
the same person twice whatever Python checked before.

The booking's holder (`booking.agent`) is the meeting's first organiser. Handing the role
to a colleague changes who manages the invitations and who the invitations name as
ORGANIZER; the booking stays its holder's: the room is billed to the organisation that
booked it and weighs on the holder's allowance (when the organisation's policy says so).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import jwt

from booking import calendars
from booking.errors import (
    AgentAlreadyBooked,
    AllowanceExceeded,
    AlreadyInvited,
    AnswerLinkInvalid,
    Inactive,
    InThePast,
    MeetingClosed,
    MeetingFull,
    NotAMeeting,
    RoomTaken,
    WorkspaceUnavailable,
)
from booking.services import announcements, placement
from booking.services.accounts import ERASED_DOMAIN, normalise_email
from booking.services.allowance import allowance_units, units_used
from booking.services.booking_lists import BookingParties, may_see
from booking.tables import MeetingAttendee, Organisation, Outbox, User, Venue, Workspace
from service.kernel import audit
from service.kernel.errors import Conflict, Forbidden, InvalidValue, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Principal, Role
from service.kernel.text import CONTROL_CHARACTERS

LIVE_BOOKING = ("confirmed", "checked_in")
PARTSTATS = ("accepted", "declined")
# An attendee may come through the door this long before the meeting and leave after it.
DOOR_MARGIN = timedelta(minutes=30)
_ANSWER_PURPOSE = "meeting-answer"
# Beyond normalise_email: one address, printable, no list separators or angle brackets.
_EMAIL_SHAPE = re.compile(r"^[^\s<>,;:\"()\[\]\\@]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


@dataclass(frozen=True)
class Invitee:
    """A colleague by account id or by email, or an outside guest by email and name."""

    user_id: uuid.UUID | None = None
    email: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Attendee:
    id: uuid.UUID
    booking_id: uuid.UUID
    kind: str
    person_id: uuid.UUID | None
    email: str
    display_name: str
    role: str
    partstat: str
    invited_at: datetime
    answered_at: datetime | None
    removed_at: datetime | None

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> Attendee:
        return cls(
            id=row["id"],
            booking_id=row["booking"],
            kind=row["kind"],
            person_id=row["person"],
            email=row["email"],
            display_name=row["display_name"],
            role=row["role"],
            partstat=row["partstat"],
            invited_at=row["invited_at"],
            answered_at=row["answered_at"],
            removed_at=row["removed_at"],
        )


# --- answer links -------------------------------------------------------------------------


def answer_token(secret: str, attendee_id: uuid.UUID) -> str:
    """The signed part of an attendee's link: answers and, for a guest, shows the guest pass."""
    return jwt.encode(
        {"att": str(attendee_id), "use": _ANSWER_PURPOSE}, secret + ":" + _ANSWER_PURPOSE
    )


def attendee_of_token(secret: str, token: str) -> uuid.UUID:
    """The attendee a link names, or AnswerLinkInvalid when it was not signed by us."""
    try:
        claims = jwt.decode(
            token, secret + ":" + _ANSWER_PURPOSE, algorithms=["HS256"], options={"require": []}
        )
        if claims.get("use") != _ANSWER_PURPOSE:
            raise AnswerLinkInvalid()
        return uuid.UUID(str(claims["att"]))
    except (jwt.InvalidTokenError, KeyError, ValueError):
        raise AnswerLinkInvalid() from None


def answer_url(base_url: str, secret: str, attendee_id: uuid.UUID) -> str:
    return f"{base_url}/reunion/{answer_token(secret, attendee_id)}"


# --- the meeting under lock ---------------------------------------------------------------


async def _lock(booking_id: uuid.UUID) -> dict[str, Any]:
    """The booking and its room, its row locked for the rest of the transaction."""
    rows = await MeetingAttendee.raw(
        "SELECT b.*, w.kind AS workspace_kind, w.capacity, w.name AS workspace_name "
        "FROM booking b JOIN workspace w ON w.id = b.workspace WHERE b.id = {} FOR UPDATE OF b",
        booking_id,
    )
    if not rows:
        raise NotFound(N_("No such booking."))
    return rows[0]


async def _live(booking_id: uuid.UUID) -> list[dict[str, Any]]:
    return await MeetingAttendee.raw(
        "SELECT * FROM meeting_attendee WHERE booking = {} AND removed_at IS NULL "
        "ORDER BY role <> 'organiser', invited_at, display_name",
        booking_id,
    )


async def _ensure_organiser(meeting: dict[str, Any]) -> list[dict[str, Any]]:
    """The live attendees; the holder becomes the organiser the first time anyone asks."""
    rows = await _live(meeting["id"])
    if rows or meeting["agent"] is None:
        return rows
    holder = await User.select(User.email, User.display_name).where(User.id == meeting["agent"])
    await MeetingAttendee(
        booking=meeting["id"],
        kind="colleague",
        person=meeting["agent"],
        email=holder[0]["email"],
        display_name=holder[0]["display_name"],
        role="organiser",
        partstat="accepted",
        invited_by=meeting["agent"],
        answered_at=meeting["created_at"],
    ).save()
    return await _live(meeting["id"])


def _organiser(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((r for r in rows if r["role"] == "organiser"), None)


def _may_see(principal: Principal, meeting: dict[str, Any], rows: list[dict[str, Any]]) -> bool:
    attending = principal.user_id is not None and any(
        r["person"] == principal.user_id for r in rows
    )
    return attending or may_see(principal, BookingParties.of_row(meeting))


def _authorise(principal: Principal, meeting: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """The organiser, an admin of the booking's organisation or of the network manage it."""
    if not _may_see(principal, meeting, rows):
        raise NotFound(N_("No such booking."))
    if principal.is_network_admin:
        return
    if principal.role == Role.ORG_ADMIN and principal.organisation_id == meeting["organisation"]:
        return
    organiser = _organiser(rows)
    if principal.role == Role.AGENT and organiser and organiser["person"] == principal.user_id:
        return
    raise Forbidden(N_("Only the meeting's organiser or an admin manages its attendees."))


def _open(meeting: dict[str, Any], now: datetime) -> None:
    if meeting["workspace_kind"] != "meeting_room":
        raise NotAMeeting()
    if meeting["status"] not in LIVE_BOOKING or meeting["ends_at"] <= now:
        raise MeetingClosed()


# --- who is invited -----------------------------------------------------------------------


def _guest_email(raw: str) -> str:
    if len(raw) > 254 or CONTROL_CHARACTERS.search(raw):
        raise InvalidValue(N_("This is not an email address."), field="email")
    email = normalise_email(raw)
    if not _EMAIL_SHAPE.match(email):
        raise InvalidValue(N_("This is not an email address."), field="email")
    return email


async def _resolve(invitee: Invitee) -> tuple[str, uuid.UUID | None, str, str]:
    """(kind, person, email, name) of an invitee, or the error that says who they cannot be."""
    if (invitee.user_id is None) == (invitee.email is None):
        raise InvalidValue(N_("Give either a colleague's user_id or an email."), field="email")
    if invitee.user_id is not None:
        account = await User.select().where(User.id == invitee.user_id).first()
        if account is None:
            raise NotFound(N_("No such person."), field="user_id")
    else:
        assert invitee.email is not None
        email = _guest_email(invitee.email)
        account = await User.select().where(User.email.ilike(email)).first()
        if account is None:
            name = CONTROL_CHARACTERS.sub("", (invitee.name or "").strip())
            if not name:
                raise InvalidValue(N_("Give the guest's name."), field="name")
            if len(name) > 200:
                raise InvalidValue(N_("A name has at most 200 characters."), field="name")
            return "guest", None, email, name
    field = "user_id" if invitee.user_id is not None else "email"
    if account["email"].lower().endswith("@" + ERASED_DOMAIN):
        raise NotFound(N_("No such person."), field=field)
    if account["role"] != Role.AGENT.value:
        if invitee.user_id is not None:
            raise InvalidValue(
                N_("Only agents of the network are invited as colleagues."), field=field
            )
        # Someone of the network without a pass (an admin, venue staff): a guest like any.
        name = (
            CONTROL_CHARACTERS.sub("", (invitee.name or "").strip())[:200]
            or account["display_name"]
        )
        return "guest", None, account["email"], name
    if not account["active"]:
        raise Inactive(N_("This person's account is deactivated."), field=field)
    return "colleague", account["id"], account["email"], account["display_name"]


async def invite(
    principal: Principal,
    booking_id: uuid.UUID,
    invitee: Invitee,
    *,
    base_url: str,
    secret: str,
    now: datetime | None = None,
) -> Attendee:
    """Invite one person to the meeting, within the room's capacity, and send their REQUEST."""
    now = now or datetime.now(UTC)
    kind, person, email, name = await _resolve(invitee)
    async with MeetingAttendee._meta.db.transaction():
        meeting = await _lock(booking_id)
        rows = await _ensure_organiser(meeting)
        _authorise(principal, meeting, rows)
        _open(meeting, now)
        if any(
            r["email"].lower() == email.lower() or (person is not None and r["person"] == person)
            for r in rows
        ):
            raise AlreadyInvited(field="user_id" if invitee.user_id else "email")
        if len(rows) >= meeting["capacity"]:
            raise MeetingFull(capacity=meeting["capacity"])
        attendee_id = uuid.uuid4()
        try:
            await MeetingAttendee(
                id=attendee_id,
                booking=booking_id,
                kind=kind,
                person=person,
                email=email,
                display_name=name,
                role="attendee",
                partstat="needs_action",
                invited_by=principal.user_id,
                invited_at=now,
            ).save()
        except asyncpg.UniqueViolationError:
            raise AlreadyInvited(field="user_id" if invitee.user_id else "email") from None
        await _send_request(meeting, attendee_id, base_url=base_url, secret=secret)
        if audit.administrative(principal):
            await audit.act(
                "meeting.invite",
                "booking",
                booking_id,
                after={"attendee": attendee_id, "kind": kind, "person": person},
            )
    return await _one(attendee_id)


async def remove(
    principal: Principal,
    booking_id: uuid.UUID,
    attendee_id: uuid.UUID,
    *,
    base_url: str,
    now: datetime | None = None,
) -> Attendee:
    """Uninvite one attendee: they get a CANCEL of their own; a guest's pass is revoked."""
    now = now or datetime.now(UTC)
    async with MeetingAttendee._meta.db.transaction():
        meeting = await _lock(booking_id)
        rows = await _ensure_organiser(meeting)
        _authorise(principal, meeting, rows)
        target = next((r for r in rows if r["id"] == attendee_id), None)
        if target is None:
            raise NotFound(N_("No such attendee."))
        _open(meeting, now)
        if target["role"] == "organiser":
            raise Conflict(N_("Hand the organiser role to someone else before removing them."))
        if target["person"] is not None and target["person"] == meeting["agent"]:
            raise Conflict(N_("The booking's holder stays invited; cancel the booking instead."))
        # The pass_revoked_with_attendee trigger revokes a guest's pass in this transaction.
        await MeetingAttendee.update(
            {MeetingAttendee.removed_at: now, MeetingAttendee.removed_by: principal.user_id}
        ).where(MeetingAttendee.id == attendee_id)
        await MeetingAttendee.raw(
            "UPDATE booking SET sequence = sequence + 1, updated_at = {} WHERE id = {}",
            now,
            booking_id,
        )
        entry = await announcements.calendar_entry(booking_id, base_url)
        organiser = _organiser(rows)
        assert organiser is not None
        await _mail(
            entry,
            "meeting_removed",
            Attendee.of_row(target),
            subject=f"Réunion annulée pour vous : {_when(entry)}",
            body=(
                f"Bonjour {target['display_name']},\n\n{organiser['display_name']} vous a retiré(e) "
                f"de la réunion « {entry.summary} » {_when(entry)}.\n"
            ),
            calendar=calendars.meeting_invitation(
                entry, _participant(organiser), [_participant(target)], method="CANCEL"
            ),
            method="CANCEL",
        )
        if audit.administrative(principal):
            await audit.act(
                "meeting.remove",
                "booking",
                booking_id,
                before={
                    "attendee": attendee_id,
                    "kind": target["kind"],
                    "person": target["person"],
                },
            )
    return await _one(attendee_id)


async def hand_over(
    principal: Principal,
    booking_id: uuid.UUID,
    attendee_id: uuid.UUID,
    *,
    base_url: str | None = None,
    secret: str | None = None,
    now: datetime | None = None,
) -> Attendee:
    """Make another colleague the organiser; the previous organiser stays an attendee.

    Every attendee but the booking's holder gets a REQUEST naming the new ORGANIZER."""
    now = now or datetime.now(UTC)
    async with MeetingAttendee._meta.db.transaction():
        meeting = await _lock(booking_id)
        rows = await _ensure_organiser(meeting)
        _authorise(principal, meeting, rows)
        target = next((r for r in rows if r["id"] == attendee_id), None)
        if target is None:
            raise NotFound(N_("No such attendee."))
        _open(meeting, now)
        if target["kind"] != "colleague":
            raise Conflict(N_("Only a colleague with an account can organise a meeting."))
        if target["role"] == "organiser":
            return Attendee.of_row(target)
        active = await User.select(User.active).where(User.id == target["person"]).first()
        if active is None or not active["active"]:
            raise Inactive(N_("This person's account is deactivated."))
        previous = _organiser(rows)
        if previous is not None:
            await MeetingAttendee.update({MeetingAttendee.role: "attendee"}).where(
                MeetingAttendee.id == previous["id"]
            )
        await MeetingAttendee.update(
            {MeetingAttendee.role: "organiser", MeetingAttendee.partstat: "accepted"}
        ).where(MeetingAttendee.id == attendee_id)
        # A new ORGANIZER is a new version of the meeting (RFC 5546): everyone is told.
        await MeetingAttendee.raw(
            "UPDATE booking SET sequence = sequence + 1, updated_at = {} WHERE id = {}",
            now,
            booking_id,
        )
        if base_url is not None and secret is not None:
            changed = await _lock(booking_id)
            for row in await _live(booking_id):
                if row["person"] is None or row["person"] != meeting["agent"]:
                    await _send_request(changed, row["id"], base_url=base_url, secret=secret)
        if audit.administrative(principal):
            await audit.act(
                "meeting.hand_over",
                "booking",
                booking_id,
                before={"organiser": previous["person"] if previous else None},
                after={"organiser": target["person"]},
            )
    return await _one(attendee_id)


async def attendees(principal: Principal, booking_id: uuid.UUID) -> list[Attendee]:
    """The meeting's attendees still invited, the organiser first, with their answers."""
    async with MeetingAttendee._meta.db.transaction():
        meeting = await _lock(booking_id)
        rows = await _live(booking_id)
        if not _may_see(principal, meeting, rows):
            raise NotFound(N_("No such booking."))
        if meeting["workspace_kind"] != "meeting_room":
            raise NotAMeeting()
        if not rows and meeting["status"] in LIVE_BOOKING:
            rows = await _ensure_organiser(meeting)
    return [Attendee.of_row(r) for r in rows]


async def _one(attendee_id: uuid.UUID) -> Attendee:
    rows = await MeetingAttendee.raw("SELECT * FROM meeting_attendee WHERE id = {}", attendee_id)
    return Attendee.of_row(rows[0])


# --- answers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invitation:
    """What an attendee's link shows: the meeting, who invites, and their own answer."""

    attendee: Attendee
    booking_id: uuid.UUID
    status: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    venue_id: uuid.UUID
    venue_name: str
    address: str
    room_name: str
    organiser_name: str

    @property
    def open(self) -> bool:
        return self.status in LIVE_BOOKING and self.attendee.removed_at is None


async def invitation(secret: str, token: str) -> Invitation:
    attendee_id = attendee_of_token(secret, token)
    rows = await MeetingAttendee.raw(
        """
        SELECT a.*, b.status, b.starts_at, b.ends_at, v.id AS venue_id, v.timezone,
               v.name AS venue_name, v.address || ', ' || v.postcode || ' ' || v.commune AS address,
               w.name AS room_name,
               (SELECT o.display_name FROM meeting_attendee o WHERE o.booking = a.booking
                   AND o.role = 'organiser' AND o.removed_at IS NULL) AS organiser_name
          FROM meeting_attendee a JOIN booking b ON b.id = a.booking
          JOIN venue v ON v.id = b.venue JOIN workspace w ON w.id = b.workspace
         WHERE a.id = {}
        """,
        attendee_id,
    )
    if not rows:
        raise AnswerLinkInvalid()
    row = rows[0]
    return Invitation(
        attendee=Attendee.of_row(row),
        booking_id=row["booking"],
        status=row["status"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        timezone=row["timezone"],
        venue_id=row["venue_id"],
        venue_name=row["venue_name"],
        address=row["address"],
        room_name=row["room_name"],
        organiser_name=row["organiser_name"] or "",
    )


async def answer(
    secret: str, token: str, partstat: str, *, now: datetime | None = None
) -> Attendee:
    """Accept or decline through the signed link (no sign-in): refused once the meeting is off."""
    now = now or datetime.now(UTC)
    if partstat not in PARTSTATS:
        raise InvalidValue(N_("Answer accepted or declined."), field="partstat")
    attendee_id = attendee_of_token(secret, token)
    async with MeetingAttendee._meta.db.transaction():
        found = await MeetingAttendee.select(MeetingAttendee.booking).where(
            MeetingAttendee.id == attendee_id
        )
        if not found:
            raise AnswerLinkInvalid()
        meeting = await _lock(found[0]["booking"])
        row = await _one(attendee_id)
        if row.removed_at is not None:
            raise MeetingClosed(N_("You are no longer invited to this meeting."))
        _open(meeting, now)
        await MeetingAttendee.update(
            {MeetingAttendee.partstat: partstat, MeetingAttendee.answered_at: now}
        ).where(MeetingAttendee.id == attendee_id)
        if row.partstat != partstat and row.role != "organiser":
            await _tell_the_organiser(meeting, row, partstat)
    return await _one(attendee_id)


async def _tell_the_organiser(meeting: dict[str, Any], who: Attendee, partstat: str) -> None:
    """A mail to the organiser when an attendee's answer changes (the same answer twice: none).

    Plain text: the organiser's calendar holds the booking itself, not an invitation to reply to.
    """
    organiser = _organiser(await _live(meeting["id"]))
    if organiser is None:
        return
    venue = await Venue.select(Venue.name, Venue.timezone).where(Venue.id == meeting["venue"])
    zone = ZoneInfo(venue[0]["timezone"])
    start, end = meeting["starts_at"].astimezone(zone), meeting["ends_at"].astimezone(zone)
    when = f"le {start:%d/%m/%Y} de {start:%H:%M} à {end:%H:%M}"
    verb = "a accepté" if partstat == "accepted" else "a décliné"
    await Outbox(
        kind="meeting_answer",
        recipient=organiser["email"],
        subject=f"{who.display_name} {verb} votre invitation : réunion {when}",
        body=(
            f"Bonjour {organiser['display_name']},\n\n{who.display_name} {verb} votre invitation "
            f"à la réunion {when}, salle {meeting['workspace_name']}, {venue[0]['name']}.\n"
        ),
        booking=meeting["id"],
    ).save()


# --- invitations by email (iTIP) ----------------------------------------------------------


def _participant(row: dict[str, Any]) -> calendars.Participant:
    return calendars.Participant(
        email=row["email"],
        name=row["display_name"],
        partstat=row["partstat"],
        organiser=row["role"] == "organiser",
    )


def _when(entry: calendars.CalendarEntry) -> str:
    zone = ZoneInfo(entry.timezone)
    start, end = entry.starts_at.astimezone(zone), entry.ends_at.astimezone(zone)
    return f"le {start:%d/%m/%Y} de {start:%H:%M} à {end:%H:%M}"


async def _mail(
    entry: calendars.CalendarEntry,
    kind: str,
    to: Attendee,
    *,
    subject: str,
    body: str,
    calendar: bytes,
    method: str,
) -> None:
    await Outbox(
        kind=kind,
        recipient=to.email,
        subject=subject,
        body=body,
        calendar=calendar.decode(),
        calendar_method=method,
        booking=entry.booking_id,
    ).save()


async def _send_request(
    meeting: dict[str, Any], attendee_id: uuid.UUID, *, base_url: str, secret: str
) -> None:
    """One REQUEST to one attendee, listing everyone still invited with their answer."""
    rows = await _live(meeting["id"])
    organiser = _organiser(rows)
    assert organiser is not None
    target = next(r for r in rows if r["id"] == attendee_id)
    entry = await announcements.calendar_entry(meeting["id"], base_url)
    entry = replace(entry, summary=f"Réunion : {meeting['workspace_name']} — {entry.venue_name}")
    link = answer_url(base_url, secret, attendee_id)
    guest = (
        "\nVotre pass invité (QR à présenter à l'accueil) est sur la même page.\n"
        if target["kind"] == "guest"
        else "\nPrésentez votre Pass Tiers-Lieux à l'accueil.\n"
    )
    await _mail(
        entry,
        "meeting_request",
        Attendee.of_row(target),
        subject=f"Invitation : réunion {_when(entry)} — {entry.venue_name}",
        body=(
            f"Bonjour {target['display_name']},\n\n{organiser['display_name']} vous invite à une "
            f"réunion {_when(entry)}, salle {meeting['workspace_name']}, {entry.venue_name}.\n"
            f"Adresse : {entry.address}\n{guest}\nRépondre (accepter ou décliner) : {link}\n"
        ),
        calendar=calendars.meeting_invitation(
            entry,
            _participant(organiser),
            [_participant(r) for r in rows],
            method="REQUEST",
        ),
        method="REQUEST",
    )


async def announce_cancellation(booking_id: uuid.UUID, base_url: str) -> None:
    """The meeting is cancelled: a CANCEL to every attendee still invited but its holder.

    Called in the cancellation's transaction (booking.services.cancellations), whatever
    cancelled it (the organiser, a venue, a closure, an erasure); guest passes are revoked
    there too, by the database (trigger pass_revoked_with_booking).
    """
    rows = await _live(booking_id)
    organiser = _organiser(rows)
    if organiser is None:
        return
    entry = await announcements.calendar_entry(booking_id, base_url)
    holder = await MeetingAttendee.raw("SELECT agent FROM booking WHERE id = {}", booking_id)
    others = [r for r in rows if r["person"] is None or r["person"] != holder[0]["agent"]]
    calendar = calendars.meeting_invitation(
        entry, _participant(organiser), [_participant(r) for r in rows], method="CANCEL"
    )
    for row in others:
        await _mail(
            entry,
            "meeting_cancelled",
            Attendee.of_row(row),
            subject=f"Réunion annulée : {_when(entry)} — {entry.venue_name}",
            body=(
                f"Bonjour {row['display_name']},\n\nLa réunion « {entry.summary} » "
                f"{_when(entry)} est annulée.\n"
            ),
            calendar=calendar,
            method="CANCEL",
        )


@dataclass(frozen=True)
class Colleague:
    id: uuid.UUID
    display_name: str
    email: str


async def colleagues(
    principal: Principal, booking_id: uuid.UUID, query: str, *, limit: int = 10
) -> list[Colleague]:
    """Suggestions to invite: active agents of the organisation that booked, by name or email.

    Colleagues of other organisations are invited by their exact email: the suggestions show
    nobody outside the caller's own organisation.
    """
    async with MeetingAttendee._meta.db.transaction():
        meeting = await _lock(booking_id)
        rows = await _ensure_organiser(meeting) if meeting["status"] in LIVE_BOOKING else []
        _authorise(principal, meeting, rows)
    organisation = principal.organisation_id or meeting["organisation"]
    pattern = "%" + query.strip().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    found = await User.raw(
        "SELECT id, display_name, email FROM app_user WHERE organisation = {} AND role = 'agent' "
        "AND active AND lower(email) NOT LIKE {} "
        "AND (display_name ILIKE {} OR email ILIKE {}) "
        "AND id NOT IN (SELECT person FROM meeting_attendee WHERE booking = {} "
        "AND removed_at IS NULL AND person IS NOT NULL) ORDER BY display_name LIMIT {}",
        organisation,
        "%@" + ERASED_DOMAIN,
        pattern + "%",
        pattern + "%",
        booking_id,
        limit,
    )
    return [Colleague(r["id"], r["display_name"], r["email"]) for r in found]


def partstat_of_reply(document: bytes, attendee: Attendee) -> str:
    """The answer an iTIP REPLY (RFC 5546) gives for this attendee of this meeting."""
    from icalendar import Calendar

    try:
        calendar = Calendar.from_ical(document)
    except ValueError:
        raise InvalidValue(N_("This is not an iCalendar document."), field="body") from None
    if str(calendar.get("method", "")).upper() != "REPLY":
        raise InvalidValue(N_("An answer is an iTIP REPLY."), field="method")
    events = [c for c in calendar.walk("VEVENT")]
    if len(events) != 1 or str(events[0].get("uid")) != calendars.booking_uid(attendee.booking_id):
        raise InvalidValue(N_("This answer is about another meeting."), field="uid")
    found = events[0].get("attendee")
    addresses = found if isinstance(found, list) else [found] if found is not None else []
    for address in addresses:
        if str(address).lower().removeprefix("mailto:") == attendee.email.lower():
            partstat = str(address.params.get("PARTSTAT", "")).lower()
            if partstat not in PARTSTATS:
                raise InvalidValue(N_("Answer accepted or declined."), field="partstat")
            return partstat
    raise InvalidValue(N_("This answer is not from the invited person."), field="attendee")


async def answer_with_reply(
    secret: str, token: str, document: bytes, *, now: datetime | None = None
) -> Attendee:
    attendee_id = attendee_of_token(secret, token)
    found = await MeetingAttendee.raw("SELECT * FROM meeting_attendee WHERE id = {}", attendee_id)
    if not found:
        raise AnswerLinkInvalid()
    partstat = partstat_of_reply(document, Attendee.of_row(found[0]))
    return await answer(secret, token, partstat, now=now)


# --- a changed time or room ---------------------------------------------------------------


async def move(
    principal: Principal,
    booking_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    workspace_id: uuid.UUID | None = None,
    base_url: str,
    secret: str,
    now: datetime | None = None,
) -> None:
    """Move the meeting to another time or room: a new SEQUENCE and a REQUEST to everyone.

    The same rules as booking (placement): opening hours, closures, the horizon, the holder's
    allowance, and the exclusion constraints that refuse an overlapping booking of the room or
    of the holder; the new room must hold everyone still invited. Guest passes were signed for
    the old window: the database revokes them (trigger pass_revoked_with_booking) and the
    invitation link issues a new one.
    """
    now = now or datetime.now(UTC)
    async with MeetingAttendee._meta.db.transaction():
        meeting = await _lock(booking_id)
        rows = await _ensure_organiser(meeting)
        _authorise(principal, meeting, rows)
        _open(meeting, now)
        if meeting["status"] != "confirmed" or meeting["starts_at"] <= now:
            raise MeetingClosed(N_("A meeting that has started cannot move."))
        room = (
            await Workspace.select()
            .where(Workspace.id == (workspace_id or meeting["workspace"]))
            .first()
        )
        if room is None:
            raise NotFound(N_("No such workspace."), field="workspace_id")
        venue = await Venue.select().where(Venue.id == room["venue"]).first()
        assert venue is not None
        if room["kind"] != "meeting_room" or room["booking_unit"] != "hour":
            raise NotAMeeting(field="workspace_id")
        if not room["active"] or venue["status"] != "approved":
            raise WorkspaceUnavailable(field="workspace_id")
        placed = placement.place(
            venue,
            room,
            placement.BookingRequest(workspace_id=room["id"], start=start, end=end),
        )
        if placed.starts_at <= now:
            raise InThePast(field="start")
        await placement.check_opening(venue, placed, True)
        if len(rows) > room["capacity"]:
            raise MeetingFull(capacity=room["capacity"], field="workspace_id")
        holder = await User.raw(
            "SELECT id, monthly_allowance_units FROM app_user WHERE id = {} FOR NO KEY UPDATE",
            meeting["agent"],
        )
        organisation = (
            await Organisation.select().where(Organisation.id == meeting["organisation"]).first()
        )
        assert organisation is not None
        units = placed.allowance_units if organisation["meeting_hours_use_allowance"] else 0
        used = await units_used(meeting["agent"], placed.local_date, organisation)
        if placed.local_date.replace(day=1) == meeting["local_date"].replace(day=1):
            used -= meeting["allowance_units"]
        allowed = allowance_units(
            holder[0]["monthly_allowance_units"], organisation["monthly_allowance_units"]
        )
        if used + units > allowed:
            raise AllowanceExceeded()
        try:
            await MeetingAttendee.raw(
                """
                UPDATE booking SET workspace = {}, venue = {}, starts_at = {}, ends_at = {},
                       local_date = {}, quantity = {}, seats = {}, allowance_units = {},
                       sequence = sequence + 1, updated_at = {}
                 WHERE id = {}
                """,
                room["id"],
                venue["id"],
                placed.starts_at,
                placed.ends_at,
                placed.local_date,
                placed.quantity,
                room["capacity"],
                units,
                now,
                booking_id,
            )
        except asyncpg.ExclusionViolationError as error:
            if error.constraint_name == "booking_room_no_overlap":
                raise RoomTaken() from None
            raise AgentAlreadyBooked() from None
        await announcements.announce(booking_id, cancel=False, base_url=base_url)
        moved = await _lock(booking_id)
        for row in rows:
            if row["person"] is None or row["person"] != meeting["agent"]:
                await _send_request(moved, row["id"], base_url=base_url, secret=secret)
        if audit.administrative(principal):
            await audit.act(
                "meeting.move",
                "booking",
                booking_id,
                before={
                    "workspace": meeting["workspace"],
                    "starts_at": meeting["starts_at"],
                    "ends_at": meeting["ends_at"],
                },
                after={
                    "workspace": room["id"],
                    "starts_at": placed.starts_at,
                    "ends_at": placed.ends_at,
                },
            )
