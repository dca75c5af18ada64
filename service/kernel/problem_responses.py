"""The one place that turns errors into RFC 9457 problem+json responses.

Client mistakes are never a 500: domain errors answer as their registered problem type
(`service.kernel.problems`), Litestar's own and PostgreSQL's constraint errors as theirs.
"""

from __future__ import annotations

import re
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

from service.kernel import errors
from service.kernel.i18n import N_, accepted_language, translate
from service.kernel.outages import REDIS_DOWN, RETRY_AFTER_SECONDS, failed_dependency
from service.kernel.problems import (
    CONFLICT,
    DOMAIN_PROBLEMS,
    FORBIDDEN,
    INTERNAL,
    NOT_FOUND,
    PROBLEM_JSON,
    UNAUTHENTICATED,
    UNAVAILABLE,
    VALIDATION,
    ProblemType,
    problem_for,
)

log = structlog.get_logger(__name__)


def worded(request: Request[Any, Any, Any] | None, message: str, **params: Any) -> str:
    """`detail` in the language the client accepts (fr or en); English when it names neither."""
    lang = accepted_language(request.headers.get("accept-language")) if request else None
    if lang is None:
        return message % params if params else message
    return translate(lang, message, **params)


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
    assert isinstance(exc, errors.DomainError)
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
        DOMAIN_PROBLEMS[errors.InvalidValue],
        worded(
            request,
            N_(
                "A value cannot be stored (for example a NUL character in a text, "
                "or a number out of range)."
            ),
        ),
        request,
    )


def unavailable_response(
    request: Request[Any, Any, Any], dependency: str
) -> Response[dict[str, Any]]:
    """503 naming the dependency that did not answer; `Retry-After` says when to try again."""
    return problem_response(
        UNAVAILABLE,
        worded(
            request,
            N_("%(dependency)s does not answer; try again in a few seconds."),
            dependency={"postgresql": "PostgreSQL", "redis": "Redis"}.get(dependency, dependency),
        ),
        request,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        dependency=dependency,
    )


def dependency_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """PostgreSQL or Redis did not answer in time, or is away: 503, never a hang or a 500."""
    dependency = failed_dependency(exc)
    if dependency is None:
        return internal_error_handler(request, exc)
    log.warning(
        "dependency_unavailable", path=request.url.path, dependency=dependency, error=repr(exc)
    )
    return unavailable_response(request, dependency)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("unhandled_error", path=request.url.path, exc_info=exc)
    return problem_response(
        INTERNAL,
        worded(request, N_("An unexpected error occurred; it has been logged.")),
        request,
        status=HTTP_500_INTERNAL_SERVER_ERROR,
    )


EXCEPTION_HANDLERS = {
    errors.DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    asyncpg.IntegrityConstraintViolationError: database_error_handler,
    asyncpg.DataError: data_error_handler,
    # PostgreSQL or Redis away (each handler checks the error is one, else answers 500).
    asyncpg.PostgresConnectionError: dependency_error_handler,
    asyncpg.OperatorInterventionError: dependency_error_handler,
    asyncpg.InsufficientResourcesError: dependency_error_handler,
    asyncpg.InterfaceError: dependency_error_handler,
    OSError: dependency_error_handler,  # TimeoutError, ConnectionRefusedError
    **dict.fromkeys(REDIS_DOWN, dependency_error_handler),
    Exception: internal_error_handler,
}


def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The problem response of any exception, by the first of its classes mapped above."""
    for cls in type(exc).__mro__:
        if cls in EXCEPTION_HANDLERS:
            return EXCEPTION_HANDLERS[cls](request, exc)
    return internal_error_handler(request, exc)
