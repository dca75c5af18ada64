"""Words chosen at run time (a status, a slot, a refusal): value -> marked message.

Marked with N_ so extraction finds them; translated when a page is rendered.
Generated from the former word tables; edit freely, extraction keeps the catalogues honest.
"""

from __future__ import annotations

from service.kernel.i18n import N_, NC_, NP_, Message

BOOKINGS_DONE: dict[str, Message] = {
    "booked": N_("Booking confirmed. Show your pass at the door."),
    "cancelled": N_("Booking cancelled."),
}
BOOKING_STATUS: dict[str, Message] = {
    "confirmed": N_("Confirmed"),
    "checked_in": N_("Checked in"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
    "late_cancelled": N_("Cancelled late"),
    "no_show": N_("No-show"),
}
EQUIPMENT_NAME: dict[str, Message] = {
    "screen": N_("Screen"),
    "video_conference": N_("Video conference"),
    "whiteboard": N_("Whiteboard"),
    "projector": N_("Projector"),
    "3d_printer": N_("3D printer"),
    "laser_cutter": N_("Laser cutter"),
    "sewing_machine": N_("Sewing machine"),
    "computer": N_("Computer"),
    "standing_desk": N_("Standing desk"),
    "docking_station": N_("Docking station"),
    "sound_system": N_("Sound system"),
}
ERROR_TEXT: dict[str, Message] = {
    "403": N_("Your role may not open this page."),
    "404": N_("This page does not exist."),
    "400": N_("This request cannot be read; go back and try again."),
    "409": N_("This conflicts with the current state; reload the page and try again."),
    "413": N_("This file or form is too large."),
    "422": N_("A value is not accepted; go back and correct it."),
    "429": N_("Too many requests; wait a moment and try again."),
    "500": N_("Something went wrong on our side; it has been logged."),
    "503": N_(
        "The service cannot reach its database or its queue right now; try again in a few seconds."
    ),
}
NETWORK_REFUSAL: dict[str, Message] = {
    "invalid-status-change": N_("This venue cannot move to that status (has it already changed?)."),
    "rate-already-defined": N_("A rate already exists for this kind, unit and date."),
    "anomaly-already-decided": N_("This anomaly was already decided."),
    "rate-still-missing": N_(
        "No rate is in force yet on the date of this visit: add the venue's or the organisation's rate, then accept."
    ),
    "period-not-over": N_("This month is not over: it is closed once past."),
    "close-in-progress": N_("A close is already running; try again when it has finished."),
}
NW_ANOMALIES_DONE: dict[str, Message] = {
    "accepted": N_("Anomaly accepted: the visit will be billed."),
    "rejected": N_("Anomaly rejected: the visit will not be billed."),
}
NW_ANOMALIES_STATUS: dict[str, Message] = {
    "open": N_("To review"),
    "accepted": N_("Accepted"),
    "rejected": N_("Rejected"),
}
NW_ANOMALY_KIND: dict[str, Message] = {
    "over_capacity": N_("Over capacity"),
    "missing_rate": N_("Missing rate"),
    "revoked": N_("Revoked pass"),
    "suspended": N_("Suspended pass"),
    "expired": N_("Expired pass"),
    "over_allowance": N_("Over the monthly allowance"),
    "booked_elsewhere": N_("Booked elsewhere"),
    "same_pass_two_venues": N_("Pass at two venues"),
    "venue_closed": N_("Venue closed"),
    "agent_inactive": N_("Agent inactive"),
    "refused_but_valid": N_("Refused but valid"),
}
NW_BANK_ENTRIES: dict[str, Message] = {
    "partial": N_("Partial payments"),
    "unmatched": N_("Unmatched transfers"),
    "none": N_("None."),
}
NW_CLOSE_BY: dict[str, Message] = {
    "organisation": N_("By organisation"),
    "venue": N_("By venue"),
    "commune": N_("By commune"),
}
NW_CLOSE_COL: dict[str, Message] = {
    "organisation": N_("Organisation"),
    "venue": N_("Venue"),
    "commune": N_("Commune"),
    "lines": N_("Lines"),
    "revenue": N_("Invoiced excl. VAT"),
    "payouts": N_("Paid out excl. VAT"),
    "share": N_("Network share"),
}
NW_CLOSE_CSV: dict[str, Message] = {
    "organisation": N_("Download the summary by organisation (CSV)"),
    "venue": N_("Download the summary by venue (CSV)"),
    "commune": N_("Download the summary by commune (CSV)"),
}
NW_CLOSE_PROGRESS: dict[str, Message] = {
    "invoices": NP_("%(num)s invoice issued", "%(num)s invoices issued"),
    "statements": NP_(
        "%(num)s self-billing statement issued", "%(num)s self-billing statements issued"
    ),
}
NW_CLOSE_STATUS: dict[str, Message] = {
    "title": N_("Status of %(month)s"),
    "open": N_("Month open: not closed yet."),
    "closing": N_("Closing…"),
    "queued": N_("Closing: asked for, waiting for the background worker…"),
    "closed": N_("Month closed."),
}
NW_PAYOUTS_DONE: dict[str, Message] = {
    "prepared": N_("Payouts prepared."),
    "sent": N_("Payout marked sent."),
    "paid": N_("Payout marked paid."),
    "failed": N_("Payout marked failed."),
}
NW_PAYOUT_STATUS: dict[str, Message] = {
    "pending": NC_("payout to send", "Pending"),
    "in_file": N_("In a SEPA file"),
    "sent": N_("Sent"),
    "paid": NC_("payout", "Paid"),
    "failed": N_("Failed"),
}
NW_RATES_STATE: dict[str, Message] = {
    "in_force": N_("In force"),
    "upcoming": N_("Upcoming"),
    "replaced": N_("Replaced"),
}
NW_UNIT: dict[str, Message] = {
    "half_day": N_("Half-day"),
    "day": N_("Day"),
    "hour": N_("Hour"),
}
NW_VENUES_DONE: dict[str, Message] = {
    "approve": N_("Venue approved: agents can see it."),
    "reject": N_("Application rejected."),
    "suspend": N_("Venue suspended."),
}
NW_VENUE_STATUS: dict[str, Message] = {
    "applied": N_("Applied"),
    "approved": N_("Approved"),
    "suspended": N_("Suspended"),
    "closed": N_("Closed or rejected"),
}
IMPORT_ACTIONS: dict[str, Message] = {
    "create": N_("New venue"),
    "update": N_("Updated"),
    "unchanged": N_("Unchanged"),
    "refuse": N_("Refused"),
}
ORG_DONE: dict[str, Message] = {
    "deactivated": N_("Agent deactivated: their pass is revoked, their history is kept."),
    "reactivated": N_("Agent reactivated."),
    "erased": N_(
        "Agent erased: their name and email are replaced by a pseudonym, their bookings to come"
        " are cancelled and their pass is revoked; issued invoices stay as issued."
    ),
    "policy_saved": N_("Policy saved."),
}
ORG_PAID: dict[str, Message] = {
    "paid": N_("Paid"),
    "partial": N_("Partly paid"),
    "unpaid": N_("To pay"),
    "overdue": N_("Overdue"),
}
PASS_STATUS: dict[str, Message] = {
    "active": N_("Active"),
    "suspended": N_("Suspended"),
}
REFUSAL: dict[str, Message] = {
    "capacity-exhausted": N_("No seat is left for this slot."),
    "room-taken": N_("This room is already booked."),
    "agent-already-booked": N_("You already have a booking at that time."),
    "allowance-exceeded": N_("This booking would exceed your monthly allowance."),
    "outside-opening-hours": N_("The place is closed at that time."),
    "venue-closed": N_("The place is closed that day."),
    "in-the-past": N_("This slot is already past."),
    "beyond-horizon": N_("Your organisation does not allow booking that far ahead."),
    "inactive": N_("Your account is inactive."),
    "workspace-unavailable": N_("This workspace cannot be booked."),
    "booking-not-cancellable": N_("This booking can no longer be cancelled."),
    "not-found": N_("Not found."),
    "invalid-value": N_("Invalid value."),
    "scan-id-reused": N_("This scan was already recorded differently: scan again."),
    "too-many-scans": N_("Too many scans in one second: wait a moment."),
}
ROLE: dict[str, Message] = {
    "agent": N_("Agent"),
    "venue_staff": N_("Venue staff"),
    "venue_admin": N_("Venue admin"),
    "org_admin": N_("Organisation admin"),
    "network_admin": N_("Network admin"),
}
SCAN_REASON: dict[str, Message] = {
    "malformed": N_("This is not a Tiers-Lieux pass (unreadable code)."),
    "unsupported_version": N_("Unknown pass version: update the scanner."),
    "unknown_key": N_("Pass signed by an unknown key (forged, or keys to update)."),
    "bad_signature": N_("Invalid signature: forged pass."),
    "key_expired": N_("This pass's key has expired."),
    "not_yet_valid": N_("This pass is not valid yet."),
    "expired": N_("This pass has expired."),
    "revoked": N_("This pass has been revoked."),
    "suspended": N_("This pass is suspended."),
    "unknown_pass": N_("Pass unknown to the network."),
    "agent_inactive": N_("This person's account is deactivated."),
    "venue_closed": N_("The venue is closed today."),
    "no_booking_no_seat": N_("No booking and no free seat."),
    "allowance_exceeded": N_("Monthly allowance used up: no entry without a booking."),
    "booked_elsewhere": N_("This person is already booked elsewhere at that time."),
    "not_checked_in": N_("This person has not checked in."),
    "not_invited": N_("Guest pass for another meeting or venue, or invitation withdrawn."),
}
PARTSTAT: dict[str, Message] = {
    "needs_action": N_("No answer yet"),
    "accepted": N_("Coming"),
    "declined": N_("Not coming"),
}
MEETING_DONE: dict[str, Message] = {
    "invited": N_("Invitation sent."),
    "removed": N_("Attendee removed; they have been told."),
    "organiser": N_("The organiser role has been handed over."),
    "accepted": N_("Thank you: your answer is recorded (coming)."),
    "declined": N_("Thank you: your answer is recorded (not coming)."),
}
SLOT: dict[str, Message] = {
    "morning": N_("Morning"),
    "afternoon": N_("Afternoon"),
    "day": N_("Whole day"),
}
VENUE_DONE: dict[str, Message] = {
    "workspace_added": N_("Workspace added."),
    "workspace_saved": N_("Workspace saved."),
    "workspace_deactivated": N_("Workspace deactivated: it is no longer offered for booking."),
    "workspace_reactivated": N_("Workspace reactivated."),
    "hours_saved": N_("Opening hours saved."),
    "closure_added": N_("Closure added."),
    "closure_removed": N_("Closure removed."),
    "device_revoked": N_("Device revoked: its token no longer works."),
}
VENUE_PAYOUT: dict[str, Message] = {
    "none": N_("To be prepared"),
    "pending": NC_("payout", "Pending"),
    "in_file": N_("In a transfer file"),
    "sent": N_("Transfer sent"),
    "paid": NC_("payout", "Paid"),
    "failed": N_("Transfer failed"),
}
VENUE_UNIT: dict[str, Message] = {
    "half_day": N_("Half-day"),
    "day": N_("Day"),
    "hour": N_("Hour"),
}
VENUE_USAGE: dict[str, Message] = {
    "visit": N_("Visit"),
    "no_show": NC_("statement line", "No-show"),
    "late_cancellation": N_("Late cancellation"),
    "anomaly": N_("Anomaly"),
    "adjustment": N_("Adjustment"),
}
VENUE_WEEKDAY: dict[str, Message] = {
    "0": N_("Monday"),
    "1": N_("Tuesday"),
    "2": N_("Wednesday"),
    "3": N_("Thursday"),
    "4": N_("Friday"),
    "5": N_("Saturday"),
    "6": N_("Sunday"),
}
WORKSPACE_KIND: dict[str, Message] = {
    "desk": N_("Shared desk"),
    "meeting_room": N_("Meeting room"),
    "private_office": N_("Private office"),
    "lab": N_("Lab"),
}
# Each service's words on the public pages.
SERVICE_NAME: dict[str, Message] = {
    "wifi": N_("Wi-Fi"),
    "printer": N_("Printer"),
    "cafe": N_("Café"),
    "kitchen": N_("Kitchen"),
    "accessibility": N_("Step-free access"),
    "parking": N_("Car park"),
    "bike_parking": N_("Bike parking"),
    "phone_booth": N_("Phone booth"),
    "showers": N_("Showers"),
    "fablab": N_("Fablab"),
    "digital_mediation": N_("Digital help"),
    "childcare": N_("Childcare"),
    "meeting_rooms": N_("Meeting rooms"),
    "quiet_area": N_("Quiet area"),
    "lockers": N_("Lockers"),
    "garden": N_("Garden"),
    "public_transport": N_("Public transport nearby"),
}
# The door scanner's script words, by their key (web/static/scanner.js).
SCRIPT_WORDS: dict[str, Message] = {
    "scan.arrivals.title": N_("Today's arrivals"),
    "scan.arrivals.none": N_("No booking today."),
    "scan.arrivals.count": N_("%(arrived)s arrived of %(total)s expected"),
    "scan.js.admitted": N_("Admitted"),
    "scan.js.refused": N_("Refused"),
    "scan.js.offline_checked": N_("checked offline"),
    "scan.js.next": N_("Scan the next one"),
    "scan.js.walk_in": N_("No booking: seat given"),
    "scan.js.no_booking_known": N_("No known booking: the server will give a seat"),
    "scan.js.online": N_("Online"),
    "scan.js.offline": N_("Offline: checked on this device"),
    "scan.js.waiting": N_("%(count)s waiting"),
    "scan.js.waiting.title": N_("Scans waiting to be sent"),
    "scan.js.synced.title": N_("The server's answers"),
    "scan.js.synced.agree": N_("confirmed by the server"),
    "scan.js.synced.anomaly": N_("the server disagrees: to be reviewed by the network"),
    "scan.js.arrived": N_("arrived at %(time)s"),
    "scan.js.expected": N_("expected"),
    "scan.js.pending": N_("arrived at %(time)s (waiting to be sent)"),
    "scan.js.session": N_("Session expired: sign in again. Waiting scans are kept."),
    "scan.js.camera_denied": N_("The camera is not available: use manual entry."),
    "scan.js.error": N_("The server refused the request: %(detail)s"),
    "scan.js.unknown_holder": N_("Holder unknown to this device"),
    "scan.reason.malformed": N_("This is not a Tiers-Lieux pass (unreadable code)."),
    "scan.reason.unsupported_version": N_("Unknown pass version: update the scanner."),
    "scan.reason.unknown_key": N_("Pass signed by an unknown key (forged, or keys to update)."),
    "scan.reason.bad_signature": N_("Invalid signature: forged pass."),
    "scan.reason.key_expired": N_("This pass's key has expired."),
    "scan.reason.not_yet_valid": N_("This pass is not valid yet."),
    "scan.reason.expired": N_("This pass has expired."),
    "scan.reason.revoked": N_("This pass has been revoked."),
    "scan.reason.suspended": N_("This pass is suspended."),
    "scan.reason.unknown_pass": N_("Pass unknown to the network."),
    "scan.reason.agent_inactive": N_("This person's account is deactivated."),
    "scan.reason.venue_closed": N_("The venue is closed today."),
    "scan.reason.no_booking_no_seat": N_("No booking and no free seat."),
    "scan.reason.allowance_exceeded": N_("Monthly allowance used up: no entry without a booking."),
    "scan.reason.booked_elsewhere": N_("This person is already booked elsewhere at that time."),
    "scan.reason.not_checked_in": N_("This person has not checked in."),
}
