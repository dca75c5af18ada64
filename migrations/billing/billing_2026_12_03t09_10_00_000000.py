"""A usage line can lose its person: the agent replaced by a pseudonym, nothing else changed."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-03T09:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "usage_line: agent nullable once pseudonymised, agent_pseudonym"

# Usage lines are the supporting records of issued documents and stay immutable, with one
# exception the trigger checks column by column: the retention (billing/retention.py) may
# replace the agent by a pseudonym, once, and change nothing else. No document shows the
# agent (documents count units per workspace kind), so they stay byte-identical.
FORWARDS = """
ALTER TABLE usage_line
    ALTER COLUMN agent DROP NOT NULL,
    ADD COLUMN agent_pseudonym varchar(12) NULL,
    ADD CONSTRAINT usage_line_agent_or_pseudonym
        CHECK (agent IS NOT NULL OR agent_pseudonym IS NOT NULL);

CREATE FUNCTION forbid_usage_line_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.agent IS NOT NULL AND NEW.agent IS NULL
       AND OLD.agent_pseudonym IS NULL AND NEW.agent_pseudonym IS NOT NULL
       AND to_jsonb(NEW) - 'agent' - 'agent_pseudonym'
           = to_jsonb(OLD) - 'agent' - 'agent_pseudonym' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'issued documents are immutable (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
DROP TRIGGER usage_line_immutable ON usage_line;
CREATE TRIGGER usage_line_immutable BEFORE UPDATE OR DELETE ON usage_line
    FOR EACH ROW EXECUTE FUNCTION forbid_usage_line_change();
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="billing", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
