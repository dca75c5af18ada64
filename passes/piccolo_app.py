"""Piccolo app for the pass, scans, visits and anomalies."""

import os

from piccolo.conf.apps import AppConfig

from passes.tables import Anomaly, DoorDevice, Pass, PassKey, PassStatusEvent, Scan, Visit

HERE = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="passes",
    migrations_folder_path=os.path.join(HERE, "..", "migrations", "passes"),
    # DoorDevice's table was created by the "service" app's first migration, before door
    # devices moved here; a new auto migration of this app must not create it again.
    table_classes=[DoorDevice, PassKey, Pass, PassStatusEvent, Visit, Scan, Anomaly],
    migration_dependencies=["booking.piccolo_app", "service.kernel.piccolo_app"],
    commands=[],
)
