"""The privacy notice: what the pass keeps about people, why, how long, and their rights."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from service.kernel.auth import PUBLIC
from service.kernel.i18n import NC_
from web.pages import page


class PrivacyController(Controller):
    path = "/confidentialite"
    include_in_schema = False

    @get("/", opt=PUBLIC)
    async def notice(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Public: an agent reads it before their first sign-in (docs/privacy.md holds it too)."""
        settings = request.app.state.settings
        return page(
            request,
            "privacy.html",
            title=NC_("page title", "Privacy"),
            network=settings.network_name,
            contact=settings.privacy_email or settings.network_email,
            scan_days=settings.scan_retention_days,
            visit_months=settings.visit_retention_months,
            outbox_days=settings.outbox_retention_days,
            invitation_days=settings.invitation_validity_days,
        )
