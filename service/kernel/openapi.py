"""OpenAPI document: errors are documented as problem+json, with the statuses every route may give."""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)

from service.kernel.auth import Access
from service.kernel.problems import PROBLEM_JSON

PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "title", "status", "detail"],
    properties={
        "type": Schema(type=OpenAPIType.STRING, description="Stable URN, see docs/errors.md"),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING, description="What went wrong, for a person"),
        "instance": Schema(type=OpenAPIType.STRING),
        "field": Schema(type=OpenAPIType.STRING, description="The offending field, when one is"),
        "request_id": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                properties={
                    "field": Schema(type=OpenAPIType.STRING),
                    "message": Schema(type=OpenAPIType.STRING),
                },
            ),
        ),
    },
)

_DESCRIPTIONS = {
    "400": "Malformed request (bad JSON, bad header)",
    "401": "Not signed in, or the token is invalid",
    "403": "Your role or scope may not do this",
    "404": "No such resource",
    "405": "Method not allowed",
    "409": "Conflicts with the current state",
    "410": "Gone: the resource existed and was removed",
    "413": "Request too large",
    "415": "Unsupported media type",
    "422": "Invalid value; `field` names it",
    "429": "Too many requests",
    "500": "Unexpected error (logged with the request id)",
    "503": "A dependency is unavailable",
}


def document_problems(app: Litestar) -> None:
    """Rewrite every error response of the generated document as problem+json.

    `app.openapi_schema` is the document Litestar builds once and serves from then on, so
    this edits what /schema renders, provided it runs before the first render: right after
    the app is built, as `create_app` does.
    """
    document = app.openapi_schema
    if document.components.schemas is None:
        document.components.schemas = {}
    document.components.schemas["Problem"] = PROBLEM_SCHEMA
    problem_content = {
        PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))
    }
    access_by_path = _access_by_operation(app)
    with_csv = _csv_operations(app)
    for path, item in (document.paths or {}).items():
        for method in ("get", "put", "post", "patch", "delete"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            access = access_by_path.get((path, method.upper()))
            codes = {"400", "405", "415", "422", "500"}
            if access is not None and not access.public:
                codes |= {"401", "403", "404"}
                operation.security = [{"bearer": []}]
            elif access is not None:
                operation.security = []
            if "{" in path:
                codes.add("404")
            if method in ("post", "put", "patch", "delete"):
                codes |= {"409", "413"}
            if path.endswith("/auth/token"):
                codes.add("429")
            if path == "/readyz":
                codes.add("503")
            for code in codes | {c for c in responses if c.startswith(("4", "5"))}:
                responses[code] = OpenAPIResponse(
                    description=_DESCRIPTIONS.get(code, "Error"), content=problem_content
                )
            if (path, method.upper()) in with_csv and "200" in responses:
                # `?format=csv` answers the same rows as a CSV attachment.
                ok = responses["200"]
                if isinstance(ok, OpenAPIResponse):
                    ok.content = {
                        **(ok.content or {}),
                        "text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
                    }
            operation.responses = responses


CSV_ALTERNATIVE = {"csv_alternative": True}  # a route's opt: it also answers text/csv


def _csv_operations(app: Litestar) -> set[tuple[str, str]]:
    return {
        (route.path_format, method)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if handler.opt.get("csv_alternative")
        for method in getattr(handler, "http_methods", ())
    }


def _access_by_operation(app: Litestar) -> dict[tuple[str, str], Access]:
    found: dict[tuple[str, str], Access] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            access = handler.opt.get("access")
            if not isinstance(access, Access):
                continue
            path = route.path_format
            for method in getattr(handler, "http_methods", ()):
                found[(path, method)] = access
    return found
