"""Team meetings: the attendees of a meeting-room booking, and whether meetings use the allowance."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-04T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "booking: meeting_attendee, organisation.meeting_hours_use_allowance"

# One row per person invited to a meeting (the booking of a meeting room): a colleague who
# has an account (`person`) or an outside guest (email and name only). A removed attendee
# keeps their row (`removed_at`), so that the invitation and its CANCEL stay explained; the
# partial unique indexes refuse the same person twice among those still invited, and one
# organiser per meeting. Capacity is counted under the booking's row lock
# (booking/services/meetings.py), which serialises every change to one meeting.
FORWARDS = """
CREATE TABLE meeting_attendee (
    id uuid PRIMARY KEY,
    booking uuid NOT NULL REFERENCES booking (id) ON DELETE RESTRICT,
    kind varchar(10) NOT NULL,
    person uuid NULL REFERENCES app_user (id) ON DELETE RESTRICT,
    email varchar(254) NOT NULL,
    display_name varchar(200) NOT NULL,
    role varchar(10) NOT NULL DEFAULT 'attendee',
    partstat varchar(12) NOT NULL DEFAULT 'needs_action',
    invited_by uuid NULL REFERENCES app_user (id) ON DELETE RESTRICT,
    invited_at timestamptz NOT NULL DEFAULT now(),
    answered_at timestamptz NULL,
    removed_at timestamptz NULL,
    removed_by uuid NULL REFERENCES app_user (id) ON DELETE RESTRICT,
    CONSTRAINT meeting_attendee_kind CHECK (
        (kind = 'colleague' AND person IS NOT NULL) OR (kind = 'guest' AND person IS NULL)),
    CONSTRAINT meeting_attendee_role CHECK (role IN ('organiser', 'attendee')),
    CONSTRAINT meeting_attendee_partstat CHECK (
        partstat IN ('needs_action', 'accepted', 'declined')),
    CONSTRAINT meeting_attendee_organiser_is_colleague CHECK (
        role = 'attendee' OR kind = 'colleague')
);
CREATE INDEX meeting_attendee_booking_idx ON meeting_attendee (booking);
CREATE INDEX meeting_attendee_person_idx ON meeting_attendee (person) WHERE person IS NOT NULL;
CREATE UNIQUE INDEX meeting_attendee_one_email ON meeting_attendee (booking, lower(email))
    WHERE removed_at IS NULL;
CREATE UNIQUE INDEX meeting_attendee_one_person ON meeting_attendee (booking, person)
    WHERE removed_at IS NULL AND person IS NOT NULL;
CREATE UNIQUE INDEX meeting_attendee_one_organiser ON meeting_attendee (booking)
    WHERE removed_at IS NULL AND role = 'organiser';

ALTER TABLE organisation
    ADD COLUMN meeting_hours_use_allowance boolean NOT NULL DEFAULT true;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
