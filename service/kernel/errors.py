"""The domain error base and the errors every domain shares; one class per way of failing.

Each class is mapped to a problem+json type by `service.kernel.problems` (a domain
registers its own classes there): the domain never speaks HTTP.
"""

from __future__ import annotations

from service.kernel.i18n import N_


class DomainError(Exception):
    """Base of every business error: a human `detail` and, where it applies, the offending field.

    `detail` is English; `message` is its catalogue msgid (marked with N_) and `params` the
    values it names (`%(name)s`), kept apart so the problem responses can word it in French.
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


class InvalidStatusChange(Conflict):
    default_detail = N_("This status change is not allowed.")


class InvalidCredentials(DomainError):
    default_detail = N_("Email or password is wrong.")


class TooManyAttempts(DomainError):
    default_detail = N_("Too many sign-in attempts; wait a few minutes.")

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class UnreadableBody(DomainError):
    """The request's body cannot be read as what it claims to be (not UTF-8, nested too deep)."""

    default_detail = N_("The request body cannot be read.")
