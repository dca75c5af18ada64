"""piccolo-admin at /network/admin/, for the network's admins only, behind our own session.

piccolo-admin authenticates on its own: a session row (piccolo_api's `sessions` table) named
by an `id` cookie, for a piccolo `BaseUser` flagged `admin`. Our people sign in once, with our
session, so this mount:

1. is a page route like the others: our session cookie, our access rule (network admins
   only; anyone else gets the 403 page, strangers the sign-in form);
2. mirrors the network admin as a piccolo `BaseUser` (`tierslieux-<our user id>`, admin,
   a random password nobody knows) on first access;
3. opens a piccolo session for that mirror, keeps its token server-side (Redis, per user),
   and hands it to piccolo-admin inside the request: the browser never holds a piccolo
   session cookie, so nothing but our session opens the admin.

piccolo-admin's own CSRF protection (double-submit `csrftoken` cookie, read by its
JavaScript) stays on; its cookie is confined to /network/admin/ and told apart from
Litestar's HttpOnly `csrftoken` (which is excluded from this path in the app's CSRF config).
"""

from __future__ import annotations

import contextlib
import functools
import re
import secrets
import uuid
from typing import Any
from urllib.parse import unquote, urlparse

import asyncpg
from litestar import Controller, asgi
from litestar.types import (
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)
from piccolo.apps.user.tables import BaseUser
from piccolo.columns import Bytea, Column
from piccolo.conf.apps import Finder
from piccolo.table import Table, create_table_class
from piccolo_admin.endpoints import TableConfig, create_admin
from piccolo_api.session_auth.tables import SessionsBase
from redis.asyncio import Redis

from booking.tables import User
from service.kernel.auth import allow
from service.kernel.identity import Principal, Role
from service.kernel.outages import REDIS, REDIS_DOWN, fell_back

ADMIN_PATH = "/network/admin"
# The apps whose tables the admin shows (not piccolo's own users and sessions).
OUR_APPS = ("booking", "service", "passes", "billing")
MIRROR_PREFIX = "tierslieux-"
PICCOLO_SESSION_COOKIE = "id"
CSRF_COOKIE = "csrftoken"
# Kept a little shorter than a piccolo session (one hour), so a cached token is never dead.
SESSION_CACHE_SECONDS = 50 * 60
_CACHE_KEY = "piccolo-admin-session:"
# piccolo_api issues str(uuid4()) CSRF tokens; Litestar's are long hex strings.
_PICCOLO_CSRF = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# Columns the admin never shows, reads, filters or exports, found by walking every table:
# hashes of passwords and tokens, token material (a pass's signed token, a device token's
# prefix), anything named secret, private or ending in key (a public key included: key
# material is managed by `tierslieux rotate-key`, not by hand), and binary columns (a PDF,
# a stored response), which it cannot display anyway.
SENSITIVE_NAME = re.compile(r"hash|secret|token|password|private|(^|_)key$", re.IGNORECASE)


def unreadable(column: Column) -> bool:
    return bool(SENSITIVE_NAME.search(column._meta.name)) or isinstance(column, Bytea)


def admin_view(table: type[Table]) -> type[Table]:
    """The table as the admin sees it: the same rows, without its unreadable columns.

    `exclude_visible_columns` would only hide them from the list page: piccolo-admin's API
    (rows, one row, filters, the CSV export built from it) serves every column the table
    declares. So the admin gets a table class declaring only the readable ones.
    """
    kept = {
        column._meta.name: column.copy()
        for column in table._meta.columns
        if column._meta.primary_key or not unreadable(column)
    }
    if len(kept) == len(table._meta.columns):
        return table
    return create_table_class(
        class_name=f"Admin{table.__name__}",
        class_kwargs={"tablename": table._meta.tablename},
        class_members=kept,
    )


def admin_tables() -> list[TableConfig]:
    configs = []
    # The registry of PICCOLO_CONF, found at run time: the pages do not import the root.
    for app in Finder().get_app_registry().app_configs.values():
        if app.app_name not in OUR_APPS:
            continue
        configs += [TableConfig(table_class=admin_view(table)) for table in app.table_classes]
    return configs


@functools.cache
def admin_app(base_url: str) -> Any:
    """piccolo-admin's ASGI app (built once: it is a whole FastAPI application)."""
    secure = base_url.startswith("https://")
    host = urlparse(base_url).hostname
    return create_admin(
        tables=admin_tables(),
        site_name="Pass Tiers-Lieux — administration",
        # Every table is already listed, as its admin view: following foreign keys would add
        # the original classes again, secrets included.
        auto_include_related=False,
        # Read-only: a write here would bypass the domain's rules (status transitions, issued
        # documents never edited) and the audit trail that every administrative act writes.
        # Acts go through the API and the pages, which audit them.
        read_only=True,
        default_language_code="fr",
        production=secure,
        allowed_hosts=[host] if host else [],
    )


