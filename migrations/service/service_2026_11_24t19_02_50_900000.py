"""Keys and indexes of the service tables."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-11-24T19:02:50:900000"
VERSION = "1.38.0"
DESCRIPTION = "idempotency key uniqueness, door device lookup"

FORWARDS = """
CREATE UNIQUE INDEX idempotency_record_key ON idempotency_record (principal, key);
CREATE INDEX idempotency_record_created_idx ON idempotency_record (created_at);
CREATE INDEX door_device_venue_idx ON door_device (venue);
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="service", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
