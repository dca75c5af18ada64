"""Identifiers a venue gives for invoicing and payouts: SIRET, VAT number, IBAN, BIC.

Checked with python-stdnum (SIRET, VAT number) and schwifty (IBAN, BIC); the database
constraints are the backstop.
"""

from __future__ import annotations

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.eu import vat
from stdnum.exceptions import ValidationError
from stdnum.fr import siret

from service.kernel.errors import InvalidValue
from service.kernel.i18n import N_


def check_siret(value: str) -> str:
    try:
        return str(siret.validate(value))
    except ValidationError:
        raise InvalidValue(
            N_("Ce SIRET n'est pas valide (14 chiffres et clé de contrôle)."), field="siret"
        ) from None


def check_vat_number(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(vat.validate(value))
    except ValidationError:
        raise InvalidValue(
            N_("Ce numéro de TVA intracommunautaire n'est pas valide."), field="vat_number"
        ) from None


def check_iban(value: str) -> str:
    try:
        return str(IBAN(value).compact)
    except SchwiftyException:
        raise InvalidValue(N_("Cet IBAN n'est pas valide."), field="iban") from None


def check_bic(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(BIC(value).compact)
    except SchwiftyException:
        raise InvalidValue(N_("Ce BIC n'est pas valide."), field="bic") from None