async def mirror_user(user_id: uuid.UUID) -> int:
    """The piccolo BaseUser standing for this network admin, created on first access."""
    username = f"{MIRROR_PREFIX}{user_id}"
    row = await BaseUser.select(BaseUser.id).where(BaseUser.username == username).first()
    if row is None:
        person = await User.select(User.email, User.display_name).where(User.id == user_id).first()
        assert person is not None  # our session just found this account
        # Another request of the same person may create it first.
        with contextlib.suppress(asyncpg.UniqueViolationError):
            await BaseUser.create_user(
                username=username,
                password=secrets.token_urlsafe(32),  # nobody signs in with it
                email=person["email"],
                first_name=(person["display_name"] or "")[:255],
                admin=True,
                active=True,
            )
        row = await BaseUser.select(BaseUser.id).where(BaseUser.username == username).first()
        assert row is not None
    # Our role decides, not flags someone could have changed in the admin itself.
    await BaseUser.update({BaseUser.admin: True, BaseUser.active: True}).where(
        BaseUser.id == row["id"]
    )
    return int(row["id"])


async def session_token(redis: Redis, user_id: uuid.UUID) -> str:
    """A live piccolo session token for this network admin (reused while it lives)."""
    key = f"{_CACHE_KEY}{user_id}"
    mirror_id = await mirror_user(user_id)
    # Redis only caches the token: when it does not answer, a new session (in PostgreSQL) does.
    try:
        cached = await redis.get(key)
    except REDIS_DOWN as error:
        fell_back(REDIS, "admin-session-cache", error)
        cached = None
    if cached:
        token = cached.decode() if isinstance(cached, bytes) else str(cached)
        if await SessionsBase.get_user_id(token) == mirror_id:
            return token
    # piccolo's own defaults (one hour, in its naive local timestamps, as its checks expect).
    session = await SessionsBase.create_session(user_id=mirror_id)
    try:
        await redis.set(key, session.token, ex=SESSION_CACHE_SECONDS)
    except REDIS_DOWN as error:
        fell_back(REDIS, "admin-session-cache", error)
    return str(session.token)


def _cookies(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    pairs = []
    for name, value in headers:
        if name.lower() != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            key, _, val = part.strip().partition("=")
            if key:
                pairs.append((key, val))
    return pairs


def admin_headers(headers: list[tuple[bytes, bytes]], token: str) -> list[tuple[bytes, bytes]]:
    """The request headers piccolo-admin sees: its session, its own CSRF cookie, no other cookie."""
    csrf = next(
        (v for k, v in _cookies(headers) if k == CSRF_COOKIE and _PICCOLO_CSRF.match(v)), None
    )
    cookie = f"{PICCOLO_SESSION_COOKIE}={token}"
    if csrf:
        cookie += f"; {CSRF_COOKIE}={csrf}"
    kept = [(k, v) for k, v in headers if k.lower() != b"cookie"]
    return [*kept, (b"cookie", cookie.encode("latin-1"))]


def browser_set_cookie(value: bytes) -> bytes | None:
    """What the browser may keep of a cookie piccolo-admin sets: its CSRF cookie, on its path."""
    text = value.decode("latin-1")
    name = text.split("=", 1)[0].strip()
    if name != CSRF_COOKIE:
        return None  # its session cookie stays server-side
    parts = [p for p in text.split(";") if not p.strip().lower().startswith("path=")]
    return ("; ".join(p.strip() for p in parts) + f"; Path={ADMIN_PATH}/").encode("latin-1")


class NetworkAdminController(Controller):
    path = ADMIN_PATH
    include_in_schema = False

    @asgi("/", is_static=True, copy_scope=True, opt=allow(Role.NETWORK_ADMIN))
    async def admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Only reached past the access rule: the caller is a signed-in network admin."""
        if scope.get("raw_path", b"").rstrip(b"?") == ADMIN_PATH.encode():
            # Its pages load ./assets and ./api: they need the trailing slash.
            start: HTTPResponseStartEvent = {
                "type": "http.response.start",
                "status": 308,
                "headers": [(b"location", f"{ADMIN_PATH}/".encode())],
            }
            await send(start)
            body: HTTPResponseBodyEvent = {
                "type": "http.response.body",
                "body": b"",
                "more_body": False,
            }
            await send(body)
            return
        principal = scope["user"]
        assert isinstance(principal, Principal)
        assert principal.user_id is not None
        state = scope["litestar_app"].state
        token = await session_token(state.redis, principal.user_id)
        # ASGI's convention: `path` is the full path and `root_path` the mount point. The
        # path comes from `raw_path`: Litestar's routing dropped its trailing slash, which
        # piccolo-admin's routes need.
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        inner: dict[str, Any] = {
            **scope,
            "headers": admin_headers(list(scope["headers"]), token),
            "root_path": scope.get("root_path", "") + ADMIN_PATH,
            "path": unquote(raw_path.decode("latin-1")),
            "raw_path": raw_path,
        }

        async def send_filtered(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = []
                for name, value in message.get("headers", []):
                    if name.lower() == b"set-cookie":
                        kept = browser_set_cookie(value)
                        if kept is not None:
                            headers.append((name, kept))
                    else:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await admin_app(str(state.settings.base_url))(inner, receive, send_filtered)
