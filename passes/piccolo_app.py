"""Piccolo app for the pass, scans, visits and anomalies."""

import os

from piccolo.conf.apps import AppConfig

from passes.tables import Anomaly, Pass, PassKey, PassStatusEvent, Scan, Visit

HERE = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="passes",
    migrations_folder_path=os.path.join(HERE, "..", "migrations", "passes"),
    table_classes=[PassKey, Pass, PassStatusEvent, Visit, Scan, Anomaly],
    migration_dependencies=["booking.piccolo_app", "service.piccolo_app"],
    commands=[],
)
