"""Piccolo app for the monthly reconciliation."""

import os

from piccolo.conf.apps import AppConfig

from billing.tables import (
    BankEntry,
    BillingPeriod,
    Document,
    DocumentFile,
    DocumentLine,
    DocumentUsage,
    NumberSequence,
    Payment,
    Payout,
    StripeCustomer,
    StripeInvoice,
    UsageLine,
    WebhookEvent,
)

HERE = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="billing",
    migrations_folder_path=os.path.join(HERE, "..", "migrations", "billing"),
    table_classes=[
        BillingPeriod,
        NumberSequence,
        UsageLine,
        Document,
        DocumentLine,
        DocumentUsage,
        DocumentFile,
        Payment,
        Payout,
        StripeCustomer,
        StripeInvoice,
        WebhookEvent,
        BankEntry,
    ],
    migration_dependencies=["passes.piccolo_app"],
    commands=[],
)
