"""Gettext catalogues: loading them, marking messages, translating into French or English.

The catalogues (web/locale/<lang>/LC_MESSAGES/messages.po) are the source of truth; they are
compiled in memory on first use, once per process, so no generated .mo file has to be built,
shipped or kept in step with its .po. msgids are the English source text.
"""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any, NamedTuple

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
DOMAIN = "messages"
# The markers below, for Babel's extraction (`pybabel extract -k NC_:1c,2 -k NP_:1,2`).
EXTRA_KEYWORDS: dict[str, Any] = {"NC_": ((1, "c"), 2), "NP_": (1, 2)}


class InContext(NamedTuple):
    """A message whose English text needs a context to pick its French translation."""

    context: str
    message: str


class Plural(NamedTuple):
    """A message with a count: `%(num)s` is the count that chooses the form."""

    singular: str
    plural: str


Message = str | InContext | Plural


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated later, where the reader is known."""
    return message


def NC_(context: str, message: str) -> InContext:
    return InContext(context, message)


def NP_(singular: str, plural: str) -> Plural:
    return Plural(singular, plural)


_catalogues: Path | None = None


def use_catalogues(directory: Path) -> None:
    """Where the .po files live (the app factory hands web/locale over at start-up)."""
    global _catalogues
    if directory != _catalogues:
        _catalogues = directory
        translations.cache_clear()


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> Translations:
    if _catalogues is None:
        raise RuntimeError(
            "no catalogues: call service.kernel.i18n.use_catalogues(...) at start-up"
        )
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    po = _catalogues / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def translate(lang: str, message: Message, **values: Any) -> str:
    """`message` in `lang`, with `values` filled in (`%(name)s`); a plural counts `num`."""
    words = translations(lang)
    if isinstance(message, Plural):
        text = words.ngettext(message.singular, message.plural, int(values.get("num", 0)))
    elif isinstance(message, InContext):
        text = str(words.pgettext(message.context, message.message))
    else:
        text = words.gettext(message)
    return text % values if values else text


def accepted_language(header: str | None) -> str | None:
    """The first of our languages an `Accept-Language` header asks for, by preference."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and weight > 0:
            ranked.append((-weight, position, primary))
    return min(ranked)[2] if ranked else None
