"""The door scanner: camera and manual entry, verdicts, today's arrivals, offline queue sync.

Open to venue staff and venue admins (session cookie) and to door devices, which have no
person to sign in: their token is pasted once at /scan/device and kept in an HttpOnly
cookie that only the /scan routes read. The page's script talks to the JSON routes below
(CSRF header), which call the same scan services as the API; without JavaScript, the
manual entry form posts to /scan and the verdict comes back as a page.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import AbstractMiddleware, DefineMiddleware
from litestar.params import Body, JSONBody
from litestar.response import Redirect
from litestar.types import Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from passes import door, scans, verdicts
from passes.door_devices import device_principal
from passes.keys import PublicKeyCache
from passes.scan_controllers import scan_rate_limit
from passes.scan_schemas import NewScan, ScanBatch
from service.kernel.auth import PUBLIC, CurrentPrincipal, allow
from service.kernel.errors import DomainError
from service.kernel.i18n import N_
from service.kernel.identity import Principal, Role
from service.kernel.problems import problem_for
from service.kernel.settings import Settings
from service.kernel.tokens import DEVICE_TOKEN_PREFIX
from web.assets import JSQR
from web.i18n import format_time, translate
from web.labels import REFUSAL, SCAN_REASON, SCRIPT_WORDS
from web.pages import STATIC, language, page

SCANNERS = allow(Role.VENUE_STAFF, Role.VENUE_ADMIN, devices=True)
DEVICE_COOKIE = "tl_device"
MAX_TOKEN = 512
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def device_cookie(token: str, settings: Settings, *, forget: bool = False) -> Cookie:
    # Path /scan: no other route ever sees a device token; a year, as a device stays put.
    return Cookie(
        key=DEVICE_COOKIE,
        value="" if forget else token,
        max_age=0 if forget else 365 * 24 * 3600,
        path="/scan",
        httponly=True,
        samesite="strict",
        secure=settings.base_url.startswith("https://"),
    )


class DeviceCookieMiddleware(AbstractMiddleware):
    """On the scanner's routes only: a caller with no session is the door device its cookie names."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("user") is None:
            connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
            token = connection.cookies.get(DEVICE_COOKIE) or ""
            if token.startswith(DEVICE_TOKEN_PREFIX):
                # Revoked since: no principal, and the guard sends the device to sign in again.
                device = await device_principal(token)
                if device is not None:
                    scope["user"] = device
        await self.app(scope, receive, send)


def _venue_of(principal: Principal) -> uuid.UUID:
    if principal.venue_id is None:
        raise PermissionDeniedException("This account belongs to no venue.")
    return principal.venue_id


def _key_cache(request: Request[Any, Any, Any]) -> PublicKeyCache:
    # The same per-application cache as the API's scan routes (passes.scan_controllers).
    state = request.app.state
    cache = state.get("pass_key_cache")
    if cache is None:
        cache = state.pass_key_cache = PublicKeyCache()
    return cache


def _reason_text(lang: str, reason: str | None) -> str | None:
    if reason is None:
        return None
    key = SCAN_REASON.get(reason)
    return translate(lang, key) if key else reason


def _clock(lang: str, moment: datetime | None, zone: ZoneInfo) -> str | None:
    return None if moment is None else format_time(lang, moment.astimezone(zone))


