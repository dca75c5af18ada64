"""A past booking can lose its person: the agent replaced by a pseudonym after the retention."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-03T09:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "booking: agent nullable once pseudonymised, agent_pseudonym"

# billing/retention.py pseudonymises the bookings of closed months once the retention has
# passed (docs/privacy.md): the agent goes, a pseudonym that identifies nobody stays, so a
# no-show billed then still reads as the same (unknown) person as that month's visits.
FORWARDS = """
ALTER TABLE booking
    ALTER COLUMN agent DROP NOT NULL,
    ADD COLUMN agent_pseudonym varchar(12) NULL,
    ADD CONSTRAINT booking_agent_or_pseudonym CHECK (agent IS NOT NULL OR agent_pseudonym IS NOT NULL);
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
