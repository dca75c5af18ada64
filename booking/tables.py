"""Piccolo tables of the catalogue: organisations, venues, their hours, closures, workspaces, rates, users.

Users live here rather than in `service/` because agents are users and every later
domain (bookings, passes, visits) points at them; `service/` only authenticates them.
Invariants the database can hold are in the migrations (CHECKs, unique indexes,
exclusion constraints, triggers); Python checks exist for friendly messages.
"""

from __future__ import annotations

import uuid
from datetime import time

from piccolo.columns import (
    UUID,
    Array,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    SmallInt,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Organisation(Table, tablename="organisation"):
    """An employer (local authority or company) whose agents use the pass and who pays for it."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    name = Varchar(length=200)
    siren = Varchar(length=9)
    siret = Varchar(length=14, null=True, default=None)
    kind = Varchar(length=20)  # public_body | company
    billing_address = Text()
    billing_email = Varchar(length=254)
    chorus_service_code = Varchar(length=100, null=True, default=None)
    chorus_engagement_number = Varchar(length=100, null=True, default=None)
    monthly_allowance_units = Integer(default=8)
    booking_horizon_days = Integer(default=30)
    cancellation_deadline_hours = Integer(default=24)
    bill_no_shows = Boolean(default=True)
    bill_late_cancellations = Boolean(default=True)
    # Whether a meeting room booked by one of its agents weighs on that agent's allowance.
    meeting_hours_use_allowance = Boolean(default=True)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    # Agents whose identity provider names one of these SIRETs may join by themselves at
    # their first sign-in (optionally only with an address in `enrolment_domains`).
    self_enrolment = Boolean(default=False)
    enrolment_sirets = Array(base_column=Varchar(length=14), default=list)
    enrolment_domains = Array(base_column=Varchar(length=253), default=list)


class Venue(Table, tablename="venue"):
    """A tiers-lieu that hosts agents; visible to agents once approved by the network."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    name = Varchar(length=200)
    legal_name = Varchar(length=200)
    # Missing only on a venue imported from an open-data file, until the venue gives it.
    siret = Varchar(length=14, null=True, default=None)
    vat_number = Varchar(length=20, null=True, default=None)
    # Venues under the VAT franchise (art. 293 B du CGI) charge no VAT on their statements.
    charges_vat = Boolean(default=True)
    iban = Varchar(length=34, null=True, default=None)
    bic = Varchar(length=11, null=True, default=None)
    address = Text()
    postcode = Varchar(length=5)
    commune = Varchar(length=100)
    insee_code = Varchar(length=5)
    latitude = Numeric(digits=(9, 6))
    longitude = Numeric(digits=(9, 6))
    timezone = Varchar(length=64, default="Europe/Paris")
    contact_email = Varchar(length=254)
    contact_phone = Varchar(length=30, null=True, default=None)
    website = Varchar(length=300, null=True, default=None)
    description = Text(default="")
    services = Array(base_column=Varchar(length=40))
    status = Varchar(length=20, default="applied")  # applied | approved | suspended | closed
    morning_start = Time(default=time(8, 30))
    morning_end = Time(default=time(13, 0))
    afternoon_start = Time(default=time(13, 0))
    afternoon_end = Time(default=time(18, 0))
    created_at = Timestamptz(default=TimestamptzNow())
    status_changed_at = Timestamptz(default=TimestamptzNow())
    # The stable key of an imported venue that has no SIRET (booking/services/venue_import.py).
    reference = Varchar(length=100, null=True, default=None)
    # Its address in the public directory, /lieux/{slug}: given once by a database trigger.
    slug = Varchar(length=120, default="")


class OpeningHours(Table, tablename="opening_hours"):
    """One opening range on one weekday (0 = Monday); a day may have several."""

    venue = ForeignKey(references=Venue, on_delete=OnDelete.cascade, null=False)
    weekday = SmallInt()
    opens = Time()
    closes = Time()


class Closure(Table, tablename="closure"):
    """Days (inclusive, in the venue's local calendar) on which the venue is closed."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    venue = ForeignKey(references=Venue, on_delete=OnDelete.cascade, null=False)
    starts_on = Date()
    ends_on = Date()
    reason = Varchar(length=200)
    created_at = Timestamptz(default=TimestamptzNow())


class Workspace(Table, tablename="workspace"):
    """A bookable place in a venue: a desk area of `capacity` seats, or a whole room."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=False)
    kind = Varchar(length=20)  # desk | meeting_room | private_office | lab
    name = Varchar(length=200)
    capacity = Integer()
    booking_unit = Varchar(length=10)  # half_day | day | hour
    equipment = Array(base_column=Varchar(length=40))
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class VenueRate(Table, tablename="venue_rate"):
    """What the network pays a venue per unit of a workspace kind, from a date on. Never updated."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=False)
    workspace_kind = Varchar(length=20)
    unit = Varchar(length=10)
    amount_cents = Integer()
    vat_rate = Numeric(digits=(5, 4))
    effective_from = Date()
    created_at = Timestamptz(default=TimestamptzNow())


class OrganisationRate(Table, tablename="organisation_rate"):
    """What an organisation pays per unit, from a date on; no organisation = the network's default card."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    organisation = ForeignKey(
        references=Organisation, on_delete=OnDelete.restrict, null=True, default=None
    )
    workspace_kind = Varchar(length=20)
    unit = Varchar(length=10)
    amount_cents = Integer()
    vat_rate = Numeric(digits=(5, 4))
    effective_from = Date()
    created_at = Timestamptz(default=TimestamptzNow())


