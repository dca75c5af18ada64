"""Piccolo's configuration (PICCOLO_CONF): the kernel's engine and every app whose migrations run.

The engine is the kernel's (`service.kernel.database.DB`); this module, part of the
composition root, names the apps because only the root knows every domain.
"""

from piccolo.conf.apps import AppRegistry

from service.kernel.database import DB

__all__ = ["APP_REGISTRY", "DB"]

APP_REGISTRY = AppRegistry(
    apps=[
        "booking.piccolo_app",
        "service.kernel.piccolo_app",
        "passes.piccolo_app",
        "billing.piccolo_app",
        # piccolo-admin's sign-in tables (its BaseUser and sessions), see web/network_admin.py.
        "piccolo.apps.user.piccolo_app",
        "piccolo_api.session_auth.piccolo_app",
    ]
)
