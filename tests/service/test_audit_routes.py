"""Every administrative route writes exactly one audit row, generated from the app's routes.

Each non-GET route open to a network, venue or organisation admin is called once, with a
body that succeeds, as such an admin (the most local one it admits); the audit then holds
exactly one new row naming that admin. A route not called here is listed in NOT_EXERCISED
with its reason, so a new admin route that is neither called nor listed fails the suite.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from billing import payouts
from billing.close import close_period
from billing.jobs import close_month
from billing.tables import Document, Payout, UsageLine
from booking.services import feeds, meetings
from booking.services import series as series_service
from booking.services.series import SeriesRequest
from booking.tables import Booking, Closure, User, Venue, Workspace
from passes.tables import Anomaly, DoorDevice, Pass
from service.kernel.identity import Principal, Role
from service.kernel.settings import Settings
from service.kernel.tables import AuditEntry
from tests.billing.factories import NETWORK, make_visit
from tests.factories import (
    PASSWORD,
    auth,
    make_booking,
    make_organisation,
    make_pass,
    make_user,
    make_venue,
    make_workspace,
    next_weekday,
)
from tests.service.test_role_matrix import app_routes
from tests.web.test_pages import csrf_token, sign_in

ADMINS = frozenset({Role.NETWORK_ADMIN, Role.VENUE_ADMIN, Role.ORG_ADMIN})
CLOSED = date(2026, 10, 1)  # the month the world has closed (invoices, statements, payouts)


@dataclass
class World:
    """What the calls act on: a venue, an organisation with an agent, an admin of each kind,
    and a closed month with its documents."""

    settings: Settings
    venue: Venue
    workspace: Workspace
    organisation_id: uuid.UUID
    agent: User
    admins: dict[Role, User]
    invoice_id: uuid.UUID = field(default_factory=uuid.uuid4)
    usage_ids: list[uuid.UUID] = field(default_factory=list)

    async def another_agent(self, **fields: Any) -> User:
        organisation = await make_organisation()
        organisation.id = self.organisation_id
        user = await make_user(Role.AGENT, organisation=organisation)
        if fields:
            await User.update(fields).where(User.id == user.id)
        return user

    async def anomaly(self) -> Anomaly:
        visit = await make_visit(
            await self.another_agent(),
            self.venue,
            self.workspace,
            date(2026, 11, 12),
            billable=False,
        )
        anomaly = Anomaly(kind="over_capacity", visit=visit.id, venue=self.venue.id, detail="x")
        await anomaly.save()
        return anomaly


@dataclass
class Ask:
    """One request: a JSON body for the API, a form (and files) for a page, or raw content."""

    path: str
    json: Any = None
    form: dict[str, str] | None = None
    files: dict[str, Any] | None = None
    content: bytes | None = None
    content_type: str | None = None


Call = Callable[[World], Awaitable[Ask]]
CALLS: dict[tuple[str, str], Call] = {}


def calls(method: str, path: str) -> Callable[[Call], Call]:
    def register(function: Call) -> Call:
        CALLS[(method, path)] = function
        return function

    return register


FUTURE = date.today() + timedelta(days=400)


def _rate(kind: str = "desk", unit: str = "half_day") -> dict[str, Any]:
    return {
        "workspace_kind": kind,
        "unit": unit,
        "amount_cents": 1500,
        "vat_rate": "0.20",
        "effective_from": FUTURE.isoformat(),
    }


def _network() -> Principal:
    return Principal(Role.NETWORK_ADMIN, user_id=uuid.uuid4())


# Catalogue


@calls("PATCH", "/api/v1/venues/{venue_id:uuid}")
async def _edit_venue(w: World) -> Ask:
    return Ask(f"/api/v1/venues/{w.venue.id}", {"name": "Le Nouveau Lieu"})


def _venue_file() -> bytes:
    return (
        "name,postcode,commune,insee_code,latitude,longitude\n"
        f"Lieu importé {uuid.uuid4().hex[:8]},59000,Lille,59350,50.63,3.06\n"
    ).encode()


@calls("POST", "/api/v1/venues:import")
async def _import_venues(w: World) -> Ask:
    return Ask("/api/v1/venues:import", content=_venue_file(), content_type="text/csv")


@calls("POST", "/api/v1/venues/{venue_id:uuid}/status")
async def _venue_status(w: World) -> Ask:
    venue = await make_venue(status="applied")
    return Ask(f"/api/v1/venues/{venue.id}/status", {"status": "approved"})


@calls("PUT", "/api/v1/venues/{venue_id:uuid}/opening-hours")
async def _hours(w: World) -> Ask:
    return Ask(
        f"/api/v1/venues/{w.venue.id}/opening-hours",
        [{"weekday": d, "opens": "08:00", "closes": "19:00"} for d in range(5)],
    )


@calls("POST", "/api/v1/venues/{venue_id:uuid}/closures")
async def _add_closure(w: World) -> Ask:
    return Ask(
        f"/api/v1/venues/{w.venue.id}/closures",
        {"starts_on": FUTURE.isoformat(), "ends_on": FUTURE.isoformat(), "reason": "Travaux"},
    )


async def _closure(w: World) -> Closure:
    closure = Closure(venue=w.venue.id, starts_on=FUTURE, ends_on=FUTURE, reason="Travaux")
    await closure.save()
    return closure


@calls("DELETE", "/api/v1/venues/{venue_id:uuid}/closures/{closure_id:uuid}")
async def _remove_closure(w: World) -> Ask:
    return Ask(f"/api/v1/venues/{w.venue.id}/closures/{(await _closure(w)).id}")


@calls("POST", "/api/v1/venues/{venue_id:uuid}/workspaces")
async def _add_workspace(w: World) -> Ask:
    return Ask(
        f"/api/v1/venues/{w.venue.id}/workspaces",
        {"kind": "desk", "name": "Mezzanine", "capacity": 4, "booking_unit": "half_day"},
    )


@calls("PATCH", "/api/v1/venues/{venue_id:uuid}/workspaces/{workspace_id:uuid}")
async def _edit_workspace(w: World) -> Ask:
    return Ask(f"/api/v1/venues/{w.venue.id}/workspaces/{w.workspace.id}", {"capacity": 12})


@calls("POST", "/api/v1/venues/{venue_id:uuid}/rates")
async def _venue_rate(w: World) -> Ask:
    return Ask(f"/api/v1/venues/{w.venue.id}/rates", _rate())


@calls("POST", "/api/v1/rates/organisations")
async def _default_rate(w: World) -> Ask:
    return Ask("/api/v1/rates/organisations", _rate("meeting_room", "hour"))


@calls("POST", "/api/v1/organisations/{organisation_id:uuid}/rates")
async def _organisation_rate(w: World) -> Ask:
    return Ask(f"/api/v1/organisations/{w.organisation_id}/rates", _rate())


@calls("POST", "/api/v1/venues/{venue_id:uuid}/calendar-feeds")
async def _venue_feed(w: World) -> Ask:
    return Ask(f"/api/v1/venues/{w.venue.id}/calendar-feeds")


@calls("POST", "/api/v1/venues/{venue_id:uuid}/calendar-feeds/{feed_id:uuid}/revoke")
async def _revoke_feed(w: World) -> Ask:
    admin = w.admins[Role.VENUE_ADMIN]
    principal = Principal(Role.VENUE_ADMIN, user_id=admin.id, venue_id=w.venue.id)
    feed, _ = await feeds.create_venue_feed(principal, w.venue.id, "http://testserver.local")
    return Ask(f"/api/v1/venues/{w.venue.id}/calendar-feeds/{feed.id}/revoke")


# Bookings


@calls("POST", "/api/v1/bookings")
async def _book(w: World) -> Ask:
    desk = await make_workspace(w.venue)
    return Ask(
        "/api/v1/bookings",
        {
            "workspace_id": str(desk.id),
            "agent_id": str((await w.another_agent()).id),
            "date": next_weekday(2).isoformat(),
            "slot": "morning",
        },
    )


@calls("POST", "/api/v1/bookings/{booking_id:uuid}/cancel")
async def _cancel(w: World) -> Ask:
    booking = await make_booking(await w.another_agent(), w.workspace, next_weekday(3))
    return Ask(f"/api/v1/bookings/{booking.id}/cancel", {"reason": "Fuite d'eau"})


async def _meeting(w: World) -> tuple[uuid.UUID, uuid.UUID, Principal]:
    """A room booked by one of the organisation's agents, with a guest invited by them."""
    room = await make_workspace(w.venue, kind="meeting_room", booking_unit="hour", capacity=4)
    agent = await w.another_agent()
    starts = datetime.combine(next_weekday(2), datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    booking = Booking(
        agent=agent.id,
        organisation=w.organisation_id,
        venue=w.venue.id,
        workspace=room.id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        local_date=starts.date(),
        unit="hour",
        seats=4,
        exclusive=True,
    )
    await booking.save()
    principal = Principal(Role.AGENT, user_id=agent.id, organisation_id=w.organisation_id)
    guest = await meetings.invite(
        principal,
        booking.id,
        meetings.Invitee(email=f"guest-{uuid.uuid4().hex[:6]}@example.org", name="Guest"),
        base_url="http://test",
        secret=w.settings.secret_key,
    )
    return booking.id, guest.id, principal


@calls("POST", "/api/v1/bookings/{booking_id:uuid}/attendees")
async def _invite(w: World) -> Ask:
    booking_id, _, _ = await _meeting(w)
    return Ask(
        f"/api/v1/bookings/{booking_id}/attendees",
        {"email": "partner@example.org", "name": "Partner"},
    )


@calls("DELETE", "/api/v1/bookings/{booking_id:uuid}/attendees/{attendee_id:uuid}")
async def _uninvite(w: World) -> Ask:
    booking_id, guest_id, _ = await _meeting(w)
    return Ask(f"/api/v1/bookings/{booking_id}/attendees/{guest_id}")


@calls("POST", "/api/v1/bookings/{booking_id:uuid}/meeting-time")
async def _move_meeting(w: World) -> Ask:
    booking_id, _, _ = await _meeting(w)
    booking = await Booking.objects().where(Booking.id == booking_id).first()
    assert booking is not None
    day = booking.local_date.isoformat()
    return Ask(
        f"/api/v1/bookings/{booking_id}/meeting-time",
        {"start": f"{day}T15:00:00", "end": f"{day}T16:00:00"},
    )


@calls("POST", "/api/v1/bookings/{booking_id:uuid}/attendees/{attendee_id:uuid}/organiser")
async def _hand_over(w: World) -> Ask:
    booking_id, _, principal = await _meeting(w)
    colleague = await w.another_agent()
    invited = await meetings.invite(
        principal,
        booking_id,
        meetings.Invitee(user_id=colleague.id),
        base_url="http://test",
        secret=w.settings.secret_key,
    )
    return Ask(f"/api/v1/bookings/{booking_id}/attendees/{invited.id}/organiser")


@calls("POST", "/api/v1/booking-series")
async def _series(w: World) -> Ask:
    desk = await make_workspace(w.venue)
    return Ask(
        "/api/v1/booking-series",
        {
            "workspace_id": str(desk.id),
            "agent_id": str((await w.another_agent()).id),
            "rrule": "FREQ=WEEKLY;COUNT=2",
            "dtstart": next_weekday(2).isoformat(),
            "slot": "morning",
        },
    )


@calls("POST", "/api/v1/booking-series/{series_id:uuid}/cancel")
async def _cancel_series(w: World) -> Ask:
    desk = await make_workspace(w.venue)
    agent = await w.another_agent()
    principal = Principal(Role.AGENT, user_id=agent.id, organisation_id=w.organisation_id)
    series_id, _ = await series_service.create(
        principal,
        SeriesRequest(
            workspace_id=desk.id,
            rrule="FREQ=WEEKLY;COUNT=2",
            dtstart=next_weekday(2),
            slot="morning",
        ),
        base_url="http://testserver.local",
    )
    return Ask(f"/api/v1/booking-series/{series_id}/cancel", {"from": next_weekday(1).isoformat()})


# Organisations and people


@calls("POST", "/api/v1/organisations")
async def _new_organisation(w: World) -> Ask:
    return Ask(
        "/api/v1/organisations",
        {
            "name": "Mairie de Test",
            "siren": "732829320",
            "kind": "public_body",
            "billing_address": "1 place de la Mairie, 59000 Lille",
            "billing_email": "compta@mairie.example",
        },
    )


@calls("PATCH", "/api/v1/organisations/{organisation_id:uuid}")
async def _edit_organisation(w: World) -> Ask:
    return Ask(f"/api/v1/organisations/{w.organisation_id}", {"booking_horizon_days": 45})


@calls("POST", "/api/v1/organisations/{organisation_id:uuid}/agents")
async def _invite_agent(w: World) -> Ask:
    return Ask(
        f"/api/v1/organisations/{w.organisation_id}/agents",
        {"email": f"agent-{uuid.uuid4().hex[:8]}@mairie.example", "display_name": "Agent Test"},
    )


@calls("POST", "/api/v1/organisations/{organisation_id:uuid}/agents/import")
async def _import_agents(w: World) -> Ask:
    csv = f"email,display_name\nimport-{uuid.uuid4().hex[:8]}@mairie.example,Agent Importé\n"
    return Ask(
        f"/api/v1/organisations/{w.organisation_id}/agents/import",
        content=csv.encode(),
        content_type="text/csv",
    )


@calls("PATCH", "/api/v1/organisations/{organisation_id:uuid}/agents/{agent_id:uuid}")
async def _edit_agent(w: World) -> Ask:
    return Ask(
        f"/api/v1/organisations/{w.organisation_id}/agents/{(await w.another_agent()).id}",
        {"monthly_allowance_units": 4},
    )


@calls("POST", "/api/v1/organisations/{organisation_id:uuid}/agents/{agent_id:uuid}/deactivate")
async def _deactivate_agent(w: World) -> Ask:
    agent = await w.another_agent()
    return Ask(f"/api/v1/organisations/{w.organisation_id}/agents/{agent.id}/deactivate")


@calls("POST", "/api/v1/organisations/{organisation_id:uuid}/agents/{agent_id:uuid}/reactivate")
async def _reactivate_agent(w: World) -> Ask:
    agent = await w.another_agent(active=False)
    return Ask(f"/api/v1/organisations/{w.organisation_id}/agents/{agent.id}/reactivate")


@calls("POST", "/api/v1/users")
async def _new_user(w: World) -> Ask:
    return Ask(
        "/api/v1/users",
        {
            "email": f"staff-{uuid.uuid4().hex[:8]}@lieu.example",
            "display_name": "Accueil",
            "role": "venue_staff",
            "venue_id": str(w.venue.id),
        },
    )


@calls("POST", "/api/v1/venues/{venue_id:uuid}/staff")
async def _invite_staff(w: World) -> Ask:
    return Ask(
        f"/api/v1/venues/{w.venue.id}/staff",
        {"email": f"staff-{uuid.uuid4().hex[:8]}@lieu.example", "display_name": "Accueil"},
    )


@calls("POST", "/api/v1/venues/{venue_id:uuid}/staff/{user_id:uuid}/deactivate")
async def _deactivate_staff(w: World) -> Ask:
    staff = await make_user(Role.VENUE_STAFF, venue=w.venue)
    return Ask(f"/api/v1/venues/{w.venue.id}/staff/{staff.id}/deactivate")


# Passes and door devices


_PASS = "/api/v1/organisations/{organisation_id:uuid}/agents/{agent_id:uuid}/pass"


async def _agent_with_pass(w: World, status: str = "active") -> User:
    agent = await w.another_agent()
    issued = await make_pass(w.settings, agent)
    if status != "active":
        await Pass.update({Pass.status: status}).where(Pass.serial == issued.serial)
    return agent


@calls("POST", _PASS + "/suspend")
async def _suspend(w: World) -> Ask:
    agent = await _agent_with_pass(w)
    return Ask(f"/api/v1/organisations/{w.organisation_id}/agents/{agent.id}/pass/suspend")


@calls("POST", _PASS + "/resume")
async def _resume(w: World) -> Ask:
    agent = await _agent_with_pass(w, "suspended")
    return Ask(f"/api/v1/organisations/{w.organisation_id}/agents/{agent.id}/pass/resume")


@calls("POST", _PASS + "/reissue")
async def _reissue(w: World) -> Ask:
    agent = await _agent_with_pass(w)
    return Ask(f"/api/v1/organisations/{w.organisation_id}/agents/{agent.id}/pass/reissue")


@calls("POST", "/api/v1/venues/{venue_id:uuid}/door-devices")
async def _new_device(w: World) -> Ask:
    return Ask(f"/api/v1/venues/{w.venue.id}/door-devices", {"name": "Accueil"})


async def _device(w: World) -> DoorDevice:
    device = DoorDevice(
        venue=w.venue.id,
        name="Porte",
        token_hash=uuid.uuid4().hex,
        token_prefix="tldev_xxxx",
        created_by=w.admins[Role.VENUE_ADMIN].id,
    )
    await device.save()
    return device


@calls("POST", "/api/v1/venues/{venue_id:uuid}/door-devices/{device_id:uuid}/revoke")
async def _revoke_device(w: World) -> Ask:
    return Ask(f"/api/v1/venues/{w.venue.id}/door-devices/{(await _device(w)).id}/revoke")


@calls("POST", "/api/v1/anomalies/{anomaly_id:uuid}/accept")
async def _accept(w: World) -> Ask:
    return Ask(f"/api/v1/anomalies/{(await w.anomaly()).id}/accept", {"comment": "Vu."})


@calls("POST", "/api/v1/anomalies/{anomaly_id:uuid}/reject")
async def _reject(w: World) -> Ask:
    return Ask(f"/api/v1/anomalies/{(await w.anomaly()).id}/reject", {"comment": "Non."})


# Billing


@calls("POST", "/api/v1/billing/periods/{period:str}/close")
async def _close(w: World) -> Ask:
    return Ask("/api/v1/billing/periods/2026-09/close")


@calls("POST", "/api/v1/billing/periods/{period:str}/payouts")
async def _prepare(w: World) -> Ask:
    return Ask(f"/api/v1/billing/periods/{CLOSED:%Y-%m}/payouts")


@calls("POST", "/api/v1/billing/periods/{period:str}/payouts/sepa")
async def _sepa(w: World) -> Ask:
    await _payable()
    return Ask(f"/api/v1/billing/periods/{CLOSED:%Y-%m}/payouts/sepa")


async def _payable() -> None:
    """The closed month's payouts, pending again (another call may have paid them)."""
    await payouts.prepare(CLOSED)
    await Payout.update({Payout.status: "pending"}, force=True)


async def _payout_id() -> uuid.UUID:
    await payouts.prepare(CLOSED)
    return (await payouts.listing(CLOSED))[0]["id"]  # type: ignore[no-any-return]


@calls("POST", "/api/v1/payouts/{payout_id:uuid}/status")
async def _payout_status(w: World) -> Ask:
    return Ask(f"/api/v1/payouts/{await _payout_id()}/status", {"status": "sent"})


def _statement_csv(reference: str) -> str:
    return f"date;amount;reference;label\n{date.today()};42,00;{reference};Virement inconnu\n"


@calls("POST", "/api/v1/billing/bank-statements")
async def _bank(w: World) -> Ask:
    return Ask(
        "/api/v1/billing/bank-statements",
        content=_statement_csv(f"REF-{uuid.uuid4().hex[:8]}").encode(),
        content_type="text/csv",
    )


@calls("POST", "/api/v1/invoices/{invoice_id:uuid}/credit-notes")
async def _credit(w: World) -> Ask:
    return Ask(
        f"/api/v1/invoices/{w.invoice_id}/credit-notes",
        {"usage_ids": [str(w.usage_ids.pop())], "reason": "Visite contestée"},
    )


# Pages (as the signed-in admin; the venue and organisation are the admin's own)


@calls("POST", "/venue/workspaces")
async def _page_add_workspace(w: World) -> Ask:
    return Ask(
        "/venue/workspaces",
        form={
            "name": "Salle Jaune",
            "kind": "meeting_room",
            "capacity": "8",
            "booking_unit": "hour",
        },
    )


@calls("POST", "/venue/workspaces/{workspace_id:uuid}")
async def _page_edit_workspace(w: World) -> Ask:
    return Ask(
        f"/venue/workspaces/{w.workspace.id}",
        form={"name": "Open space", "capacity": "9", "booking_unit": "half_day"},
    )


@calls("POST", "/venue/workspaces/{workspace_id:uuid}/deactivate")
async def _page_deactivate_workspace(w: World) -> Ask:
    return Ask(f"/venue/workspaces/{(await make_workspace(w.venue)).id}/deactivate", form={})


@calls("POST", "/venue/workspaces/{workspace_id:uuid}/reactivate")
async def _page_reactivate_workspace(w: World) -> Ask:
    workspace = await make_workspace(w.venue, active=False)
    return Ask(f"/venue/workspaces/{workspace.id}/reactivate", form={})


@calls("POST", "/venue/hours")
async def _page_hours(w: World) -> Ask:
    return Ask("/venue/hours", form={"d0_0_opens": "09:00", "d0_0_closes": "18:00"})


@calls("POST", "/venue/closures")
async def _page_add_closure(w: World) -> Ask:
    day = (FUTURE + timedelta(days=1)).isoformat()
    return Ask("/venue/closures", form={"starts_on": day, "ends_on": day, "reason": "Congés"})


@calls("POST", "/venue/closures/{closure_id:uuid}/delete")
async def _page_remove_closure(w: World) -> Ask:
    return Ask(f"/venue/closures/{(await _closure(w)).id}/delete", form={})


@calls("POST", "/venue/devices")
async def _page_new_device(w: World) -> Ask:
    return Ask("/venue/devices", form={"name": "Tablette accueil"})


@calls("POST", "/venue/devices/{device_id:uuid}/revoke")
async def _page_revoke_device(w: World) -> Ask:
    return Ask(f"/venue/devices/{(await _device(w)).id}/revoke", form={})


@calls("POST", "/organisation/agents")
async def _page_invite(w: World) -> Ask:
    email = f"page-{uuid.uuid4().hex[:8]}@mairie.example"
    return Ask("/organisation/agents", form={"email": email, "display_name": "Nina Roux"})


@calls("POST", "/organisation/agents/import")
async def _page_import(w: World) -> Ask:
    csv = f"email,display_name\npage-{uuid.uuid4().hex[:8]}@mairie.example,Zoé M\n"
    return Ask(
        "/organisation/agents/import",
        form={},
        files={"file": ("agents.csv", csv.encode(), "text/csv")},
    )


@calls("POST", "/organisation/agents/{agent_id:uuid}/deactivate")
async def _page_deactivate(w: World) -> Ask:
    return Ask(f"/organisation/agents/{(await w.another_agent()).id}/deactivate", form={})


@calls("POST", "/organisation/agents/{agent_id:uuid}/reactivate")
async def _page_reactivate(w: World) -> Ask:
    agent = await w.another_agent(active=False)
    return Ask(f"/organisation/agents/{agent.id}/reactivate", form={})


@calls("POST", "/api/v1/organisations/{organisation_id:uuid}/agents/{agent_id:uuid}/erase")
async def _erase_agent(w: World) -> Ask:
    agent = await w.another_agent()
    return Ask(f"/api/v1/organisations/{w.organisation_id}/agents/{agent.id}/erase")


@calls("POST", "/api/v1/users/{user_id:uuid}/erase")
async def _erase_user(w: World) -> Ask:
    return Ask(f"/api/v1/users/{(await w.another_agent()).id}/erase")


@calls("POST", "/organisation/agents/{agent_id:uuid}/erase")
async def _page_erase(w: World) -> Ask:
    agent = await w.another_agent()
    return Ask(f"/organisation/agents/{agent.id}/erase", form={"confirm_email": agent.email})


@calls("PUT", "/api/v1/organisations/{organisation_id:uuid}/enrolment")
async def _enrolment(w: World) -> Ask:
    return Ask(
        f"/api/v1/organisations/{w.organisation_id}/enrolment",
        {"self_enrolment": True, "sirets": ["21590350100017"]},
    )


@calls("POST", "/organisation/enrolment")
async def _page_enrolment(w: World) -> Ask:
    return Ask(
        "/organisation/enrolment",
        form={"self_enrolment": "on", "sirets": "21590350100017", "domains": "lille.fr"},
    )


@calls("POST", "/api/v1/me/email")
async def _email_change(w: World) -> Ask:
    return Ask(
        "/api/v1/me/email",
        {"email": f"new-{uuid.uuid4().hex[:8]}@example.org", "password": PASSWORD},
    )


@calls("POST", "/account/email")
async def _page_email_change(w: World) -> Ask:
    return Ask(
        "/account/email",
        form={"email": f"new-{uuid.uuid4().hex[:8]}@example.org", "password": PASSWORD},
    )


@calls("POST", "/organisation/policy")
async def _page_policy(w: World) -> Ask:
    return Ask(
        "/organisation/policy",
        form={
            "monthly_allowance_units": "12",
            "booking_horizon_days": "60",
            "cancellation_deadline_hours": "48",
            "bill_no_shows": "1",
            "billing_address": "Hôtel de ville, 59100 Roubaix",
            "billing_email": "compta@roubaix.example",
        },
    )


@calls("POST", "/network/rates")
async def _page_rate(w: World) -> Ask:
    return Ask(
        "/network/rates",
        form={
            "owner": f"venue:{w.venue.id}",
            "workspace_kind": "desk",
            "unit": "day",
            "amount": "13,50",
            "vat": "20",
            "effective_from": FUTURE.isoformat(),
        },
    )


@calls("POST", "/network/venues/{venue_id:uuid}/status")
async def _page_venue_status(w: World) -> Ask:
    venue = await make_venue(status="applied")
    return Ask(f"/network/venues/{venue.id}/status", form={"action": "approve"})


@calls("POST", "/network/anomalies/{anomaly_id:uuid}/decision")
async def _page_decision(w: World) -> Ask:
    return Ask(
        f"/network/anomalies/{(await w.anomaly()).id}/decision",
        form={"decision": "accept", "comment": "Accueil assuré."},
    )


@calls("POST", "/network/close")
async def _page_close(w: World) -> Ask:
    return Ask("/network/close", form={"month": "2026-08", "mode": "close"})


@calls("POST", "/network/bank-statements")
async def _page_bank(w: World) -> Ask:
    csv = _statement_csv(f"REF-{uuid.uuid4().hex[:8]}")
    return Ask(
        "/network/bank-statements",
        form={},
        files={"file": ("releve.csv", csv.encode(), "text/csv")},
    )


@calls("POST", "/network/venues/import")
async def _page_import_venues(w: World) -> Ask:
    return Ask(
        "/network/venues/import",
        form={"status": "applied", "apply": "1"},
        files={"file": ("lieux.csv", _venue_file(), "text/csv")},
    )


@calls("POST", "/network/payouts/prepare")
async def _page_prepare(w: World) -> Ask:
    return Ask("/network/payouts/prepare", form={"month": f"{CLOSED:%Y-%m}"})


@calls("POST", "/network/payouts/sepa")
async def _page_sepa(w: World) -> Ask:
    await _payable()
    return Ask("/network/payouts/sepa", form={"month": f"{CLOSED:%Y-%m}"})


@calls("POST", "/network/payouts/{payout_id:uuid}/status")
async def _page_payout_status(w: World) -> Ask:
    return Ask(
        f"/network/payouts/{await _payout_id()}/status",
        form={"status": "paid", "month": f"{CLOSED:%Y-%m}"},
    )


DOOR_LOG = (
    "a door scan is not an administrative act but the door log itself (door_scan names the "
    "device or person who scanned, and when); it must stay purgeable after the CNIL's three "
    "months, which an append-only row could not be"
)
# Routes not called here, each with its reason.
OWN_SESSIONS = "ends every session of the caller (audited; tested in test_account_pages.py)"
NOT_EXERCISED: dict[tuple[str, str], str] = {
    ("POST", "/signout"): "ends the caller's own session: no act on the network's data",
    # One's own credentials: each writes its row (tests/web/test_account_pages.py), and each
    # ends every session of the person, which this walk's later calls rely on.
    ("POST", "/api/v1/me/password"): OWN_SESSIONS,
    ("POST", "/account/password"): OWN_SESSIONS,
    ("POST", "/api/v1/me/sessions/end-all"): OWN_SESSIONS,
    ("POST", "/account/sessions/end-all"): OWN_SESSIONS,
    ("PUT", "/api/v1/me/language"): "a reading preference of one's own, no administrative act",
    ("POST", "/account/language"): "a reading preference of one's own, no administrative act",
    ("POST", "/api/v1/venues/{venue_id:uuid}/scans"): DOOR_LOG,
    ("POST", "/api/v1/venues/{venue_id:uuid}/scans:batch"): DOOR_LOG,
    ("POST", "/scan"): DOOR_LOG,
    ("POST", "/scan/scans"): DOOR_LOG,
    ("POST", "/scan/scans:batch"): DOOR_LOG,
}


def admin_routes(app: Litestar) -> list[tuple[str, str, frozenset[Role]]]:
    found = []
    for route in app_routes(app):
        access = route.access
        if route.method == "GET" or access is None or access.public:
            continue
        roles = access.roles & ADMINS
        if roles:
            found.append((route.method, route.path, roles))
    return found


def test_every_admin_route_is_called_or_listed_with_a_reason(app: Litestar) -> None:
    routes = {(method, path) for method, path, _ in admin_routes(app)}
    missing = sorted(f"{m} {p}" for m, p in routes - set(CALLS) - set(NOT_EXERCISED))
    assert missing == [], "admin routes neither exercised nor listed:\n" + "\n".join(missing)
    gone = sorted(f"{m} {p}" for m, p in (set(CALLS) | set(NOT_EXERCISED)) - routes)
    assert gone == [], "listed routes that no longer exist:\n" + "\n".join(gone)
    assert not set(CALLS) & set(NOT_EXERCISED)


@pytest.fixture
async def world(settings: Settings) -> World:
    venue = await make_venue()
    workspace = await make_workspace(venue)
    organisation = await make_organisation()
    agent = await make_user(Role.AGENT, organisation=organisation)
    admins = {
        Role.NETWORK_ADMIN: await make_user(Role.NETWORK_ADMIN),
        Role.VENUE_ADMIN: await make_user(Role.VENUE_ADMIN, venue=venue),
        Role.ORG_ADMIN: await make_user(Role.ORG_ADMIN, organisation=organisation),
    }
    world = World(settings, venue, workspace, organisation.id, agent, admins)
    for day in (5, 6, 7):
        await make_visit(agent, venue, workspace, CLOSED.replace(day=day))
    await close_period(CLOSED, NETWORK, now=datetime(2026, 11, 3, tzinfo=UTC))
    invoice = await Document.select(Document.id).where(Document.kind == "invoice").first()
    assert invoice is not None
    world.invoice_id = invoice["id"]
    world.usage_ids = [
        r["id"] for r in await UsageLine.select(UsageLine.id).where(UsageLine.period == CLOSED)
    ]
    return world


def _caller(roles: frozenset[Role]) -> Role:
    """The most local admin the route admits: the one whose act it usually is."""
    return next(r for r in (Role.VENUE_ADMIN, Role.ORG_ADMIN, Role.NETWORK_ADMIN) if r in roles)


async def _send(
    client: httpx.AsyncClient, settings: Settings, method: str, admin: User, ask: Ask
) -> httpx.Response:
    if ask.path.startswith("/api/"):
        headers = auth(settings, admin)
        if ask.content is not None:
            headers["content-type"] = ask.content_type or "application/octet-stream"
            return await client.request(method, ask.path, content=ask.content, headers=headers)
        return await client.request(method, ask.path, json=ask.json, headers=headers)
    client.cookies.clear()
    signed_in = await sign_in(client, admin)
    assert signed_in.status_code == 303, signed_in.text
    form = {**(ask.form or {}), "_csrf_token": await csrf_token(client)}
    return await client.request(method, ask.path, data=form, files=ask.files)


async def test_each_admin_act_writes_exactly_one_row_naming_its_admin(
    app: Litestar, client: httpx.AsyncClient, settings: Settings, world: World
) -> None:
    failures: list[str] = []
    called = 0
    for method, path, roles in admin_routes(app):
        if (method, path) not in CALLS:
            continue
        role = _caller(roles)
        admin = world.admins[role]
        ask = await CALLS[(method, path)](world)
        last = await AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id, ascending=False)
        mark = last[0]["id"] if last else 0
        response = await _send(client, settings, method, admin, ask)
        called += 1
        new = await AuditEntry.select().where(AuditEntry.id > mark).order_by(AuditEntry.id)
        if response.status_code >= 400:
            failures.append(
                f"{method} {path} as {role.value}: {response.status_code} {response.text[:300]}"
            )
        elif len(new) != 1:
            failures.append(f"{method} {path}: {len(new)} rows {[r['action'] for r in new]}")
        elif (new[0]["actor_kind"], new[0]["actor"], new[0]["actor_role"]) != (
            "person",
            admin.id,
            role.value,
        ):
            failures.append(f"{method} {path}: wrong actor in {new[0]}")
    assert failures == [], f"{len(failures)} of {called} admin routes:\n" + "\n".join(failures)
    assert called == len(CALLS)


