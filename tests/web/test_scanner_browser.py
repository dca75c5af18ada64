"""The door scanner in a real browser (Debian's Chromium, phone-sized), on the demo data.

The camera is Chromium's fake capture device fed with a video that we write ourselves:
the demo agent's QR code (from the pass service) on white, in the Y4M format Chromium
reads. Offline, the page judges the pass itself and queues the scan until the network
is back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image
from playwright.async_api import BrowserContext, Page, async_playwright, expect

from booking.tables import Booking, User, Workspace
from passes import qr
from passes import services as pass_services
from passes.keys import Keyring
from passes.tables import Scan, Visit
from service.kernel.identity import Principal, Role
from service.kernel.settings import Settings
from tests.factories import make_booking
from tests.web.browser import AGENT, PHONE, STAFF, artifact, check_accessibility, launch, sign_in

PARIS = ZoneInfo("Europe/Paris")
DESKTOP = {"width": 1280, "height": 800}


def write_y4m(
    png: bytes, path: Path, *, size: tuple[int, int] = (640, 480), frames: int = 5
) -> Path:
    """A few identical frames of the QR centred on white, as 4:2:0 Y4M for Chromium's fake camera."""
    from io import BytesIO

    width, height = size
    code = Image.open(BytesIO(png)).convert("L")
    side = min(width, height) - 80
    code = code.resize((side, side), Image.Resampling.NEAREST)
    picture = Image.new("L", size, 255)
    picture.paste(code, ((width - side) // 2, (height - side) // 2))
    y, cb, cr = picture.convert("RGB").convert("YCbCr").split()
    half = (width // 2, height // 2)
    frame = (
        y.tobytes()
        + cb.resize(half, Image.Resampling.BILINEAR).tobytes()
        + cr.resize(half, Image.Resampling.BILINEAR).tobytes()
    )
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + frame)
    return path


async def demo_door(settings: Settings) -> dict[str, Any]:
    """The demo agent booked today at the demo staff's venue, and their pass."""
    agent = await User.objects().where(User.email == AGENT).first()
    staff = await User.objects().where(User.email == STAFF).first()
    assert agent is not None
    assert staff is not None
    desk = (
        await Workspace.objects()
        .where((Workspace.venue == staff.venue) & (Workspace.kind == "desk"))
        .first()
    )
    assert desk is not None, "the demo venue has no desk area"
    today = datetime.now(PARIS).date()
    booked = await Booking.exists().where(
        (Booking.agent == agent.id)
        & (Booking.venue == staff.venue)
        & (Booking.local_date == today)
        & Booking.status.is_in(["confirmed", "checked_in"])
    )
    if not booked:
        await make_booking(agent, desk, today, slot="day")
    # The live server generated and published its key in this test's DATA_DIR.
    keyring = Keyring.from_settings(None, settings.data_dir, generate=False)
    issued = await pass_services.ensure_pass(agent.id, keyring)
    return {
        "agent": agent,
        "staff": staff,
        "token": issued.token,
        "today": today,
        "serial": issued.serial,
        "scans_before": await Scan.count(),
    }


async def todays_visit(door: dict[str, Any]) -> Visit | None:
    """The demo agent's visit at the demo staff's venue today (the demo has older ones)."""
    return (
        await Visit.objects()
        .where(
            (Visit.agent == door["agent"].id)
            & (Visit.venue == door["staff"].venue)
            & (Visit.local_date == door["today"])
        )
        .first()
    )


@asynccontextmanager
async def camera_phone(live_server: str, video: Path) -> AsyncIterator[BrowserContext]:
    """A phone whose camera films `video` (Chromium's fake capture, permission granted)."""
    async with async_playwright() as playwright:
        browser = await launch(
            playwright,
            [
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        try:
            context = await browser.new_context(
                base_url=live_server,
                viewport=PHONE,
                locale="fr-FR",
                timezone_id="Europe/Paris",
                permissions=["camera"],
            )
            context.set_default_timeout(20_000)
            yield context
        finally:
            await browser.close()


def tampered_signature(token: str) -> str:
    """The token with two signature bytes changed (one whole base45 group: still well formed)."""
    start = len("TL1:") + 90  # group 30 of base45: signature bytes 45 and 46
    group = token[start : start + 3]
    return token[:start] + ("000" if group != "000" else "100") + token[start + 3 :]


def verdict(page: Page) -> Any:
    return page.locator("#verdict")


async def test_the_demo_agents_qr_on_camera_is_admitted_and_checked_in(
    live_server: str, settings: Settings, tmp_path: Path
) -> None:
    door = await demo_door(settings)
    video = write_y4m(qr.png(door["token"]), tmp_path / "agent-qr.y4m")
    async with camera_phone(live_server, video) as phone:
        page = await phone.new_page()
        await sign_in(page, STAFF)
        await expect(page).to_have_url(f"{live_server}/scan")

        shown = verdict(page)
        await expect(shown).to_have_class("verdict shown admitted")
        await expect(shown).to_contain_text("Entrée autorisée")
        await expect(shown).to_contain_text(door["agent"].display_name)
        await check_accessibility(page, "scanner-admitted")
        # The README's docs/screenshots/scanner-verdict.png is a copy of this one, made by hand.
        await page.screenshot(path=artifact("scanner-admitted-phone.png"))

        visit = await todays_visit(door)
        assert visit is not None, "the scan admitted the agent but the server has no visit"
        assert await Scan.count() == door["scans_before"] + 1

        # Next: the same QR in front of the camera is not scanned again at once.
        await shown.get_by_role("button", name="Scanner le suivant").click()
        await expect(shown).to_have_class("verdict")
        await expect(page.locator("#arrivals")).to_contain_text("arrivé à")
        await check_accessibility(page, "scanner-idle")
        await page.set_viewport_size(DESKTOP)
        await page.screenshot(path=artifact("scanner-idle-desktop.png"))
        assert await Scan.count() == door["scans_before"] + 1


async def test_a_revoked_pass_on_camera_is_refused_with_the_reason(
    live_server: str, settings: Settings, tmp_path: Path
) -> None:
    door = await demo_door(settings)
    network = await User.objects().where(User.role == Role.NETWORK_ADMIN.value).first()
    assert network is not None
    await pass_services.change_status(
        Principal(role=Role.NETWORK_ADMIN, user_id=network.id), door["agent"].id, "revoked"
    )
    video = write_y4m(qr.png(door["token"]), tmp_path / "revoked-qr.y4m")
    async with camera_phone(live_server, video) as phone:
        page = await phone.new_page()
        await sign_in(page, STAFF)
        shown = verdict(page)
        await expect(shown).to_have_class("verdict shown refused")
        await expect(shown).to_contain_text("Entrée refusée")
        await expect(shown).to_contain_text("Ce pass a été révoqué.")
        await check_accessibility(page, "scanner-refused")
        await page.screenshot(path=artifact("scanner-refused-phone.png"))
    assert await todays_visit(door) is None


async def test_offline_the_page_judges_queues_and_syncs_when_back_online(
    phone: BrowserContext, live_server: str, settings: Settings
) -> None:
    door = await demo_door(settings)
    page = await phone.new_page()
    await sign_in(page, STAFF)
    await expect(page).to_have_url(f"{live_server}/scan")
    # Loaded once online: the service worker holds the page, the page holds keys and bookings.
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await page.wait_for_function(
        "caches.open('tl-scan-v1').then(c => c.match('/scan')).then(r => !!r)"
    )

    await phone.set_offline(True)
    try:
        await page.reload()  # the scanner opens without network
        await expect(page.locator("#network")).to_contain_text("Hors ligne")
        await page.get_by_label("Code du pass").fill(door["token"])
        await page.get_by_role("button", name="Vérifier le pass").click()
        shown = verdict(page)
        await expect(shown).to_have_class("verdict shown admitted")
        await expect(shown).to_contain_text("vérifié hors ligne")
        await expect(shown).to_contain_text(door["agent"].display_name)
        await shown.get_by_role("button", name="Scanner le suivant").click()
        await expect(page.locator("#network")).to_contain_text("1 en attente")
        await expect(page.locator("#queue")).to_contain_text(door["agent"].display_name)
        await check_accessibility(page, "scanner-offline-queue")

        # A forged token is refused offline too (the signature is checked in the browser).
        forged = tampered_signature(door["token"])
        await page.get_by_label("Code du pass").fill(forged)
        await page.get_by_role("button", name="Vérifier le pass").click()
        await expect(shown).to_have_class("verdict shown refused")
        await expect(shown).to_contain_text("Signature invalide")
        await shown.get_by_role("button", name="Scanner le suivant").click()
        await expect(page.locator("#network")).to_contain_text("2 en attente")
        assert await Scan.count() == door["scans_before"]
    finally:
        await phone.set_offline(False)

    await expect(page.locator("#synced")).to_contain_text("confirmé par le serveur")
    # The forged scan is not put on the holder's name: its signature names nobody.
    await expect(page.locator("#synced")).to_contain_text("Titulaire inconnu")
    await expect(page.locator("#waiting-count")).to_be_hidden()
    await page.screenshot(path=artifact("scanner-synced-phone.png"), full_page=True)
    assert await todays_visit(door) is not None, "the queue was sent but the server has no visit"
    scans = await Scan.select(Scan.offline, Scan.admitted, Scan.local_admitted).where(
        (Scan.venue == door["staff"].venue) & (Scan.serial == door["serial"])
    )
    assert sorted((s["admitted"], s["local_admitted"]) for s in scans) == [
        (False, False),
        (True, True),
    ]
    assert all(s["offline"] for s in scans)
