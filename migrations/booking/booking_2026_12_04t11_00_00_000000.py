"""Accounts people expect: password reset links, email changes, recorded sessions, a language."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-04T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "accounts: password_reset, email_change, user_session, app_user.language"

# Links sent by mail hold a secret whose SHA-256 alone is kept (like invitations): a copy of
# the database opens nobody's account. A link serves once (`used_at`) and until `expires_at`.
# Sessions are recorded at sign-in so that a person can see theirs and end them; the token
# stays the proof (checked as before), this table only lists what was issued.
FORWARDS = """
CREATE TABLE password_reset (
    id uuid PRIMARY KEY,
    account uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    token_hash varchar(64) NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz NULL
);
CREATE INDEX password_reset_account_idx ON password_reset (account);

CREATE TABLE email_change (
    id uuid PRIMARY KEY,
    account uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    new_email varchar(254) NOT NULL,
    token_hash varchar(64) NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz NULL
);
CREATE INDEX email_change_account_idx ON email_change (account);

CREATE TABLE user_session (
    id uuid PRIMARY KEY,
    account uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    generation integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    user_agent varchar(200) NOT NULL DEFAULT '',
    method varchar(20) NOT NULL DEFAULT 'password'
);
CREATE INDEX user_session_account_idx ON user_session (account, expires_at);

ALTER TABLE app_user ADD COLUMN language varchar(5) NULL;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
