"""Piccolo app for the catalogue, accounts and (later) bookings."""

import os

from piccolo.conf.apps import AppConfig

from booking.tables import (
    Booking,
    BookingSeries,
    CalendarFeed,
    Closure,
    EmailChange,
    EndedSession,
    MeetingAttendee,
    OpeningHours,
    Organisation,
    OrganisationRate,
    Outbox,
    PasswordReset,
    SeatOccupancy,
    User,
    UserSession,
    Venue,
    VenueRate,
    Workspace,
)

HERE = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="booking",
    migrations_folder_path=os.path.join(HERE, "..", "migrations", "booking"),
    table_classes=[
        Organisation,
        Venue,
        OpeningHours,
        Closure,
        Workspace,
        VenueRate,
        OrganisationRate,
        User,
        EndedSession,
        UserSession,
        PasswordReset,
        EmailChange,
        BookingSeries,
        Booking,
        MeetingAttendee,
        SeatOccupancy,
        Outbox,
        CalendarFeed,
    ],
    migration_dependencies=[],
    commands=[],
)
