"""A next release's expand migration, for the upgrade test only (tests/service/test_upgrades.py)."""

import os

from piccolo.conf.apps import AppConfig

APP_CONFIG = AppConfig(
    app_name="upgrade_probe",
    migrations_folder_path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations"),
    table_classes=[],
    migration_dependencies=["booking.piccolo_app"],
    commands=[],
)
