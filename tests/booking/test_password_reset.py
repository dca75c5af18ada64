"""A forgotten password: the same answer for every email, a one-hour single-use link, every
session ended, requests counted per email and per address."""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import urlsplit

import asyncpg
import httpx

from booking.tables import Outbox, PasswordReset, User
from service.kernel.identity import Role
from service.kernel.settings import Settings
from service.kernel.tables import AuditEntry
from tests.factories import PASSWORD, auth, make_user

NEW_PASSWORD = "un-tout-nouveau-secret"


async def _ask(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/api/v1/auth/password-reset", json={"email": email})


async def _link_token(email: str) -> str:
    message = (
        await Outbox.objects()
        .where((Outbox.kind == "password_reset") & (Outbox.recipient == email))
        .order_by(Outbox.created_at, ascending=False)
        .first()
    )
    assert message is not None, f"no reset mail to {email}"
    found = re.search(r"/password-reset/([A-Za-z0-9_-]+)", message.body)
    assert found, message.body
    return found.group(1)


async def _confirm(client: httpx.AsyncClient, token: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": password}
    )


async def _token(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/token", json={"email": email, "password": password})


async def test_a_reset_link_sets_a_new_password_and_ends_every_session(
    client: httpx.AsyncClient,
) -> None:
    agent = await make_user(Role.AGENT)
    old = (await _token(client, agent.email, PASSWORD)).json()["access_token"]

    asked = await _ask(client, agent.email.upper())
    token = await _link_token(agent.email)
    confirmed = await _confirm(client, token, NEW_PASSWORD)

    assert asked.status_code == 202, asked.text
    assert confirmed.status_code == 204, confirmed.text
    refused = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"})
    assert refused.status_code == 401
    assert (await _token(client, agent.email, PASSWORD)).status_code == 401
    assert (await _token(client, agent.email, NEW_PASSWORD)).status_code == 200
    stored = await PasswordReset.select().first()
    assert stored is not None
    assert stored["token_hash"] != token
    assert stored["used_at"] is not None
    actions = {row["action"] for row in await AuditEntry.select(AuditEntry.action)}
    assert {"password.reset_requested", "password.reset"} <= actions


async def test_an_unknown_email_gets_the_same_answer_and_nothing_is_sent(
    client: httpx.AsyncClient,
) -> None:
    agent = await make_user(Role.AGENT)
    inactive = await make_user(Role.AGENT)
    await User.update({User.active: False}).where(User.id == inactive.id)

    known = await _ask(client, agent.email)
    unknown = await _ask(client, "personne@example.org")
    deactivated = await _ask(client, inactive.email)
    not_an_email = await _ask(client, "pas-une-adresse")

    assert known.status_code == unknown.status_code == deactivated.status_code == 202
    assert known.content == unknown.content == deactivated.content == not_an_email.content
    assert set(known.headers) == set(unknown.headers)
    recipients = [row["recipient"] for row in await Outbox.select(Outbox.recipient)]
    assert recipients == [agent.email]
    assert await PasswordReset.count() == 1


async def test_an_expired_link_is_refused_and_the_password_stays(
    client: httpx.AsyncClient,
) -> None:
    agent = await make_user(Role.AGENT)
    await _ask(client, agent.email)
    token = await _link_token(agent.email)
    await PasswordReset.raw("UPDATE password_reset SET expires_at = now() - interval '1 second'")

    refused = await _confirm(client, token, NEW_PASSWORD)

    assert refused.status_code == 410, refused.text
    assert refused.json()["type"].endswith(":link-expired")
    assert (await _token(client, agent.email, PASSWORD)).status_code == 200


async def test_a_link_serves_once(client: httpx.AsyncClient) -> None:
    agent = await make_user(Role.AGENT)
    await _ask(client, agent.email)
    token = await _link_token(agent.email)

    first = await _confirm(client, token, NEW_PASSWORD)
    again = await _confirm(client, token, "encore-un-autre-secret")

    assert first.status_code == 204
    assert again.status_code == 410
    assert again.json()["type"].endswith(":link-used")
    assert (await _token(client, agent.email, NEW_PASSWORD)).status_code == 200


async def test_a_new_password_spends_every_other_link_of_the_person(
    client: httpx.AsyncClient,
) -> None:
    agent = await make_user(Role.AGENT)
    await _ask(client, agent.email)
    older = await _link_token(agent.email)
    await Outbox.delete(force=True)
    await _ask(client, agent.email)
    newer = await _link_token(agent.email)

    assert (await _confirm(client, newer, NEW_PASSWORD)).status_code == 204
    assert (await _confirm(client, older, "encore-un-autre-secret")).status_code == 410


async def test_a_tampered_or_foreign_token_is_refused(client: httpx.AsyncClient) -> None:
    agent = await make_user(Role.AGENT)
    await _ask(client, agent.email)
    token = await _link_token(agent.email)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    stored_hash = (await PasswordReset.select(PasswordReset.token_hash).first() or {})["token_hash"]

    for candidate in (tampered, stored_hash, "x"):
        refused = await _confirm(client, candidate, NEW_PASSWORD)
        assert refused.status_code == 404, (candidate, refused.text)
        assert refused.json()["type"].endswith(":link-invalid")
    assert (await _confirm(client, token, NEW_PASSWORD)).status_code == 204


async def test_a_weak_password_is_refused_and_the_link_still_serves(
    client: httpx.AsyncClient,
) -> None:
    agent = await make_user(Role.AGENT)
    await _ask(client, agent.email)
    token = await _link_token(agent.email)

    weak = await _confirm(client, token, "court")

    assert weak.status_code == 422
    assert weak.json()["field"] == "password"
    assert (await _confirm(client, token, NEW_PASSWORD)).status_code == 204


async def test_requests_are_counted_per_email_whoever_asks(client: httpx.AsyncClient) -> None:
    agent = await make_user(Role.AGENT)
    answers = [await _ask(client, agent.email) for _ in range(4)]
    unknown = [await _ask(client, "personne@example.org") for _ in range(4)]

    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert [a.status_code for a in unknown] == [202, 202, 202, 429]
    assert answers[3].json()["type"].endswith(":too-many-attempts")
    assert int(answers[3].headers["Retry-After"]) > 3000
    assert await Outbox.count() == 3


async def test_requests_are_counted_per_address_across_emails(client: httpx.AsyncClient) -> None:
    statuses = [(await _ask(client, f"quelquun{n}@example.org")).status_code for n in range(21)]

    assert statuses == [202] * 20 + [429]


async def test_bad_bodies_are_refused(client: httpx.AsyncClient) -> None:
    empty = await client.post("/api/v1/auth/password-reset", json={})
    extra = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": "t", "password": "p", "x": 1}
    )
    no_token = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": "", "password": NEW_PASSWORD}
    )

    assert empty.status_code in (400, 422)
    assert extra.status_code in (400, 422)
    assert no_token.status_code in (400, 422)
    assert await PasswordReset.count() == 0


