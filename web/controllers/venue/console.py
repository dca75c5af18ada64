"""What the venue console's pages share: the access rule, the admin's own venue, done messages.

A venue admin sees and changes their own venue only: the venue comes from the session,
never from the address, so there is no other venue's id to try.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request

from service.kernel.auth import allow
from service.kernel.identity import Principal, Role
from web.console_flow import done_message
from web.i18n import Message
from web.labels import VENUE_DONE

VENUE_ADMIN = allow(Role.VENUE_ADMIN)
DONE = (
    "workspace_added",
    "workspace_saved",
    "workspace_deactivated",
    "workspace_reactivated",
    "hours_saved",
    "closure_added",
    "closure_removed",
    "device_revoked",
)


def venue_of(principal: Principal) -> uuid.UUID:
    assert principal.venue_id is not None  # venue admins always belong to a venue
    return principal.venue_id


def done(request: Request[Any, Any, Any]) -> Message | None:
    return done_message(request, VENUE_DONE, DONE)
