"""Deactivating an agent revokes their pass, in the database itself."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-11-24T20:25:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "revoke the live passes of a deactivated agent"

# booking/ deactivates people and must not import passes/; a trigger keeps the rule at the
# depth where it cannot be forgotten, whatever path deactivates the account.
FORWARDS = """
CREATE FUNCTION revoke_passes_of_deactivated_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.active AND NOT NEW.active THEN
        WITH revoked AS (
            UPDATE pass SET status = 'revoked', status_changed_at = now(),
                            status_reason = 'agent deactivated'
             WHERE agent = NEW.id AND status <> 'revoked'
            RETURNING serial)
        INSERT INTO pass_status_event (serial, status, at)
        SELECT serial, 'revoked', now() FROM revoked;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER app_user_deactivation_revokes_passes AFTER UPDATE OF active ON app_user
    FOR EACH ROW EXECUTE FUNCTION revoke_passes_of_deactivated_user();
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="passes", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
