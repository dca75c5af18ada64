"""HTTP controllers of the catalogue and accounts: thin translations to service calls."""

from booking.controllers.accounts import AuthController, MeController

# Mounted under /api/v1.
API_CONTROLLERS: list[type] = [AuthController, MeController]
# Mounted at the root (open data).
PUBLIC_CONTROLLERS: list[type] = []
