"""iCalendar documents: invitations (REQUEST/CANCEL) for one booking, feeds of many, free/busy."""

from __future__ import annotations

import calendar as gregorian
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Event,
    FreeBusy,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vDuration,
    vPeriod,
    vText,
)

PRODID = "-//Pass Tiers-Lieux//Reservations//FR"
UID_DOMAIN = "pass-tiers-lieux"
ORGANIZER_EMAIL = "reservations@pass-tiers-lieux.invalid"
ORGANIZER_NAME = "Pass Tiers-Lieux"
# How often subscribed clients should poll a feed (RFC 7986 REFRESH-INTERVAL).
FEED_REFRESH = timedelta(hours=1)
CANCELLED_STATUSES = ("cancelled", "late_cancelled")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# VTIMEZONE onsets are floating local times by definition (RFC 5545 §3.6.5).
FLOATING_EPOCH = datetime(1970, 1, 1, tzinfo=UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class CalendarEntry:
    """What an invitation or a feed needs to know about one booking."""

    booking_id: uuid.UUID
    sequence: int
    starts_at: datetime
    ends_at: datetime
    timezone: str
    status: str
    summary: str
    venue_name: str
    address: str
    latitude: Decimal
    longitude: Decimal
    url: str
    attendee_email: str | None = None
    attendee_name: str | None = None
    description: str = ""
    updated_at: datetime | None = None

    @property
    def cancelled(self) -> bool:
        return self.status in CANCELLED_STATUSES


def booking_uid(booking_id: uuid.UUID) -> str:
    """Stable for the booking's whole life, so that calendars update the same event."""
    return f"{booking_id}@{UID_DOMAIN}"


def _organizer() -> vCalAddress:
    organizer = vCalAddress(f"mailto:{ORGANIZER_EMAIL}")
    organizer.params["cn"] = vText(ORGANIZER_NAME)
    return organizer


def _event(entry: CalendarEntry, *, cancelled: bool, invitation: bool) -> Event:
    zone = ZoneInfo(entry.timezone)
    event = Event()
    event.add("uid", booking_uid(entry.booking_id))
    event.add("sequence", entry.sequence)
    # The last change, not the rendering time: the same data gives the same bytes (ETags).
    event.add("dtstamp", (entry.updated_at or datetime.now(UTC)).astimezone(UTC))
    if entry.updated_at is not None:
        event.add("last-modified", entry.updated_at.astimezone(UTC))
    event.add("dtstart", entry.starts_at.astimezone(zone))
    event.add("dtend", entry.ends_at.astimezone(zone))
    event.add("summary", entry.summary)
    event.add("location", vText(f"{entry.venue_name}, {entry.address}"))
    event.add("geo", (float(entry.latitude), float(entry.longitude)))
    event.add("url", entry.url)
    if entry.description:
        event.add("description", entry.description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    if invitation:
        # iTIP (RFC 5546) wants an organizer, and the attendee the message is about. Feeds
        # leave both out: a subscribed calendar is not a meeting, and a venue's feed must
        # not carry agents' emails.
        event.add("organizer", _organizer())
        if entry.attendee_email:
            attendee = vCalAddress(f"mailto:{entry.attendee_email}")
            if entry.attendee_name:
                attendee.params["cn"] = vText(entry.attendee_name)
            attendee.params["role"] = vText("REQ-PARTICIPANT")
            attendee.params["cutype"] = vText("INDIVIDUAL")
            if not cancelled:
                # Already confirmed by booking: nothing for the client to answer.
                attendee.params["partstat"] = vText("ACCEPTED")
                attendee.params["rsvp"] = vText("FALSE")
            event.add("attendee", attendee)
    return event


def _calendar(method: str | None, name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("name", name)  # RFC 7986
        calendar.add("x-wr-calname", name)  # what Google and Outlook read
        calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
        # An X- property has no known type: say it is a duration, or it is written "1:00:00".
        calendar.add("x-published-ttl", vDuration(FEED_REFRESH))
    return calendar


# Time zones. icalendar's own VTIMEZONE generator writes the spring-forward onsets an hour
# late (03:00 instead of 02:00 local) and stops in 2038; this one is derived from the tz
# database for the years the events need, in the RRULE form most clients expect.


@dataclass(frozen=True)
class _Transition:
    onset: datetime  # naive local wall time, in the offset in force before it (RFC 5545)
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool


def _transitions(zone: ZoneInfo, first_year: int, last_year: int) -> list[_Transition]:
    """Every change of the zone's UTC offset (or name) within the given years."""

    def state(ts: int) -> tuple[timedelta, str]:
        moment = datetime.fromtimestamp(ts, UTC).astimezone(zone)
        return moment.utcoffset() or timedelta(0), moment.tzname() or ""

    found: list[_Transition] = []
    ts = int(datetime(first_year, 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(last_year + 1, 1, 1, tzinfo=UTC).timestamp())
    day = 86_400
    before = state(ts)
    while ts < end:
        after = state(ts + day)
        if after != before:
            low, high = ts, ts + day  # state(low) == before, state(high) == after
            while high - low > 1:
                middle = (low + high) // 2
                if state(middle) == before:
                    low = middle
                else:
                    high = middle
            found.append(
                _Transition(
                    onset=(datetime.fromtimestamp(high, UTC) + before[0]).replace(tzinfo=None),
                    offset_from=before[0],
                    offset_to=after[0],
                    name=after[1],
                    # Clocks going forward start "daylight" time. (Not `dst()`: Dublin's
                    # tz data calls winter the negative-DST season.)
                    daylight=after[0] > before[0],
                )
            )
            before = after
        ts += day
    return found


def _yearly_rule(group: list[_Transition], last_year: int) -> dict[str, object] | None:
    """An RRULE that yields exactly these onsets (one a year, same weekday rule), if any."""
    years = [t.onset.year for t in group]
    if years != list(range(years[0], years[0] + len(years))):
        return None
    first = group[0].onset
    if any(
        (t.onset.month, t.onset.weekday(), t.onset.time())
        != (first.month, first.weekday(), first.time())
        for t in group
    ):
        return None
    nths = {(t.onset.day - 1) // 7 + 1 for t in group}
    lasts = {t.onset.day + 7 > gregorian.monthrange(t.onset.year, t.onset.month)[1] for t in group}
    # "Last" first: with few years sampled, a last Sunday can look like "the 5th" every time.
    if lasts == {True}:
        ordinal = -1
    elif len(nths) == 1:
        ordinal = nths.pop()
    else:
        return None
    rule: dict[str, object] = {
        "freq": "yearly",
        "bymonth": first.month,
        "byday": f"{ordinal}{_WEEKDAYS[first.weekday()]}",
    }
    if years[-1] < last_year:
        # The rule stopped inside the range (a zone gave up DST). COUNT, not UNTIL: a UTC
        # UNTIL beside a floating DTSTART trips dateutil-based readers.
        rule["count"] = len(group)
    return rule


def _observance(
    transition: _Transition, rule: dict[str, object] | None = None
) -> TimezoneStandard | TimezoneDaylight:
    part = TimezoneDaylight() if transition.daylight else TimezoneStandard()
    part.add("dtstart", transition.onset)
    if rule is not None:
        part.add("rrule", rule)
    else:
        # The onset again as RDATE: redundant by RFC 5545 (an instance counts once), but
        # readers built on dateutil's rruleset (the `ical` library) ignore a lone DTSTART.
        part.add("rdate", transition.onset)
    part.add("tzoffsetfrom", transition.offset_from)
    part.add("tzoffsetto", transition.offset_to)
    if transition.name:
        part.add("tzname", transition.name)
    return part


@lru_cache(maxsize=64)
def _vtimezone(key: str, first_year: int, last_year: int) -> Timezone:
    zone = ZoneInfo(key)
    timezone = Timezone()
    timezone.add("tzid", key)
    transitions = _transitions(zone, first_year, last_year)
    if not transitions:
        # No change in these years (Réunion, Martinique, UTC): one fixed observance.
        moment = datetime(first_year, 1, 1, tzinfo=UTC).astimezone(zone)
        offset = moment.utcoffset() or timedelta(0)
        timezone.add_component(
            _observance(_Transition(FLOATING_EPOCH, offset, offset, moment.tzname() or "", False))
        )
        return timezone
    groups: dict[tuple[object, ...], list[_Transition]] = defaultdict(list)
    for transition in transitions:
        key_ = (transition.daylight, transition.offset_from, transition.offset_to, transition.name)
        groups[key_].append(transition)
    for group in groups.values():
        rule = _yearly_rule(group, last_year)
        if rule is None:
            for transition in group:
                timezone.add_component(_observance(transition))
            continue
        timezone.add_component(_observance(group[0], rule))
    return timezone


def vtimezones(moments: Iterable[tuple[str, datetime]]) -> list[Timezone]:
    """VTIMEZONEs for these (zone, moment) pairs, each covering from the year before its first.

    Starting a year early puts an onset of each observance before the first event, so that
    every local time of the document is defined by its VTIMEZONE alone.
    """
    return [_vtimezone(*span) for span in _timezone_spans(moments)]


def _timezone_spans(moments: Iterable[tuple[str, datetime]]) -> list[tuple[str, int, int]]:
    """(zone, first year, last year) of each VTIMEZONE these moments need, in document order."""
    years: dict[str, list[int]] = {}
    for key, moment in moments:
        year = moment.astimezone(ZoneInfo(key)).year
        span = years.setdefault(key, [year, year])
        span[0], span[1] = min(span[0], year), max(span[1], year)
    return [(key, first - 1, last) for key, (first, last) in sorted(years.items())]


def _add_timezones(calendar: Calendar, entries: list[CalendarEntry]) -> None:
    moments = [(e.timezone, m) for e in entries for m in (e.starts_at, e.ends_at)]
    for timezone in vtimezones(moments):
        calendar.add_component(timezone)


_END = b"END:VCALENDAR\r\n"


@lru_cache(maxsize=8)
def _envelope(method: str) -> bytes:
    """A calendar's lines before its components (everything but its END line)."""
    text: bytes = _calendar(method).to_ical()
    assert text.endswith(_END)
    return text.removesuffix(_END)


@lru_cache(maxsize=64)
def _vtimezone_lines(key: str, first_year: int, last_year: int) -> bytes:
    return bytes(_vtimezone(key, first_year, last_year).to_ical())


def invitation(entry: CalendarEntry, *, cancel: bool = False) -> bytes:
    """A METHOD:REQUEST (or CANCEL) calendar for one booking, with its VTIMEZONE.

    The same bytes as the Calendar with its VTIMEZONE and VEVENT components rendered whole
    (icalendar writes a component's lines between its parent's properties and END line),
    but the envelope and the VTIMEZONE, the same for every booking of a zone and years, are
    rendered once per process: rendering them was about half of an invitation's CPU, and an
    invitation about a fifth of a booking's (docs/performance.md)."""
    spans = _timezone_spans((entry.timezone, m) for m in (entry.starts_at, entry.ends_at))
    return b"".join(
        [
            _envelope("CANCEL" if cancel else "REQUEST"),
            *(_vtimezone_lines(*span) for span in spans),
            _event(entry, cancelled=cancel, invitation=True).to_ical(),
            _END,
        ]
    )


@dataclass(frozen=True)
class Participant:
    """A person on a meeting's invitation: its ORGANIZER or one of its ATTENDEEs."""

    email: str
    name: str
    partstat: str  # needs_action | accepted | declined
    organiser: bool = False


def _address(person: Participant) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["cn"] = vText(person.name)
    return address


def meeting_invitation(
    entry: CalendarEntry, organiser: Participant, attendees: list[Participant], *, method: str
) -> bytes:
    """An iTIP (RFC 5546) REQUEST or CANCEL of a team meeting, for the attendees it lists.

    A REQUEST lists every attendee with their PARTSTAT; those who have to answer carry
    RSVP=TRUE (the organiser is the CHAIR and answers nobody). A CANCEL lists the attendees
    it is sent to: all of them when the meeting is cancelled, one when one is removed.
    """
    calendar = _calendar(method)
    _add_timezones(calendar, [entry])
    event = _event(entry, cancelled=method == "CANCEL", invitation=False)
    event.add("organizer", _address(organiser))
    for person in attendees:
        attendee = _address(person)
        attendee.params["cutype"] = vText("INDIVIDUAL")
        attendee.params["role"] = vText("CHAIR" if person.organiser else "REQ-PARTICIPANT")
        attendee.params["partstat"] = vText(person.partstat.upper().replace("_", "-"))
        attendee.params["rsvp"] = vText("FALSE" if person.organiser else "TRUE")
        event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical()


def feed(name: str, entries: list[CalendarEntry]) -> bytes:
    """A subscribable calendar of several bookings (cancelled ones stay, marked CANCELLED)."""
    calendar = _calendar(None, name)
    _add_timezones(calendar, entries)
    for entry in entries:
        calendar.add_component(_event(entry, cancelled=entry.cancelled, invitation=False))
    return calendar.to_ical()


def freebusy(
    name: str,
    uid: str,
    window: tuple[datetime, datetime],
    busy: list[tuple[datetime, datetime]],
    *,
    stamp: datetime,
) -> bytes:
    """A published VFREEBUSY: busy periods only, in UTC, with nothing about who is there."""
    calendar = _calendar(None, name)
    component = FreeBusy()
    component.add("uid", uid)
    component.add("dtstamp", stamp.astimezone(UTC))
    component.add("dtstart", window[0].astimezone(UTC))
    component.add("dtend", window[1].astimezone(UTC))
    for start, end in merge_periods(busy):
        component.add(
            "freebusy",
            vPeriod((start.astimezone(UTC), end.astimezone(UTC))),
            parameters={"FBTYPE": "BUSY"},
        )
    calendar.add_component(component)
    return calendar.to_ical()


def merge_periods(periods: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sorted, with overlapping or touching periods joined (a busy morning + afternoon = a day)."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(periods):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
