"""piccolo-admin shows no secret: no hash, token, password, private or key column of any table.

The tables are walked, not listed: a column added tomorrow under such a name is covered.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from piccolo.columns import Bytea
from piccolo.conf.apps import Finder
from piccolo.table import Table

from booking.tables import User, Venue
from service.kernel.identity import Role
from service.kernel.settings import Settings
from service.kernel.tables import AuditEntry
from tests.factories import make_door_device, make_organisation, make_pass, make_user, make_venue
from tests.web.test_pages import sign_in
from web.network_admin import OUR_APPS, admin_tables

# Written apart from the code's own pattern on purpose: the test says what must not show.
SECRET_NAME = re.compile(r"hash|secret|token|password|private|(^|_)key$", re.IGNORECASE)


def our_tables() -> list[type[Table]]:
    registry = Finder().get_app_registry().app_configs.values()
    return [t for app in registry if app.app_name in OUR_APPS for t in app.table_classes]


def secret_columns(table: type[Table]) -> set[str]:
    return {
        c._meta.name
        for c in table._meta.columns
        if SECRET_NAME.search(c._meta.name) or isinstance(c, Bytea)
    }


def test_the_walk_finds_the_known_secrets() -> None:
    """The pattern is not vacuous: it finds the columns the issue named, and more."""
    found = {t._meta.tablename: secret_columns(t) for t in our_tables()}
    assert {"password_hash", "invitation_token_hash"} <= found["app_user"]
    assert "token_hash" in found["door_device"]
    assert "token_hash" in found["calendar_feed"]
    assert "public_key" in found["pass_key"]  # binary key material: it made the list a 500


def test_every_table_is_in_the_admin_without_a_secret_column() -> None:
    configs = {c.table_class._meta.tablename: c for c in admin_tables()}
    assert configs.keys() == {t._meta.tablename for t in our_tables()}
    leaks = []
    for table in our_tables():
        config = configs[table._meta.tablename]
        columns = {c._meta.name for c in config.table_class._meta.columns}
        shown = {c._meta.name for c in config.get_visible_columns()}
        filters = {c._meta.name for c in config.get_visible_filters()}
        for name in secret_columns(table):
            if name in columns | shown | filters:
                leaks.append(f"{table._meta.tablename}.{name}")
        # Everything else stays readable.
        assert columns == {c._meta.name for c in table._meta.columns} - secret_columns(table)
    assert not leaks, f"readable in piccolo-admin: {leaks}"


@pytest.fixture
async def admin_client(client: httpx.AsyncClient, settings: Settings) -> httpx.AsyncClient:
    """Signed in as a network admin, with a row in each table that holds a secret."""
    venue = await make_venue()
    await make_door_device(venue)
    agent = await make_user(Role.AGENT, organisation=await make_organisation())
    await make_pass(settings, agent)
    await User.update({User.invitation_token_hash: "f" * 64}).where(User.id == agent.id)
    response = await sign_in(client, await make_user(Role.NETWORK_ADMIN))
    assert response.status_code == 303
    return client


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


async def test_no_table_of_the_admin_api_serves_a_secret(admin_client: httpx.AsyncClient) -> None:
    """Lists (what the pages and the CSV export read) and schemas (the filters) of every table."""
    tables = (await admin_client.get("/network/admin/api/tables/")).json()
    assert len(tables) == len(set(tables)) == len(our_tables())
    for table in tables:
        rows = await admin_client.get(f"/network/admin/api/tables/{table}/")
        schema = await admin_client.get(f"/network/admin/api/tables/{table}/schema/")
        assert rows.status_code == 200, (table, rows.text[:300])
        assert schema.status_code == 200, (table, schema.text[:300])
        names = _keys(rows.json()) | set(schema.json()["properties"])
        extra = schema.json()["extra"]
        names |= set(extra["visible_column_names"]) | set(extra["visible_filter_names"])
        assert not {n for n in names if SECRET_NAME.search(n)}, (table, names)


async def test_a_user_row_read_through_the_admin_shows_no_hash(
    admin_client: httpx.AsyncClient,
) -> None:
    agent = await User.select(User.id).where(User.role == Role.AGENT.value).first()
    assert agent is not None
    base = "/network/admin/api/tables/app_user"
    one = await admin_client.get(f"{base}/{agent['id']}/")
    asked = await admin_client.get(f"{base}/?__visible_fields=id,password_hash")
    # A filter on the hash would let someone guess it prefix by prefix: it is not a filter.
    filtered = await admin_client.get(f"{base}/?password_hash__match=starts&password_hash=%24")
    assert one.status_code == 200, one.text
    assert one.json()["email"].startswith("agent")
    assert asked.status_code == 400  # not a column the admin knows
    assert filtered.status_code == 400  # not a filter the admin knows
    for response in (one, asked, filtered):
        assert "$argon2" not in response.text
        assert "f" * 64 not in response.text
    assert not {n for n in _keys(one.json()) if SECRET_NAME.search(n)}, one.text


async def test_the_admin_is_read_only_so_it_never_acts_unaudited(
    admin_client: httpx.AsyncClient,
) -> None:
    """Every act is audited by the API and the pages; piccolo-admin only reads."""
    venue = await make_venue(name="Lieu lu seulement")
    base = "/network/admin/api/tables/venue"
    assert (await admin_client.get(f"{base}/{venue.id}/")).status_code == 200
    # piccolo-admin's own double-submit CSRF token, so that only read-only mode can refuse.
    token = next(
        c.value for c in admin_client.cookies.jar if c.name == "csrftoken" and "admin" in c.path
    )
    headers = {"X-CSRFToken": token}
    before = await AuditEntry.count()

    created = await admin_client.post(f"{base}/", json={"name": "Nouveau"}, headers=headers)
    patched = await admin_client.patch(
        f"{base}/{venue.id}/", json={"name": "Renommé"}, headers=headers
    )
    deleted = await admin_client.delete(f"{base}/{venue.id}/", headers=headers)

    assert [created.status_code, patched.status_code, deleted.status_code] == [405, 405, 405]
    row = await Venue.select(Venue.name).where(Venue.id == venue.id).first()
    assert row == {"name": "Lieu lu seulement"}
    assert await AuditEntry.count() == before
