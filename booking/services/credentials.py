"""What a person does to their own credentials: a forgotten password, a new password or email,
their sessions and their language.

Links sent by mail carry a random secret; only its SHA-256 is stored, each link serves once
and for a limited time. Every change of password or email raises the person's session
generation (the trigger on `app_user`), which ends every session and token issued before.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from piccolo.columns.combination import WhereRaw
from redis.asyncio import Redis

from booking.errors import DuplicateEmail, LinkExpired, LinkInvalid, LinkUsed, WrongCurrentPassword
from booking.services import accounts, feeds
from booking.services.accounts import hash_token, now
from booking.tables import EmailChange, Outbox, PasswordReset, User, UserSession
from service.kernel import audit
from service.kernel.errors import InvalidCredentials, InvalidValue
from service.kernel.i18n import N_
from service.kernel.settings import Settings
from service.kernel.throttle import HourlyQuota, LoginThrottle

RESET_VALIDITY = timedelta(hours=1)
EMAIL_CHANGE_VALIDITY = timedelta(hours=24)
# Reset mails asked for one email (whoever asks) and from one address, per hour.
RESETS_PER_EMAIL = 3
RESETS_PER_ADDRESS = 20
LANGUAGES = ("fr", "en")


def reset_quota(redis: Redis) -> HourlyQuota:
    return HourlyQuota(
        redis, "password-reset", per_email=RESETS_PER_EMAIL, per_address=RESETS_PER_ADDRESS
    )


async def throttle_reset_request(redis: Redis, email: str, client: str) -> None:
    """Count a reset request; TooManyAttempts past the hour's quota (same for every email)."""
    await reset_quota(redis).spend(email, client)


async def send_reset_link(email: str, base_url: str) -> None:
    """Mail a one-hour, single-use reset link if an active account has this email; else nothing.

    Called after the answer has gone (the answer is the same for every email), so neither its
    words nor its timing tell whether the account exists.
    """
    try:
        email = accounts.normalise_email(email)
    except InvalidValue:
        return
    user = (
        await User.objects()
        .where(WhereRaw("lower(email) = lower({})", email) & (User.active == True))  # noqa: E712
        .first()
    )
    if user is None:
        return
    token = secrets.token_urlsafe(32)
    async with User._meta.db.transaction():
        await PasswordReset.insert(
            PasswordReset(
                account=user.id, token_hash=hash_token(token), expires_at=now() + RESET_VALIDITY
            )
        )
        await Outbox(
            kind="password_reset",
            recipient=user.email,
            subject="Choisir un nouveau mot de passe — Pass Tiers-Lieux",
            body=(
                f"Bonjour {user.display_name},\n\n"
                "Quelqu'un (vous, sans doute) a demandé à changer le mot de passe de votre compte "
                "Pass Tiers-Lieux. Pour en choisir un nouveau, ouvrez ce lien dans l'heure :\n\n"
                f"{base_url}/password-reset/{token}\n\n"
                "Le lien ne sert qu'une fois. Si vous n'avez rien demandé, ignorez ce message : "
                "votre mot de passe reste le même.\n\n"
                "---\n"
                "Someone (probably you) asked to change the password of your Pass Tiers-Lieux "
                "account. Open the link above within the hour to choose a new one; if you did "
                "not ask, ignore this message.\n"
            ),
        ).save()
        await audit.record(audit.SYSTEM, "password.reset_requested", "user", user.id)


async def _spend_link(table: type[PasswordReset] | type[EmailChange], token: str) -> Any:
    """Lock the link's row and mark it used; LinkInvalid, LinkExpired or LinkUsed otherwise."""
    rows = await table.raw(
        f"SELECT * FROM {table._meta.tablename} WHERE token_hash = {{}} FOR UPDATE",
        hash_token(token),
    )
    if not rows:
        raise LinkInvalid(field="token")
    row = rows[0]
    if row["used_at"] is not None:
        raise LinkUsed(field="token")
    if row["expires_at"] <= now():
        raise LinkExpired(field="token")
    await table.update({table.used_at: now()}).where(table.id == row["id"])
    return row


async def reset_password(token: str, password: str) -> uuid.UUID:
    """Set a new password from a reset link; every session and other reset link of the person ends."""
    password_hash = accounts.hash_password(password)
    async with User._meta.db.transaction():
        row = await _spend_link(PasswordReset, token)
        user_id: uuid.UUID = row["account"]
        active = await User.exists().where((User.id == user_id) & (User.active == True))  # noqa: E712
        if not active:
            raise LinkInvalid(field="token")
        # The trigger on app_user raises the session generation: every token dies.
        await User.update(
            {User.password_hash: password_hash, User.invitation_token_hash: None}
        ).where(User.id == user_id)
        await PasswordReset.update({PasswordReset.used_at: now()}).where(
            (PasswordReset.account == user_id) & PasswordReset.used_at.is_null()
        )
        person = audit.Actor("person", user_id, None)
        await audit.record(person, "password.reset", "user", user_id)
        await feeds.revoke_all_created_by(user_id, person)
    return user_id


async def check_current_password(
    settings: Settings, redis: Redis, user_id: uuid.UUID, password: str, client: str
) -> User:
    """The person, if `password` is theirs; failures count like failed sign-ins (throttled)."""
    user = await accounts.user_of(user_id)
    if user is None:
        raise WrongCurrentPassword(field="current_password")
    throttle = LoginThrottle(redis, settings.login_free_attempts)
    await throttle.check(user.email, client)
    try:
        await accounts.authenticate(user.email, password, allow_demo_accounts=settings.is_demo)
    except InvalidCredentials:
        await throttle.failed(user.email, client)
        raise WrongCurrentPassword(field="current_password") from None
    return user


