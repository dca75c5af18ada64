"""Team meeting pages: the organiser invites from their booking, attendees answer by their link.

`/agent/bookings/{id}/meeting` lists the attendees with their answers, searches colleagues
of the organisation and invites them or an outside guest; `/reunion/{token}` is the page an
invitation email links to: no sign-in, accept or decline, and a guest's pass as a QR.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from booking.errors import AnswerLinkInvalid
from booking.services import booking_lists, meetings
from passes import guest_passes, qr
from service.kernel.auth import PUBLIC, CurrentPrincipal, allow
from service.kernel.errors import DomainError
from service.kernel.i18n import N_
from service.kernel.identity import Role
from web.consoles import not_found, refusal
from web.labels import MEETING_DONE
from web.pages import language, page

AGENT = allow(Role.AGENT)
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _settings(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.settings


class AgentMeetingController(Controller):
    path = "/agent/bookings/{booking_id:uuid}/meeting"
    include_in_schema = False

    async def _page(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        booking_id: uuid.UUID,
        *,
        status_code: int = 200,
        refusal_text: str | None = None,
        form: dict[str, str] | None = None,
    ) -> Response[Any]:
        try:
            attendees = await meetings.attendees(principal, booking_id)
        except DomainError as error:
            status, text = refusal(language(request), error)
            if status == 404:
                return not_found(request)
            return page(
                request,
                "error.html",
                title=N_("Team meeting"),
                status_code=status,
                code=status,
                detail=text,
            )
        booking = await booking_lists.one(booking_id, str(_settings(request).base_url))
        organiser = next((a for a in attendees if a.role == "organiser"), None)
        manages = organiser is not None and organiser.person_id == principal.user_id
        query = request.query_params.get("q", "")[:100]
        suggestions = (
            await meetings.colleagues(principal, booking_id, query) if query and manages else []
        )
        done = request.query_params.get("done")
        return page(
            request,
            "agent/meeting.html",
            title=N_("Team meeting"),
            status_code=status_code,
            booking=booking,
            attendees=attendees,
            manages=manages and booking.status in meetings.LIVE_BOOKING,
            query=query,
            suggestions=suggestions,
            done=MEETING_DONE.get(done) if done in MEETING_DONE else None,
            refusal=refusal_text,
            form=form or {},
        )

    @get("", opt=AGENT)
    async def show(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, booking_id: uuid.UUID
    ) -> Response[Any]:
        return await self._page(request, principal, booking_id)

    async def _act(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        booking_id: uuid.UUID,
        done: str,
        action: Any,
        form: dict[str, str] | None = None,
    ) -> Response[Any]:
        try:
            await action
        except DomainError as error:
            status, text = refusal(language(request), error)
            if status == 404 and error.field is None:
                return not_found(request)
            return await self._page(
                request, principal, booking_id, status_code=status, refusal_text=text, form=form
            )
        return Redirect(
            f"/agent/bookings/{booking_id}/meeting?done={done}#attendees", status_code=303
        )

    @post("/invite", opt=AGENT)
    async def invite(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        booking_id: uuid.UUID,
        data: Form,
    ) -> Response[Any]:
        settings = _settings(request)
        user_id: uuid.UUID | None = None
        if data.get("user_id"):
            try:
                user_id = uuid.UUID(data["user_id"])
            except ValueError:
                return not_found(request)
        invitee = meetings.Invitee(
            user_id=user_id,
            email=None if user_id else (data.get("email") or "").strip(),
            name=data.get("name"),
        )
        return await self._act(
            request,
            principal,
            booking_id,
            "invited",
            meetings.invite(
                principal,
                booking_id,
                invitee,
                base_url=str(settings.base_url),
                secret=settings.secret_key,
            ),
            form=data,
        )

    @post("/{attendee_id:uuid}/remove", opt=AGENT)
    async def remove(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        booking_id: uuid.UUID,
        attendee_id: uuid.UUID,
    ) -> Response[Any]:
        return await self._act(
            request,
            principal,
            booking_id,
            "removed",
            meetings.remove(
                principal, booking_id, attendee_id, base_url=str(_settings(request).base_url)
            ),
        )

    @post("/{attendee_id:uuid}/organiser", opt=AGENT)
    async def hand_over(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        booking_id: uuid.UUID,
        attendee_id: uuid.UUID,
    ) -> Response[Any]:
        return await self._act(
            request,
            principal,
            booking_id,
            "organiser",
            meetings.hand_over(
                principal,
                booking_id,
                attendee_id,
                base_url=str(_settings(request).base_url),
                secret=_settings(request).secret_key,
            ),
        )


class MeetingInvitationController(Controller):
    """The page an invitation email links to; the link's signature is the only credential."""

    path = "/reunion"
    include_in_schema = False

    async def _page(
        self, request: Request[Any, Any, Any], token: str, *, status_code: int = 200, **extra: Any
    ) -> Response[Any]:
        settings = _settings(request)
        try:
            found, guest_pass = await guest_passes.guest_pass(
                settings.secret_key, token, request.app.state.keyring
            )
        except AnswerLinkInvalid:
            return page(
                request,
                "meeting_invitation.html",
                title=N_("Meeting invitation"),
                status_code=404,
                unknown=True,
            )
        done = request.query_params.get("done")
        return page(
            request,
            "meeting_invitation.html",
            title=N_("Meeting invitation"),
            status_code=status_code,
            unknown=False,
            token=token,
            invitation=found,
            zone=ZoneInfo(found.timezone),
            guest_pass=guest_pass,
            done=MEETING_DONE.get(done) if done in ("accepted", "declined") else None,
            **extra,
        )

    @get("/{token:str}", opt=PUBLIC)
    async def show(self, request: Request[Any, Any, Any], token: str) -> Response[Any]:
        return await self._page(request, token)

    @get("/{token:str}/pass.svg", opt=PUBLIC)
    async def guest_pass_qr(self, request: Request[Any, Any, Any], token: str) -> Response[Any]:
        settings = _settings(request)
        try:
            _, guest_pass = await guest_passes.guest_pass(
                settings.secret_key, token, request.app.state.keyring
            )
        except AnswerLinkInvalid:
            return not_found(request)
        if guest_pass is None:
            return not_found(request)
        return Response(
            qr.svg(guest_pass.token),
            media_type="image/svg+xml",
            headers={"Cache-Control": "no-store"},
        )

    @post("/{token:str}", opt=PUBLIC)
    async def answer(
        self, request: Request[Any, Any, Any], token: str, data: Form
    ) -> Response[Any]:
        try:
            await meetings.answer(_settings(request).secret_key, token, data.get("partstat", ""))
        except AnswerLinkInvalid:
            return await self._page(request, token)
        except DomainError as error:
            status, text = refusal(language(request), error)
            return await self._page(request, token, status_code=status, refusal=text)
        return Redirect(f"/reunion/{token}?done={data['partstat']}", status_code=303)
