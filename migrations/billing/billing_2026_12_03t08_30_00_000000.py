"""A close asked for is recorded in PostgreSQL before it is queued: it survives a lost job."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-03T08:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "billing_period.queued_at"

FORWARDS = """
ALTER TABLE billing_period ADD COLUMN queued_at timestamptz NULL;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="billing", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
