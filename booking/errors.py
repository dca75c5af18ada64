"""Domain errors of the catalogue and accounts; one class per way of failing.

`service.problems` maps each class to a problem+json type and an HTTP status: the
domain never speaks HTTP.
"""

from __future__ import annotations

from service.i18n import N_


class DomainError(Exception):
    """Base of every business error: a human `detail` and, where it applies, the offending field.

    `detail` is English; `message` is its catalogue msgid (marked with N_) and `params` the
    values it names (`%(name)s`), kept apart so service/problems.py can word it in French.
    """

    default_detail = N_("The request cannot be processed.")

    def __init__(
        self, detail: str | None = None, *, field: str | None = None, **params: object
    ) -> None:
        self.message = detail or self.default_detail
        self.params = params
        self.detail = self.message % params if params else self.message
        self.field = field
        super().__init__(self.detail)


class InvalidValue(DomainError):
    """A value is well-formed JSON but wrong for the business (bad SIRET, IBAN, time zone …)."""


class NotFound(DomainError):
    default_detail = N_("No such resource.")


class Forbidden(DomainError):
    default_detail = N_("You may not act on this resource.")


class Conflict(DomainError):
    default_detail = N_("The request conflicts with the current state.")


class DuplicateEmail(Conflict):
    default_detail = N_("A user with this email already exists.")


class InvalidStatusChange(Conflict):
    default_detail = N_("This status change is not allowed.")


class OverlappingHours(InvalidValue):
    default_detail = N_("Opening ranges of one day must not overlap.")


class RateAlreadyDefined(Conflict):
    default_detail = N_("A rate already starts on that date; add one with a later date instead.")


class InvalidCredentials(DomainError):
    default_detail = N_("Email or password is wrong.")


class TooManyAttempts(DomainError):
    default_detail = N_("Too many sign-in attempts; wait a few minutes.")

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


# Bookings: one class per reason a booking is refused.


class CapacityExhausted(Conflict):
    default_detail = N_("No seat is left in this workspace for that slot.")


class RoomTaken(Conflict):
    default_detail = N_("This room is already booked for an overlapping time.")


class AgentAlreadyBooked(Conflict):
    default_detail = N_("You already have a booking at an overlapping time.")


class AllowanceExceeded(Conflict):
    default_detail = N_("This booking would exceed the monthly allowance.")


class OutsideOpeningHours(InvalidValue):
    default_detail = N_("The venue is not open at that time.")


class VenueClosed(Conflict):
    default_detail = N_("The venue is closed on that day.")


class InThePast(InvalidValue):
    default_detail = N_("This time is already past.")


class BeyondHorizon(InvalidValue):
    default_detail = N_("This date is beyond your organisation's booking horizon.")


class Inactive(Conflict):
    default_detail = N_("The agent or organisation is inactive.")


class WorkspaceUnavailable(Conflict):
    default_detail = N_(
        "This workspace cannot be booked (inactive, or its venue is not open to bookings)."
    )


class BookingNotCancellable(Conflict):
    default_detail = N_("Only a confirmed booking can be cancelled.")


# Calendar feeds


class FeedAlreadyRevoked(Conflict):
    default_detail = N_("This calendar feed is already revoked.")


# Door scans and anomalies


class TooManyScans(TooManyAttempts):
    default_detail = N_("Too many scans from this scanner; wait a second.")


class ScanIdReused(Conflict):
    default_detail = N_(
        "This scan_id was already used for another scan (other venue or direction)."
    )


class AnomalyAlreadyDecided(Conflict):
    default_detail = N_("This anomaly is already decided; a decision is final.")


class RateStillMissing(Conflict):
    default_detail = N_(
        "No venue or organisation rate is in force on the visit's date; define it, then accept."
    )


# Filled by the service layer, which owns the mapping from error classes to problem types;
# lets a domain answer (a series' occurrences) name the problem of each refusal.
_SLUGS: dict[type[DomainError], str] = {}


def problem_slug(error: type[DomainError]) -> str:
    for cls in error.__mro__:
        if cls in _SLUGS:
            return _SLUGS[cls]
    return "unprocessable"
