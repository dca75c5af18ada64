"""The venue console's forms read into what the catalogue takes: workspaces, hours, closures."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from booking.services import opening_hours, workspaces
from service.kernel.dates import DateOutOfRange, within_range
from service.kernel.errors import DomainError
from service.kernel.i18n import N_
from web.consoles import checked, refusal
from web.i18n import translate

UNITS = ("half_day", "day", "hour")
EQUIPMENT = sorted(workspaces.EQUIPMENT)
WEEKDAYS = range(7)
MAX_RANGES = 6  # opening ranges per day the form accepts


def workspace_form(
    lang: str, values: dict[str, str], *, new: bool, current: list[str] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The workspace form's fields as the service takes them, and the errors by field."""
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {}
    name = (values.get("name") or "").strip()
    if not name or len(name) > 200:
        errors["name"] = translate(lang, N_("Give a name (at most 200 characters)."))
    fields["name"] = name
    if new:
        kind = values.get("kind") or ""
        if kind not in workspaces.WORKSPACE_KINDS:
            errors["kind"] = translate(lang, N_("Choose a kind from the list."))
        fields["kind"] = kind
    capacity = (values.get("capacity") or "").strip()
    if not capacity.isdigit() or not 1 <= int(capacity) <= 1000:
        errors["capacity"] = translate(
            lang, N_("The capacity is a whole number of seats, from 1 to 1000.")
        )
    else:
        fields["capacity"] = int(capacity)
    unit = values.get("booking_unit") or ""
    if unit not in UNITS:
        errors["booking_unit"] = translate(lang, N_("Choose a unit from the list."))
    fields["booking_unit"] = unit
    choices = sorted({*EQUIPMENT, *(current or [])})
    fields["equipment"] = [e for e in choices if checked(values, f"equipment_{e}")]
    if current is not None and set(fields["equipment"]) == set(current):
        # Unchanged: older rows may hold names the catalogue no longer lists, keep them as is.
        del fields["equipment"]
    return fields, errors


def hours_form(
    lang: str, values: dict[str, str]
) -> tuple[list[opening_hours.Range], list[str], dict[str, str]]:
    """The week's ranges, the form field of each (for errors), and the errors by field."""
    ranges: list[opening_hours.Range] = []
    names: list[str] = []
    errors: dict[str, str] = {}
    for weekday in WEEKDAYS:
        for index in range(MAX_RANGES):
            opens_name, closes_name = f"d{weekday}_{index}_opens", f"d{weekday}_{index}_closes"
            if opens_name not in values and closes_name not in values:
                break
            opens = (values.get(opens_name) or "").strip()
            closes = (values.get(closes_name) or "").strip()
            if not opens and not closes:
                continue
            parsed: list[time] = []
            for name, text in ((opens_name, opens), (closes_name, closes)):
                try:
                    parsed.append(time.fromisoformat(text))
                except ValueError:
                    errors[name] = translate(lang, N_("Write a time such as 08:30."))
            if len(parsed) != 2:
                continue
            ranges.append(opening_hours.Range(weekday, parsed[0], parsed[1]))
            names.append(opens_name)
    return ranges, names, errors


def week(hours: list[opening_hours.Range]) -> list[dict[str, Any]]:
    """Each weekday with its ranges as HH:MM, plus one empty range to add one."""
    days = []
    for weekday in WEEKDAYS:
        ranges = [
            {"opens": r.opens.strftime("%H:%M"), "closes": r.closes.strftime("%H:%M")}
            for r in hours
            if r.weekday == weekday
        ]
        ranges += [{"opens": "", "closes": ""}] * max(1, 2 - len(ranges))
        days.append({"weekday": weekday, "ranges": ranges[:MAX_RANGES]})
    return days


def week_from_form(values: dict[str, str]) -> list[dict[str, Any]]:
    days = []
    for weekday in WEEKDAYS:
        ranges = []
        for index in range(MAX_RANGES):
            prefix = f"d{weekday}_{index}_"
            if prefix + "opens" not in values and prefix + "closes" not in values:
                break
            ranges.append(
                {
                    "opens": values.get(prefix + "opens", ""),
                    "closes": values.get(prefix + "closes", ""),
                }
            )
        days.append({"weekday": weekday, "ranges": ranges or [{"opens": "", "closes": ""}]})
    return days


def hours_refusal(lang: str, names: list[str], error: DomainError) -> dict[str, str]:
    """The catalogue's refusal of a week on the form field of the range it names."""
    errors: dict[str, str] = {}
    # The service names the range by its index in the list: map it to the field.
    field = error.field or ""
    index = field.removeprefix("hours[").split("]", 1)[0]
    name = names[int(index)] if index.isdigit() and int(index) < len(names) else ""
    if name and field.endswith(".closes"):
        name = name.removesuffix("opens") + "closes"
    key = (
        N_("This range overlaps another range on the same day.")
        if "overlap" in type(error).__name__.lower()
        else ""
    )
    if not key and field.endswith(".closes"):
        key = N_("The closing time comes after the opening time.")
    errors[name or "d0_0_opens"] = translate(lang, key) if key else refusal(lang, error)[1]
    return errors


def closure_form(
    lang: str, data: dict[str, str], today: date
) -> tuple[dict[str, str], dict[str, date], dict[str, str]]:
    """A closure's fields as typed, its days, and the errors by field (it may not start before today)."""
    form = {k: (data.get(k) or "").strip() for k in ("starts_on", "ends_on", "reason")}
    errors: dict[str, str] = {}
    days: dict[str, date] = {}
    for name in ("starts_on", "ends_on"):
        try:
            days[name] = within_range(date.fromisoformat(form[name]))
        except DateOutOfRange as error:
            errors[name] = translate(lang, error.message)
        except ValueError:
            errors[name] = translate(lang, N_("Choose a valid date."))
    if not form["reason"] or len(form["reason"]) > 200:
        errors["reason"] = translate(lang, N_("Say why the venue closes (at most 200 characters)."))
    if not errors and days["starts_on"] < today:
        errors["starts_on"] = translate(lang, N_("This date is already past."))
    return form, days, errors


def closure_refusal(lang: str, error: DomainError) -> dict[str, str]:
    """The catalogue's refusal of a closure on its field."""
    errors: dict[str, str] = {}
    field = error.field or "reason"
    errors[field] = (
        translate(lang, N_("The last day is on or after the first day."))
        if field == "ends_on"
        else refusal(lang, error)[1]
    )
    return errors
