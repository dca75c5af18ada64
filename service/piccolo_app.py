"""Piccolo app for the service layer's own tables."""

import os

from piccolo.conf.apps import AppConfig

from service.tables import DoorDevice, IdempotencyRecord

HERE = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="service",
    migrations_folder_path=os.path.join(HERE, "..", "migrations", "service"),
    table_classes=[DoorDevice, IdempotencyRecord],
    migration_dependencies=["booking.piccolo_app"],
    commands=[],
)
