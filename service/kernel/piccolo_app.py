"""Piccolo app "service": the kernel's own tables (idempotency records, audit trail).

Its migrations also created `door_device` (now `passes.tables.DoorDevice`) before door
devices moved to the pass; that history stays here, so it still runs after booking's.
"""

import os

from piccolo.conf.apps import AppConfig

from service.kernel.tables import AuditEntry, IdempotencyRecord

HERE = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="service",
    migrations_folder_path=os.path.join(HERE, "..", "..", "migrations", "service"),
    table_classes=[IdempotencyRecord, AuditEntry],
    migration_dependencies=["booking.piccolo_app"],
    commands=[],
)