async def test_a_refused_act_writes_no_row(
    client: httpx.AsyncClient, settings: Settings, world: World
) -> None:
    network = auth(settings, world.admins[Role.NETWORK_ADMIN])
    closed = await make_venue(status="closed")
    first = await client.post(
        f"/api/v1/venues/{world.venue.id}/rates", json=_rate(), headers=network
    )
    before = await AuditEntry.count()

    conflict = await client.post(
        f"/api/v1/venues/{closed.id}/status", json={"status": "approved"}, headers=network
    )
    duplicate = await client.post(
        f"/api/v1/venues/{world.venue.id}/rates", json=_rate(), headers=network
    )
    invalid = await client.patch(
        f"/api/v1/venues/{world.venue.id}/workspaces/{world.workspace.id}",
        json={"booking_unit": "hour"},  # a desk is booked by the half-day or the day
        headers=network,
    )
    unknown = await client.post(
        f"/api/v1/venues/{uuid.uuid4()}/status", json={"status": "approved"}, headers=network
    )

    assert first.status_code == 201, first.text
    assert [conflict.status_code, duplicate.status_code, invalid.status_code] == [409, 409, 422]
    assert unknown.status_code == 404
    assert await AuditEntry.count() == before


async def test_an_update_keeps_the_fields_before_and_after(
    client: httpx.AsyncClient, settings: Settings, world: World
) -> None:
    admin = world.admins[Role.VENUE_ADMIN]
    response = await client.patch(
        f"/api/v1/venues/{world.venue.id}/workspaces/{world.workspace.id}",
        json={"capacity": 14, "name": "Plateau"},
        headers=auth(settings, admin),
    )

    assert response.status_code == 200, response.text
    row = await AuditEntry.select().order_by(AuditEntry.id, ascending=False).first()
    assert row is not None
    assert (row["action"], row["object_type"], row["object_id"]) == (
        "workspace.update",
        "workspace",
        str(world.workspace.id),
    )
    assert json.loads(row["changes"]) == {"capacity": [10, 14], "name": ["Open space", "Plateau"]}
    assert (row["actor"], row["actor_role"]) == (admin.id, "venue_admin")


async def test_the_workers_monthly_close_is_audited_as_the_system(
    settings: Settings, database_url: str
) -> None:
    venue = await make_venue()
    agent = await make_user(Role.AGENT)
    await make_visit(agent, venue, await make_workspace(venue), date(2026, 9, 7))

    await close_month({"settings": settings}, "2026-09")
    await close_month({"settings": settings}, "2026-09")  # already closed: no second act

    trail = await AuditEntry.select(
        AuditEntry.actor_kind, AuditEntry.actor, AuditEntry.action, AuditEntry.object_id
    )
    assert trail == [
        {"actor_kind": "system", "actor": None, "action": "period.close", "object_id": "2026-09"}
    ]
