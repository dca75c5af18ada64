"""The pages' routes, mounted at the root by the app factory."""

from __future__ import annotations

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.middleware import DefineMiddleware
from litestar.static_files import create_static_files_router

from service.kernel.auth import PUBLIC
from web.controllers.account import (
    AccountController,
    EmailConfirmationController,
    PasswordResetController,
)
from web.controllers.agent import AgentController
from web.controllers.directory import DirectoryController
from web.controllers.home import HomeController
from web.controllers.invitation import InvitationController
from web.controllers.map_assets import MapAssetsController
from web.controllers.meetings import AgentMeetingController, MeetingInvitationController
from web.controllers.network import NetworkController
from web.controllers.network_audit import NetworkAuditController
from web.controllers.network_import import NetworkImportController
from web.controllers.network_money import NetworkMoneyController
from web.controllers.organisation.agents import OrganisationAgentsController
from web.controllers.organisation.enrolment import OrganisationEnrolmentController
from web.controllers.organisation.invoices import OrganisationInvoicesController
from web.controllers.organisation.policy import OrganisationPolicyController
from web.controllers.organisation.usage import OrganisationUsageController
from web.controllers.privacy import PrivacyController
from web.controllers.provider_sign_in import ProviderSignInController
from web.controllers.scanner import ScannerController
from web.controllers.venue.devices import VenueDevicesController
from web.controllers.venue.hours import VenueHoursController
from web.controllers.venue.statements import VenueStatementsController
from web.controllers.venue.workspaces import VenueWorkspacesController
from web.network_admin import NetworkAdminController
from web.pages import EXCEPTION_HANDLERS, STATIC
from web.session import SessionMiddleware

# Page controllers; the consoles of the other roles are added here.
PAGE_CONTROLLERS: list[type] = [
    HomeController,
    InvitationController,
    PasswordResetController,
    AccountController,
    EmailConfirmationController,
    ProviderSignInController,
    PrivacyController,
    AgentController,
    AgentMeetingController,
    MeetingInvitationController,
    VenueWorkspacesController,
    VenueHoursController,
    VenueDevicesController,
    VenueStatementsController,
    OrganisationAgentsController,
    OrganisationPolicyController,
    OrganisationEnrolmentController,
    OrganisationUsageController,
    OrganisationInvoicesController,
    ScannerController,
    DirectoryController,
    MapAssetsController,
    NetworkController,
    NetworkMoneyController,
    NetworkAuditController,
    NetworkImportController,
    NetworkAdminController,
]


def web_routers() -> list[Router]:
    pages = Router(
        path="/",
        route_handlers=PAGE_CONTROLLERS,
        middleware=[DefineMiddleware(SessionMiddleware)],
        exception_handlers=EXCEPTION_HANDLERS,
        include_in_schema=False,
    )
    static = create_static_files_router(
        path="/static",
        directories=[STATIC],
        opt=PUBLIC,
        cache_control=CacheControlHeader(max_age=3600, public=True),
        include_in_schema=False,
    )
    return [pages, static]
