"""A team meeting in a real browser (Debian's Chromium, phone-sized), on the demo data.

The demo agent books a meeting room, invites a colleague found by name and an outside
guest by email from the booking's page. On the day, the guest opens the link of their
invitation email, the QR of their guest pass is decoded from the page's pixels (zxing-cpp)
and admitted at the door's scanner, and so is the colleague's own pass, each with the
verdict "Réunion : salle X, invité(e) de …".
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import zxingcpp
from PIL import Image
from playwright.async_api import Browser, BrowserContext, expect

from booking.tables import (
    Booking,
    MeetingAttendee,
    Organisation,
    Outbox,
    User,
    Venue,
    Workspace,
)
from passes import services as pass_services
from passes.keys import Keyring
from passes.tables import Visit
from service.app.seed import DEMO_PASSWORD
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.factories import make_user
from tests.web.browser import AGENT, PHONE, check_accessibility, sign_in
from tests.web.test_agent_browser import free_day_for

PARIS = ZoneInfo("Europe/Paris")
GUEST = "claire.dupont@partenaire.example"


async def test_the_demo_agent_holds_a_meeting_with_a_colleague_and_a_guest(
    phone: BrowserContext, browser: Browser, live_server: str, settings: Settings
) -> None:
    agent = await User.objects().where(User.email == AGENT).first()
    assert agent is not None
    await User.update({User.monthly_allowance_units: 40}).where(User.id == agent.id)
    metropole = await Organisation.objects().where(Organisation.id == agent.organisation).first()
    colleague = await make_user(
        Role.AGENT, organisation=metropole, display_name="Bruno Lefebvre", password=DEMO_PASSWORD
    )
    day = await free_day_for(agent.id)

    # The organiser books a room and invites from the booking's page.
    page = await phone.new_page()
    await sign_in(page, AGENT)
    await page.goto(f"/agent?date={day.isoformat()}&kind=meeting_room&start=10:00&end=11:00")
    await page.locator(".results").get_by_role("button", name="Réserver").first.click()
    await expect(page).to_have_url(re.compile(r"/agent/bookings\?done=booked#booking-"))
    booking = (
        await Booking.objects()
        .where((Booking.agent == agent.id) & (Booking.local_date == day) & (Booking.unit == "hour"))
        .first()
    )
    assert booking is not None
    room = await Workspace.objects().where(Workspace.id == booking.workspace).first()
    assert room is not None
    await (
        page.locator(f"#booking-{booking.id}")
        .get_by_role("link", name=re.compile("Inviter à la réunion"))
        .click()
    )
    await page.get_by_label("Nom ou e-mail d'un·e collègue de votre organisation").fill("Bruno")
    await page.get_by_role("button", name="Chercher").click()
    await page.get_by_role("button", name="Inviter Bruno Lefebvre").click()
    await expect(page.get_by_role("status")).to_contain_text("Invitation envoyée")
    await page.get_by_label("Adresse e-mail").fill(GUEST)
    await page.get_by_label("Nom (pour une personne invitée)").fill("Claire Dupont")
    await page.get_by_role("button", name="Envoyer l'invitation").click()
    attendees = page.locator(".attendee")
    await expect(attendees).to_have_count(3)
    await expect(page.locator("#attendees")).to_contain_text("Pas encore de réponse")
    await check_accessibility(page, "meeting-attendees")

    # The day of the meeting: it starts in a few minutes (the door admits 30 minutes early).
    starts = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)
    await Booking.update(
        {
            Booking.starts_at: starts,
            Booking.ends_at: starts + timedelta(hours=1),
            Booking.local_date: starts.astimezone(PARIS).date(),
        }
    ).where(Booking.id == booking.id)

    # The guest opens the link of their email, without an account, and accepts.
    [mail] = await Outbox.select().where(
        (Outbox.recipient == GUEST) & (Outbox.booking == booking.id)
    )
    link = re.search(r"https?://[^/\s]+(/reunion/\S+)", str(mail["body"]))
    assert link is not None, mail["body"]
    guest_context = await browser.new_context(
        base_url=live_server, viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris"
    )
    try:
        guest_page = await guest_context.new_page()
        await guest_page.goto(link.group(1))
        await expect(guest_page.locator("h1")).to_contain_text("Invitation à une réunion")
        await guest_page.get_by_role("button", name="Je viens").click()
        await expect(guest_page.get_by_role("status")).to_contain_text("vous venez")
        qr = guest_page.locator("img.qr")
        await expect(qr).to_be_visible()
        await check_accessibility(guest_page, "meeting-guest-pass")
        [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(await qr.screenshot())))
        guest_token = decoded.text
        assert guest_token.startswith("TL1:")
    finally:
        await guest_context.close()
    answered = await MeetingAttendee.select(MeetingAttendee.partstat).where(
        MeetingAttendee.email == GUEST
    )
    assert answered[0]["partstat"] == "accepted"

    # At the door of the room's venue: the guest pass, then the colleague's own pass.
    staff = await make_user(
        Role.VENUE_STAFF,
        venue=await Venue.objects().where(Venue.id == booking.venue).first(),
        display_name="Accueil de la salle",
        password=DEMO_PASSWORD,
    )
    keyring = Keyring.from_settings(None, settings.data_dir, generate=False)
    colleague_token = (await pass_services.ensure_pass(colleague.id, keyring)).token
    door_context = await browser.new_context(
        base_url=live_server, viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris"
    )
    try:
        door = await door_context.new_page()
        await sign_in(door, staff.email)
        await expect(door).to_have_url(f"{live_server}/scan")
        shown = door.locator("#verdict")
        expected = f"Réunion : salle {room.name}, invité(e) de Camille Desrousseaux"
        for token, name in ((guest_token, "Claire Dupont"), (colleague_token, "Bruno Lefebvre")):
            await door.get_by_label("Code du pass").fill(token)
            await door.get_by_role("button", name="Vérifier le pass").click()
            await expect(shown).to_have_class("verdict shown admitted")
            await expect(shown).to_contain_text(name)
            await expect(shown).to_contain_text(expected)
            await check_accessibility(door, f"meeting-door-{name.split()[0].lower()}")
            await shown.get_by_role("button", name="Scanner le suivant").click()
            await expect(shown).to_have_class("verdict")
        # Offline, the page judges the guest pass like any pass and still names the guest.
        await door.wait_for_function(
            "caches.open('tl-scan-v1').then(c => c.match('/scan')).then(r => !!r)"
        )
        await door.reload()
        await door_context.set_offline(True)
        await door.get_by_label("Code du pass").fill(guest_token)
        await door.get_by_role("button", name="Vérifier le pass").click()
        await expect(shown).to_have_class("verdict shown admitted")
        await expect(shown).to_contain_text("vérifié hors ligne")
        await expect(shown).to_contain_text("Claire Dupont")
        await expect(shown).to_contain_text(expected)
        await door_context.set_offline(False)
    finally:
        await door_context.close()
    visits = await Visit.select(Visit.agent, Visit.billable).where(Visit.attendee.is_not_null())
    assert sorted(str(v["agent"]) for v in visits) == sorted(["None", str(colleague.id)])
    assert not any(v["billable"] for v in visits)