class User(Table, tablename="app_user"):
    """A person who signs in: agent, venue staff or admin, organisation admin, network admin."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    email = Varchar(length=254)
    display_name = Varchar(length=200)
    password_hash = Varchar(length=200, null=True, default=None)
    role = Varchar(length=20)  # agent | venue_staff | venue_admin | org_admin | network_admin
    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=True, default=None)
    organisation = ForeignKey(
        references=Organisation, on_delete=OnDelete.restrict, null=True, default=None
    )
    # Agents only: overrides the organisation's monthly allowance when set.
    monthly_allowance_units = Integer(null=True, default=None)
    # Stable pseudonymous id shown on venue-facing documents instead of the name.
    pseudonym = Varchar(length=12)
    invitation_token_hash = Varchar(length=64, null=True, default=None)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    deactivated_at = Timestamptz(null=True, default=None)
    # Every access token carries the value it was issued under; the database raises it (a
    # trigger) when the password, role, membership, email or activity changes, which ends
    # every session issued before, on every API process, at the next request.
    session_generation = Integer(default=0)
    # The language the person reads (`fr`, `en`), chosen on /account; None: the browser's.
    language = Varchar(length=5, null=True, default=None)
    # The provider identity (issuer + sub) the person signs in with, once linked.
    oidc_issuer = Varchar(length=255, null=True, default=None)
    oidc_subject = Varchar(length=255, null=True, default=None)
    # The SIRET under which the person joined by themselves (None: invited or created).
    enrolled_by_siret = Varchar(length=14, null=True, default=None)


class EndedSession(Table, tablename="ended_session"):
    """A session signed out before its token expired (the token's `sid`); kept until then."""

    id = UUID(primary_key=True)
    account = ForeignKey(references=User, on_delete=OnDelete.cascade, null=False)
    expires_at = Timestamptz()


class UserSession(Table, tablename="user_session"):
    """A session issued at sign-in (the token's `sid`), listed on /account until it ends.

    The token stays the proof; a row whose `generation` is behind the person's, or that
    was signed out (EndedSession), or has expired, is no longer a session.
    """

    id = UUID(primary_key=True)
    account = ForeignKey(references=User, on_delete=OnDelete.cascade, null=False)
    generation = Integer()
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    user_agent = Varchar(length=200, default="")
    method = Varchar(length=20, default="password")  # password | oidc
    id_token = Text(null=True, default=None)  # the provider's, to sign out there too


class PasswordReset(Table, tablename="password_reset"):
    """A forgotten-password link: one use, one hour; only the SHA-256 of its secret is kept."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    account = ForeignKey(references=User, on_delete=OnDelete.cascade, null=False)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class EmailChange(Table, tablename="email_change"):
    """A new address waiting for its owner to open the link sent there (hash of the secret kept)."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    account = ForeignKey(references=User, on_delete=OnDelete.cascade, null=False)
    new_email = Varchar(length=254)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class BookingSeries(Table, tablename="booking_series"):
    """A recurring booking (RFC 5545 RRULE); each occurrence is a Booking row."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    agent = ForeignKey(references=User, on_delete=OnDelete.restrict, null=False)
    workspace = ForeignKey(references=Workspace, on_delete=OnDelete.restrict, null=False)
    rrule = Text()
    slot = Varchar(length=10, null=True, default=None)
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
    cancelled_from = Date(null=True, default=None)


class Booking(Table, tablename="booking"):
    """A reservation of seats in a workspace for a time range, by or for one agent.

    Desks: `slot` is morning/afternoon/day and `seats` is 1; rooms are taken whole
    (`exclusive`), by the hour or the half-day. `allowance_units` is what the booking
    weighs against the agent's monthly allowance (half-days).
    """

    id = UUID(primary_key=True, default=uuid.uuid4)
    # None once the retention has replaced the agent by `agent_pseudonym` (billing/retention.py).
    agent = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    agent_pseudonym = Varchar(length=12, null=True, default=None)
    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=False)
    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=False)
    workspace = ForeignKey(references=Workspace, on_delete=OnDelete.restrict, null=False)
    series = ForeignKey(
        references=BookingSeries, on_delete=OnDelete.restrict, null=True, default=None
    )
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    local_date = Date()
    slot = Varchar(length=10, null=True, default=None)  # morning | afternoon | day | None (hours)
    unit = Varchar(length=10)  # half_day | day | hour
    quantity = Integer(default=1)  # units of `unit` (hours for an hourly room)
    seats = Integer(default=1)
    exclusive = Boolean(default=False)
    allowance_units = Integer(default=1)
    status = Varchar(length=20, default="confirmed")
    # confirmed -> checked_in -> completed; or cancelled | late_cancelled | no_show
    walk_in = Boolean(default=False)
    sequence = Integer(default=0)  # iCalendar SEQUENCE, grows on every change
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    cancelled_at = Timestamptz(null=True, default=None)
    cancelled_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    cancelled_by_venue = Boolean(default=False)
    cancel_reason = Text(null=True, default=None)
    checked_in_at = Timestamptz(null=True, default=None)
    checked_out_at = Timestamptz(null=True, default=None)
    reminded_at = Timestamptz(null=True, default=None)


class MeetingAttendee(Table, tablename="meeting_attendee"):
    """A person invited to a meeting (a booked meeting room): a colleague with an account, or a guest.

    The booking's holder is its first organiser; the role can be handed to another colleague.
    `partstat` is the iCalendar participation status (RFC 5545), in snake case.
    """

    id = UUID(primary_key=True, default=uuid.uuid4)
    booking = ForeignKey(references=Booking, on_delete=OnDelete.restrict, null=False)
    kind = Varchar(length=10)  # colleague | guest
    person = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    email = Varchar(length=254)
    display_name = Varchar(length=200)
    role = Varchar(length=10, default="attendee")  # organiser | attendee
    partstat = Varchar(length=12, default="needs_action")  # needs_action | accepted | declined
    invited_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    invited_at = Timestamptz(default=TimestamptzNow())
    answered_at = Timestamptz(null=True, default=None)
    removed_at = Timestamptz(null=True, default=None)
    removed_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)


class SeatOccupancy(Table, tablename="seat_occupancy"):
    """Seats taken in a shared workspace per local date and half-day, never above capacity.

    The CHECK on this counter is what makes overbooking impossible: concurrent bookings
    of the last seat serialise on the row, and the one that would exceed it fails.
    """

    workspace = ForeignKey(references=Workspace, on_delete=OnDelete.restrict, null=False)
    local_date = Date()
    half = Varchar(length=2)  # am | pm
    seats_taken = Integer(default=0)
    capacity = Integer()


class Outbox(Table, tablename="outbox"):
    """Messages to send, written in the same transaction as the change they announce."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    kind = Varchar(length=40)
    recipient = Varchar(length=254)
    subject = Varchar(length=300)
    body = Text()
    calendar = Text(null=True, default=None)  # text/calendar attachment, if any
    calendar_method = Varchar(length=10, null=True, default=None)
    booking = ForeignKey(references=Booking, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    last_error = Text(null=True, default=None)


class CalendarFeed(Table, tablename="calendar_feed"):
    """A subscribable calendar behind a revocable secret token (agent's or venue's bookings)."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    kind = Varchar(length=10)  # agent | venue
    agent = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=True, default=None)
    token_hash = Varchar(length=64, unique=True)
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
