"""Door scans and anomalies: look-ups by scan and visit, and decisions that stay."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-11-24T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "anomaly indexes; a decided anomaly is never changed, no anomaly is deleted"

FORWARDS = """
-- Replays answer with the anomalies of a scan; decisions recompute a visit's billability.
CREATE INDEX anomaly_scan_idx ON anomaly (scan) WHERE scan IS NOT NULL;
CREATE INDEX anomaly_visit_idx ON anomaly (visit) WHERE visit IS NOT NULL;
CREATE INDEX anomaly_venue_status_idx ON anomaly (venue, status, created_at);

ALTER TABLE anomaly
    ADD CONSTRAINT anomaly_decided_with_comment CHECK (
        status = 'open' OR (decided_by IS NOT NULL AND length(btrim(decision_comment)) > 0)
    );

-- The audit of decisions: who decided what, when and why stays as it was written.
CREATE FUNCTION anomaly_decision_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'anomalies are never deleted' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status <> 'open' THEN
        RAISE EXCEPTION 'anomaly % is already decided', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER anomaly_decision_final BEFORE UPDATE OR DELETE ON anomaly
    FOR EACH ROW EXECUTE FUNCTION anomaly_decision_is_final();
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="passes", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
