"""Piccolo's configuration: one PostgreSQL engine and the apps whose migrations it runs.

The engine starts with the DATABASE_URL of the environment; the app factory and the
tests point it at another database by replacing `DB.config` before opening the pool.
"""

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine


class Engine(PostgresEngine):
    """Piccolo's engine without its connect-at-import version probe.

    The stock engine opens a connection when this module is imported, before settings
    decide which database to use; `tierslieux migrate` checks the server version instead.
    """

    async def check_version(self) -> None:
        return None


DB = Engine(
    config={
        "dsn": os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/tierslieux"
    },
    log_queries=False,
)

APP_REGISTRY = AppRegistry(
    apps=[
        "booking.piccolo_app",
        "service.piccolo_app",
        "passes.piccolo_app",
        "billing.piccolo_app",
        # piccolo-admin's sign-in tables (its BaseUser and sessions), see web/network_admin.py.
        "piccolo.apps.user.piccolo_app",
        "piccolo_api.session_auth.piccolo_app",
    ]
)
