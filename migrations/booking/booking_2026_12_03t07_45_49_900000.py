"""Sessions end in the database: a change of credentials or role ends every earlier token."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-03T07:45:49:900000"
VERSION = "1.38.0"
DESCRIPTION = "sessions: the generation follows credentials, role and membership"

FORWARDS = """
-- Whatever changes who a person is or how they prove it ends the sessions issued before:
-- the API, the pages, piccolo-admin, the CLI and a later erasure all update this row, so the
-- rule lives here rather than in each of them. A sign-in that re-hashes the same password
-- with newer parameters says so for its transaction (tierslieux.same_password): that is no
-- new credential, so it ends nothing.
CREATE FUNCTION app_user_end_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.password_hash IS DISTINCT FROM OLD.password_hash
        AND coalesce(current_setting('tierslieux.same_password', true), '') <> 'on')
       OR NEW.role IS DISTINCT FROM OLD.role
       OR NEW.venue IS DISTINCT FROM OLD.venue
       OR NEW.organisation IS DISTINCT FROM OLD.organisation
       OR lower(NEW.email) IS DISTINCT FROM lower(OLD.email)
       OR NEW.active IS DISTINCT FROM OLD.active THEN
        NEW.session_generation := OLD.session_generation + 1;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER app_user_sessions BEFORE UPDATE ON app_user
    FOR EACH ROW EXECUTE FUNCTION app_user_end_sessions();

-- Signed-out sessions are forgotten once their token has expired anyway.
CREATE INDEX ended_session_expires_idx ON ended_session (expires_at);
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
