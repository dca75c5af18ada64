"""The service: its kernel (`service.kernel`) and its composition root (`service.app`)."""

import os

# Piccolo finds its engine through this module path; set it before any table is used.
os.environ.setdefault("PICCOLO_CONF", "service.app.piccolo_conf")
