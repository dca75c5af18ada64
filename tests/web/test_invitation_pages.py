"""The invitation link: an invited agent chooses a password on a page, then signs in."""

from __future__ import annotations

import httpx

from booking.services import organisations
from service.kernel.identity import Role
from tests.factories import make_organisation
from tests.web.test_pages import csrf_token, post_form


async def _invited() -> str:
    organisation = await make_organisation()
    invited = await organisations.invite(
        email="nouvelle@example.org",
        display_name="Nouvelle Recrue",
        role=Role.AGENT,
        organisation_id=organisation.id,
    )
    return str(invited.invitation_token)


async def test_an_invited_agent_sets_a_password_then_signs_in(client: httpx.AsyncClient) -> None:
    token = await _invited()

    form = await client.get(f"/invitation/{token}")
    accepted = await post_form(
        client, f"/invitation/{token}", {"password": "un-long-secret", "confirm": "un-long-secret"}
    )
    welcome = await client.get("/?invited=1")
    signed_in = await post_form(
        client, "/signin", {"email": "nouvelle@example.org", "password": "un-long-secret"}
    )
    used_again = await post_form(
        client, f"/invitation/{token}", {"password": "autre-secret-1", "confirm": "autre-secret-1"}
    )

    assert form.status_code == 200
    assert 'autocomplete="new-password"' in form.text
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/?invited=1"
    assert "Votre compte est activé" in welcome.text
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/agent"
    assert used_again.status_code == 404
    assert "inconnue ou a déjà servi" in used_again.text


async def test_invitation_form_errors_are_said_next_to_the_fields(
    client: httpx.AsyncClient,
) -> None:
    token = await _invited()

    short = await post_form(client, f"/invitation/{token}", {"password": "court", "confirm": ""})
    mismatch = await post_form(
        client, f"/invitation/{token}", {"password": "un-long-secret", "confirm": "un-autre-secret"}
    )
    unknown = await post_form(
        client,
        "/invitation/not-a-token",
        {"password": "un-long-secret", "confirm": "un-long-secret"},
    )
    english = await client.get(f"/invitation/{token}?lang=en")
    await csrf_token(client)
    no_csrf = await client.post(
        f"/invitation/{token}", data={"password": "un-long-secret", "confirm": "un-long-secret"}
    )
    still_valid = await client.get(f"/invitation/{token}")

    assert short.status_code == 422
    assert 'id="password-error"' in short.text
    assert "au moins 10 caractères" in short.text
    assert mismatch.status_code == 422
    assert 'id="confirm-error"' in mismatch.text
    assert unknown.status_code == 404
    assert "Choose a password of at least 10 characters" in english.text
    assert no_csrf.status_code == 403
    assert still_valid.status_code == 200
