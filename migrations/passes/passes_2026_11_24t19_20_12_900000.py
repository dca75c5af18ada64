"""What the database guarantees about passes, scans and visits."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-11-24T19:20:12:900000"
VERSION = "1.38.0"
DESCRIPTION = "pass serial sequence, one live pass per agent, one visit per agent, venue and day"

FORWARDS = """
CREATE SEQUENCE pass_serial_seq START 1000 OWNED BY pass.serial;
ALTER TABLE pass ALTER COLUMN serial SET DEFAULT nextval('pass_serial_seq');
ALTER TABLE pass
    ADD CONSTRAINT pass_status CHECK (status IN ('active', 'suspended', 'revoked')),
    ADD CONSTRAINT pass_validity CHECK (not_before < not_after),
    ADD CONSTRAINT pass_serial_range CHECK (serial > 0);
-- One live pass per agent: reissuing revokes the old one in the same transaction.
CREATE UNIQUE INDEX pass_one_live_per_agent ON pass (agent) WHERE status <> 'revoked';
CREATE INDEX pass_status_event_serial_idx ON pass_status_event (serial);

ALTER TABLE pass_key ADD CONSTRAINT pass_key_id_range CHECK (key_id BETWEEN 1 AND 65535);

ALTER TABLE visit
    ADD CONSTRAINT visit_unit CHECK (unit IN ('half_day', 'day', 'hour')),
    ADD CONSTRAINT visit_amounts CHECK (venue_rate_cents >= 0 AND organisation_rate_cents >= 0
                                        AND quantity >= 1),
    ADD CONSTRAINT visit_checkout CHECK (checked_out_at IS NULL OR checked_out_at >= checked_in_at);
-- Scanning the same pass twice in a day at one venue is one visit.
CREATE UNIQUE INDEX visit_one_per_agent_venue_day ON visit (agent, venue, local_date);
CREATE UNIQUE INDEX visit_one_per_booking ON visit (booking) WHERE booking IS NOT NULL;
CREATE INDEX visit_local_date_idx ON visit (local_date);
CREATE INDEX visit_organisation_date_idx ON visit (organisation, local_date);
CREATE INDEX visit_venue_date_idx ON visit (venue, local_date);

ALTER TABLE scan
    ADD CONSTRAINT scan_direction CHECK (direction IN ('in', 'out')),
    ADD CONSTRAINT scan_who CHECK (device IS NOT NULL OR scanned_by IS NOT NULL);
CREATE INDEX scan_venue_time_idx ON scan (venue, scanned_at);
CREATE INDEX scan_serial_time_idx ON scan (serial, scanned_at);

ALTER TABLE anomaly
    ADD CONSTRAINT anomaly_status CHECK (status IN ('open', 'accepted', 'rejected')),
    ADD CONSTRAINT anomaly_decision CHECK ((status = 'open') = (decided_at IS NULL));
CREATE INDEX anomaly_open_idx ON anomaly (created_at) WHERE status = 'open';
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="passes", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
