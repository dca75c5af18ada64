"""Invariants of the catalogue that the database holds itself."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-11-24T19:02:49:900000"
VERSION = "1.38.0"
DESCRIPTION = "catalogue constraints, unique emails, append-only rates"

FORWARDS = """
CREATE EXTENSION IF NOT EXISTS btree_gist;

ALTER TABLE organisation
    ADD CONSTRAINT organisation_kind CHECK (kind IN ('public_body', 'company')),
    ADD CONSTRAINT organisation_siren CHECK (siren ~ '^[0-9]{9}$'),
    ADD CONSTRAINT organisation_siret CHECK (siret IS NULL OR siret ~ '^[0-9]{14}$'),
    ADD CONSTRAINT organisation_allowance CHECK (monthly_allowance_units >= 0),
    ADD CONSTRAINT organisation_horizon CHECK (booking_horizon_days BETWEEN 1 AND 366),
    ADD CONSTRAINT organisation_deadline CHECK (cancellation_deadline_hours BETWEEN 0 AND 720);

ALTER TABLE venue
    ADD CONSTRAINT venue_status CHECK (status IN ('applied', 'approved', 'suspended', 'closed')),
    ADD CONSTRAINT venue_siret CHECK (siret ~ '^[0-9]{14}$'),
    ADD CONSTRAINT venue_insee CHECK (insee_code ~ '^[0-9][0-9AB][0-9]{3}$'),
    ADD CONSTRAINT venue_latitude CHECK (latitude BETWEEN -90 AND 90),
    ADD CONSTRAINT venue_longitude CHECK (longitude BETWEEN -180 AND 180),
    ADD CONSTRAINT venue_slots CHECK (morning_start < morning_end AND afternoon_start < afternoon_end
                                      AND morning_end <= afternoon_start);
CREATE INDEX venue_status_idx ON venue (status);

ALTER TABLE opening_hours
    ADD CONSTRAINT opening_hours_weekday CHECK (weekday BETWEEN 0 AND 6),
    ADD CONSTRAINT opening_hours_range CHECK (opens < closes),
    -- Two ranges of one venue on one weekday may touch but never overlap.
    ADD CONSTRAINT opening_hours_no_overlap EXCLUDE USING gist (
        venue WITH =, weekday WITH =,
        tsrange('2000-01-01'::date + opens, '2000-01-01'::date + closes) WITH &&
    );

ALTER TABLE closure
    ADD CONSTRAINT closure_range CHECK (starts_on <= ends_on);
CREATE INDEX closure_venue_idx ON closure (venue, starts_on, ends_on);

ALTER TABLE workspace
    ADD CONSTRAINT workspace_kind CHECK (kind IN ('desk', 'meeting_room', 'private_office', 'lab')),
    ADD CONSTRAINT workspace_capacity CHECK (capacity BETWEEN 1 AND 1000),
    ADD CONSTRAINT workspace_unit CHECK (
        (kind = 'desk' AND booking_unit IN ('half_day', 'day'))
        OR (kind <> 'desk' AND booking_unit IN ('hour', 'half_day'))
    );
CREATE INDEX workspace_venue_idx ON workspace (venue);

ALTER TABLE venue_rate
    ADD CONSTRAINT venue_rate_amount CHECK (amount_cents >= 0),
    ADD CONSTRAINT venue_rate_vat CHECK (vat_rate >= 0 AND vat_rate < 1),
    ADD CONSTRAINT venue_rate_unique UNIQUE (venue, workspace_kind, unit, effective_from);
ALTER TABLE organisation_rate
    ADD CONSTRAINT organisation_rate_amount CHECK (amount_cents >= 0),
    ADD CONSTRAINT organisation_rate_vat CHECK (vat_rate >= 0 AND vat_rate < 1);
CREATE UNIQUE INDEX organisation_rate_unique ON organisation_rate (
    coalesce(organisation, '00000000-0000-0000-0000-000000000000'::uuid),
    workspace_kind, unit, effective_from
);

-- Prices are history: a visit copies the rate in force, and a new price is a new row.
CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER venue_rate_append_only BEFORE UPDATE OR DELETE ON venue_rate
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER organisation_rate_append_only BEFORE UPDATE OR DELETE ON organisation_rate
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

CREATE UNIQUE INDEX app_user_email_unique ON app_user (lower(email));
CREATE UNIQUE INDEX app_user_pseudonym_unique ON app_user (pseudonym);
CREATE INDEX app_user_organisation_idx ON app_user (organisation) WHERE organisation IS NOT NULL;
CREATE INDEX app_user_venue_idx ON app_user (venue) WHERE venue IS NOT NULL;
ALTER TABLE app_user
    ADD CONSTRAINT app_user_role CHECK (
        role IN ('agent', 'venue_staff', 'venue_admin', 'org_admin', 'network_admin')
    ),
    ADD CONSTRAINT app_user_membership CHECK (
        (role IN ('venue_staff', 'venue_admin') AND venue IS NOT NULL AND organisation IS NULL)
        OR (role IN ('agent', 'org_admin') AND organisation IS NOT NULL AND venue IS NULL)
        OR (role = 'network_admin' AND venue IS NULL AND organisation IS NULL)
    ),
    ADD CONSTRAINT app_user_allowance CHECK (monthly_allowance_units IS NULL OR monthly_allowance_units >= 0);
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