async def test_a_reset_revokes_the_calendar_feeds_the_person_created(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """Someone who used the account may have made a secret calendar URL: it dies with the
    sessions. Another person's feed stays."""
    agent = await make_user(Role.AGENT)
    other = await make_user(Role.AGENT)
    mine = await client.post("/api/v1/me/calendar-feeds", headers=auth(settings, agent))
    theirs = await client.post("/api/v1/me/calendar-feeds", headers=auth(settings, other))
    assert mine.status_code == theirs.status_code == 201, mine.text
    path = urlsplit(mine.json()["url"]).path
    assert (await client.get(path)).status_code == 200

    await _ask(client, agent.email)
    confirmed = await _confirm(client, await _link_token(agent.email), NEW_PASSWORD)

    assert confirmed.status_code == 204, confirmed.text
    assert (await client.get(path)).status_code == 404
    assert (await client.get(urlsplit(theirs.json()["url"]).path)).status_code == 200
    entry = (
        await AuditEntry.objects().where(AuditEntry.action == "calendar_feed.revoke_all").first()
    )
    assert entry is not None
    assert (entry.actor_kind, entry.actor, entry.object_id) == ("person", agent.id, str(agent.id))
    assert json.loads(entry.changes) == {"calendar_feeds": [None, [mine.json()["id"]]]}


async def test_signing_out_everywhere_revokes_the_calendar_feeds_too(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    agent = await make_user(Role.AGENT)
    token = (await _token(client, agent.email, PASSWORD)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    feed = await client.post("/api/v1/me/calendar-feeds", headers=headers)
    assert feed.status_code == 201, feed.text

    ended = await client.post("/api/v1/me/sessions/end-all", headers=headers)

    assert ended.status_code == 204, ended.text
    assert (await client.get(urlsplit(feed.json()["url"]).path)).status_code == 404


async def test_the_answer_leaves_before_the_account_is_looked_up(
    live_server: str, settings: Settings
) -> None:
    """Not a stopwatch: the accounts table is locked while a known and an unknown email ask
    for a link through a real uvicorn. Had the look-up run before the answer, the answer
    would wait on the lock (and fail at the statement bound); both answer 202, the same bytes,
    and the known person's mail goes out once the lock is released."""
    agent = await make_user(Role.AGENT)
    holder = await asyncpg.connect(settings.database_url)
    try:
        locked = holder.transaction()
        await locked.start()
        await holder.execute("LOCK TABLE app_user IN ACCESS EXCLUSIVE MODE")
        try:
            async with httpx.AsyncClient(base_url=live_server, timeout=10) as http:
                known = await http.post("/api/v1/auth/password-reset", json={"email": agent.email})
                unknown = await http.post(
                    "/api/v1/auth/password-reset", json={"email": "personne@nulle-part.example"}
                )
            assert known.status_code == unknown.status_code == 202, known.text
            assert known.content == unknown.content
            assert await PasswordReset.count() == 0  # the look-up still waits on the lock
        finally:
            await locked.rollback()
    finally:
        await holder.close()
    for _ in range(100):
        if await PasswordReset.count() == 1:
            break
        await asyncio.sleep(0.1)
    assert await PasswordReset.count() == 1
    assert await _link_token(agent.email)
