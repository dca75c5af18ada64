"""The service's apps plus the next release's expand migration (tests/service/test_upgrades.py)."""

from piccolo.conf.apps import AppRegistry

from service.app.piccolo_conf import APP_REGISTRY
from service.kernel.database import DB

__all__ = ["APP_REGISTRY", "DB"]

APP_REGISTRY = AppRegistry(apps=[*APP_REGISTRY.apps, "tests.service.upgrade_probe.piccolo_app"])
