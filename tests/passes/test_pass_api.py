"""My pass over HTTP: the QR images decode to the token, admins suspend and reissue, devices sync."""

from __future__ import annotations

import base64
import io
import re
import uuid

import httpx
import zxingcpp
from PIL import Image, ImageDraw

from booking.tables import Organisation, User
from passes import qr
from passes.tables import Pass
from passes.verify import PublicKey, Reason, verify
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.factories import auth, make_organisation, make_user, make_venue


def decode_png(data: bytes) -> str:
    [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))
    return str(result.text)


def rasterise_svg(data: bytes, scale: int = 8) -> Image.Image:
    """qrcode's SVG is one path of unit squares "Mx,yH..V..H..z" in a viewBox: draw them."""
    text = data.decode()
    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', text).group(1))  # type: ignore[union-attr]
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y in re.findall(r"M(\d+),(\d+)H", text):
        left, top = int(x) * scale, int(y) * scale
        draw.rectangle([left, top, left + scale - 1, top + scale - 1], fill=0)
    return image


async def _agent(settings: Settings) -> tuple[User, dict[str, str]]:
    agent = await make_user(Role.AGENT, organisation=await make_organisation())
    return agent, auth(settings, agent)


async def test_my_pass_png_and_svg_decode_to_exactly_the_token_which_verifies(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    _, headers = await _agent(settings)

    json_pass = await client.get("/api/v1/me/pass", headers=headers)
    png = await client.get("/api/v1/me/pass.png", headers=headers)
    svg = await client.get("/api/v1/me/pass.svg", headers=headers)
    keys = await client.get("/api/v1/passes/keys")

    assert json_pass.status_code == 200, json_pass.text
    token = json_pass.json()["token"]
    assert png.headers["content-type"] == "image/png"
    assert png.headers["cache-control"] == "no-store"
    assert decode_png(png.content) == token
    [from_svg] = zxingcpp.read_barcodes(rasterise_svg(svg.content))
    assert from_svg.text == token
    assert qr.version(token) <= 8
    public = {
        k["key_id"]: PublicKey(k["key_id"], base64.urlsafe_b64decode(k["public_key"] + "=="))
        for k in keys.json()
    }
    assert verify(token, keys=public).admitted
    assert await Pass.count() == 1  # the same pass every time


async def test_organisation_admins_suspend_resume_and_reissue_their_agents_passes(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    agent, headers = await _agent(settings)
    first = (await client.get("/api/v1/me/pass", headers=headers)).json()
    organisation_id = agent.organisation
    admin = auth(settings, await make_user(Role.ORG_ADMIN, organisation=await make_organisation()))
    own_admin = auth(
        settings, await make_user(Role.ORG_ADMIN, organisation=await _org(organisation_id))
    )
    base = f"/api/v1/organisations/{organisation_id}/agents/{agent.id}/pass"
    staff = auth(settings, await make_user(Role.VENUE_STAFF))

    foreign = await client.post(f"{base}/suspend", headers=admin)
    suspended = await client.post(
        f"{base}/suspend", json={"reason": "Perte signalée"}, headers=own_admin
    )
    twice = await client.post(f"{base}/suspend", headers=own_admin)
    resumed = await client.post(f"{base}/resume", headers=own_admin)
    reissued = await client.post(f"{base}/reissue", headers=own_admin)
    unknown = await client.get(
        f"/api/v1/organisations/{organisation_id}/agents/{uuid.uuid4()}/pass", headers=own_admin
    )
    feed = await client.get("/api/v1/passes/revocations?since=0", headers=staff)

    assert foreign.status_code == 403
    assert suspended.json()["status"] == "suspended"
    assert twice.status_code == 409
    assert resumed.json()["status"] == "active"
    assert reissued.json()["serial"] != first["serial"]
    assert unknown.status_code == 404
    changes = [(c["serial"], c["status"]) for c in feed.json()["changes"]]
    assert changes == [
        (first["serial"], "active"),
        (first["serial"], "suspended"),
        (first["serial"], "active"),
        (first["serial"], "revoked"),
        (reissued.json()["serial"], "active"),
    ]
    later = await client.get(
        f"/api/v1/passes/revocations?since={feed.json()['next_cursor']}", headers=staff
    )
    assert later.json()["changes"] == []


async def _org(organisation_id: uuid.UUID) -> Organisation:
    organisation = await Organisation.objects().where(Organisation.id == organisation_id).first()
    assert organisation is not None
    return organisation


async def test_deactivating_an_agent_revokes_their_pass(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    agent, headers = await _agent(settings)
    issued = (await client.get("/api/v1/me/pass", headers=headers)).json()
    admin = auth(
        settings, await make_user(Role.ORG_ADMIN, organisation=await _org(agent.organisation))
    )

    await client.post(
        f"/api/v1/organisations/{agent.organisation}/agents/{agent.id}/deactivate", headers=admin
    )

    stored = (
        await Pass.select(Pass.status, Pass.status_reason)
        .where(Pass.serial == issued["serial"])
        .first()
    )
    assert stored == {"status": "revoked", "status_reason": "agent deactivated"}
    keys = {
        k["key_id"]: PublicKey(k["key_id"], base64.urlsafe_b64decode(k["public_key"] + "=="))
        for k in (await client.get("/api/v1/passes/keys")).json()
    }
    assert verify(issued["token"], keys=keys, revoked={issued["serial"]}).reason == Reason.REVOKED


async def test_pass_routes_refuse_other_roles(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    venue_admin = auth(settings, await make_user(Role.VENUE_ADMIN, venue=await make_venue()))
    org_admin = auth(settings, await make_user(Role.ORG_ADMIN))

    assert (await client.get("/api/v1/me/pass", headers=venue_admin)).status_code == 403
    assert (await client.get("/api/v1/me/pass.png")).status_code == 401
    assert (await client.get("/api/v1/passes/revocations", headers=org_admin)).status_code == 403
    negative = await client.get("/api/v1/passes/revocations?since=-1", headers=venue_admin)
    assert negative.status_code == 422
    assert negative.json()["field"] == "since"
