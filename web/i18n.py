"""The pages' side of the catalogues: the reader's language, Jinja's gettext, Babel's formats.

The language is `?lang=`, then the `lang` cookie, then French. Words live in
web/locale/*/LC_MESSAGES/messages.po (docs/translations.md); dates, times, money and distances
are written by Babel for fr_FR or en_GB (British English: day before month, 24-hour clock,
the way an English reader in Europe expects them).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import dates, numbers
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from service.kernel.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Message,
    translate,
    translations,
)
from web import labels

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Message", "translate"]

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGE_COOKIE = "lang"
LOCALES = {"fr": "fr_FR", "en": "en_GB"}


def choose(query: str | None, cookie: str | None) -> str:
    """The page's language: `?lang=` wins, then the cookie, then French."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def locale_of(lang: str) -> str:
    return LOCALES.get(lang, LOCALES[DEFAULT_LANGUAGE])


def format_date(lang: str, day: date) -> str:
    """« mercredi 2 décembre 2026 », "Wednesday 2 December 2026"."""
    return dates.format_date(day, "full", locale=locale_of(lang))


def format_month(lang: str, month: date) -> str:
    """« novembre 2026 », "November 2026"."""
    return dates.format_date(month, "LLLL y", locale=locale_of(lang))


month_label = format_month


def format_day(lang: str, day: date) -> str:
    """A date in a table: « 02/12/2026 »."""
    return dates.format_date(day, "short", locale=locale_of(lang))


def format_period(lang: str, month: date) -> str:
    """A month in a table: « 12/2026 »."""
    return dates.format_skeleton("yMM", month, locale=locale_of(lang))


def format_time(lang: str, moment: datetime | time) -> str:
    """« 09:30 » in both languages: the clock is read in the moment's own zone."""
    if isinstance(moment, datetime):
        moment = moment.timetz() if moment.tzinfo is not None else moment.time()
    return dates.format_time(moment.replace(tzinfo=None), "short", locale=locale_of(lang))


def format_money(lang: str, cents: int) -> str:
    """Cents as people read euros: « 1 234,50 € » in French, "€1,234.50" in English."""
    euros = Decimal(int(cents)).scaleb(-2)
    return numbers.format_currency(euros, "EUR", locale=locale_of(lang))


def format_percent(lang: str, rate: Decimal | float | str) -> str:
    """A VAT rate 0.055 as « 5,5 % » / "5.5%"."""
    return numbers.format_percent(
        Decimal(str(rate)), locale=locale_of(lang), decimal_quantization=False
    )


def format_distance(lang: str, km: float | Decimal) -> str:
    """A distance in kilometres with one decimal: « 2,5 », "2.5"."""
    return numbers.format_decimal(Decimal(str(km)), "#,##0.0", locale=locale_of(lang))


def _lang(context: Context) -> str:
    lang = context.get("lang")
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(_lang(context)).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(_lang(context)).ngettext(singular, plural, n)


@pass_context
def _pgettext(context: Context, message_context: str, message: str) -> str:
    return str(translations(_lang(context)).pgettext(message_context, message))


@pass_context
def say(context: Context, message: Message | None, **values: Any) -> str:
    """A message chosen in code (a refusal, a notice) in the page's language."""
    return translate(_lang(context), message, **values) if message else ""


@pass_context
def word(
    context: Context,
    mapping: Mapping[str, Message],
    value: Any,
    fallback: str | None = None,
    **values: Any,
) -> str:
    """The label of a value (a status, a slot) from one of web/labels.py's mappings."""
    message = mapping.get(str(value))
    if message is None:
        return str(value) if fallback is None else fallback
    return translate(_lang(context), message, **values)


def install(environment: Environment) -> None:
    """Give the templates gettext (`_`, `ngettext`, `pgettext`), `say`, `word` and the labels.

    The callables read the page's `lang` from the template context instead of being
    installed per request: one environment serves concurrent requests in both languages.
    """
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, newstyle=True
    )
    environment.globals.update(say=say, word=word)
    environment.globals.update(
        {name: value for name, value in vars(labels).items() if name.isupper()}
    )
