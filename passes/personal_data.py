"""A person's rights over their data: access (an export of everything held) and erasure.

Access (RGPD art. 15): `export` gathers the account, bookings, visits, door scans, passes
by serial, the emails sent to the person, the sessions signed out and still remembered,
the organisation's policy applied to them and the audit rows about them, as a zip of one
JSON file and readable CSV files.

Erasure (RGPD art. 17): `erase` cancels the bookings still to come (venues and calendars
see the cancellation), revokes the pass, replaces the name and email by the pseudonym,
removes the password and invitation, deactivates the account and ends every session, and
withdraws the person's name and address from the outbox and the idempotency records.
Visits and usage keep pointing to the now pseudonymous account, so a month not yet closed
still bills them; issued documents stay as issued (legal obligation to keep accounting
records, Code de commerce L123-22). An erased account is answered 410 Gone afterwards.

Both acts write one audit row in their own transaction.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from booking.jobs import MAX_ATTEMPTS
from booking.services import accounts, cancellations
from booking.tables import User
from passes import services as pass_services
from service.kernel import audit
from service.kernel.csv_export import csv_records
from service.kernel.errors import Conflict, DomainError, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import Principal, Role
from service.kernel.problems import register

ERASED_DOMAIN = accounts.ERASED_DOMAIN
PARIS = ZoneInfo("Europe/Paris")  # series count in the network's local dates
WITHDRAWN = "(retiré : données personnelles effacées)"


class PersonErased(DomainError):
    default_detail = N_("This person's data has been erased.")


class LastNetworkAdmin(Conflict):
    default_detail = N_("The last network admin cannot be erased.")


register(PersonErased, "person-erased", 410, "Person erased")
register(LastNetworkAdmin, "last-network-admin", 409, "Last network admin")


def is_erased(user: dict[str, Any]) -> bool:
    return str(user["email"]).endswith("@" + ERASED_DOMAIN)


async def subject(user_id: uuid.UUID, organisation_id: uuid.UUID | None) -> dict[str, Any]:
    """The person (an agent of this organisation when one is given), or 404; 410 once erased."""
    user = await User.select().where(User.id == user_id).first()
    if user is None or (
        organisation_id is not None
        and (user["organisation"] != organisation_id or user["role"] != Role.AGENT.value)
    ):
        raise NotFound(N_("No such person."))
    if is_erased(user):
        raise PersonErased()
    return user


# Access


@dataclass(frozen=True)
class Section:
    name: str
    query: str


SECTIONS = [
    Section(
        "bookings",
        """
        SELECT b.id, b.local_date, b.starts_at, b.ends_at, b.slot, b.unit, b.quantity,
               b.status, v.name AS venue, v.commune, w.name AS workspace, w.kind AS workspace_kind,
               b.walk_in, b.created_at, b.cancelled_at, b.cancel_reason,
               b.checked_in_at, b.checked_out_at
          FROM booking b JOIN venue v ON v.id = b.venue JOIN workspace w ON w.id = b.workspace
         WHERE b.agent = {} ORDER BY b.starts_at
        """,
    ),
    Section(
        "visits",
        """
        SELECT t.id, t.local_date, v.name AS venue, v.commune, w.name AS workspace, t.unit,
               t.quantity, t.walk_in, t.checked_in_at, t.checked_out_at, t.billable,
               t.organisation_rate_cents, t.booking
          FROM visit t JOIN venue v ON v.id = t.venue JOIN workspace w ON w.id = t.workspace
         WHERE t.agent = {} ORDER BY t.checked_in_at
        """,
    ),
    Section(
        "scans",
        """
        SELECT s.scan_id, s.scanned_at, v.name AS venue, s.direction, s.serial, s.admitted,
               s.reason, s.offline, s.received_at,
               CASE WHEN s.agent = {} THEN 'my_pass' ELSE 'scanned_by_me' END AS role
          FROM scan s JOIN venue v ON v.id = s.venue
         WHERE s.agent = {} OR s.scanned_by = {} ORDER BY s.scanned_at
        """,
    ),
    Section(
        "passes",
        """
        SELECT serial, status, not_before, not_after, issued_at, status_changed_at, status_reason
          FROM pass WHERE agent = {} ORDER BY serial
        """,
    ),
    Section(
        "meetings",
        """
        SELECT a.booking, b.starts_at, b.ends_at, v.name AS venue, w.name AS room, a.role,
               a.partstat, a.invited_at, a.answered_at, a.removed_at, a.email, a.display_name
          FROM meeting_attendee a JOIN booking b ON b.id = a.booking
          JOIN venue v ON v.id = b.venue JOIN workspace w ON w.id = b.workspace
         WHERE a.person = {} ORDER BY b.starts_at
        """,
    ),
    Section(
        "emails",
        """
        SELECT o.id, o.kind, o.created_at, o.sent_at, o.recipient, o.subject, o.body
          FROM outbox o, app_user u
         WHERE u.id = {} AND lower(o.recipient) = lower(u.email) ORDER BY o.created_at
        """,
    ),
    Section(
        "sign_ins",
        """
        SELECT id AS session, expires_at FROM ended_session WHERE account = {} ORDER BY expires_at
        """,
    ),
    Section(
        "open_sessions",
        """
        SELECT id AS session, created_at, expires_at, user_agent, method
          FROM user_session WHERE account = {} ORDER BY created_at
        """,
    ),
    Section(
        "email_changes",
        """
        SELECT new_email, created_at, expires_at, used_at
          FROM email_change WHERE account = {} ORDER BY created_at
        """,
    ),
    Section(
        "calendar_feeds",
        "SELECT id, kind, created_at FROM calendar_feed WHERE agent = {} ORDER BY created_at",
    ),
    Section(
        "audit",
        """
        SELECT id, at, actor_kind, actor_role, action, object_type, object_id, changes
          FROM audit_entry WHERE actor = {} OR object_id = ({}::uuid)::text ORDER BY id
        """,
    ),
]

POLICY = """
SELECT o.name, o.monthly_allowance_units, o.booking_horizon_days,
       o.cancellation_deadline_hours, o.bill_no_shows, o.bill_late_cancellations,
       u.monthly_allowance_units AS my_monthly_allowance_units
  FROM app_user u JOIN organisation o ON o.id = u.organisation WHERE u.id = {}