async def change_password(
    settings: Settings,
    redis: Redis,
    user_id: uuid.UUID,
    current: str,
    new: str,
    client: str,
    *,
    user_agent: str = "",
) -> tuple[str, int]:
    """A new password (the current one asked): every session ends; a new one for this browser."""
    password_hash = accounts.hash_password(new)
    await check_current_password(settings, redis, user_id, current, client)
    async with User._meta.db.transaction():
        await User.update({User.password_hash: password_hash}).where(User.id == user_id)
        await audit.act("password.change", "user", user_id)
        user = await accounts.user_of(user_id)
        assert user is not None
        return await accounts.open_session(settings, user, user_agent=user_agent)


async def request_email_change(
    settings: Settings,
    redis: Redis,
    user_id: uuid.UUID,
    new_email: str,
    password: str,
    client: str,
) -> None:
    """Send a confirmation link to the new address and tell the old one; nothing changes yet."""
    new_email = accounts.normalise_email(new_email)
    user = await check_current_password(settings, redis, user_id, password, client)
    if new_email.lower() == user.email.lower():
        raise InvalidValue(N_("This is already your email address."), field="email")
    # An address held by someone else is not refused here, which would tell who has an
    # account; its owner gets a link that cannot be used (refused at confirmation).
    token = secrets.token_urlsafe(32)
    async with User._meta.db.transaction():
        await EmailChange.insert(
            EmailChange(
                account=user.id,
                new_email=new_email,
                token_hash=hash_token(token),
                expires_at=now() + EMAIL_CHANGE_VALIDITY,
            )
        )
        await Outbox(
            kind="email_change_confirm",
            recipient=new_email,
            subject="Confirmer votre nouvelle adresse — Pass Tiers-Lieux",
            body=(
                f"Bonjour {user.display_name},\n\n"
                "Pour que cette adresse devienne celle de votre compte Pass Tiers-Lieux, "
                "ouvrez ce lien dans les 24 heures :\n\n"
                f"{settings.base_url}/account/email/{token}\n\n"
                "Si vous n'avez rien demandé, ignorez ce message.\n\n"
                "---\n"
                "Open the link above within 24 hours to make this address your Pass "
                "Tiers-Lieux account's; if you did not ask, ignore this message.\n"
            ),
        ).save()
        await Outbox(
            kind="email_change_requested",
            recipient=user.email,
            subject="Changement d'adresse demandé — Pass Tiers-Lieux",
            body=(
                f"Bonjour {user.display_name},\n\n"
                "Un changement de l'adresse de votre compte Pass Tiers-Lieux a été demandé. "
                "Il ne prendra effet que si le lien envoyé à la nouvelle adresse est ouvert. "
                "Si ce n'est pas vous, changez votre mot de passe et prévenez le réseau.\n\n"
                "---\n"
                "A change of your account's email address was asked for; it takes effect only "
                "once the link sent to the new address is opened. If this was not you, change "
                "your password and tell the network.\n"
            ),
        ).save()
        await audit.act("email.change_requested", "user", user.id)


async def confirm_email_change(token: str) -> uuid.UUID:
    """Make the new address the account's; every session ends; the old address is told."""
    async with User._meta.db.transaction():
        row = await _spend_link(EmailChange, token)
        user = await accounts.user_of(row["account"])
        if user is None or not user.active:
            raise LinkInvalid(field="token")
        if await accounts.email_taken(row["new_email"]):
            raise DuplicateEmail(field="email")
        old_email = user.email
        await User.update({User.email: row["new_email"]}).where(User.id == user.id)
        await Outbox(
            kind="email_changed",
            recipient=old_email,
            subject="Votre adresse a changé — Pass Tiers-Lieux",
            body=(
                f"Bonjour {user.display_name},\n\n"
                "Votre compte Pass Tiers-Lieux utilise désormais une autre adresse ; "
                "celle-ci ne reçoit plus ses messages. Si ce n'est pas vous, prévenez le réseau.\n\n"
                "---\n"
                "Your Pass Tiers-Lieux account now uses another email address. If this was not "
                "you, tell the network.\n"
            ),
        ).save()
        await audit.record(
            audit.Actor("person", user.id, user.role),
            "email.change",
            "user",
            user.id,
            before={"email": old_email},
            after={"email": row["new_email"]},
        )
    return user.id


@dataclass(frozen=True)
class ActiveSession:
    id: uuid.UUID
    created_at: datetime
    expires_at: datetime
    user_agent: str
    method: str


async def active_sessions(user_id: uuid.UUID) -> list[ActiveSession]:
    """The person's sessions still usable: current generation, not signed out, not expired."""
    rows = await UserSession.raw(
        """
        SELECT s.id, s.created_at, s.expires_at, s.user_agent, s.method
          FROM user_session s JOIN app_user u ON u.id = s.account
         WHERE s.account = {} AND s.generation = u.session_generation AND u.active
           AND s.expires_at > now()
           AND NOT EXISTS (SELECT 1 FROM ended_session e WHERE e.id = s.id)
         ORDER BY s.created_at DESC
        """,
        user_id,
    )
    return [ActiveSession(**row) for row in rows]


async def sign_out_everywhere(user_id: uuid.UUID) -> None:
    async with User._meta.db.transaction():
        await accounts.end_sessions(user_id)
        await audit.act("session.end_all", "user", user_id)
        await feeds.revoke_all_created_by(user_id)


async def set_language(user_id: uuid.UUID, language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidValue(N_("This language is not offered."), field="language")
    await User.update({User.language: language}).where(User.id == user_id)
