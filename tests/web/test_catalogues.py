"""The gettext catalogues: complete in French and English, in step with the code, used by pages and API."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from booking.tables import User
from service.kernel.i18n import EXTRA_KEYWORDS, NP_, translate, use_catalogues
from service.kernel.identity import Role
from tests.booking.test_catalogue import application
from tests.factories import make_user, make_venue, make_workspace, next_weekday
from tests.web.test_pages import sign_in
from web.i18n import LOCALE_DIR, format_date, format_money, format_time

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("fr", "en")


def _read(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source)


def _ids(catalog: Catalog) -> set[tuple[str | None, object]]:
    return {(m.context, m.id) for m in catalog if m.id}


def _extracted() -> Catalog:
    """What Babel finds in the code and templates today, extracted afresh into memory."""
    with (LOCALE_DIR / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    catalog = Catalog()
    keywords = {**DEFAULT_KEYWORDS, **EXTRA_KEYWORDS}
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _untranslated(message: Message, plurals: int) -> bool:
    if message.fuzzy:
        return True
    if isinstance(message.id, list | tuple):
        strings = message.string if isinstance(message.string, list | tuple) else ()
        return len(strings) != plurals or not all(strings)
    return not message.string


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated_with_all_its_plural_forms(lang: str) -> None:
    catalog = _read(LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po")
    missing = [
        f"{m.context or ''}|{m.id}"
        for m in catalog
        if m.id and _untranslated(m, catalog.num_plurals)
    ]
    assert not missing, (
        f"{len(missing)} message(s) without a {lang} translation (empty, fuzzy or missing "
        f"plural forms) in web/locale/{lang}: {missing[:20]}"
    )


def test_the_committed_catalogues_match_a_fresh_extraction() -> None:
    fresh = _ids(_extracted())
    for path in (
        LOCALE_DIR / "messages.pot",
        LOCALE_DIR / "fr" / "LC_MESSAGES" / "messages.po",
        LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po",
    ):
        committed = _ids(_read(path))
        new, gone = sorted(map(str, fresh - committed)), sorted(map(str, committed - fresh))
        stale = f"{path.relative_to(ROOT)} is stale; run docs/translations.md's extract/update"
        assert not new, f"{stale}; new in the code: {new[:20]}"
        assert not gone, f"{stale}; no longer in the code: {gone[:20]}"


def test_plural_forms_follow_each_language() -> None:
    use_catalogues(LOCALE_DIR)
    seats = NP_("%(num)s seat", "%(num)s seats")
    assert translate("fr", seats, num=0) == "0 place"
    assert translate("fr", seats, num=1) == "1 place"
    assert translate("fr", seats, num=3) == "3 places"
    assert translate("en", seats, num=1) == "1 seat"
    assert translate("en", seats, num=0) == "0 seats"


def test_babel_writes_dates_times_and_money_for_each_reader() -> None:
    from datetime import date, time

    assert format_date("fr", date(2026, 12, 2)) == "mercredi 2 décembre 2026"
    assert format_date("en", date(2026, 12, 2)) == "Wednesday, 2 December 2026"
    assert format_time("fr", time(9, 30)) == "09:30"
    assert format_money("fr", 123450) == "1\u202f234,50\u00a0€"
    assert format_money("en", 123450) == "€1,234.50"
    assert format_money("fr", -5) == "-0,05\u00a0€"


@pytest.fixture
async def agent(client: httpx.AsyncClient) -> User:
    user = await make_user(Role.AGENT)
    assert (await sign_in(client, user)).status_code == 303
    return user


async def test_the_search_counts_free_seats_in_the_plural_of_each_language(
    client: httpx.AsyncClient, agent: User
) -> None:
    await make_workspace(await make_venue(), capacity=1)
    await make_workspace(await make_venue(), capacity=3)
    day = next_weekday().isoformat()

    french = await client.get("/agent", params={"date": day, "lang": "fr"})
    english = await client.get("/agent", params={"date": day, "lang": "en"})

    assert french.status_code == english.status_code == 200
    assert "1 place libre sur 1" in french.text
    assert "3 places libres sur 3" in french.text
    assert "2 lieux avec un poste libre" in french.text
    assert "2 places with a free desk" in english.text
    assert "1 free of 1" in english.text


async def test_an_api_problem_reads_in_the_language_the_client_accepts(
    client: httpx.AsyncClient,
) -> None:
    await make_user(Role.AGENT, email="claude@example.org")
    body = {"email": "claude@example.org", "password": "not-the-password"}

    french = await client.post(
        "/api/v1/auth/token", json=body, headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
    )
    english = await client.post("/api/v1/auth/token", json=body)

    assert french.status_code == english.status_code == 401
    assert french.json()["type"] == english.json()["type"]
    assert french.json()["detail"] == "L'adresse e-mail ou le mot de passe est incorrect."
    assert english.json()["detail"] == "Email or password is wrong."


async def test_a_domain_refusal_reads_in_french_with_its_values_filled_in(
    client: httpx.AsyncClient,
) -> None:
    body = application(timezone="Europe/Lile", services=["wifi", "sauna"])
    french = await client.post("/api/v1/venues", json=body, headers={"Accept-Language": "fr"})
    english = await client.post("/api/v1/venues", json=body)

    assert french.status_code == english.status_code == 422
    assert french.json()["field"] == english.json()["field"] == "timezone"
    assert french.json()["detail"] == "Fuseau horaire IANA inconnu : 'Europe/Lile'."
    assert english.json()["detail"] == "Unknown IANA time zone 'Europe/Lile'."

    body = application(services=["wifi", "sauna", "jacuzzi"])
    french = await client.post("/api/v1/venues", json=body, headers={"Accept-Language": "fr"})
    assert (french.status_code, french.json()["field"]) == (422, "services")
    assert french.json()["detail"] == "Services inconnus : jacuzzi, sauna."
