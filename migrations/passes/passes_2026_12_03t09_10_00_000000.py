"""A visit can lose its person: the agent replaced by a pseudonym after the retention."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-03T09:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "visit: agent nullable once pseudonymised, agent_pseudonym"

# billing/retention.py pseudonymises the visits of closed months once the retention has
# passed (docs/privacy.md). Door scans lose their person after three months and may then
# hold neither agent nor serial: that column was nullable already.
FORWARDS = """
ALTER TABLE visit
    ALTER COLUMN agent DROP NOT NULL,
    ADD COLUMN agent_pseudonym varchar(12) NULL,
    ADD CONSTRAINT visit_agent_or_pseudonym CHECK (agent IS NOT NULL OR agent_pseudonym IS NOT NULL);
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="passes", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
