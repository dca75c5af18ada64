"""The Litestar application and everything that wires the domains together."""

import os

# Piccolo finds its engine through this module path; set it before any table is used.
os.environ.setdefault("PICCOLO_CONF", "service.piccolo_conf")
