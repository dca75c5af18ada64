"""An expand step as docs/deployment.md asks: additive, short locks, backfilled, indexed."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-04T14:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "venue: a nullable column, backfilled and indexed while the old code reads venues"

# The work before the lock stands for a longer migration; the lock on venue itself is held
# only for the catalogue change and the backfill, and gives up rather than queue readers.
FORWARDS = """
SELECT pg_sleep(1.5);
SET LOCAL lock_timeout = '1s';
ALTER TABLE venue ADD COLUMN probe_label varchar(60) NULL;
UPDATE venue SET probe_label = left(name, 60);
CREATE INDEX venue_probe_label ON venue (probe_label);
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="upgrade_probe", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
