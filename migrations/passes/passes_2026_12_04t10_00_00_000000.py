"""Team meetings at the door: guest passes and the visits of meeting attendees."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-04T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "passes: guest passes (pass.attendee), attendee visits (visit.attendee)"

# A guest pass is a pass like any other (same token format, same serial sequence, same
# revocation feed) held by a meeting's outside guest instead of an agent: exactly one of
# `agent` and `attendee`. An attendee's visit (a colleague or a guest admitted to a meeting)
# names its attendee row; the monthly close never bills such a visit (the room is billed
# once, through the organiser's booking), and one attendee has at most one visit. A guest's
# visit names no agent: the attendee row is who came.
FORWARDS = """
ALTER TABLE pass
    ALTER COLUMN agent DROP NOT NULL,
    ADD COLUMN attendee uuid NULL REFERENCES meeting_attendee (id) ON DELETE RESTRICT,
    ADD CONSTRAINT pass_agent_or_attendee CHECK ((agent IS NULL) <> (attendee IS NULL));
CREATE UNIQUE INDEX pass_one_live_per_attendee ON pass (attendee)
    WHERE attendee IS NOT NULL AND status <> 'revoked';

ALTER TABLE visit
    ADD COLUMN attendee uuid NULL REFERENCES meeting_attendee (id) ON DELETE RESTRICT,
    DROP CONSTRAINT visit_agent_or_pseudonym,
    ADD CONSTRAINT visit_agent_or_pseudonym
        CHECK (agent IS NOT NULL OR agent_pseudonym IS NOT NULL OR attendee IS NOT NULL);
CREATE UNIQUE INDEX visit_one_per_attendee ON visit (attendee) WHERE attendee IS NOT NULL;

-- A guest pass dies with its invitation: removing the guest, cancelling the meeting (by
-- whoever: organiser, venue, closure, erasure) or moving it revokes it in the same transaction, and the
-- revocation feed carries it to offline scanners like any other.
CREATE FUNCTION revoke_guest_passes(attendees uuid[]) RETURNS void LANGUAGE sql AS $$
    WITH revoked AS (
        UPDATE pass SET status = 'revoked', status_changed_at = now(),
                        status_reason = 'meeting invitation withdrawn'
         WHERE attendee = ANY(attendees) AND status <> 'revoked'
        RETURNING serial)
    INSERT INTO pass_status_event (serial, status, at) SELECT serial, 'revoked', now() FROM revoked;
$$;
CREATE FUNCTION pass_revoked_with_attendee() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.removed_at IS NOT NULL AND OLD.removed_at IS NULL THEN
        PERFORM revoke_guest_passes(ARRAY[NEW.id]);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER pass_revoked_with_attendee AFTER UPDATE OF removed_at ON meeting_attendee
    FOR EACH ROW EXECUTE FUNCTION pass_revoked_with_attendee();
CREATE FUNCTION pass_revoked_with_booking() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Cancelled, or moved: a guest pass was signed for the old window (a new one is issued).
    IF (NEW.status IN ('cancelled', 'late_cancelled')
            AND OLD.status NOT IN ('cancelled', 'late_cancelled'))
       OR NEW.starts_at <> OLD.starts_at OR NEW.ends_at <> OLD.ends_at
       OR NEW.venue <> OLD.venue THEN
        PERFORM revoke_guest_passes(ARRAY(SELECT id FROM meeting_attendee WHERE booking = NEW.id));
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER pass_revoked_with_booking AFTER UPDATE OF status, starts_at, ends_at, venue
    ON booking
    FOR EACH ROW EXECUTE FUNCTION pass_revoked_with_booking();
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="passes", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