"""

ACCOUNT_FIELDS = (
    "id",
    "email",
    "display_name",
    "role",
    "pseudonym",
    "active",
    "created_at",
    "deactivated_at",
    "monthly_allowance_units",
    "organisation",
    "venue",
    "language",
    "oidc_issuer",
    "oidc_subject",
    "enrolled_by_siret",
)

README = """Données personnelles détenues par le Pass Tiers-Lieux (RGPD, article 15)

data.json : tout, en un fichier (compte, réservations, visites, passages aux portes, pass,
réunions auxquelles vous êtes invité(e), courriels envoyés, sessions, politique de l'organisation, journal d'audit vous concernant).
Les fichiers .csv (séparateur ;) reprennent chaque partie pour un tableur.

Les factures et relevés émis ne sont pas joints : ce sont des documents comptables de
l'organisation et des lieux, conservés dix ans (Code de commerce, art. L123-22).
"""


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    if isinstance(value, bool):
        return "oui" if value else "non"
    return value


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    return csv_records(columns, [{k: _cell(v) for k, v in row.items()} for row in rows])


async def collect(user_id: uuid.UUID) -> dict[str, Any]:
    """Everything held about the person, as plain JSON values."""
    user = await User.select().where(User.id == user_id).first()
    assert user is not None
    data: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(),
        "account": {name: user[name] for name in ACCOUNT_FIELDS},
    }
    for section in SECTIONS:
        # The query names the person at each `{}`.
        rows = await User.raw(section.query, *[user_id] * section.query.count("{}"))
        if section.name == "audit":
            for row in rows:
                if isinstance(row["changes"], str):
                    row["changes"] = json.loads(row["changes"])
        data[section.name] = rows
    policy = await User.raw(POLICY, user_id)
    data["organisation_policy"] = policy[0] if policy else None
    result: dict[str, Any] = json.loads(json.dumps(data, default=_json_default))
    return result


async def export(actor: Principal, user_id: uuid.UUID, organisation_id: uuid.UUID | None) -> bytes:
    """The zip of everything held about the person; one audit row `person.export`."""
    async with User._meta.db.transaction():
        await subject(user_id, organisation_id)
        data = await collect(user_id)
        await audit.record(actor, "person.export", "user", user_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("LISEZMOI.txt", README)
        archive.writestr(
            "data.json", json.dumps(data, ensure_ascii=False, indent=2, default=_json_default)
        )
        archive.writestr("account.csv", _csv([data["account"]], list(ACCOUNT_FIELDS)))
        for section in SECTIONS:
            rows = data[section.name]
            columns = list(rows[0]) if rows else _columns_of(section.query)
            archive.writestr(f"{section.name}.csv", _csv(rows, columns))
        policy = data["organisation_policy"]
        if policy is not None:
            archive.writestr("organisation_policy.csv", _csv([policy], list(policy)))
    return buffer.getvalue()


def _columns_of(query: str) -> list[str]:
    """The output names of a section's SELECT, for the header of an empty CSV."""
    select = query.split("SELECT", 1)[1].split("FROM", 1)[0]
    names = []
    depth = 0
    current = ""
    for char in select:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            names.append(current)
            current = ""
        else:
            current += char
    names.append(current)
    return [n.strip().split()[-1].split(".")[-1] for n in names]


# Erasure


