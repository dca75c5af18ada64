"""Importing a network's venues from a CSV or GeoJSON file, as the open-data exports write them.

A network starts with what it has: a spreadsheet, or another network's `/opendata/venues.csv`
or `.geojson`. Each line (or feature) becomes a venue, is matched with one already here, or is
refused with its line and the reason. The key is the SIRET when the file gives one, otherwise
a stable reference: the file's `reference` or `id` column (the export's venue id), otherwise
the name and INSEE code. Importing the same file twice creates nothing the second time.

A dry run does everything in a transaction that is rolled back, so the preview is what
applying would do, constraint for constraint.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from dataclasses import dataclass
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any

from booking.services.identifiers import check_siret
from booking.services.open_data import DAYS, KINDS, osm_opening_hours
from booking.services.opening_hours import Range, check_week
from booking.services.venues import SERVICES, check_insee
from booking.tables import OpeningHours, Venue, Workspace
from service.kernel import audit
from service.kernel.csv_export import FORMULA_STARTS
from service.kernel.csv_input import CsvRefused, read_rows
from service.kernel.errors import DomainError, InvalidValue
from service.kernel.i18n import N_

# ~400 bytes a venue: 3,500 venues (all of France's tiers-lieux) in under 2 MB.
MAX_IMPORT_BYTES = 5_000_000
MAX_IMPORT_ROWS = 5_000
MAX_WORKSPACES_PER_KIND = 50
STATUSES = ("applied", "approved")
REQUIRED_COLUMNS = ("name", "postcode", "commune", "insee_code", "latitude", "longitude")

# Mainland France with Corsica, then the overseas departments (and Saint-Pierre-et-Miquelon):
# (south, north, west, east) in degrees. A point outside is a swapped latitude/longitude or a
# venue from another country.
FRANCE = (
    (41.3, 51.15, -5.3, 9.6),
    (15.8, 16.55, -61.85, -60.95),  # Guadeloupe
    (14.35, 14.9, -61.25, -60.8),  # Martinique
    (2.1, 5.8, -54.65, -51.6),  # Guyane
    (-21.4, -20.85, 55.2, 55.85),  # La Réunion
    (-13.05, -12.6, 44.95, 45.35),  # Mayotte
    (46.7, 47.15, -56.45, -56.1),  # Saint-Pierre-et-Miquelon
)
OVERSEAS_ZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "975": "America/Miquelon",
    "976": "Indian/Mayotte",
}
# What an imported workspace is called, per kind; the venue renames and sizes them afterwards.
WORKSPACE_NAMES = {
    "desk": "Espace de travail",
    "meeting_room": "Salle de réunion",
    "private_office": "Bureau fermé",
    "lab": "Atelier",
}
WORKSPACE_UNITS = {
    "desk": "half_day",
    "meeting_room": "hour",
    "private_office": "hour",
    "lab": "hour",
}
_HOURS_RULE = re.compile(
    r"^([A-Z][a-z](?:[-,][A-Z][a-z])*) (\d\d:\d\d-\d\d:\d\d(?:,\d\d:\d\d-\d\d:\d\d)*)$"
)
# Fields an import may set on a venue it finds already here.
UPDATABLE = (
    "name",
    "address",
    "postcode",
    "commune",
    "insee_code",
    "latitude",
    "longitude",
    "services",
    "website",
)


@dataclass
class Candidate:
    """A line of the file, checked: what the venue would be."""

    line: int
    key: str
    reference: str | None
    fields: dict[str, Any]
    hours: list[Range]
    workspaces: dict[str, int]


@dataclass
class RowOutcome:
    line: int
    action: str  # create | update | unchanged | refuse
    name: str
    key: str = ""
    venue_id: uuid.UUID | None = None
    field: str | None = None
    reason: str | None = None
    # The catalogue msgid and its values, so that a page can word the reason in French.
    message: str | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    changes: list[str] = dataclasses.field(default_factory=list)


@dataclass
class ImportReport:
    dry_run: bool
    status: str
    rows: list[RowOutcome] = dataclasses.field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


# Reading the file


def read_file(content: bytes) -> list[tuple[int, dict[str, Any]]]:
    """Each line or feature, numbered, as a dict of the export's column names."""
    if len(content) > MAX_IMPORT_BYTES:
        raise CsvRefused(
            N_("The file is too large (at most %(kilobytes)s kB)."),
            field="file",
            kilobytes=MAX_IMPORT_BYTES // 1000,
        )
    head = content[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    rows = _geojson_rows(content) if head.startswith((b"{", b"[")) else _csv_rows(content)
    if len(rows) > MAX_IMPORT_ROWS:
        raise InvalidValue(
            N_("At most %(rows)s venues per file."), field="file", rows=MAX_IMPORT_ROWS
        )
    return rows


def _csv_rows(content: bytes) -> list[tuple[int, dict[str, Any]]]:
    columns, rows = read_rows(content, max_bytes=MAX_IMPORT_BYTES, prefer=",")
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise InvalidValue(
            N_("The first line names the columns; missing: %(columns)s."),
            field="file",
            columns=", ".join(missing),
        )
    return list(enumerate(rows, start=2))


def _geojson_rows(content: bytes) -> list[tuple[int, dict[str, Any]]]:
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise CsvRefused(N_("The file must be UTF-8."), field="file") from None
    except (ValueError, RecursionError):
        raise InvalidValue(N_("The file is neither CSV nor valid JSON."), field="file") from None
    if (
        not isinstance(document, dict)
        or document.get("type") != "FeatureCollection"
        or not isinstance(document.get("features"), list)
    ):
        raise InvalidValue(N_("A GeoJSON file is one FeatureCollection."), field="file")
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, feature in enumerate(document["features"], start=1):
        row: dict[str, Any] = {}
        if isinstance(feature, dict):
            properties = feature.get("properties")
            if isinstance(properties, dict):
                row.update(properties)
            if feature.get("id") is not None and "id" not in row:
                row["id"] = feature["id"]
            geometry = feature.get("geometry")
            if isinstance(geometry, dict) and geometry.get("type") == "Point":
                coordinates = geometry.get("coordinates")
                if isinstance(coordinates, list) and len(coordinates) >= 2:
                    # RFC 7946: longitude first.
                    row["longitude"], row["latitude"] = coordinates[0], coordinates[1]
        rows.append((number, row))
    return rows


# Checking a line


def _text(row: dict[str, Any], name: str, *, limit: int) -> str:
    value = row.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidValue(N_("The value of %(column)s is not text."), field=name, column=name)
    text = str(value).strip()
    if len(text) > limit:
        raise InvalidValue(
            N_("The value of %(column)s is longer than %(chars)s characters."),
            field=name,
            column=name,
            chars=limit,
        )
    if text.startswith(FORMULA_STARTS):
        raise InvalidValue(
            N_("The value of %(column)s starts like a spreadsheet formula."),
            field=name,
            column=name,
        )
    return text


def _coordinate(row: dict[str, Any], name: str) -> Decimal:
    value = row.get(name)
    try:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidOperation
        number = Decimal(str(value).strip().replace(",", "."))
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise InvalidValue(N_("The %(column)s is not a number."), field=name, column=name) from None
    return number.quantize(Decimal("0.000001"))


def in_france(latitude: Decimal, longitude: Decimal) -> bool:
    return any(
        south <= latitude <= north and west <= longitude <= east
        for south, north, west, east in ((Decimal(str(v)) for v in box) for box in FRANCE)
    )


def _department(code: str) -> str:
    return code[:3] if code.startswith("97") else code[:2]


def parse_hours(text: str) -> list[Range]:
    """The OpenStreetMap `opening_hours` subset the export writes: `Mo-Fr 08:30-12:30,13:30-18:00; Sa 09:00-12:00`."""
    ranges: list[Range] = []
    for rule in (part.strip() for part in text.split(";")):
        if not rule:
            continue
        matched = _HOURS_RULE.match(rule)
        if matched is None:
            raise _bad_hours(text)
        days: list[int] = []
        for group in matched.group(1).split(","):
            first, _, last = group.partition("-")
            if first not in DAYS or (last and last not in DAYS):
                raise _bad_hours(text)
            start, end = DAYS.index(first), DAYS.index(last or first)
            if end < start:
                raise _bad_hours(text)
            days.extend(range(start, end + 1))
        for span in matched.group(2).split(","):
            opens, closes = span.split("-")
            try:
                ranges.extend(Range(day, _clock(opens), _clock(closes)) for day in days)
            except ValueError:
                raise _bad_hours(text) from None
    try:
        check_week(ranges)
    except DomainError:
        raise _bad_hours(text) from None
    return ranges


def _clock(text: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    return time(hours, minutes)


def _bad_hours(text: str) -> InvalidValue:
    return InvalidValue(
        N_("The opening hours %(hours)r are not in the form Mo-Fr 08:30-12:30,13:30-18:00."),
        field="opening_hours",
        hours=text[:80],
    )


def check_line(line: int, row: dict[str, Any], known_communes: dict[str, str]) -> Candidate:
    """The venue a line describes, or InvalidValue naming what is wrong with it."""
    name = _text(row, "name", limit=200)
    if not name:
        raise InvalidValue(N_("The name is missing."), field="name")
    siret_text = _text(row, "siret", limit=20)
    siret = check_siret(siret_text) if siret_text else None
    latitude, longitude = _coordinate(row, "latitude"), _coordinate(row, "longitude")
    if not in_france(latitude, longitude):
        raise InvalidValue(
            N_("The coordinates (%(latitude)s, %(longitude)s) are outside France."),
            field="latitude",
            latitude=latitude,
            longitude=longitude,
        )
    commune = _text(row, "commune", limit=100)
    postcode = _text(row, "postcode", limit=10)
    insee_text = _text(row, "insee_code", limit=10)
    if not commune or not insee_text:
        raise InvalidValue(
            N_("Unknown commune: its name and INSEE code are needed."), field="commune"
        )
    try:
        insee_code = check_insee(insee_text)
    except InvalidValue:
        raise InvalidValue(
            N_("Unknown commune: %(code)r is not an INSEE commune code."),
            field="insee_code",
            code=insee_text,
        ) from None
    if not re.fullmatch(r"[0-9]{5}", postcode):
        raise InvalidValue(N_("A postcode has 5 digits."), field="postcode")
    expected = "20" if insee_code[:2] in ("2A", "2B") else _department(insee_code)
    if not postcode.startswith(expected):
        raise InvalidValue(
            N_(
                "Unknown commune: INSEE code %(code)s is not in the département of postcode %(postcode)s."
            ),
            field="insee_code",
            code=insee_code,
            postcode=postcode,
        )
    known = known_communes.get(commune.casefold())
    if known is not None and known != insee_code:
        raise InvalidValue(
            N_("Unknown commune: %(commune)s has INSEE code %(known)s here, not %(code)s."),
            field="insee_code",
            commune=commune,
            known=known,
            code=insee_code,
        )
    services_value = row.get("services") or []
    if isinstance(services_value, str):
        services_value = [s.strip() for s in services_value.split(";") if s.strip()]
    if not isinstance(services_value, list) or not all(isinstance(s, str) for s in services_value):
        raise InvalidValue(N_("The services are a list of names."), field="services")
    unknown = sorted(set(services_value) - SERVICES)
    if unknown:
        raise InvalidValue(
            N_("Unknown services: %(unknown)s."), field="services", unknown=", ".join(unknown)[:200]
        )
    website = _text(row, "website", limit=300) or None
    if website is not None and not re.match(r"^https?://[^\s<>\"']+$", website):
        raise InvalidValue(N_("The website is an http:// or https:// address."), field="website")
    workspaces: dict[str, int] = {}
    for kind in KINDS:
        count_text = _text(row, f"workspaces_{kind}", limit=4) or "0"
        if not count_text.isdigit() or int(count_text) > MAX_WORKSPACES_PER_KIND:
            raise InvalidValue(
                N_("workspaces_%(kind)s is a whole number from 0 to %(most)s."),
                field=f"workspaces_{kind}",
                kind=kind,
                most=MAX_WORKSPACES_PER_KIND,
            )
        workspaces[kind] = int(count_text)
    reference = _text(row, "reference", limit=100) or _text(row, "id", limit=100) or None
    fields: dict[str, Any] = {
        "name": name,
        "address": _text(row, "address", limit=300),
        "postcode": postcode,
        "commune": commune,
        "insee_code": insee_code,
        "latitude": latitude,
        "longitude": longitude,
        # In the file's order: an export imported elsewhere exports the same.
        "services": list(dict.fromkeys(services_value)),
        "website": website,
    }
    for extra, limit in (("legal_name", 200), ("contact_email", 254), ("description", 2000)):
        value = _text(row, extra, limit=limit)
        if value:
            fields[extra] = value
    if siret:
        fields["siret"] = siret
    key = siret or reference or f"{name.casefold()}|{insee_code}"
    return Candidate(
        line=line,
        key=key,
        reference=None if siret else (reference or key),
        fields=fields,
        hours=parse_hours(_text(row, "opening_hours", limit=500)),
        workspaces=workspaces,
    )


# Matching and applying


@dataclass
class _Known:
    by_siret: dict[str, list[dict[str, Any]]]
    by_reference: dict[str, dict[str, Any]]
    communes: dict[str, str]


async def _known_venues() -> _Known:
    rows = await Venue.raw(
        """
        SELECT v.id, v.siret, v.reference, v.status, v.name, v.address, v.postcode, v.commune,
               v.insee_code, v.latitude, v.longitude, v.services, v.website,
               coalesce((SELECT json_agg(json_build_array(h.weekday, h.opens, h.closes))
                           FROM opening_hours h WHERE h.venue = v.id), '[]') AS hours
          FROM venue v
        """
    )
    known = _Known(by_siret={}, by_reference={}, communes={})
    for row in rows:
        if row["siret"]:
            known.by_siret.setdefault(row["siret"], []).append(row)
        known.by_reference[str(row["id"])] = row
        if row["reference"]:
            known.by_reference[row["reference"]] = row
        known.communes.setdefault(row["commune"].casefold(), row["insee_code"])
    return known


def _hours_text(raw: Any) -> str:
    hours = json.loads(raw) if isinstance(raw, str) else raw
    return osm_opening_hours(
        [(int(d), time.fromisoformat(o), time.fromisoformat(c)) for d, o, c in hours]
    )


def _match(candidate: Candidate, known: _Known) -> dict[str, Any] | None:
    if "siret" in candidate.fields:
        same = [
            v for v in known.by_siret.get(candidate.fields["siret"], []) if v["status"] != "closed"
        ]
        if len(same) > 1:
            raise InvalidValue(
                N_("Several venues here have this SIRET; edit them one by one."), field="siret"
            )
        if same:
            return same[0]
    return known.by_reference.get(candidate.reference or candidate.key)


def _changes(candidate: Candidate, existing: dict[str, Any]) -> list[str]:
    def comparable(name: str, value: Any) -> Any:
        if name in ("latitude", "longitude"):
            return Decimal(str(value)).quantize(Decimal("0.000001"))
        return sorted(value) if name == "services" else value

    changed = [
        name
        for name in UPDATABLE
        if comparable(name, existing[name]) != comparable(name, candidate.fields[name])
    ]
    if _hours_text(existing["hours"]) != osm_opening_hours(
        [(r.weekday, r.opens, r.closes) for r in candidate.hours]
    ):
        changed.append("opening_hours")
    return changed


def _refusal(line: int, name: str, error: DomainError, key: str = "") -> RowOutcome:
    return RowOutcome(
        line=line,
        action="refuse",
        name=name,
        key=key,
        field=error.field,
        reason=error.detail,
        message=error.message,
        params=dict(error.params),
    )


async def import_venues(content: bytes, *, status: str, dry_run: bool) -> ImportReport:
    """Create, update or refuse each line; all in one transaction with one audit row."""
    if status not in STATUSES:
        raise InvalidValue(N_("Imported venues start as applied or approved."), field="status")
    lines = read_file(content)
    report = ImportReport(dry_run=dry_run, status=status)
    try:
        async with Venue._meta.db.transaction():
            # One import at a time: two at once would both create the same new venues.
            await Venue.raw("SELECT pg_advisory_xact_lock(hashtext('venue_import'))")
            known = await _known_venues()
            seen: dict[str, int] = {}
            for line, row in lines:
                report.rows.append(await _one_line(line, row, known, seen, status))
            created = [r.venue_id for r in report.rows if r.action == "create"]
            updated = [r.venue_id for r in report.rows if r.action == "update"]
            if created or updated or not dry_run:
                await audit.act(
                    "venue.import",
                    "venue",
                    None,
                    after={
                        "status": status,
                        "created": [str(v) for v in created],
                        "updated": [str(v) for v in updated],
                        "refused": report.count("refuse"),
                    },
                )
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


async def _one_line(
    line: int, row: dict[str, Any], known: _Known, seen: dict[str, int], status: str
) -> RowOutcome:
    name = str(row.get("name") or "")[:200]
    try:
        candidate = check_line(line, row, known.communes)
    except DomainError as error:
        return _refusal(line, name, error)
    if candidate.key in seen:
        return _refusal(
            line,
            name,
            InvalidValue(
                N_("This venue appears twice in the file (line %(first)s)."),
                field="id",
                first=seen[candidate.key],
            ),
            candidate.key,
        )
    seen[candidate.key] = line
    try:
        existing = _match(candidate, known)
    except DomainError as error:
        return _refusal(line, name, error, candidate.key)
    if existing is None:
        venue_id = await _create(candidate, status, known)
        known.communes.setdefault(
            candidate.fields["commune"].casefold(), candidate.fields["insee_code"]
        )
        return RowOutcome(
            line=line, action="create", name=name, key=candidate.key, venue_id=venue_id
        )
    if existing["status"] == "closed":
        return _refusal(
            line,
            name,
            InvalidValue(
                N_("This venue is closed here; it is not reopened by an import."), field="id"
            ),
            candidate.key,
        )
    changes = _changes(candidate, existing)
    if changes:
        await _update(existing["id"], candidate, changes)
    return RowOutcome(
        line=line,
        action="update" if changes else "unchanged",
        name=name,
        key=candidate.key,
        venue_id=existing["id"],
        changes=changes,
    )


async def _create(candidate: Candidate, status: str, known: _Known) -> uuid.UUID:
    fields = dict(candidate.fields)
    # The venue keeps the id it had in the exporting network when that id is free here, so
    # that an export of an imported network reads the same as the original.
    venue_id = uuid.uuid4()
    if candidate.reference:
        try:
            wanted = uuid.UUID(candidate.reference)
        except ValueError:
            pass
        else:
            if str(wanted) not in known.by_reference:
                venue_id = wanted
    prefix = candidate.fields["insee_code"][:3]
    venue = Venue(
        id=venue_id,
        legal_name=fields.pop("legal_name", candidate.fields["name"]),
        contact_email=fields.pop("contact_email", ""),
        timezone=OVERSEAS_ZONES.get(prefix, "Europe/Paris"),
        reference=candidate.reference,
        status=status,
        **fields,
    )
    await venue.save()
    known.by_reference[str(venue_id)] = {"id": venue_id, "status": status}
    if candidate.reference:
        known.by_reference[candidate.reference] = known.by_reference[str(venue_id)]
    if candidate.hours:
        await OpeningHours.insert(
            *[
                OpeningHours(venue=venue_id, weekday=r.weekday, opens=r.opens, closes=r.closes)
                for r in candidate.hours
            ]
        )
    workspaces = [
        Workspace(
            venue=venue_id,
            kind=kind,
            name=WORKSPACE_NAMES[kind] + (f" {n}" if count > 1 else ""),
            capacity=1,
            booking_unit=WORKSPACE_UNITS[kind],
            equipment=[],
        )
        for kind, count in candidate.workspaces.items()
        for n in range(1, count + 1)
    ]
    if workspaces:
        await Workspace.insert(*workspaces)
    return venue_id


async def _update(venue_id: uuid.UUID, candidate: Candidate, changes: list[str]) -> None:
    values = {getattr(Venue, name): candidate.fields[name] for name in changes if name in UPDATABLE}
    if values:
        await Venue.update(values).where(Venue.id == venue_id)
    if "opening_hours" in changes:
        await OpeningHours.delete().where(OpeningHours.venue == venue_id)
        if candidate.hours:
            await OpeningHours.insert(
                *[
                    OpeningHours(venue=venue_id, weekday=r.weekday, opens=r.opens, closes=r.closes)
                    for r in candidate.hours
                ]
            )
