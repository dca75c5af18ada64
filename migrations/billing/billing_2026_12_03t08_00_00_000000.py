"""Usage lines keep the names of their venue, workspace and organisation as billed."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-03T08:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "usage_line: venue, commune, workspace and organisation names as billed"

# An issued document's CSV must show the names it was issued with, not today's: a venue
# renamed after the close would otherwise rewrite the history of an issued invoice. Lines
# billed before this migration get the names of the day it runs (the best there is); the
# immutability trigger is lifted for that one backfill only, inside this transaction.
FORWARDS = """
ALTER TABLE usage_line
    ADD COLUMN venue_name text,
    ADD COLUMN venue_commune text,
    ADD COLUMN workspace_name text,
    ADD COLUMN organisation_name text;
ALTER TABLE usage_line DISABLE TRIGGER usage_line_immutable;
UPDATE usage_line u
   SET venue_name = v.name, venue_commune = v.commune, workspace_name = w.name,
       organisation_name = o.name
  FROM venue v, workspace w, organisation o
 WHERE v.id = u.venue AND w.id = u.workspace AND o.id = u.organisation;
ALTER TABLE usage_line ENABLE TRIGGER usage_line_immutable;
ALTER TABLE usage_line
    ALTER COLUMN venue_name SET NOT NULL,
    ALTER COLUMN venue_commune SET NOT NULL,
    ALTER COLUMN workspace_name SET NOT NULL,
    ALTER COLUMN organisation_name SET NOT NULL;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="billing", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
