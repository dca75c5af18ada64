"""PostgreSQL tells the API processes when a door device is revoked or changed."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-04T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "door devices: NOTIFY principals_changed when one is revoked or changed"

# See migrations/booking/booking_2026_12_04t13_00_00_000000.py: the same function (created
# again here so that this app's migrations stand alone), on the door devices' table.
FORWARDS = """
CREATE OR REPLACE FUNCTION notify_principals_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('principals_changed', '');
    RETURN NULL;
END $$;
CREATE TRIGGER door_device_principals_changed
    AFTER UPDATE OF revoked_at, token_hash, venue, name OR DELETE ON door_device
    FOR EACH STATEMENT EXECUTE FUNCTION notify_principals_changed();
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="passes", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
