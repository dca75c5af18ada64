"""The domain error base and the errors every domain shares; one class per way of failing.

Each class is mapped to a problem+json type by `service.kernel.problems` (a domain
registers its own classes there): the domain never speaks HTTP.
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


class InvalidStatusChange(Conflict):
    default_detail = "This status change is not allowed."


class InvalidCredentials(DomainError):
    default_detail = "Email or password is wrong."


class TooManyAttempts(DomainError):
    default_detail = "Too many sign-in attempts; wait a few minutes."

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
