"""The organisation console's forms read into what the services take: an invitation, the policy."""

from __future__ import annotations

from typing import Any

from booking.services import accounts
from service.kernel.errors import InvalidValue
from service.kernel.i18n import N_
from web.consoles import checked
from web.i18n import translate

# The policy fields an organisation admin edits here, with the API's bounds (OrganisationPatch).
NUMBERS = {
    "monthly_allowance_units": (0, 1000),
    "booking_horizon_days": (1, 366),
    "cancellation_deadline_hours": (0, 720),
}
TEXTS = {
    "billing_address": (1, 500),
    "billing_email": (3, 254),
    "chorus_service_code": (0, 100),
    "chorus_engagement_number": (0, 100),
}
FLAGS = ("bill_no_shows", "bill_late_cancellations", "meeting_hours_use_allowance")


def policy_form(lang: str, values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The organisation's editable policy as the service takes it, and errors by field."""
    fields: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, (low, high) in NUMBERS.items():
        text = (values.get(name) or "").strip()
        if not text.isdigit() or not low <= int(text) <= high:
            errors[name] = translate(
                lang, N_("A whole number from %(low)s to %(high)s."), low=low, high=high
            )
        else:
            fields[name] = int(text)
    for name, (low, high) in TEXTS.items():
        text = (values.get(name) or "").strip()
        if not low <= len(text) <= high:
            errors[name] = translate(
                lang,
                N_("This field is required.") if not text else N_("At most %(high)s characters."),
                high=high,
            )
        elif name.startswith("chorus_"):
            fields[name] = text or None
        else:
            fields[name] = text
    if "billing_email" not in errors:
        try:
            fields["billing_email"] = accounts.normalise_email(fields["billing_email"])
        except InvalidValue:
            errors["billing_email"] = translate(lang, N_("Write a valid email address."))
    for name in FLAGS:
        fields[name] = checked(values, name)
    return fields, errors


def invite_form(
    lang: str, data: dict[str, str]
) -> tuple[dict[str, str], int | None, dict[str, str]]:
    """An invitation's fields as typed, the agent's own allowance if given, errors by field."""
    form = {k: (data.get(k) or "").strip() for k in ("email", "display_name", "allowance")}
    errors: dict[str, str] = {}
    try:
        accounts.normalise_email(form["email"])
        if len(form["email"]) > 254:
            raise InvalidValue(field="email")
    except InvalidValue:
        errors["email"] = translate(lang, N_("Write a valid email address."))
    if not form["display_name"] or len(form["display_name"]) > 200:
        errors["display_name"] = translate(lang, N_("Give the name (at most 200 characters)."))
    allowance: int | None = None
    if form["allowance"]:
        if not form["allowance"].isdigit() or int(form["allowance"]) > 1000:
            errors["allowance"] = translate(
                lang, N_("A whole number from %(low)s to %(high)s."), low=0, high=1000
            )
        else:
            allowance = int(form["allowance"])
    return form, allowance, errors
