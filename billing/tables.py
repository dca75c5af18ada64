"""Piccolo tables of the monthly reconciliation: periods, usage lines, documents, payments, payouts.

Issued documents and their lines are immutable (triggers in the migrations refuse UPDATE
and DELETE); what changes after issue — payment, payout — lives in its own tables.
"""

from __future__ import annotations

import uuid

from piccolo.columns import (
    JSONB,
    UUID,
    BigSerial,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from booking.tables import Booking, Organisation, User, Venue, Workspace
from passes.tables import Anomaly, Visit


class BillingPeriod(Table, tablename="billing_period"):
    """A calendar month (Europe/Paris) and where its close stands."""

    month = Date(unique=True)  # first day of the month
    status = Varchar(length=10, default="open")  # open | closing | closed
    # When a close was asked for (API, page or cron): from then on the period is `closing`
    # and the sweeper re-queues its job until a worker has closed it.
    queued_at = Timestamptz(null=True, default=None)
    started_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    step = Varchar(length=40, null=True, default=None)
    progress = JSONB(default={})


class NumberSequence(Table, tablename="number_sequence"):
    """The last number given per issuer, series and year: locked and bumped inside the issuing
    transaction, so that numbers are gapless and never given twice (French law)."""

    issuer = Varchar(length=60)  # "network" or "venue:<uuid>"
    series = Varchar(length=10)
    year = SmallInt()
    last_number = Integer(default=0)


class UsageLine(Table, tablename="usage_line"):
    """One billable fact of a month, with both prices copied from the visit or the booking.

    A view (migration billing 2026-12-05T10:00), read-only like the table it replaced: the
    rows of `usage_fact` (no-shows, late cancellations, anomalies, adjustments, and visits
    billed before the view) and every billed visit (`billed_visit`), whose line has the
    visit's id, the visit's parties and prices (frozen by a trigger on `visit`) and the names
    kept for its month (`billed_workspace`, `billed_organisation`). A view's columns are
    nullable as far as PostgreSQL's catalogue says, hence `null=True` on each.
    """

    id = UUID(primary_key=True, default=uuid.uuid4)
    period = Date(null=True, default=None)  # first day of the month it is billed in
    # visit | no_show | late_cancellation | anomaly | adjustment
    kind = Varchar(length=30, null=True, default=None)
    visit = ForeignKey(references=Visit, on_delete=OnDelete.restrict, null=True, default=None)
    booking = ForeignKey(references=Booking, on_delete=OnDelete.restrict, null=True, default=None)
    anomaly = ForeignKey(references=Anomaly, on_delete=OnDelete.restrict, null=True, default=None)
    # Copies of the source visit's or booking's parties, for grouping. Their foreign-key
    # constraints are dropped by a migration: the source rows hold them already.
    organisation = ForeignKey(
        references=Organisation, on_delete=OnDelete.restrict, null=True, default=None
    )
    # None once the retention has replaced the agent by `agent_pseudonym`: the only change
    # the immutability trigger lets through (billing/retention.py).
    agent = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    agent_pseudonym = Varchar(length=12, null=True, default=None)
    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=True, default=None)
    workspace = ForeignKey(
        references=Workspace, on_delete=OnDelete.restrict, null=True, default=None
    )
    local_date = Date(null=True, default=None)
    workspace_kind = Varchar(length=20, null=True, default=None)
    unit = Varchar(length=10, null=True, default=None)
    quantity = Integer(null=True, default=None)
    organisation_price_cents = Integer(null=True, default=None)
    organisation_vat_rate = Numeric(digits=(5, 4), null=True, default=None)
    venue_price_cents = Integer(null=True, default=None)
    venue_vat_rate = Numeric(digits=(5, 4), null=True, default=None)
    # The names as billed, for the documents' CSVs: a later rename never rewrites them.
    # The agent's name is not kept: it is read from the account, so that erasure and
    # pseudonymisation reach it.
    venue_name = Text(null=True, default=None)
    venue_commune = Text(null=True, default=None)
    workspace_name = Text(null=True, default=None)
    organisation_name = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), null=True)


