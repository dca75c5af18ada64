"""Who is asking: the principal every service function receives, and the roles."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    VENUE_STAFF = "venue_staff"
    VENUE_ADMIN = "venue_admin"
    ORG_ADMIN = "org_admin"
    NETWORK_ADMIN = "network_admin"


VENUE_ROLES = frozenset({Role.VENUE_STAFF, Role.VENUE_ADMIN})
ORGANISATION_ROLES = frozenset({Role.AGENT, Role.ORG_ADMIN})


@dataclass(frozen=True)
class Principal:
    """An authenticated user, or a door device (role None, `device_id` set)."""

    role: Role | None
    user_id: uuid.UUID | None = None
    venue_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    device_id: uuid.UUID | None = None
    display_name: str = ""

    @property
    def is_device(self) -> bool:
        return self.device_id is not None

    @property
    def is_network_admin(self) -> bool:
        return self.role == Role.NETWORK_ADMIN

    @property
    def key(self) -> str:
        """A stable string naming this principal (idempotency records, rate limits)."""
        if self.device_id is not None:
            return f"device:{self.device_id}"
        return f"user:{self.user_id}"

    def may_act_for_venue(self, venue_id: uuid.UUID) -> bool:
        return self.is_network_admin or self.venue_id == venue_id

    def may_act_for_organisation(self, organisation_id: uuid.UUID) -> bool:
        return self.is_network_admin or self.organisation_id == organisation_id
