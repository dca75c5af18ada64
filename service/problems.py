"""The one place that turns errors into RFC 9457 problem+json responses.

Every `type` is a stable URN listed in docs/errors.md; clients switch on it, people read
`detail`. Client mistakes are never a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from billing.close import CloseInProgress, PeriodNotOver
from billing.credit_notes import AlreadyCredited
from billing.rendering import NotRenderedYet
from billing.stripe_webhooks import InvalidStripeSignature
from booking import errors as booking_errors
from booking.services.organisations import InvitationNotFound
from booking.services.series import SeriesRefused
from service.i18n import N_, accepted_language, translate

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:tierslieux:problem:"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        return TYPE_PREFIX + self.slug


# Domain error class -> problem type. Looked up along the class's MRO, so a subclass
# without its own entry answers as its parent does.
DOMAIN_PROBLEMS: dict[type[Exception], ProblemType] = {}


def register(error: type[Exception], slug: str, status: int, title: str) -> None:
    DOMAIN_PROBLEMS[error] = ProblemType(slug, status, title)
    if issubclass(error, booking_errors.DomainError):
        booking_errors._SLUGS[error] = slug


register(booking_errors.DomainError, "unprocessable", 422, "Request cannot be processed")
register(booking_errors.InvalidValue, "invalid-value", 422, "Invalid value")
register(booking_errors.OverlappingHours, "overlapping-hours", 422, "Overlapping opening hours")
register(booking_errors.NotFound, "not-found", 404, "Not found")
register(booking_errors.Forbidden, "forbidden", 403, "Forbidden")
register(booking_errors.Conflict, "conflict", 409, "Conflict")
register(booking_errors.DuplicateEmail, "duplicate-email", 409, "Email already registered")
register(booking_errors.InvalidStatusChange, "invalid-status-change", 409, "Status change refused")
register(booking_errors.RateAlreadyDefined, "rate-already-defined", 409, "Rate already defined")
register(booking_errors.InvalidCredentials, "invalid-credentials", 401, "Sign-in refused")
register(booking_errors.TooManyAttempts, "too-many-attempts", 429, "Too many attempts")
register(InvitationNotFound, "invitation-not-found", 404, "Invitation unknown or used")
register(SeriesRefused, "series-refused", 409, "Atomic series refused")
# Billing
register(CloseInProgress, "close-in-progress", 409, "A close is running")
register(PeriodNotOver, "period-not-over", 422, "Month not over")
register(AlreadyCredited, "already-credited", 409, "Already credited")
register(NotRenderedYet, "document-rendering", 503, "Document being rendered")
register(InvalidStripeSignature, "invalid-stripe-signature", 400, "Invalid Stripe signature")
# Bookings
register(booking_errors.CapacityExhausted, "capacity-exhausted", 409, "No seat left")
register(booking_errors.RoomTaken, "room-taken", 409, "Room already booked")
register(booking_errors.AgentAlreadyBooked, "agent-already-booked", 409, "Already booked elsewhere")
register(booking_errors.AllowanceExceeded, "allowance-exceeded", 409, "Monthly allowance exceeded")
register(booking_errors.OutsideOpeningHours, "outside-opening-hours", 422, "Outside opening hours")
register(booking_errors.VenueClosed, "venue-closed", 409, "Venue closed")
register(booking_errors.InThePast, "in-the-past", 422, "In the past")
register(booking_errors.BeyondHorizon, "beyond-horizon", 422, "Beyond the booking horizon")
register(booking_errors.Inactive, "inactive", 409, "Agent or organisation inactive")
register(booking_errors.WorkspaceUnavailable, "workspace-unavailable", 409, "Workspace unavailable")
register(booking_errors.BookingNotCancellable, "booking-not-cancellable", 409, "Not cancellable")
register(booking_errors.FeedAlreadyRevoked, "feed-already-revoked", 409, "Feed already revoked")
# Door scans and anomalies
register(booking_errors.TooManyScans, "too-many-scans", 429, "Too many scans")
register(booking_errors.ScanIdReused, "scan-id-reused", 409, "scan_id already used")
register(booking_errors.AnomalyAlreadyDecided, "anomaly-already-decided", 409, "Already decided")
register(booking_errors.RateStillMissing, "rate-still-missing", 409, "Rate still missing")

# Problems raised by the HTTP layer itself.
VALIDATION = ProblemType("validation-error", 422, "Invalid request")
UNAUTHENTICATED = ProblemType("unauthenticated", 401, "Authentication required")
FORBIDDEN = ProblemType("forbidden", 403, "Forbidden")
NOT_FOUND = ProblemType("not-found", 404, "Not found")
CONFLICT = ProblemType("conflict", 409, "Conflict")
INTERNAL = ProblemType("internal-error", 500, "Internal error")
IDEMPOTENCY_KEY_REUSED = ProblemType(
    "idempotency-key-reused", 422, "Idempotency-Key reused with another request"
)
IDEMPOTENCY_IN_PROGRESS = ProblemType(
    "idempotency-in-progress", 409, "A request with this Idempotency-Key is still running"
)


def worded(request: Request[Any, Any, Any] | None, message: str, **params: Any) -> str:
    """`detail` in the language the client accepts (fr or en); English when it names neither."""
    lang = accepted_language(request.headers.get("accept-language")) if request else None
    if lang is None:
        return message % params if params else message
    return translate(lang, message, **params)


def problem_for(error: Exception) -> ProblemType:
    for cls in type(error).__mro__:
        if cls in DOMAIN_PROBLEMS:
            return DOMAIN_PROBLEMS[cls]
    return INTERNAL


def problem_response(
    problem: ProblemType,
    detail: str,
    request: Request[Any, Any, Any] | None = None,
    *,
    field: str | None = None,
    status: int | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": problem.uri,
        "title": problem.title,
        "status": status or problem.status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
        request_id = request.scope.get("state", {}).get("request_id")
        if request_id:
            body["request_id"] = request_id
    if field is not None:
        body["field"] = field
    body.update(extra)
    return Response(
        content=body,
        status_code=status or problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")


def _validation_errors(exc: ValidationException) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            key = str(item.get("key") or "")
            message = str(item.get("message", ""))
            missing = _MISSING_FIELD.search(message)
            if key == "data" and missing:  # msgspec names the whole body; the field is in the text
                key = missing.group(1)
            field = key.removeprefix("data.") if key and key != "data" else ""
            errors.append({"field": field, "message": message})
    return errors


def domain_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, booking_errors.DomainError)
    problem = problem_for(exc)
    headers = None
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers = {"Retry-After": str(retry_after)}
    extra = getattr(exc, "extra", None) or {}
    detail = worded(request, exc.message, **exc.params)
    return problem_response(problem, detail, request, field=exc.field, headers=headers, **extra)


def http_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, HTTPException)
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc)
        field = errors[0]["field"] if errors and errors[0]["field"] else None
        detail = exc.detail or worded(request, N_("The request is not valid."))
        if errors and errors[0]["message"]:
            detail = f"{errors[0]['message']}" + (f" ({field})" if field else "")
        return problem_response(VALIDATION, detail, request, field=field, errors=errors)
    if isinstance(exc, NotAuthorizedException):
        return problem_response(
            UNAUTHENTICATED,
            exc.detail or worded(request, N_("Sign in first.")),
            request,
            headers={"WWW-Authenticate": "Bearer"},
        )
    if isinstance(exc, PermissionDeniedException):
        return problem_response(
            FORBIDDEN, exc.detail or worded(request, N_("Your role may not do this.")), request
        )
    if isinstance(exc, NotFoundException):
        return problem_response(
            NOT_FOUND, exc.detail or worded(request, N_("No such resource.")), request
        )
    status = exc.status_code
    slug = {
        400: "bad-request",
        405: "method-not-allowed",
        406: "not-acceptable",
        413: "payload-too-large",
        415: "unsupported-media-type",
        429: "too-many-requests",
        503: "unavailable",
    }.get(status, "http-error")
    problem = ProblemType(slug, status, exc.detail or "HTTP error")
    headers = dict(exc.headers or {})
    return problem_response(problem, exc.detail or "HTTP error", request, headers=headers or None)


def database_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A constraint the friendly checks did not anticipate: still the client's conflict, not a 500."""
    if isinstance(exc, asyncpg.UniqueViolationError | asyncpg.ExclusionViolationError):
        return problem_response(
            CONFLICT, worded(request, N_("This conflicts with an existing record.")), request
        )
    if isinstance(exc, asyncpg.CheckViolationError | asyncpg.NotNullViolationError):
        return problem_response(
            VALIDATION, worded(request, N_("A value is outside what is allowed.")), request
        )
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return problem_response(
            CONFLICT,
            worded(request, N_("A referenced record does not exist or is in use.")),
            request,
        )
    return internal_error_handler(request, exc)


def data_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """PostgreSQL refused a value (a NUL character, a number out of range): the client's input."""
    log.info("data_error", path=request.url.path, error=type(exc).__name__)
    return problem_response(
        DOMAIN_PROBLEMS[booking_errors.InvalidValue],
        worded(
            request,
            N_(
                "A value cannot be stored (for example a NUL character in a text, "
                "or a number out of range)."
            ),
        ),
        request,
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("unhandled_error", path=request.url.path, exc_info=exc)
    return problem_response(
        INTERNAL,
        worded(request, N_("An unexpected error occurred; it has been logged.")),
        request,
        status=HTTP_500_INTERNAL_SERVER_ERROR,
    )


EXCEPTION_HANDLERS = {
    booking_errors.DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    asyncpg.IntegrityConstraintViolationError: database_error_handler,
    asyncpg.DataError: data_error_handler,
    Exception: internal_error_handler,
}
