"""Sign-in with an OpenID provider, against a real one (pyop) started by the tests.

Every refusal is a page that says why, and leaves no account, link or session behind.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from booking.services import federation
from booking.tables import Organisation, User, UserSession
from service.kernel.identity import Role
from service.kernel.oidc import PendingSignIn, SignInRefused, provider
from service.kernel.settings import Settings
from service.kernel.tables import AuditEntry
from tests.factories import make_organisation, make_user
from tests.oidc_provider import (
    OTHER_CLIENT_ID,
    OTHER_CLIENT_SECRET,
    LocalProvider,
    running_provider,
    signing_in_with,
    with_params,
)
from tests.web.test_pages import post_form
from web.controllers.provider_sign_in import CALLBACK_PATH
from web.session import SESSION_COOKIE

BASE = "http://testserver.local"
SIRET = "21590350100017"
CAMILLE = {
    "given_name": "Camille",
    "usual_name": "Martin",
    "email": "camille.martin@lille.example.fr",
    "uid": "agent-123",
    "siret": SIRET,
}


@pytest.fixture
def op(tmp_path: Path) -> Iterator[LocalProvider]:
    with running_provider(
        tmp_path, [f"{BASE}{CALLBACK_PATH}"], [f"{BASE}/?signed_out=1"]
    ) as provider:
        provider.people["camille"] = dict(CAMILLE)
        yield provider


@pytest.fixture
def settings(settings: Settings, op: LocalProvider) -> Settings:
    return signing_in_with(settings, op.issuer, str(op.ca_file))


async def _enrolling_organisation() -> Organisation:
    organisation = await make_organisation(name="Ville de Lille")
    await federation.set_enrolment_rule(organisation.id, True, [SIRET], ["lille.example.fr"])
    return organisation


async def _start(client: httpx.AsyncClient) -> str:
    started = await client.get("/signin/oidc")
    assert started.status_code == 303, started.text
    return started.headers["location"]


async def _at_provider(op: LocalProvider, location: str, user: str = "camille") -> str:
    """The person signs in at the provider: its form, posted; the redirect back to us."""
    async with httpx.AsyncClient(
        verify=ssl.create_default_context(cafile=str(op.ca_file))
    ) as browser:
        form = await browser.get(location)
        assert form.status_code == 200, form.text
        answer = await browser.post(
            f"{op.issuer}/authorize", data={"query": location.partition("?")[2], "user": user}
        )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


async def _back(client: httpx.AsyncClient, callback: str) -> httpx.Response:
    parts = urlsplit(callback)
    return await client.get(f"{parts.path}?{parts.query}")


async def _sign_in(client: httpx.AsyncClient, op: LocalProvider) -> httpx.Response:
    return await _back(client, await _at_provider(op, await _start(client)))


async def _nothing_created() -> None:
    assert await User.count() == 0
    assert await UserSession.count() == 0


async def test_the_sign_in_page_offers_the_provider(client: httpx.AsyncClient) -> None:
    home = await client.get("/")

    assert 'href="/signin/oidc"' in home.text
    assert "Se connecter avec ProConnect" in home.text


async def test_an_agent_of_an_enrolling_siret_joins_at_the_first_sign_in(
    client: httpx.AsyncClient, op: LocalProvider
) -> None:
    organisation = await _enrolling_organisation()

    first = await _sign_in(client, op)
    me = await client.get("/account")

    assert first.status_code == 303, first.text
    assert first.headers["location"] == "/agent"
    agent = await User.objects().where(User.email == CAMILLE["email"]).first()
    assert agent is not None
    assert agent.organisation == organisation.id
    assert agent.role == Role.AGENT.value
    assert agent.display_name == "Camille Martin"
    assert agent.enrolled_by_siret == SIRET
    assert agent.password_hash is None
    assert "Camille Martin" in me.text
    joined = await federation.self_enrolled(organisation.id)
    assert [row["email"] for row in joined] == [CAMILLE["email"]]
    actions = [row["action"] for row in await AuditEntry.select(AuditEntry.action)]
    assert "agent.self_enrol" in actions

    client.cookies.delete(SESSION_COOKIE)
    again = await _sign_in(client, op)
    assert again.status_code == 303
    assert await User.count() == 1


async def test_an_existing_account_is_linked_by_email_once_then_found_by_sub(
    client: httpx.AsyncClient, op: LocalProvider
) -> None:
    existing = await make_user(Role.ORG_ADMIN, email=CAMILLE["email"])

    first = await _sign_in(client, op)
    await User.update({User.email: "autre-adresse@example.org"}).where(User.id == existing.id)
    client.cookies.delete(SESSION_COOKIE)
    second = await _sign_in(client, op)

    assert first.status_code == 303
    assert first.headers["location"] == "/organisation"
    assert second.status_code == 303
    linked = await User.objects().where(User.id == existing.id).first()
    assert linked is not None
    assert linked.oidc_issuer == op.issuer
    assert linked.oidc_subject
    assert await User.count() == 1
    assert "user.link_identity" in [r["action"] for r in await AuditEntry.select(AuditEntry.action)]


async def test_an_email_linked_to_another_identity_is_not_taken_over(
    client: httpx.AsyncClient, op: LocalProvider
) -> None:
    taken = await make_user(Role.AGENT, email=CAMILLE["email"])
    await User.update({User.oidc_issuer: op.issuer, User.oidc_subject: "someone-else"}).where(
        User.id == taken.id
    )

    refused = await _sign_in(client, op)

    assert refused.status_code == 403
    assert "une autre identité" in refused.text
    assert SESSION_COOKIE not in client.cookies


async def test_an_unknown_siret_gets_a_page_saying_whom_to_ask(
    client: httpx.AsyncClient, op: LocalProvider
) -> None:
    op.people["camille"]["siret"] = "11111111111111"
    await _enrolling_organisation()

    refused = await _sign_in(client, op)

    assert refused.status_code == 403
    assert "11111111111111" in refused.text
    assert "Rien n" in refused.text
    assert await User.count() == 0


async def test_a_domain_outside_the_rule_is_refused(
    client: httpx.AsyncClient, op: LocalProvider
) -> None:
    op.people["camille"]["email"] = "camille@gmail.example.com"
    await _enrolling_organisation()

    refused = await _sign_in(client, op)

    assert refused.status_code == 403
    await _nothing_created()


async def test_a_wrong_state_is_refused(client: httpx.AsyncClient, op: LocalProvider) -> None:
    await _enrolling_organisation()
    callback = await _at_provider(op, await _start(client))

    forged = await _back(client, with_params(callback, state="forged-state"))

    assert forged.status_code == 400
    assert "pas été commencée ici" in forged.text
    await _nothing_created()


async def test_a_state_from_another_browser_is_refused(
    client: httpx.AsyncClient, op: LocalProvider
) -> None:
    await _enrolling_organisation()
    callback = await _at_provider(op, await _start(client))
    client.cookies.delete("tl_oidc_state")

    refused = await _back(client, callback)

    assert refused.status_code == 400
    await _nothing_created()


async def test_a_replayed_code_is_refused_by_the_provider(
    client: httpx.AsyncClient, op: LocalProvider
) -> None:
    await _enrolling_organisation()
    first_callback = await _at_provider(op, await _start(client))
    assert (await _back(client, first_callback)).status_code == 303
    await User.delete(force=True)
    await UserSession.delete(force=True)
    client.cookies.delete(SESSION_COOKIE)
    code = parse_qs(urlsplit(first_callback).query)["code"][0]

    # A new sign-in, its state genuine, carrying the code already spent.
    second_callback = await _at_provider(op, await _start(client))
    replayed = await _back(client, with_params(second_callback, code=code))

    assert replayed.status_code == 401
    assert "déjà servi ou expiré" in replayed.text
    await _nothing_created()


async def test_a_wrong_nonce_is_refused(client: httpx.AsyncClient, op: LocalProvider) -> None:
    await _enrolling_organisation()
    location = await _start(client)

    # The provider is asked with another nonce than the one this sign-in keeps.
    callback = await _at_provider(op, with_params(location, nonce="not-the-nonce"))
    refused = await _back(client, callback)

    assert refused.status_code == 401
    assert "nonce" in refused.text
    await _nothing_created()


async def test_an_expired_id_token_is_refused(client: httpx.AsyncClient, op: LocalProvider) -> None:
    await _enrolling_organisation()
    op.expire_tokens()

    refused = await _sign_in(client, op)

    assert refused.status_code == 401
    assert "expiré" in refused.text
    await _nothing_created()


async def test_an_id_token_signed_with_a_foreign_key_is_refused(
    client: httpx.AsyncClient, op: LocalProvider
) -> None:
    await _enrolling_organisation()
    op.sign_with_unpublished_key()

    refused = await _sign_in(client, op)

    assert refused.status_code == 401
    assert "signature" in refused.text
    await _nothing_created()


async def test_a_rotated_signing_key_is_fetched_and_an_unpublished_one_refused(
    client: httpx.AsyncClient, op: LocalProvider
) -> None:
    await _enrolling_organisation()
    assert (await _sign_in(client, op)).status_code == 303  # the keys are now cached
    client.cookies.delete(SESSION_COOKIE)

    op.rotate("key-2")
    rotated = await _sign_in(client, op)
    client.cookies.delete(SESSION_COOKIE)
    op.sign_with_unknown_kid("key-never-published")
    unknown = await _sign_in(client, op)

    assert rotated.status_code == 303, rotated.text
    assert unknown.status_code == 401
    assert "ne publie pas" in unknown.text
    assert await User.count() == 1


async def test_signing_out_also_signs_out_at_the_provider(
    client: httpx.AsyncClient, op: LocalProvider
) -> None:
    await _enrolling_organisation()
    await _sign_in(client, op)
    token = client.cookies[SESSION_COOKIE]

    signed_out = await post_form(client, "/signout", {})

    assert signed_out.status_code == 200
    assert f"{op.issuer}/logout?id_token_hint=" in signed_out.text
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401


async def test_a_provider_that_does_not_answer_gets_a_clear_page_in_time(
    client: httpx.AsyncClient, op: LocalProvider
) -> None:
    await _enrolling_organisation()
    op.stall = 3.0

    started = time.monotonic()
    refused = await client.get("/signin/oidc")
    elapsed = time.monotonic() - started

    assert refused.status_code == 503
    assert "pas répondu" in refused.text
    assert elapsed < 3.0


async def test_a_provider_that_stops_answering_at_the_code_exchange_creates_nothing(
    client: httpx.AsyncClient, op: LocalProvider
) -> None:
    await _enrolling_organisation()
    callback = await _at_provider(op, await _start(client))
    op.stall = 3.0

    refused = await _back(client, callback)

    assert refused.status_code == 503
    assert "pas répondu" in refused.text
    await _nothing_created()


async def test_an_id_token_issued_to_another_service_is_refused(
    client: httpx.AsyncClient, op: LocalProvider, settings: Settings
) -> None:
    """The provider's genuine token for another client: right signature, wrong audience."""
    pending = PendingSignIn.new()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": OTHER_CLIENT_ID,
            "redirect_uri": f"{BASE}{CALLBACK_PATH}",
            "scope": "openid",
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": pending.code_challenge,
            "code_challenge_method": "S256",
        }
    )
    code = parse_qs(urlsplit(op.authorize(query, "camille")).query)["code"][0]
    context = ssl.create_default_context(cafile=str(op.ca_file))
    async with httpx.AsyncClient(verify=context) as other_service:
        tokens = await other_service.post(
            f"{op.issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": f"{BASE}{CALLBACK_PATH}",
                "client_id": OTHER_CLIENT_ID,
                "client_secret": OTHER_CLIENT_SECRET,
                "code_verifier": pending.code_verifier,
            },
        )
    assert tokens.status_code == 200, tokens.text

    with pytest.raises(SignInRefused) as refused:
        await provider(settings).verify_id_token(tokens.json()["id_token"], pending.nonce)
    assert "not meant for this service" in refused.value.detail


async def test_an_id_token_from_another_issuer_is_refused(
    client: httpx.AsyncClient, op: LocalProvider
) -> None:
    await _enrolling_organisation()
    location = await _start(client)  # the discovery document is now cached, issuer checked
    # The provider now names another issuer in what it signs, with the same published keys.
    op.op.configuration_information["issuer"] = "https://elsewhere.example"

    refused = await _back(client, await _at_provider(op, location))

    assert refused.status_code == 401
    assert "pas destiné à ce service" in refused.text
    await _nothing_created()


async def test_a_discovery_document_naming_another_issuer_is_not_used(
    client: httpx.AsyncClient, op: LocalProvider
) -> None:
    op.op.configuration_information["issuer"] = "https://elsewhere.example"

    refused = await client.get("/signin/oidc")

    assert refused.status_code == 503
    assert await UserSession.count() == 0