def _arrival(lang: str, row: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """One of today's bookings as the page and its script show it (and match serials offline)."""
    return {
        "booking_id": str(row["booking_id"]),
        "serial": row["serial"],
        "agent_name": row["agent_name"],
        "organisation_name": row["organisation_name"],
        "workspace_name": row["workspace_name"],
        "starts": _clock(lang, row["starts_at"], zone),
        "ends": _clock(lang, row["ends_at"], zone),
        "walk_in": row["walk_in"],
        "arrived_at": _clock(lang, row["checked_in_at"], zone),
    }


async def _verdict(lang: str, outcome: verdicts.ScanOutcome, zone: ZoneInfo) -> dict[str, Any]:
    booking = (
        await door.booking_at_door(outcome.booking_id) if outcome.booking_id is not None else None
    )
    return {
        "scan_id": str(outcome.scan_id),
        "admitted": outcome.admitted,
        "reason": outcome.reason,
        "reason_text": _reason_text(lang, outcome.reason),
        "agent_name": outcome.agent_name,
        "organisation_name": outcome.organisation_name,
        "workspace_name": booking["workspace_name"] if booking else None,
        "starts": _clock(lang, booking["starts_at"], zone) if booking else None,
        "ends": _clock(lang, booking["ends_at"], zone) if booking else None,
        "walk_in": outcome.walk_in,
        "meeting_text": (
            translate(
                lang,
                N_("Meeting: room %(room)s, guest of %(host)s"),
                room=outcome.meeting_room,
                host=outcome.meeting_host or "?",
            )
            if outcome.meeting_room
            else None
        ),
        "replayed": outcome.replayed,
        "offline": False,
    }


async def _state(request: Request[Any, Any, Any], venue_id: uuid.UUID) -> dict[str, Any]:
    """Everything the page keeps for offline use, and a fresh CSRF token for its next posts."""
    lang = language(request)
    day = await door.day_at(venue_id)
    zone = ZoneInfo(day.timezone)
    return {
        "csrf_token": ScopeState.from_scope(request.scope).csrf_token,
        "venue": {
            "id": str(day.venue_id),
            "name": day.venue_name,
            "timezone": day.timezone,
            "local_date": day.local_date.isoformat(),
            "open_today": day.open_today,
        },
        "keys": await door.verification_keys(),
        **await door.refused_serials(),
        "arrivals": [_arrival(lang, row, zone) for row in day.bookings],
        # Meeting attendees by the serial they show, so that an offline verdict names them.
        "meeting_guests": [
            {
                "serial": row["serial"],
                "agent_name": row["agent_name"],
                "organisation_name": None,
                "meeting_text": translate(
                    lang,
                    N_("Meeting: room %(room)s, guest of %(host)s"),
                    room=row["workspace_name"],
                    host=row["host"] or "?",
                ),
                "workspace_name": row["workspace_name"],
                "starts": _clock(lang, row["starts_at"], zone),
                "ends": _clock(lang, row["ends_at"], zone),
            }
            for row in await door.meeting_attendees_on(venue_id, day.local_date)
        ],
        "fetched_at": datetime.now(UTC).isoformat(),
    }


def _script_words(lang: str) -> dict[str, str]:
    return {key: translate(lang, message) for key, message in SCRIPT_WORDS.items()}


class ScannerController(Controller):
    path = "/scan"
    include_in_schema = False
    middleware = [DefineMiddleware(DeviceCookieMiddleware)]

    async def _page(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        *,
        status_code: int = 200,
        token: str = "",
        errors: dict[str, str] | None = None,
        verdict: dict[str, Any] | None = None,
        refusal: str | None = None,
    ) -> Response[Any]:
        lang = language(request)
        state = await _state(request, _venue_of(principal))
        arrivals = state["arrivals"]
        config = {
            "lang": lang,
            "words": _script_words(lang),
            "state": state,
        }
        extra: dict[str, Any] = {"me": None} if principal.is_device else {}
        return page(
            request,
            "scan/scanner.html",
            title=N_("Scan passes"),
            status_code=status_code,
            venue=state["venue"],
            arrivals=arrivals,
            arrived=sum(1 for a in arrivals if a["arrived_at"]),
            config=config,
            token=token,
            scan_id=uuid.uuid4(),
            errors=errors or {},
            verdict=verdict,
            refusal=refusal,
            is_device=principal.is_device,
            **extra,
        )

    @get("", opt=SCANNERS)
    async def scanner(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[Any]:
        return await self._page(request, principal)

    @post("", opt=SCANNERS, guards=[scan_rate_limit])
    async def manual(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal, data: Form
    ) -> Response[Any]:
        """Manual entry without JavaScript: the verdict comes back as the page."""
        lang = language(request)
        token = (data.get("token") or "").strip()
        error = (
            N_("Type or paste the pass code.")
            if not token
            else N_("This code is too long for a pass.")
            if len(token) > MAX_TOKEN
            else None
        )
        if error is not None:
            return await self._page(
                request,
                principal,
                status_code=422,
                token=token[:MAX_TOKEN],
                errors={"token": translate(lang, error)},
            )
        try:
            scan_id = uuid.UUID(data.get("scan_id") or "")
        except ValueError:
            scan_id = uuid.uuid4()
        venue_id = _venue_of(principal)
        now = datetime.now(UTC)
        try:
            outcome = await scans.scan(
                principal,
                venue_id,
                verdicts.ScanInput(scan_id, token, now, "in"),
                _key_cache(request),
                now=now,
            )
        except DomainError as refused:
            problem = problem_for(refused)
            key = REFUSAL.get(problem.slug)
            return await self._page(
                request,
                principal,
                status_code=problem.status,
                token=token,
                refusal=translate(lang, key) if key else refused.detail,
            )
        verdict = await _verdict(lang, outcome, await door.venue_zone(venue_id))
        return await self._page(request, principal, verdict=verdict)

    @get("/state", opt=SCANNERS)
    async def state(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> Response[dict[str, Any]]:
        """Keys, revocations, today's bookings: what the page keeps to judge passes offline."""
        return Response(
            await _state(request, _venue_of(principal)), headers={"Cache-Control": "no-store"}
        )

    @post("/scans", opt=SCANNERS, guards=[scan_rate_limit], status_code=201)
    async def scan(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: JSONBody[NewScan],
    ) -> dict[str, Any]:
        """An online scan from the page's script (camera or manual entry)."""
        venue_id = _venue_of(principal)
        outcome = await scans.scan(
            principal,
            venue_id,
            verdicts.ScanInput(data.scan_id, data.token, data.scanned_at, data.direction),
            _key_cache(request),
        )
        return await _verdict(language(request), outcome, await door.venue_zone(venue_id))

    @post("/scans:batch", opt=SCANNERS, status_code=200)
    async def batch(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        data: JSONBody[ScanBatch],
    ) -> dict[str, Any]:
        """The offline queue, sent when the network is back; the server's answer to each."""
        lang = language(request)
        outcomes = await scans.scan_batch(
            principal,
            _venue_of(principal),
            [
                verdicts.ScanInput(
                    s.scan_id,
                    s.token,
                    s.scanned_at,
                    s.direction,
                    local_admitted=s.local_verdict.admitted,
                    local_reason=s.local_verdict.reason,
                )
                for s in data.scans
            ],
            _key_cache(request),
        )
        return {
            "results": [
                {
                    "scan_id": str(o.scan_id),
                    "admitted": o.admitted,
                    "reason": o.reason,
                    "reason_text": _reason_text(lang, o.reason),
                    "local_admitted": o.local_admitted,
                    "agent_name": o.agent_name,
                    "anomaly": bool(o.anomalies),
                }
                for o in outcomes
            ]
        }

    @get("/device", opt=PUBLIC)
    async def device_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return page(
            request,
            "scan/device.html",
            title=N_("Door device"),
            errors={},
            has_device=bool(request.cookies.get(DEVICE_COOKIE)),
            forgotten=request.query_params.get("forgotten") == "1",
        )

    @post("/device", opt=PUBLIC)
    async def device_sign_in(self, request: Request[Any, Any, Any], data: Form) -> Response[Any]:
        """Check a pasted device token and keep it in this browser's cookie."""
        lang = language(request)
        token = (data.get("token") or "").strip()
        error = N_("Paste the device token.") if not token else None
        if error is None and (
            not token.startswith(DEVICE_TOKEN_PREFIX) or await device_principal(token) is None
        ):
            error = N_("This token is unknown or revoked.")
        if error is not None:
            return page(
                request,
                "scan/device.html",
                title=N_("Door device"),
                status_code=422 if not token else 401,
                errors={"token": translate(lang, error)},
                has_device=bool(request.cookies.get(DEVICE_COOKIE)),
                forgotten=False,
            )
        settings: Settings = request.app.state.settings
        return Redirect("/scan", status_code=303, cookies=[device_cookie(token, settings)])

    @post("/device/forget", opt=PUBLIC)
    async def device_forget(self, request: Request[Any, Any, Any]) -> Response[Any]:
        settings: Settings = request.app.state.settings
        return Redirect(
            "/scan/device?forgotten=1",
            status_code=303,
            cookies=[device_cookie("", settings, forget=True)],
        )

    @get("/sw.js", opt=PUBLIC)
    async def service_worker(self) -> Response[bytes]:
        # Scoped to /scan (the agent's /sw.js keeps its own cache): opens the scanner offline.
        return Response(
            (STATIC / "scan-sw.js").read_bytes(),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/scan"},
        )

    @get("/jsqr.js", opt=PUBLIC)
    async def decoder(self) -> Response[bytes]:
        """jsQR from web/frontend/node_modules (npm, pinned by package-lock.json)."""
        return Response(
            JSQR.read_bytes(),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600"},
        )
