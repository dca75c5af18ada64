"""What the database guarantees about bookings: no overbooking, no double booking, sane states."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-11-24T19:14:09:900000"
VERSION = "1.38.0"
DESCRIPTION = "booking constraints: seat counters, room and agent exclusion"

FORWARDS = """
ALTER TABLE booking
    ADD CONSTRAINT booking_range CHECK (starts_at < ends_at),
    ADD CONSTRAINT booking_status CHECK (
        status IN ('confirmed', 'checked_in', 'completed', 'cancelled', 'late_cancelled', 'no_show')
    ),
    ADD CONSTRAINT booking_slot CHECK (slot IS NULL OR slot IN ('morning', 'afternoon', 'day')),
    ADD CONSTRAINT booking_unit CHECK (unit IN ('half_day', 'day', 'hour')),
    ADD CONSTRAINT booking_quantity CHECK (quantity >= 1 AND seats >= 1 AND allowance_units >= 0),
    -- A room is taken whole: two live bookings of one room never overlap.
    ADD CONSTRAINT booking_room_no_overlap EXCLUDE USING gist (
        workspace WITH =, tstzrange(starts_at, ends_at) WITH &&
    ) WHERE (exclusive AND status IN ('confirmed', 'checked_in', 'completed')),
    -- One person is in one place at a time.
    ADD CONSTRAINT booking_agent_no_overlap EXCLUDE USING gist (
        agent WITH =, tstzrange(starts_at, ends_at) WITH &&
    ) WHERE (status IN ('confirmed', 'checked_in', 'completed'));

CREATE INDEX booking_agent_date_idx ON booking (agent, local_date);
CREATE INDEX booking_venue_date_idx ON booking (venue, local_date);
CREATE INDEX booking_workspace_time_idx ON booking (workspace, starts_at);
CREATE INDEX booking_organisation_date_idx ON booking (organisation, local_date);
CREATE INDEX booking_confirmed_start_idx ON booking (starts_at) WHERE status = 'confirmed';
CREATE INDEX booking_series_idx ON booking (series) WHERE series IS NOT NULL;

ALTER TABLE seat_occupancy
    ADD CONSTRAINT seat_occupancy_half CHECK (half IN ('am', 'pm')),
    ADD CONSTRAINT seat_occupancy_within_capacity CHECK (seats_taken >= 0 AND seats_taken <= capacity),
    ADD CONSTRAINT seat_occupancy_key UNIQUE (workspace, local_date, half);

-- A workspace's capacity change applies to the counters of today and later; lowering it
-- below seats already booked fails on the CHECK above rather than overbooking.
CREATE FUNCTION seat_occupancy_follow_capacity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.capacity <> OLD.capacity THEN
        UPDATE seat_occupancy SET capacity = NEW.capacity
         WHERE workspace = NEW.id AND local_date >= current_date;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER workspace_capacity_to_occupancy AFTER UPDATE OF capacity ON workspace
    FOR EACH ROW EXECUTE FUNCTION seat_occupancy_follow_capacity();

ALTER TABLE outbox ADD CONSTRAINT outbox_attempts CHECK (attempts >= 0);
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE sent_at IS NULL;

ALTER TABLE calendar_feed
    ADD CONSTRAINT calendar_feed_kind CHECK (
        (kind = 'agent' AND agent IS NOT NULL AND venue IS NULL)
        OR (kind = 'venue' AND venue IS NOT NULL AND agent IS NULL)
    );
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
