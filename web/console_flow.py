"""The consoles' one flow: a form, its errors at 422, a 303 with a done message, documents by period.

Every console (venue, organisation, network, network money) renders a page; a bad form
renders it again at 422 with the errors by field; a change that went through answers 303
to a page that says what was done; documents are listed by month, and a file the worker
has not rendered yet answers a page at 503 with Retry-After.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import date
from typing import Any

from litestar import Request, Response
from litestar.response import Redirect

from billing import rendering, services
from billing.controllers import document_file_response
from service.kernel.errors import DomainError, InvalidValue, NotFound
from service.kernel.identity import Principal
from web.consoles import month_of, refusal
from web.i18n import Message

# What a refused change puts on the page again: the status and the errors by field.
Refused = tuple[int, dict[str, str]]
Rerender = Callable[[dict[str, str], int], Awaitable[Response[Any]]]


def done_message(
    request: Request[Any, Any, Any], messages: Mapping[str, Message], known: Collection[str]
) -> Message | None:
    """The message of what was just done (`?done=…`), or None for an unknown or absent one."""
    done = request.query_params.get("done")
    return messages.get(done) if done is not None and done in known else None


def done_redirect(path: str, done: str, anchor: str = "") -> Redirect:
    """After a change: 303 to the page, which says what was done, scrolled to what changed."""
    separator = "&" if "?" in path else "?"
    return Redirect(
        f"{path}{separator}done={done}{'#' + anchor if anchor else ''}", status_code=303
    )


def on_field(lang: str, default_field: str) -> Callable[[DomainError], Refused]:
    """A refusal's sentence on the field the service names (or `default_field`), at 422."""

    def refused(error: DomainError) -> Refused:
        return 422, {error.field or default_field: refusal(lang, error)[1]}

    return refused


async def submit(
    errors: dict[str, str],
    change: Callable[[], Awaitable[Response[Any]]],
    rerender: Rerender,
    refused: Callable[[DomainError], Refused],
    *,
    catch: tuple[type[DomainError], ...] = (InvalidValue,),
) -> Response[Any]:
    """A console form: without field errors make the change (it answers the 303 or the page);
    with them, or when the service refuses, the page again with the errors (422 unless the
    refusal says otherwise)."""
    status = 422
    if not errors:
        try:
            return await change()
        except catch as error:
            status, more = refused(error)
            errors = {**errors, **more}
    return await rerender(errors, status)


def asked_period(request: Request[Any, Any, Any]) -> tuple[str, date | None]:
    """The month a document list is filtered on (`?period=YYYY-MM`) as typed, and as a date
    (None when absent or malformed: the page then says so beside the field)."""
    asked = request.query_params.get("period") or ""
    return asked, month_of(asked)


async def documents_of_period(
    principal: Principal, kind: str, period: date | None, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The documents of a kind the person may read, of a month or all, newest first."""
    return await services.list_documents(principal, kind, period, limit, 0)


async def document_of(
    principal: Principal, kind: str, document_id: uuid.UUID
) -> dict[str, Any] | None:
    """A document the person may read, or None (the page answers 404)."""
    try:
        return await services.get_document(principal, kind, document_id)
    except NotFound:
        return None


def rendering_page(response: Response[Any], rendering_now: bool) -> Response[Any]:
    """While the worker renders a file, the page that says so answers 503 with Retry-After."""
    if rendering_now:
        response.status_code = 503
        response.headers["Retry-After"] = str(rendering.NotRenderedYet.retry_after)
    return response


async def file_or_rendering_page(
    request: Request[Any, Any, Any],
    document: dict[str, Any],
    file_kind: str,
    waiting_page: Callable[[], Awaitable[Response[Any]]],
) -> Response[Any]:
    """A document's stored file; if the worker has not made it yet, queue it and say so."""
    response = await document_file_response(request.app.state.redis, document, file_kind)
    if response is None:
        return rendering_page(await waiting_page(), True)
    return response
