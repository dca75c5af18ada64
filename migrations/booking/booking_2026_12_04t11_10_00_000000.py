"""Sign-in with an OpenID Connect provider, and agents who enrol by their employer's SIRET."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-04T11:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "accounts: provider identity on app_user, SIRET self-enrolment on organisation"

# A person is linked to one provider identity (issuer + sub), once, by a verified email or
# at enrolment; afterwards the sign-in finds them by that pair only. An organisation may let
# agents whose provider says they work for one of its SIRETs join by themselves, optionally
# only with an address in some domains.
FORWARDS = """
ALTER TABLE app_user
    ADD COLUMN oidc_issuer varchar(255) NULL,
    ADD COLUMN oidc_subject varchar(255) NULL,
    ADD COLUMN enrolled_by_siret varchar(14) NULL,
    ADD CONSTRAINT app_user_oidc_pair CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL));
CREATE UNIQUE INDEX app_user_oidc_identity ON app_user (oidc_issuer, oidc_subject)
    WHERE oidc_subject IS NOT NULL;

ALTER TABLE organisation
    ADD COLUMN self_enrolment boolean NOT NULL DEFAULT false,
    ADD COLUMN enrolment_sirets varchar(14)[] NOT NULL DEFAULT '{}',
    ADD COLUMN enrolment_domains varchar(253)[] NOT NULL DEFAULT '{}';
CREATE INDEX organisation_enrolment_sirets ON organisation USING gin (enrolment_sirets)
    WHERE self_enrolment;

-- The provider's id token, for signing out there too (its end_session_endpoint wants it).
ALTER TABLE user_session ADD COLUMN id_token text NULL;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
