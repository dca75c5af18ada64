"""A usage line must come from a visit or a booking."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-11-24T19:39:31:900000"
VERSION = "1.38.0"
DESCRIPTION = "usage_line: the source is required"

# The four copied party columns (organisation, agent, venue, workspace) keep no FK: a usage
# line is written once, by the close, from a visit or a booking whose own foreign keys
# hold them, and is then immutable. Their four foreign-key checks per line were a third
# of the close's write time at a million visits (bench/close.py).
FORWARDS = """
ALTER TABLE usage_line
    DROP CONSTRAINT IF EXISTS usage_line_organisation_fkey,
    DROP CONSTRAINT IF EXISTS usage_line_agent_fkey,
    DROP CONSTRAINT IF EXISTS usage_line_venue_fkey,
    DROP CONSTRAINT IF EXISTS usage_line_workspace_fkey,
    ADD CONSTRAINT usage_line_has_source CHECK (visit IS NOT NULL OR booking IS NOT NULL);
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="billing", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
