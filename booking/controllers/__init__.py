"""HTTP controllers of the catalogue and accounts: thin translations to service calls."""

from booking.controllers.accounts import AuthController, MeController
from booking.controllers.bookings import (
    BookingController,
    MyBookingsController,
    OrganisationBookingsController,
    VenueArrivalsController,
)

# Mounted under /api/v1.
API_CONTROLLERS: list[type] = [
    AuthController,
    MeController,
    BookingController,
    MyBookingsController,
    VenueArrivalsController,
    OrganisationBookingsController,
]
# Mounted at the root (open data).
PUBLIC_CONTROLLERS: list[type] = []
