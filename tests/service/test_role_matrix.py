"""The role matrix, generated from the app's route table.

Every route must carry a deliberate access decision, and every role outside a route's
decision is refused: anonymous callers get 401 (a 303 to the sign-in form on pages),
other roles and devices 403, people of another venue or organisation 403. A new route
without an `Access` fails this suite.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from booking.services.accounts import hash_token
from passes.tables import DoorDevice
from service.kernel.auth import Access
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.factories import auth, make_organisation, make_user, make_venue


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    access: Access | None
    handler: str


def app_routes(app: Litestar) -> list[Route]:
    routes = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            for method in sorted(handler.http_methods):
                if method in ("OPTIONS", "HEAD"):
                    continue
                access = handler.opt.get("access")
                routes.append(
                    Route(
                        method,
                        route.path,
                        access if isinstance(access, Access) else None,
                        handler.handler_name,
                    )
                )
    return routes


def concrete(path: str, values: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2)
        if name in values:
            return values[name]
        return {"uuid": str(uuid.uuid4()), "int": "1", "date": "2026-11-24"}.get(kind, "x")

    return re.sub(r"\{(\w+):(\w+)\}", fill, path)


def test_every_route_declares_who_may_call_it(app: Litestar) -> None:
    undecided = [f"{r.method} {r.path} ({r.handler})" for r in app_routes(app) if r.access is None]
    assert undecided == [], "routes without an Access decision:\n" + "\n".join(undecided)


def test_the_route_table_is_not_empty(app: Litestar) -> None:
    assert len(app_routes(app)) >= 3


@pytest.fixture
async def callers(client: httpx.AsyncClient, settings: Settings) -> dict[str, dict[str, str]]:
    venue = await make_venue()
    organisation = await make_organisation()
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for role in Role:
        user = await make_user(
            role,
            venue=venue if role in (Role.VENUE_STAFF, Role.VENUE_ADMIN) else None,
            organisation=organisation if role in (Role.AGENT, Role.ORG_ADMIN) else None,
        )
        headers[role.value] = auth(settings, user)
    admin = await make_user(Role.VENUE_ADMIN, venue=venue)
    token = "tldev_matrix-" + uuid.uuid4().hex
    await DoorDevice(
        venue=venue.id,
        name="Porte",
        token_hash=hash_token(token),
        token_prefix=token[:10],
        created_by=admin.id,
    ).save()
    headers["device"] = {"Authorization": f"Bearer {token}"}
    return headers


async def test_roles_outside_a_route_are_refused(
    app: Litestar, client: httpx.AsyncClient, callers: dict[str, dict[str, str]]
) -> None:
    failures: list[str] = []
    checked = 0
    # Page forms need the CSRF token (the API ignores it): without it every page POST
    # would be refused by the CSRF check before the access rule is even read.
    await client.get("/")
    csrf = {"x-csrftoken": client.cookies["csrftoken"]}
    for route in app_routes(app):
        access = route.access
        assert access is not None
        if access.public:
            continue
        # Path ids are random: the caller's venue/organisation never matches, which is what
        # a scoped route must refuse too.
        path = concrete(route.path, {})
        for caller, headers in callers.items():
            if caller == "anonymous":
                # Pages send strangers to the sign-in form; the API says 401.
                expected = 401 if route.path.startswith("/api/") else 303
            elif caller == "device":
                if access.devices and not access.venue_scope:
                    continue
                expected = 403
            elif Role(caller) in access.roles:
                scoped = access.venue_scope or access.organisation_scope
                if not scoped or caller == Role.NETWORK_ADMIN.value:
                    continue  # allowed: its own behaviour is tested with the feature
                expected = 403
            else:
                expected = 403
            response = await client.request(
                route.method, path, headers={**headers, **csrf}, json={}
            )
            checked += 1
            if response.status_code != expected:
                failures.append(
                    f"{route.method} {path} as {caller}: {response.status_code} "
                    f"(expected {expected}) {response.text[:200]}"
                )
    assert failures == [], "\n".join(failures)
    assert checked > 0


async def test_allowed_callers_naming_unknown_ids_get_404_never_success_or_500(
    app: Litestar, client: httpx.AsyncClient, callers: dict[str, dict[str, str]]
) -> None:
    """Every API route with an id in its path, called by each caller it admits with ids that
    name nothing: a read or a delete answers 404; a write with an empty body is refused
    (400/404/409/422); nothing succeeds and nothing fails with 500."""
    failures: list[str] = []
    checked = 0
    for route in app_routes(app):
        access = route.access
        assert access is not None
        if not route.path.startswith("/api/") or ":uuid}" not in route.path:
            continue
        admitted = [r.value for r in access.roles] + (["device"] if access.devices else [])
        if access.public:
            admitted.append("anonymous")
        path = concrete(route.path, {})
        for caller in admitted:
            scoped = (access.venue_scope or access.organisation_scope) and caller not in (
                Role.NETWORK_ADMIN.value,
                "anonymous",
            )
            response = await client.request(route.method, path, headers=callers[caller], json={})
            checked += 1
            if route.method in ("GET", "DELETE"):
                # A scoped caller naming another venue or organisation is refused first.
                expected = {403, 404} if scoped else {404}
            else:
                expected = {400, 403, 404, 409, 422} if scoped else {400, 404, 409, 422}
            if response.status_code not in expected:
                failures.append(
                    f"{route.method} {path} as {caller}: {response.status_code} "
                    f"(expected {sorted(expected)}) {response.text[:160]}"
                )
    assert failures == [], "\n".join(failures)
    assert checked > 50
