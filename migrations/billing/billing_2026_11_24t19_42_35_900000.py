"""A usage line is credited at most once on each side."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-11-24T19:42:35:900000"
VERSION = "1.38.0"
DESCRIPTION = "document_usage: one credit per usage line and side"

FORWARDS = """
ALTER TABLE document_usage
    ADD CONSTRAINT document_usage_side CHECK (side IN ('organisation', 'venue'));
CREATE UNIQUE INDEX document_usage_credited_once ON document_usage (usage, side);
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="billing", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
