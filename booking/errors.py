"""Errors of the catalogue, accounts, bookings and calendar feeds; one class per way of failing."""

from __future__ import annotations

from service.kernel.errors import Conflict, InvalidValue, NotFound
from service.kernel.i18n import N_
from service.kernel.problems import register


class DuplicateEmail(Conflict):
    default_detail = N_("A user with this email already exists.")


class OverlappingHours(InvalidValue):
    default_detail = N_("Opening ranges of one day must not overlap.")


class RateAlreadyDefined(Conflict):
    default_detail = N_("A rate already starts on that date; add one with a later date instead.")


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


class FeedAlreadyRevoked(Conflict):
    default_detail = N_("This calendar feed is already revoked.")


class LinkInvalid(NotFound):
    """A password-reset or email-change link whose secret matches nothing (mistyped, forged)."""

    default_detail = N_("This link is not valid. Ask for a new one.")


class LinkExpired(Conflict):
    default_detail = N_("This link has expired. Ask for a new one.")


class LinkUsed(Conflict):
    default_detail = N_("This link has already been used. Ask for a new one if needed.")


class WrongCurrentPassword(InvalidValue):
    default_detail = N_("The current password is wrong.")


register(LinkInvalid, "link-invalid", 404, "Link unknown")
register(LinkExpired, "link-expired", 410, "Link expired")
register(LinkUsed, "link-used", 410, "Link already used")
register(WrongCurrentPassword, "wrong-current-password", 422, "Current password wrong")
register(DuplicateEmail, "duplicate-email", 409, "Email already registered")
register(OverlappingHours, "overlapping-hours", 422, "Overlapping opening hours")
register(RateAlreadyDefined, "rate-already-defined", 409, "Rate already defined")
register(CapacityExhausted, "capacity-exhausted", 409, "No seat left")
register(RoomTaken, "room-taken", 409, "Room already booked")
register(AgentAlreadyBooked, "agent-already-booked", 409, "Already booked elsewhere")
register(AllowanceExceeded, "allowance-exceeded", 409, "Monthly allowance exceeded")
register(OutsideOpeningHours, "outside-opening-hours", 422, "Outside opening hours")
register(VenueClosed, "venue-closed", 409, "Venue closed")
register(InThePast, "in-the-past", 422, "In the past")
register(BeyondHorizon, "beyond-horizon", 422, "Beyond the booking horizon")
register(Inactive, "inactive", 409, "Agent or organisation inactive")
register(WorkspaceUnavailable, "workspace-unavailable", 409, "Workspace unavailable")
register(BookingNotCancellable, "booking-not-cancellable", 409, "Not cancellable")
register(FeedAlreadyRevoked, "feed-already-revoked", 409, "Feed already revoked")


class NotAMeeting(Conflict):
    default_detail = N_("Only the booking of a meeting room has attendees.")


class MeetingFull(Conflict):
    default_detail = N_("The room holds %(capacity)s people; every place is taken.")


class AlreadyInvited(Conflict):
    default_detail = N_("This person is already invited to this meeting.")


class MeetingClosed(Conflict):
    default_detail = N_("This meeting is cancelled or over; its invitations cannot change.")


class AnswerLinkInvalid(NotFound):
    default_detail = N_("This invitation link is not valid.")


register(NotAMeeting, "not-a-meeting", 409, "Not a meeting")
register(MeetingFull, "meeting-full", 409, "Meeting full")
register(AlreadyInvited, "already-invited", 409, "Already invited")
register(MeetingClosed, "meeting-closed", 409, "Meeting cancelled or over")
register(AnswerLinkInvalid, "invalid-answer-link", 404, "Invalid invitation link")
