"""The application factory: wires settings, database, Redis, auth, errors and the domains' routes."""

from __future__ import annotations

import gc
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.types import Receive, Scope, Send

from billing.controllers import BILLING_API_CONTROLLERS
from billing.stripe_controllers import STRIPE_API_CONTROLLERS
from booking import controllers as booking_controllers
from booking.services.accounts import party_exists, user_principal
from passes.controllers import PASS_API_CONTROLLERS
from passes.door_device_controllers import DOOR_DEVICE_API_CONTROLLERS
from passes.door_devices import device_principal
from passes.keys import Keyring, publish
from passes.personal_data_controllers import PERSONAL_DATA_API_CONTROLLERS
from passes.scan_controllers import SCAN_API_CONTROLLERS
from service.kernel import problem_responses
from service.kernel.audit_controllers import AuditController
from service.kernel.auth import PUBLIC, AuthMiddleware, authorize, provide_principal
from service.kernel.bodies import ServiceRequest
from service.kernel.database import DB, use_bounded_database
from service.kernel.i18n import use_catalogues
from service.kernel.logs import configure as configure_logs
from service.kernel.observability import HealthController, RequestContextMiddleware
from service.kernel.openapi import document_problems
from service.kernel.outages import redis_client
from service.kernel.principal_cache import PrincipalCache
from service.kernel.replica import close_replica_pool, start_replica_pool, use_read_replica
from service.kernel.security_headers import SecurityHeaders
from service.kernel.settings import Settings, load, tile_origin
from web.i18n import LOCALE_DIR
from web.pages import template_config
from web.routes import web_routers

