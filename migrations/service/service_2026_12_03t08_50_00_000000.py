"""The audit trail: one row per administrative act, which the database never lets change."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-03T08:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit_entry, append-only"

FORWARDS = """
CREATE TABLE audit_entry (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor_kind varchar(10) NOT NULL CHECK (actor_kind IN ('person', 'device', 'system')),
    actor uuid NULL,
    actor_role varchar(20) NULL,
    action varchar(80) NOT NULL,
    object_type varchar(40) NOT NULL,
    object_id varchar(80) NULL,
    changes jsonb NOT NULL DEFAULT '{}',
    request_id varchar(64) NULL
);
CREATE INDEX audit_entry_at_idx ON audit_entry (at);
CREATE INDEX audit_entry_actor_idx ON audit_entry (actor, at);
CREATE INDEX audit_entry_object_idx ON audit_entry (object_type, object_id, at);

-- Append-only, whoever connects: the service, piccolo-admin, a SQL console. (The owner of
-- the table could still drop the trigger: the trail is evidence, not a vault.)
CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_entry_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only();
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="service", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
