"""The demo network's catalogue as rows in memory: what `seed` builds and the bookings build on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from piccolo.table import Table

from booking.tables import (
    Closure,
    OpeningHours,
    Organisation,
    OrganisationRate,
    User,
    Venue,
    VenueRate,
    Workspace,
)


@dataclass
class DemoData:
    """Every row to insert, by table, in insertion order."""

    organisations: list[Organisation] = field(default_factory=list)
    venues: list[Venue] = field(default_factory=list)
    opening_hours: list[OpeningHours] = field(default_factory=list)
    closures: list[Closure] = field(default_factory=list)
    workspaces: list[Workspace] = field(default_factory=list)
    venue_rates: list[VenueRate] = field(default_factory=list)
    organisation_rates: list[OrganisationRate] = field(default_factory=list)
    users: list[User] = field(default_factory=list)

    def tables(self) -> Sequence[tuple[type[Table], Sequence[Table]]]:
        return (
            (Organisation, self.organisations),
            (Venue, self.venues),
            (OpeningHours, self.opening_hours),
            (Closure, self.closures),
            (Workspace, self.workspaces),
            (VenueRate, self.venue_rates),
            (OrganisationRate, self.organisation_rates),
            (User, self.users),
        )