API_PREFIX = "/api/v1"
# Paths that cannot live under the pages' strict Content-Security-Policy:
# - /schema is Litestar's Swagger UI: its script and styles come from a CDN and it starts
#   with an inline script. It shows the API's own description, no tenant's data, so the
#   inline code it needs is allowed there and only there.
# - /network/admin/ is piccolo-admin (network admins only): its Vue bundle compiles
#   templates at run time (`new Function`) and sets inline styles.
_OWN_POLICIES = (
    (
        "/schema",
        "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
        "img-src 'self' data: https://cdn.jsdelivr.net; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'",
    ),
    (
        "/network/admin/",
        "default-src 'self'; script-src 'self' 'unsafe-eval'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    ),
)
# `/api/v1/invoices/{id}.pdf` (and .xml, for statements and credit notes too) is the address
# people expect for a document's file; Litestar routes whole path segments only, so the
# suffix is turned into the `/pdf` (`/xml`) sub-resource before routing.
_DOCUMENT_FILE = re.compile(
    rf"^({API_PREFIX}/(?:invoices|statements|credit-notes)/[0-9a-fA-F-]{{32,36}})\.(pdf|xml)$"
)


class PassTiersLieux(Litestar):
    security_headers: SecurityHeaders

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            match = _DOCUMENT_FILE.match(scope["path"])
            if match is not None:
                path = f"{match[1]}/{match[2]}"
                scope = {**scope, "path": path, "raw_path": path.encode()}  # type: ignore[typeddict-item]
            send = self.security_headers.wrap(scope, send)
        await super().__call__(scope, receive, send)


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False
    opt = PUBLIC


def app_resources(settings: Settings) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        use_bounded_database(
            settings.database_url or "",
            connect_timeout_ms=settings.database_connect_timeout_ms,
            statement_timeout_ms=settings.database_statement_timeout_ms,
        )
        await DB.start_connection_pool(
            min_size=2,
            max_size=settings.database_pool_size,
            acquire_timeout=settings.database_acquire_timeout_ms / 1000,
        )
        use_read_replica(
            settings.read_replica_url,
            connect_timeout_ms=settings.database_connect_timeout_ms,
            statement_timeout_ms=settings.database_statement_timeout_ms,
        )
        await start_replica_pool(
            max(2, settings.database_pool_size // 4), settings.database_acquire_timeout_ms / 1000
        )
        # Connects on first use: the API starts, and the door works, while Redis is away.
        redis = redis_client(settings.redis_url or "", settings.redis_timeout_ms)
        app.state.db = DB
        app.state.redis = redis
        # Signs passes; its public halves go to pass_key, where scanners and the server read them.
        keyring = Keyring.from_settings(
            settings.pass_signing_keys, settings.data_dir, generate=settings.mode != "production"
        )
        if keyring.keys:
            await publish(keyring)
        app.state.keyring = keyring
        # Who tokens name, remembered until PostgreSQL notifies a change (off at 0).
        principal_cache = PrincipalCache(settings.auth_cache_ms / 1000)
        principal_cache.start(DB.get_new_connection)
        app.state.principal_cache = principal_cache
        try:
            yield
        finally:
            await principal_cache.stop()
            await redis.aclose()
            await close_replica_pool()
            await DB.close_connection_pool()

    return lifespan


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load()
    settings.check()
    configure_logs(settings.log_level, settings.log_json)
    # The pages' catalogues also word the API's problem details (service.kernel.problem_responses).
    use_catalogues(LOCALE_DIR)
    api = Router(
        path=API_PREFIX,
        route_handlers=[
            *booking_controllers.API_CONTROLLERS,
            *BILLING_API_CONTROLLERS,
            *STRIPE_API_CONTROLLERS,
            *SCAN_API_CONTROLLERS,
            *PASS_API_CONTROLLERS,
            *DOOR_DEVICE_API_CONTROLLERS,
            *PERSONAL_DATA_API_CONTROLLERS,
            AuditController,
        ],
    )
    app = PassTiersLieux(
        route_handlers=[
            api,
            HealthController,
            MetricsController,
            *booking_controllers.PUBLIC_CONTROLLERS,
            *web_routers(),
        ],
        lifespan=[app_resources(settings)],
        middleware=[
            RequestContextMiddleware(),
            DefineMiddleware(
                AuthMiddleware, user_lookup=user_principal, device_lookup=device_principal
            ),
            PrometheusConfig(
                app_name="tierslieux", prefix="tierslieux", group_path=True
            ).middleware,
        ],
        guards=[authorize],
        dependencies={"principal": Provide(provide_principal)},
        exception_handlers=problem_responses.EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        template_config=template_config(),
        # Page forms carry a token; the API authenticates with bearer tokens, which a
        # cross-site form cannot send, so it is left out. piccolo-admin checks its own
        # double-submit token (web/network_admin.py).
        csrf_config=CSRFConfig(
            secret=settings.secret_key + ":csrf",
            exclude=["^/api/", "^/network/admin/"],
            cookie_secure=settings.base_url.startswith("https://"),
            cookie_httponly=True,
        ),
        openapi_config=OpenAPIConfig(
            title="Pass Tiers-Lieux API",
            version="1.0.0",
            description="Book workspaces across the network, scan passes, reconcile the month.",
            path="/schema",
            openapi_router=Router(
                path="/schema", route_handlers=[], opt=PUBLIC, include_in_schema=False
            ),
            render_plugins=[JsonRenderPlugin(), SwaggerRenderPlugin()],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"bearer": []}],
        ),
        cors_config=None,
        request_class=ServiceRequest,
        state=State({"settings": settings}),
        logging_config=None,
        debug=False,
    )
    app.state.party_exists = party_exists
    app.security_headers = SecurityHeaders(
        https=settings.base_url.startswith("https://"),
        api_prefix=API_PREFIX + "/",
        policies=_OWN_POLICIES,
        # The street map's tiles come from the tile server the settings name.
        image_origins=[o for o in (tile_origin(settings.map_tile_url),) if o],
    )
    document_problems(app)
    return app


def app_from_env() -> Litestar:
    """Entry point for `uvicorn --factory`: one app for the life of its process."""
    app = create_app()
    # What start-up built (modules, routes, schemas, catalogues: about 230,000 objects) lives
    # as long as the process, but each full collection of the cyclic garbage collector walked
    # all of it again: 100-200 ms with the event loop stopped, a few times a minute under
    # load, which was the door scan's p99 (docs/performance.md). Frozen, the collector walks
    # only what requests leave behind. Not in create_app: tests build many apps per process.
    gc.collect()
    gc.freeze()
    return app