class Document(Table, tablename="document"):
    """An issued invoice, self-billing statement or credit note. Never updated, never deleted."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    kind = Varchar(length=20)  # invoice | statement | credit_note
    number = Varchar(length=40)
    issuer = Varchar(length=60)
    series = Varchar(length=10)
    year = SmallInt()
    sequence_number = Integer()
    period = Date()
    organisation = ForeignKey(
        references=Organisation, on_delete=OnDelete.restrict, null=True, default=None
    )
    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=True, default=None)
    corrects: ForeignKey[Document] = ForeignKey(
        references="self", on_delete=OnDelete.restrict, null=True, default=None
    )
    issued_on = Date()
    due_on = Date()
    currency = Varchar(length=3, default="EUR")
    total_excl_cents = Integer()
    total_vat_cents = Integer()
    total_incl_cents = Integer()
    # Seller and buyer as they were at issue (names, addresses, SIRET, VAT numbers, IBAN).
    seller = JSONB()
    buyer = JSONB()
    mentions = JSONB(default=[])
    created_at = Timestamptz(default=TimestamptzNow())


class DocumentLine(Table, tablename="document_line"):
    """A line of a document: quantity × unit price, VAT rounded half-up on the line."""

    id = BigSerial(primary_key=True)
    document = ForeignKey(references=Document, on_delete=OnDelete.restrict, null=False)
    position = Integer()
    description = Text()
    workspace_kind = Varchar(length=20)
    unit = Varchar(length=10)
    quantity = Integer()
    unit_price_cents = Integer()
    vat_rate = Numeric(digits=(5, 4))
    excl_cents = Integer()
    vat_cents = Integer()
    incl_cents = Integer()


class DocumentUsage(Table, tablename="document_usage"):
    """Which usage lines a credit note gives back, once per side (organisation, venue).

    Monthly invoices and statements need no such rows: their usage is every line of their
    period and party.
    """

    document = ForeignKey(references=Document, on_delete=OnDelete.restrict, null=False)
    line = ForeignKey(references=DocumentLine, on_delete=OnDelete.restrict, null=False)
    # A usage line's id: a visit's id for a billed visit, hence no foreign-key constraint in
    # the database (credit_notes.py reads the ids back from the usage_line view).
    usage = ForeignKey(references=UsageLine, on_delete=OnDelete.restrict, null=False)
    side = Varchar(length=12, default="organisation")  # organisation | venue


class Payment(Table, tablename="payment"):
    """Money received against an invoice (Stripe or bank transfer)."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    document = ForeignKey(references=Document, on_delete=OnDelete.restrict, null=False)
    amount_cents = Integer()
    method = Varchar(length=20)  # stripe | bank_transfer | manual
    reference = Varchar(length=200)
    received_on = Date()
    created_at = Timestamptz(default=TimestamptzNow())


class Payout(Table, tablename="payout"):
    """What the network pays a venue for a statement, and how far that payment has gone."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    statement = ForeignKey(references=Document, on_delete=OnDelete.restrict, null=False)
    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, null=False)
    amount_cents = Integer()
    method = Varchar(length=20)  # sepa | stripe_connect
    status = Varchar(length=20, default="pending")  # pending | in_file | sent | paid | failed
    reference = Varchar(length=200, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class StripeCustomer(Table, tablename="stripe_customer"):
    """The Stripe customer of an organisation, made once and reused for every invoice."""

    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, null=False)
    stripe_customer_id = Varchar(length=100)
    created_at = Timestamptz(default=TimestamptzNow())


class StripeInvoice(Table, tablename="stripe_invoice"):
    """The Stripe invoice created for one of our invoices, and how far it has gone.

    draft: created at Stripe, lines maybe not all added; open: finalized and sent; paid.
    """

    document = ForeignKey(references=Document, on_delete=OnDelete.restrict, null=False)
    stripe_invoice_id = Varchar(length=100)
    status = Varchar(length=20)  # draft | open | paid
    created_at = Timestamptz(default=TimestamptzNow())


class WebhookEvent(Table, tablename="webhook_event"):
    """Stripe events already processed: a replayed event is recognised and ignored."""

    event_id = Varchar(length=100, unique=True)
    kind = Varchar(length=100)
    received_at = Timestamptz(default=TimestamptzNow())
    payload = JSONB()


class DocumentFile(Table, tablename="document_file"):
    """A rendering of a document (PDF/A-3 with Factur-X, plain PDF, CII XML), made by a worker."""

    document = ForeignKey(references=Document, on_delete=OnDelete.restrict, null=False)
    kind = Varchar(length=20)  # facturx_pdf | pdf | cii_xml
    content = Bytea()
    created_at = Timestamptz(default=TimestamptzNow())


class BankEntry(Table, tablename="bank_entry"):
    """A credit line of an imported bank statement, and which invoice it paid, if any."""

    id = UUID(primary_key=True, default=uuid.uuid4)
    reference = Varchar(length=200, unique=True)  # the bank's entry id: a re-import is a no-op
    booked_on = Date()
    amount_cents = Integer()
    label = Text()
    document = ForeignKey(references=Document, on_delete=OnDelete.restrict, null=True, default=None)
    status = Varchar(length=12)  # matched | partial | unmatched
    imported_at = Timestamptz(default=TimestamptzNow())
