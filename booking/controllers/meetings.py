"""Team meetings over HTTP: the attendees of a booked meeting room, and their answers."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.params import JSONBody

from booking.schemas.meetings import Answer, AttendeeOut, ColleagueOut, MoveMeeting, NewAttendee
from booking.services import meetings
from service.kernel.auth import PUBLIC, CurrentPrincipal, allow
from service.kernel.errors import InvalidValue
from service.kernel.i18n import N_
from service.kernel.identity import Role

ORGANISERS = allow(Role.AGENT, Role.ORG_ADMIN, Role.NETWORK_ADMIN)
MAX_REPLY_BYTES = 64 * 1024


def _settings(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.settings


def _out(attendee: meetings.Attendee) -> AttendeeOut:
    return msgspec.convert(attendee, AttendeeOut, from_attributes=True)


class MeetingAttendeesController(Controller):
    path = "/bookings/{booking_id:uuid}"
    tags = ["meetings"]

    @get("/attendees", opt=ORGANISERS, summary="The meeting's attendees and their answers")
    async def list_attendees(
        self, principal: CurrentPrincipal, booking_id: uuid.UUID
    ) -> list[AttendeeOut]:
        return [_out(a) for a in await meetings.attendees(principal, booking_id)]

    @post(
        "/attendees",
        opt=ORGANISERS,
        summary="Invite a colleague (user_id or email) or a guest (email and name)",
    )
    async def invite(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        booking_id: uuid.UUID,
        data: JSONBody[NewAttendee],
    ) -> AttendeeOut:
        settings = _settings(request)
        attendee = await meetings.invite(
            principal,
            booking_id,
            meetings.Invitee(user_id=data.user_id, email=data.email, name=data.name),
            base_url=str(settings.base_url),
            secret=settings.secret_key,
        )
        return _out(attendee)

    @delete(
        "/attendees/{attendee_id:uuid}",
        opt=ORGANISERS,
        status_code=200,
        summary="Uninvite an attendee (they get a CANCEL; a guest's pass is revoked)",
    )
    async def remove(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        booking_id: uuid.UUID,
        attendee_id: uuid.UUID,
    ) -> AttendeeOut:
        attendee = await meetings.remove(
            principal, booking_id, attendee_id, base_url=str(_settings(request).base_url)
        )
        return _out(attendee)

    @post(
        "/attendees/{attendee_id:uuid}/organiser",
        opt=ORGANISERS,
        status_code=200,
        summary="Hand the organiser role to this colleague",
    )
    async def hand_over(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        booking_id: uuid.UUID,
        attendee_id: uuid.UUID,
    ) -> AttendeeOut:
        settings = _settings(request)
        attendee = await meetings.hand_over(
            principal,
            booking_id,
            attendee_id,
            base_url=str(settings.base_url),
            secret=settings.secret_key,
        )
        return _out(attendee)

    @post(
        "/meeting-time",
        opt=ORGANISERS,
        status_code=200,
        summary="Move the meeting (time, room): a new SEQUENCE is sent to every attendee",
    )
    async def move(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        booking_id: uuid.UUID,
        data: JSONBody[MoveMeeting],
    ) -> list[AttendeeOut]:
        settings = _settings(request)
        await meetings.move(
            principal,
            booking_id,
            start=data.start,
            end=data.end,
            workspace_id=data.workspace_id,
            base_url=str(settings.base_url),
            secret=settings.secret_key,
        )
        return [_out(a) for a in await meetings.attendees(principal, booking_id)]

    @get(
        "/colleagues",
        opt=ORGANISERS,
        summary="Colleagues of the booking's organisation to invite, by name or email",
    )
    async def colleagues(
        self, principal: CurrentPrincipal, booking_id: uuid.UUID, q: str = ""
    ) -> list[ColleagueOut]:
        if len(q) > 100:
            raise InvalidValue(N_("Search with at most 100 characters."), field="q")
        found = await meetings.colleagues(principal, booking_id, q)
        return [ColleagueOut(c.id, c.display_name, c.email) for c in found]


class MeetingAnswersController(Controller):
    path = "/meeting-answers"
    tags = ["meetings"]

    @post(
        "/{token:str}",
        opt=PUBLIC,
        status_code=200,
        summary="Accept or decline by the signed link (JSON, or an iTIP REPLY as text/calendar)",
    )
    async def answer(self, request: Request[Any, Any, Any], token: str) -> AttendeeOut:
        secret = _settings(request).secret_key
        body = await request.body()
        if len(body) > MAX_REPLY_BYTES:
            raise InvalidValue(N_("This answer is too large."), field="body")
        if request.content_type[0] == "text/calendar":
            return _out(await meetings.answer_with_reply(secret, token, body))
        try:
            data = msgspec.json.decode(body, type=Answer)
        except msgspec.ValidationError as error:
            raise InvalidValue(N_("Answer accepted or declined."), field="partstat") from error
        except msgspec.DecodeError as error:
            raise InvalidValue(N_("Answer accepted or declined."), field="partstat") from error
        return _out(await meetings.answer(secret, token, data.partstat))
