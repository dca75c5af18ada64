"""The account pages: a forgotten password, a new password or email, sessions, language."""

from __future__ import annotations

import re

import httpx

from booking.tables import EmailChange, Outbox, User
from service.kernel.identity import Role
from service.kernel.tables import AuditEntry
from tests.factories import PASSWORD, make_user
from tests.web.test_pages import post_form, sign_in
from web.session import SESSION_COOKIE

NEW_PASSWORD = "un-tout-nouveau-secret"


async def _mail_link(kind: str, path: str, to: str | None = None) -> str:
    query = Outbox.objects().where(Outbox.kind == kind)
    if to is not None:
        query = query.where(Outbox.recipient == to)
    message = await query.first()
    assert message is not None, f"no {kind} mail"
    found = re.search(rf"{path}/([A-Za-z0-9_-]+)", message.body)
    assert found, message.body
    return found.group(1)


async def _api_token(client: httpx.AsyncClient, email: str, password: str) -> str:
    response = await client.post(
        "/api/v1/auth/token",
        json={"email": email, "password": password},
        headers={"User-Agent": "Test phone (Android)"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def _me(client: httpx.AsyncClient, token: str) -> int:
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


async def test_the_sign_in_page_links_to_the_forgotten_password_form(
    client: httpx.AsyncClient,
) -> None:
    home = await client.get("/")
    form = await client.get("/password-reset")

    assert 'href="/password-reset"' in home.text
    assert form.status_code == 200
    assert "Mot de passe oublié" in form.text


async def test_a_forgotten_password_by_the_pages(client: httpx.AsyncClient) -> None:
    agent = await make_user(Role.AGENT)
    phone = await _api_token(client, agent.email, PASSWORD)

    known = await post_form(client, "/password-reset", {"email": agent.email})
    unknown = await post_form(client, "/password-reset", {"email": "personne@example.org"})
    token = await _mail_link("password_reset", "/password-reset")
    form = await client.get(f"/password-reset/{token}")
    mismatch = await post_form(
        client, f"/password-reset/{token}", {"password": NEW_PASSWORD, "confirm": "autre"}
    )
    done = await post_form(
        client, f"/password-reset/{token}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    again = await post_form(
        client, f"/password-reset/{token}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    tampered = await post_form(
        client, f"/password-reset/{token}x", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )

    assert known.status_code == unknown.status_code == 200
    assert "Si un compte actif" in known.text
    assert known.text.replace(agent.email, "X") == unknown.text.replace(
        "personne@example.org", "X"
    ).replace(await _csrf_in(unknown.text), await _csrf_in(known.text))
    assert form.status_code == 200
    assert mismatch.status_code == 422
    assert "Les deux mots de passe sont différents" in mismatch.text
    assert done.status_code == 303
    assert done.headers["location"] == "/?password_reset=1"
    assert again.status_code == 410
    assert "déjà servi" in again.text
    assert tampered.status_code == 404
    assert "pas valide" in tampered.text
    assert await _me(client, phone) == 401
    assert (
        await post_form(client, "/signin", {"email": agent.email, "password": NEW_PASSWORD})
    ).status_code == 303


async def _csrf_in(text: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]*)"', text)
    return found.group(1) if found else ""


async def test_changing_my_password_ends_my_other_sessions_and_keeps_this_one(
    client: httpx.AsyncClient,
) -> None:
    agent = await make_user(Role.AGENT)
    phone = await _api_token(client, agent.email, PASSWORD)
    await sign_in(client, agent)
    before = client.cookies[SESSION_COOKIE]

    wrong = await post_form(
        client,
        "/account/password",
        {
            "current_password": "pas-le-bon-mot",
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    short = await post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": "court", "confirm": "court"},
    )
    changed = await post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    account = await client.get("/account?done=password")

    assert wrong.status_code == 422
    assert "Le mot de passe actuel est faux" in wrong.text
    assert short.status_code == 422
    assert "au moins 10 caractères" in short.text
    assert changed.status_code == 303
    assert client.cookies[SESSION_COOKIE] != before
    assert account.status_code == 200
    assert "Votre mot de passe a été changé" in account.text
    assert await _me(client, phone) == 401
    assert await _me(client, before) == 401
    assert await _me(client, client.cookies[SESSION_COOKIE]) == 200
    actions = [row["action"] for row in await AuditEntry.select(AuditEntry.action)]
    assert "password.change" in actions


async def test_changing_my_email_needs_the_new_address_to_confirm(
    client: httpx.AsyncClient,
) -> None:
    agent = await make_user(Role.AGENT)
    other = await make_user(Role.AGENT)
    await sign_in(client, agent)

    taken = await post_form(client, "/account/email", {"email": other.email, "password": PASSWORD})
    wrong = await post_form(
        client, "/account/email", {"email": "nouvelle@example.org", "password": "faux-mot"}
    )
    bad = await post_form(
        client, "/account/email", {"email": "pas une adresse", "password": PASSWORD}
    )
    asked = await post_form(
        client, "/account/email", {"email": "Nouvelle@Example.org", "password": PASSWORD}
    )
    unchanged = await User.select(User.email).where(User.id == agent.id).first()
    taken_token = await _mail_link("email_change_confirm", "/account/email", other.email)
    token = await _mail_link("email_change_confirm", "/account/email", "Nouvelle@example.org")
    refused = await post_form(client, f"/account/email/{taken_token}", {})
    told = await Outbox.objects().where(Outbox.kind == "email_change_requested").first()
    page = await client.get(f"/account/email/{token}")
    confirmed = await post_form(client, f"/account/email/{token}", {})
    reused = await post_form(client, f"/account/email/{token}", {})

    assert taken.status_code == 303  # not refused: that would tell who has an account
    assert wrong.status_code == 422
    assert "Le mot de passe actuel est faux" in wrong.text
    assert bad.status_code == 422
    assert asked.status_code == 303
    assert unchanged == {"email": agent.email}
    assert refused.status_code == 409
    assert told is not None
    assert told.recipient == agent.email
    assert page.status_code == 200
    assert "Confirmer" in page.text
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/?email_changed=1"
    assert reused.status_code == 410
    stored = await User.select(User.email).where(User.id == agent.id).first()
    assert stored == {"email": "Nouvelle@example.org"}
    changed = await Outbox.objects().where(Outbox.kind == "email_changed").first()
    assert changed is not None
    assert changed.recipient == agent.email
    assert (await client.get("/account")).status_code in (303, 307)  # the session ended
    signed = await post_form(
        client, "/signin", {"email": "nouvelle@example.org", "password": PASSWORD}
    )
    assert signed.status_code == 303


async def test_an_email_change_link_expires(client: httpx.AsyncClient) -> None:
    agent = await make_user(Role.AGENT)
    await sign_in(client, agent)
    await post_form(client, "/account/email", {"email": "neuf@example.org", "password": PASSWORD})
    token = await _mail_link("email_change_confirm", "/account/email")
    await EmailChange.raw("UPDATE email_change SET expires_at = now() - interval '1 second'")

    expired = await post_form(client, f"/account/email/{token}", {})
    unknown = await post_form(client, "/account/email/nimporte-quoi", {})

    assert expired.status_code == 410
    assert "expiré" in expired.text
    assert unknown.status_code == 404
    assert (await User.select(User.email).where(User.id == agent.id).first()) == {
        "email": agent.email
    }


async def test_my_sessions_are_listed_and_signing_out_everywhere_ends_them(
    client: httpx.AsyncClient,
) -> None:
    agent = await make_user(Role.AGENT)
    phone = await _api_token(client, agent.email, PASSWORD)
    await sign_in(client, agent)
    laptop = client.cookies[SESSION_COOKIE]

    listed = await client.get("/api/v1/me/sessions", headers={"Authorization": f"Bearer {phone}"})
    account = await client.get("/account")
    ended = await post_form(client, "/account/sessions/end-all", {})

    assert listed.status_code == 200
    assert len(listed.json()) == 2
    assert [s["current"] for s in listed.json()].count(True) == 1
    assert "Test phone (Android)" in account.text
    assert "(cette session)" in account.text
    assert ended.status_code == 303
    assert await _me(client, phone) == 401
    assert await _me(client, laptop) == 401
    fresh = await _api_token(client, agent.email, PASSWORD)
    after = await client.get("/api/v1/me/sessions", headers={"Authorization": f"Bearer {fresh}"})
    assert len(after.json()) == 1
    assert "session.end_all" in [r["action"] for r in await AuditEntry.select(AuditEntry.action)]


async def test_my_language_is_kept(client: httpx.AsyncClient) -> None:
    agent = await make_user(Role.AGENT)
    await sign_in(client, agent)

    chosen = await post_form(client, "/account/language", {"language": "en"})
    account = await client.get("/account")
    refused = await post_form(client, "/account/language", {"language": "xx"})
    api = await client.put(
        "/api/v1/me/language",
        json={"language": "de"},
        headers={"Authorization": f"Bearer {await _api_token(client, agent.email, PASSWORD)}"},
    )

    assert chosen.status_code == 303
    assert "My account" in account.text
    assert refused.status_code == 422
    assert api.status_code == 422
    assert (await User.select(User.language).where(User.id == agent.id).first()) == {
        "language": "en"
    }
    # Another browser: the chosen language comes with the next sign-in.
    client.cookies.clear()
    await sign_in(client, agent)
    assert client.cookies.get("lang") == "en"
    assert "My account" in (await client.get("/account")).text


async def test_the_account_api(client: httpx.AsyncClient) -> None:
    agent = await make_user(Role.AGENT)
    token = await _api_token(client, agent.email, PASSWORD)
    headers = {"Authorization": f"Bearer {token}"}

    wrong = await client.post(
        "/api/v1/me/password",
        json={"current_password": "faux-mot-de-passe", "new_password": NEW_PASSWORD},
        headers=headers,
    )
    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=headers,
    )
    email = await client.post(
        "/api/v1/me/email",
        json={"email": "neuve@example.org", "password": NEW_PASSWORD},
        headers={"Authorization": f"Bearer {changed.json()['access_token']}"},
    )
    anonymous = await client.post("/api/v1/me/password", json={})

    assert wrong.status_code == 422
    assert wrong.json()["type"].endswith(":wrong-current-password")
    assert changed.status_code == 200
    assert await _me(client, token) == 401
    assert email.status_code == 202, email.text
    token_link = await _mail_link("email_change_confirm", "/account/email")
    confirm = await client.post("/api/v1/auth/email-change/confirm", json={"token": token_link})
    assert confirm.status_code == 204
    assert anonymous.status_code == 401