async def erase(
    actor: Principal,
    user_id: uuid.UUID,
    organisation_id: uuid.UUID | None,
    *,
    base_url: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Erase the person (see the module's doc); one audit row `person.erase`."""
    now = now or datetime.now(UTC)
    async with User._meta.db.transaction():
        role = await User.select(User.role).where(User.id == user_id).first()
        if role is not None and role["role"] == Role.NETWORK_ADMIN.value:
            # Every network admin's row is locked, always in one order and before the person's
            # own: two erasures of the last two admins serialise, and the second one sees it
            # would leave none.
            await User.raw(
                "SELECT id FROM app_user WHERE role = 'network_admin' ORDER BY id FOR UPDATE"
            )
        await User.raw("SELECT id FROM app_user WHERE id = {} FOR UPDATE", user_id)
        user = await subject(user_id, organisation_id)
        if user["role"] == Role.NETWORK_ADMIN.value:
            others = await User.raw(
                "SELECT id, email FROM app_user WHERE role = 'network_admin' AND active"
                " AND id <> {}",
                user_id,
            )
            if not [a for a in others if not is_erased(a)]:
                raise LastNetworkAdmin()
        cancelled = await cancellations.cancel_for_erasure(
            user_id, actor.user_id, base_url=base_url, now=now
        )
        today = now.astimezone(PARIS).date()
        await User.raw(
            "UPDATE booking_series SET cancelled_from = {} "
            "WHERE agent = {} AND (cancelled_from IS NULL OR cancelled_from > {})",
            today,
            user_id,
            today,
        )
        await pass_services.revoke_for_agent(user_id, "erased")
        pseudonym = user["pseudonym"]
        new_email = f"{pseudonym.lower()}@{ERASED_DOMAIN}"
        # Invitations to others' meetings: the person leaves those still to come (an
        # organiser's role goes back to the booking's holder) and no row names them any more.
        await User.raw(
            """
            UPDATE meeting_attendee a
               SET email = {}, display_name = {}, role = 'attendee',
                   removed_at = CASE WHEN a.removed_at IS NULL AND b.ends_at > {} THEN {}
                                     ELSE a.removed_at END
              FROM booking b WHERE b.id = a.booking AND a.person = {}
            """,
            new_email,
            pseudonym,
            now,
            now,
            user_id,
        )
        await User.raw(
            """
            UPDATE meeting_attendee a SET role = 'organiser'
              FROM booking b
             WHERE b.id = a.booking AND a.person = b.agent AND a.removed_at IS NULL
               AND a.booking IN (SELECT booking FROM meeting_attendee WHERE person = {})
               AND NOT EXISTS (SELECT 1 FROM meeting_attendee o WHERE o.booking = a.booking
                                  AND o.role = 'organiser' AND o.removed_at IS NULL)
            """,
            user_id,
        )
        # Messages to the person: a sent one is a record that it was sent (kind, dates stay),
        # its address and words go; an unsent one is withdrawn, never to be delivered.
        await User.raw(
            """
            UPDATE outbox SET recipient = {}, subject = {}, body = {}, calendar = NULL,
                   last_error = CASE WHEN sent_at IS NULL THEN 'withdrawn: person erased'
                                     ELSE last_error END,
                   attempts = CASE WHEN sent_at IS NULL THEN {} ELSE attempts END
             WHERE lower(recipient) = lower({})
            """,
            new_email,
            WITHDRAWN,
            WITHDRAWN,
            MAX_ATTEMPTS,  # the sender never picks it up again
            user["email"],
        )
        # Replayable answers that named the person (an invitation, an edit) are forgotten.
        await User.raw(
            """
            DELETE FROM idempotency_record
             WHERE principal = {}
                OR position(convert_to({}, 'UTF8') in response_body) > 0
                OR position(convert_to({}, 'UTF8') in response_body) > 0
            """,
            f"user:{user_id}",
            user["email"],
            user["display_name"],
        )
        await User.raw("DELETE FROM ended_session WHERE account = {}", user_id)
        # Links waiting in mailboxes (a new address among them) and the list of sessions go too.
        for table in ("password_reset", "email_change", "user_session"):
            await User.raw(f"DELETE FROM {table} WHERE account = {{}}", user_id)
        await User.update(
            {
                User.email: new_email,
                User.display_name: pseudonym,
                User.password_hash: None,
                User.invitation_token_hash: None,
                # The provider identity would name the person again at their next sign-in.
                User.oidc_issuer: None,
                User.oidc_subject: None,
                User.language: None,
                User.active: False,
                User.deactivated_at: user["deactivated_at"] or now,
            }
        ).where(User.id == user_id)
        await accounts.end_sessions(user_id)
        await audit.record(
            actor,
            "person.erase",
            "user",
            user_id,
            before={
                "email": user["email"],
                "display_name": user["display_name"],
                "active": user["active"],
            },
            after={"email": new_email, "display_name": pseudonym, "active": False},
        )
    return {"id": str(user_id), "pseudonym": pseudonym, "cancelled_bookings": cancelled}
