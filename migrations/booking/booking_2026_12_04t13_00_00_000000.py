"""PostgreSQL tells the API processes when who a token names may have changed."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-04T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sessions: NOTIFY principals_changed when a person or a session changes"

# Each API process remembers who a token names and forgets it all on this notification
# (service/kernel/principal_cache.py). Sent by the database itself, so that a change made by
# the API, the pages, piccolo-admin, the CLI or a SQL console reaches every process; sent at
# commit, and once per transaction (PostgreSQL folds identical notifications).
FORWARDS = """
CREATE OR REPLACE FUNCTION notify_principals_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('principals_changed', '');
    RETURN NULL;
END $$;
CREATE TRIGGER app_user_principals_changed
    AFTER UPDATE OF role, venue, organisation, display_name, active, session_generation,
                    password_hash, email
       OR DELETE ON app_user
    FOR EACH STATEMENT EXECUTE FUNCTION notify_principals_changed();
CREATE TRIGGER ended_session_principals_changed
    AFTER INSERT OR UPDATE ON ended_session
    FOR EACH STATEMENT EXECUTE FUNCTION notify_principals_changed();
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
