"""A billed visit is its own immutable record: no usage line copied per visit any more."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-05T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "billed_visit, names as billed per period, usage_line becomes a view"

# The close used to copy every billed visit into a wide, indexed usage line: most of its
# time (docs/performance.md, "Monthly close"). Now:
# - `billed_visit` says which month bills a visit (one narrow row, one statement);
# - the visit itself is the record: a trigger refuses any change to what was billed (prices,
#   parties, date, quantity, billable) and its deletion, the retention's pseudonymisation of
#   the agent aside, as the usage line's trigger did;
# - the names as billed (venue, commune, workspace and its kind, organisation) are kept per
#   month in two small tables, filled at the close, so a later rename changes no billed row;
# - facts without a visit (no-shows, late cancellations, anomalies, adjustments) and the
#   visits billed before this migration keep their rows, in `usage_fact` (the old table);
# - `usage_line` is now a view of both with the columns of the old table: every reader keeps
#   its query. A visit's line has the visit's id. It refuses UPDATE and DELETE like the table.
# Credit notes name the lines they give back by id: a visit's line is not a row of a table,
# so document_usage.usage loses its foreign key (credit_notes.py checks the ids on the view).
FORWARDS = """
ALTER TABLE usage_line RENAME TO usage_fact;

CREATE TABLE billed_visit (
    visit uuid PRIMARY KEY,
    period date NOT NULL CHECK (extract(day FROM period) = 1),
    billed_at timestamptz NOT NULL DEFAULT now()
);
-- Append-only in the order of the months: a BRIN index finds a month at almost no write cost.
CREATE INDEX billed_visit_period ON billed_visit USING brin (period);

CREATE TABLE billed_workspace (
    period date NOT NULL,
    workspace uuid NOT NULL,
    workspace_kind varchar(20) NOT NULL,
    workspace_name text NOT NULL,
    venue_name text NOT NULL,
    venue_commune text NOT NULL,
    PRIMARY KEY (period, workspace)
);
CREATE TABLE billed_organisation (
    period date NOT NULL,
    organisation uuid NOT NULL,
    organisation_name text NOT NULL,
    PRIMARY KEY (period, organisation)
);
CREATE TRIGGER billed_visit_immutable BEFORE UPDATE OR DELETE ON billed_visit
    FOR EACH ROW EXECUTE FUNCTION forbid_document_change();
CREATE TRIGGER billed_workspace_immutable BEFORE UPDATE OR DELETE ON billed_workspace
    FOR EACH ROW EXECUTE FUNCTION forbid_document_change();
CREATE TRIGGER billed_organisation_immutable BEFORE UPDATE OR DELETE ON billed_organisation
    FOR EACH ROW EXECUTE FUNCTION forbid_document_change();

CREATE FUNCTION forbid_billed_visit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM billed_visit WHERE visit = OLD.id) THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    -- The retention may replace the agent by a pseudonym, once, and change nothing else billed.
    IF TG_OP = 'UPDATE' AND OLD.agent IS NOT NULL AND NEW.agent IS NULL
       AND OLD.agent_pseudonym IS NULL AND NEW.agent_pseudonym IS NOT NULL
       AND (OLD.id, OLD.organisation, OLD.venue, OLD.workspace, OLD.booking, OLD.local_date,
            OLD.unit, OLD.quantity, OLD.venue_rate_cents, OLD.venue_vat_rate,
            OLD.organisation_rate_cents, OLD.organisation_vat_rate, OLD.billable, OLD.attendee)
           IS NOT DISTINCT FROM
           (NEW.id, NEW.organisation, NEW.venue, NEW.workspace, NEW.booking, NEW.local_date,
            NEW.unit, NEW.quantity, NEW.venue_rate_cents, NEW.venue_vat_rate,
            NEW.organisation_rate_cents, NEW.organisation_vat_rate, NEW.billable, NEW.attendee)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'issued documents are immutable (% on billed visit %)', TG_OP, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
-- Only a change to what was billed calls the function: a check-out stays one plain UPDATE.
CREATE TRIGGER visit_billed_frozen BEFORE UPDATE ON visit FOR EACH ROW
    WHEN ((OLD.id, OLD.agent, OLD.agent_pseudonym, OLD.organisation, OLD.venue, OLD.workspace,
           OLD.booking, OLD.local_date, OLD.unit, OLD.quantity, OLD.venue_rate_cents,
           OLD.venue_vat_rate, OLD.organisation_rate_cents, OLD.organisation_vat_rate,
           OLD.billable, OLD.attendee)
          IS DISTINCT FROM
          (NEW.id, NEW.agent, NEW.agent_pseudonym, NEW.organisation, NEW.venue, NEW.workspace,
           NEW.booking, NEW.local_date, NEW.unit, NEW.quantity, NEW.venue_rate_cents,
           NEW.venue_vat_rate, NEW.organisation_rate_cents, NEW.organisation_vat_rate,
           NEW.billable, NEW.attendee))
    EXECUTE FUNCTION forbid_billed_visit_change();
CREATE TRIGGER visit_billed_kept BEFORE DELETE ON visit FOR EACH ROW
    EXECUTE FUNCTION forbid_billed_visit_change();

CREATE VIEW usage_line AS
SELECT u.id, u.period, u.kind, u.visit, u.booking, u.anomaly, u.organisation, u.agent,
       u.agent_pseudonym, u.venue, u.workspace, u.local_date, u.workspace_kind, u.unit,
       u.quantity, u.organisation_price_cents, u.organisation_vat_rate, u.venue_price_cents,
       u.venue_vat_rate, u.venue_name, u.venue_commune, u.workspace_name, u.organisation_name,
       u.created_at
  FROM usage_fact u
UNION ALL
SELECT v.id, b.period, 'visit'::varchar(30), v.id, v.booking, NULL::uuid, v.organisation,
       v.agent, v.agent_pseudonym, v.venue, v.workspace, v.local_date, w.workspace_kind,
       v.unit, v.quantity, v.organisation_rate_cents, v.organisation_vat_rate,
       v.venue_rate_cents, v.venue_vat_rate, w.venue_name, w.venue_commune, w.workspace_name,
       o.organisation_name, b.billed_at
  FROM billed_visit b
  JOIN visit v ON v.id = b.visit
  LEFT JOIN billed_workspace w ON w.period = b.period AND w.workspace = v.workspace
  LEFT JOIN billed_organisation o ON o.period = b.period AND o.organisation = v.organisation;

CREATE FUNCTION forbid_usage_view_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'issued documents are immutable (% on usage_line)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER usage_line_immutable INSTEAD OF UPDATE OR DELETE ON usage_line
    FOR EACH ROW EXECUTE FUNCTION forbid_usage_view_change();

ALTER TABLE document_usage DROP CONSTRAINT document_usage_usage_fkey;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="billing", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
