"""The registry of problem types: each domain error class and the RFC 9457 type it answers as.

Every `type` is a stable URN listed in docs/errors.md; clients switch on it, people read
`detail`. The kernel registers its shared errors below; each domain registers its own
classes beside their definitions, so the kernel knows no domain. Plain Python: the
responses are built by `service.kernel.problem_responses`.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.kernel import dates, errors

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


register(errors.DomainError, "unprocessable", 422, "Request cannot be processed")
register(errors.InvalidValue, "invalid-value", 422, "Invalid value")
register(errors.NotFound, "not-found", 404, "Not found")
register(errors.Forbidden, "forbidden", 403, "Forbidden")
register(errors.Conflict, "conflict", 409, "Conflict")
register(errors.InvalidStatusChange, "invalid-status-change", 409, "Status change refused")
register(errors.InvalidCredentials, "invalid-credentials", 401, "Sign-in refused")
register(errors.TooManyAttempts, "too-many-attempts", 429, "Too many attempts")
register(errors.UnreadableBody, "bad-request", 400, "Bad request")
register(dates.DateOutOfRange, "date-out-of-range", 422, "Date out of range")
register(dates.MonthNotValid, "invalid-month", 422, "Invalid month")

# Problems raised by the HTTP layer itself.
VALIDATION = ProblemType("validation-error", 422, "Invalid request")
UNAUTHENTICATED = ProblemType("unauthenticated", 401, "Authentication required")
FORBIDDEN = ProblemType("forbidden", 403, "Forbidden")
NOT_FOUND = ProblemType("not-found", 404, "Not found")
CONFLICT = ProblemType("conflict", 409, "Conflict")
INTERNAL = ProblemType("internal-error", 500, "Internal error")
UNAVAILABLE = ProblemType("unavailable", 503, "Service unavailable")
IDEMPOTENCY_KEY_REUSED = ProblemType(
    "idempotency-key-reused", 422, "Idempotency-Key reused with another request"
)
IDEMPOTENCY_IN_PROGRESS = ProblemType(
    "idempotency-in-progress", 409, "A request with this Idempotency-Key is still running"
)


def problem_for(error: Exception | type[Exception]) -> ProblemType:
    """The problem type of an error (or error class), looked up along its class's MRO."""
    cls_of = error if isinstance(error, type) else type(error)
    for cls in cls_of.__mro__:
        if cls in DOMAIN_PROBLEMS:
            return DOMAIN_PROBLEMS[cls]
    return INTERNAL
