"""HTTP controllers of the catalogue and accounts: thin translations to service calls."""

from booking.controllers.accounts import AuthController, MeController
from booking.controllers.availability import AvailabilityController
from booking.controllers.bookings import (
    BookingController,
    MyBookingsController,
    OrganisationBookingsController,
    VenueArrivalsController,
)
from booking.controllers.catalogue import CATALOGUE_CONTROLLERS
from booking.controllers.feeds import (
    MyCalendarFeedsController,
    PublicCalendarsController,
    VenueCalendarFeedsController,
)
from booking.controllers.meetings import MeetingAnswersController, MeetingAttendeesController
from booking.controllers.messages import MyMessagesController, OutboxController
from booking.controllers.open_data import OpenDataController
from booking.controllers.organisations import ORGANISATION_CONTROLLERS
from booking.controllers.series import SeriesController
from booking.controllers.venue_import import VenueImportController

# Mounted under /api/v1.
API_CONTROLLERS: list[type] = [
    AuthController,
    MeController,
    BookingController,
    MyBookingsController,
    VenueArrivalsController,
    OrganisationBookingsController,
    MyCalendarFeedsController,
    VenueCalendarFeedsController,
    AvailabilityController,
    SeriesController,
    MeetingAttendeesController,
    MeetingAnswersController,
    OutboxController,
    MyMessagesController,
    VenueImportController,
    *CATALOGUE_CONTROLLERS,
    *ORGANISATION_CONTROLLERS,
]
# Mounted at the root (open data).
PUBLIC_CONTROLLERS: list[type] = [PublicCalendarsController, OpenDataController]
