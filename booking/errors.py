"""Domain errors of the catalogue and accounts; one class per way of failing.

`service.problems` maps each class to a problem+json type and an HTTP status: the
domain never speaks HTTP.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every business error: a human `detail` and, where it applies, the offending field."""

    default_detail = "The request cannot be processed."

    def __init__(self, detail: str | None = None, *, field: str | None = None) -> None:
        self.detail = detail or self.default_detail
        self.field = field
        super().__init__(self.detail)


class InvalidValue(DomainError):
    """A value is well-formed JSON but wrong for the business (bad SIRET, IBAN, time zone …)."""


class NotFound(DomainError):
    default_detail = "No such resource."


class Forbidden(DomainError):
    default_detail = "You may not act on this resource."


class Conflict(DomainError):
    default_detail = "The request conflicts with the current state."


class DuplicateEmail(Conflict):
    default_detail = "A user with this email already exists."


class InvalidStatusChange(Conflict):
    default_detail = "This status change is not allowed."


class OverlappingHours(InvalidValue):
    default_detail = "Opening ranges of one day must not overlap."


class RateAlreadyDefined(Conflict):
    default_detail = "A rate already starts on that date; add one with a later date instead."


class InvalidCredentials(DomainError):
    default_detail = "Email or password is wrong."


class TooManyAttempts(DomainError):
    default_detail = "Too many sign-in attempts; wait a few minutes."

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


# Bookings: one class per reason a booking is refused.


class CapacityExhausted(Conflict):
    default_detail = "No seat is left in this workspace for that slot."


class RoomTaken(Conflict):
    default_detail = "This room is already booked for an overlapping time."


class AgentAlreadyBooked(Conflict):
    default_detail = "You already have a booking at an overlapping time."


class AllowanceExceeded(Conflict):
    default_detail = "This booking would exceed the monthly allowance."


class OutsideOpeningHours(InvalidValue):
    default_detail = "The venue is not open at that time."


class VenueClosed(Conflict):
    default_detail = "The venue is closed on that day."


class InThePast(InvalidValue):
    default_detail = "This time is already past."


class BeyondHorizon(InvalidValue):
    default_detail = "This date is beyond your organisation's booking horizon."


class Inactive(Conflict):
    default_detail = "The agent or organisation is inactive."


class WorkspaceUnavailable(Conflict):
    default_detail = (
        "This workspace cannot be booked (inactive, or its venue is not open to bookings)."
    )


class BookingNotCancellable(Conflict):
    default_detail = "Only a confirmed booking can be cancelled."


# Calendar feeds


class FeedAlreadyRevoked(Conflict):
    default_detail = "This calendar feed is already revoked."


# Door scans and anomalies


class TooManyScans(TooManyAttempts):
    default_detail = "Too many scans from this scanner; wait a second."


class ScanIdReused(Conflict):
    default_detail = "This scan_id was already used for another scan (other venue or direction)."


class AnomalyAlreadyDecided(Conflict):
    default_detail = "This anomaly is already decided; a decision is final."


class RateStillMissing(Conflict):
    default_detail = (
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
