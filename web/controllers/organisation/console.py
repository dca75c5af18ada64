"""What the organisation console's pages share: the access rule, the admin's own organisation.

An organisation admin sees and changes their own organisation only: it comes from the
session, never from the address.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request

from service.kernel.auth import allow
from service.kernel.identity import Principal, Role
from web.console_flow import done_message
from web.i18n import Message
from web.labels import ORG_DONE

ORG_ADMIN = allow(Role.ORG_ADMIN)
DONE = ("deactivated", "reactivated", "policy_saved", "erased")


def organisation_of(principal: Principal) -> uuid.UUID:
    assert principal.organisation_id is not None  # organisation admins always belong to one
    return principal.organisation_id


def done(request: Request[Any, Any, Any]) -> Message | None:
    return done_message(request, ORG_DONE, DONE)
