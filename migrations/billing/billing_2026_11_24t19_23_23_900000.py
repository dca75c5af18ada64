"""What the database guarantees about money: immutable documents, gapless numbers, no double billing."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-11-24T19:23:23:900000"
VERSION = "1.38.0"
DESCRIPTION = "billing constraints: immutability triggers, numbering keys, usage uniqueness"

FORWARDS = """
ALTER TABLE billing_period
    ADD CONSTRAINT billing_period_status CHECK (status IN ('open', 'closing', 'closed')),
    ADD CONSTRAINT billing_period_first_day CHECK (extract(day FROM month) = 1);

ALTER TABLE number_sequence
    ADD CONSTRAINT number_sequence_key UNIQUE (issuer, series, year),
    ADD CONSTRAINT number_sequence_positive CHECK (last_number >= 0);

ALTER TABLE usage_line
    ADD CONSTRAINT usage_line_kind CHECK (
        kind IN ('visit', 'no_show', 'late_cancellation', 'anomaly', 'adjustment')),
    ADD CONSTRAINT usage_line_amounts CHECK (organisation_price_cents >= 0 AND venue_price_cents >= 0),
    ADD CONSTRAINT usage_line_first_day CHECK (extract(day FROM period) = 1);
-- A visit or a booking is billed once, whatever month it lands in.
CREATE UNIQUE INDEX usage_line_one_per_visit ON usage_line (visit) WHERE visit IS NOT NULL AND kind <> 'adjustment';
CREATE UNIQUE INDEX usage_line_one_per_booking ON usage_line (booking)
    WHERE booking IS NOT NULL AND visit IS NULL AND kind <> 'adjustment';
CREATE INDEX usage_line_period_org_idx ON usage_line (period, organisation);
CREATE INDEX usage_line_period_venue_idx ON usage_line (period, venue);

ALTER TABLE document
    ADD CONSTRAINT document_kind CHECK (kind IN ('invoice', 'statement', 'credit_note')),
    ADD CONSTRAINT document_party CHECK (
        (kind = 'statement' AND venue IS NOT NULL)
        OR (kind = 'invoice' AND organisation IS NOT NULL)
        OR (kind = 'credit_note' AND corrects IS NOT NULL)),
    ADD CONSTRAINT document_totals CHECK (total_incl_cents = total_excl_cents + total_vat_cents),
    ADD CONSTRAINT document_number_unique UNIQUE (issuer, series, year, sequence_number);
CREATE UNIQUE INDEX document_number_text_unique ON document (issuer, number);
-- One invoice per organisation and one statement per venue per month (credit notes aside).
CREATE UNIQUE INDEX document_one_invoice ON document (period, organisation) WHERE kind = 'invoice';
CREATE UNIQUE INDEX document_one_statement ON document (period, venue) WHERE kind = 'statement';

ALTER TABLE document_line
    ADD CONSTRAINT document_line_amounts CHECK (
        excl_cents = quantity * unit_price_cents AND incl_cents = excl_cents + vat_cents);
CREATE INDEX document_line_document_idx ON document_line (document, position);
CREATE UNIQUE INDEX document_usage_once ON document_usage (document, usage);
CREATE INDEX document_usage_usage_idx ON document_usage (usage);

-- An issued document is never edited or deleted (French invoicing law): corrections are credit notes.
CREATE FUNCTION forbid_document_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'issued documents are immutable (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER document_immutable BEFORE UPDATE OR DELETE ON document
    FOR EACH ROW EXECUTE FUNCTION forbid_document_change();
CREATE TRIGGER document_line_immutable BEFORE UPDATE OR DELETE ON document_line
    FOR EACH ROW EXECUTE FUNCTION forbid_document_change();
CREATE TRIGGER document_usage_immutable BEFORE UPDATE OR DELETE ON document_usage
    FOR EACH ROW EXECUTE FUNCTION forbid_document_change();
CREATE TRIGGER usage_line_immutable BEFORE UPDATE OR DELETE ON usage_line
    FOR EACH ROW EXECUTE FUNCTION forbid_document_change();

ALTER TABLE payment
    ADD CONSTRAINT payment_method CHECK (method IN ('stripe', 'bank_transfer', 'manual')),
    ADD CONSTRAINT payment_amount CHECK (amount_cents > 0);
CREATE UNIQUE INDEX payment_reference_unique ON payment (method, reference);

ALTER TABLE payout
    ADD CONSTRAINT payout_method CHECK (method IN ('sepa', 'stripe_connect')),
    ADD CONSTRAINT payout_status CHECK (status IN ('pending', 'in_file', 'sent', 'paid', 'failed')),
    ADD CONSTRAINT payout_amount CHECK (amount_cents >= 0);
CREATE UNIQUE INDEX payout_one_per_statement ON payout (statement);

CREATE UNIQUE INDEX stripe_invoice_document ON stripe_invoice (document);
CREATE UNIQUE INDEX stripe_invoice_id ON stripe_invoice (stripe_invoice_id);
CREATE UNIQUE INDEX document_file_kind ON document_file (document, kind);
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="billing", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
