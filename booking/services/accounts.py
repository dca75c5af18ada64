"""Users: creation, password hashing (argon2id), sign-in and sessions, the principal a token names.

A session is an access token: it names its session (`sid`) and the person's session
generation (`gen`). Sign-out records the one session as ended (in PostgreSQL, which every
API process reads); the database raises the generation whenever the password, role,
membership, email or activity changes (a trigger on `app_user`), and `end_sessions` raises
it on purpose, which ends every session issued before. `user_principal` checks both in
the one indexed query that finds the person on every request.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from piccolo.columns.combination import WhereRaw
from redis.asyncio import Redis

from booking.errors import DuplicateEmail
from booking.tables import EndedSession, Organisation, User, UserSession, Venue
from service.kernel.database import fetch_row
from service.kernel.errors import InvalidCredentials, InvalidValue, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import ORGANISATION_ROLES, VENUE_ROLES, Principal, Role
from service.kernel.settings import Settings
from service.kernel.text import CONTROL_CHARACTERS
from service.kernel.throttle import LoginThrottle
from service.kernel.tokens import issue_access_token

_hasher = PasswordHasher()  # argon2id, the library's current recommended parameters
# A hash to verify against when the email is unknown, so that timing does not tell.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10
# An erased person's address is `<pseudonym>@erased.invalid` (RFC 2606: never deliverable);
# nobody may be given an address there, so the domain marks erased accounts alone.
ERASED_DOMAIN = "erased.invalid"


def use_fast_hashing() -> None:
    """Tests only: argon2id with minimal cost, so that hundreds of sign-ins stay fast."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    _DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue(
            N_("The password must have at least %(length)s characters."),
            field="password",
            length=MIN_PASSWORD_LENGTH,
        )
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    email = email.strip()
    local, sep, domain = email.rpartition("@")
    if not sep or not local or "." not in domain or " " in email:
        raise InvalidValue(N_("This is not an email address."), field="email")
    if domain.lower() == ERASED_DOMAIN:
        raise InvalidValue(N_("This is not an email address."), field="email")
    return f"{local}@{domain.lower()}"


def new_pseudonym() -> str:
    # 10 chars of base32: stable, opaque, short enough for a statement line.
    return secrets.token_hex(5).upper()


def hash_token(token: str) -> str:
    """Opaque secrets (invitations, door devices, feed tokens) are stored as SHA-256 only."""
    return hashlib.sha256(token.encode()).hexdigest()


async def email_taken(email: str) -> bool:
    return await User.exists().where(WhereRaw("lower(email) = lower({})", email))


async def create_user(
    *,
    email: str,
    display_name: str,
    role: Role,
    password: str | None = None,
    venue_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None,
    monthly_allowance_units: int | None = None,
) -> User:
    """Create a user tied to exactly the membership its role needs."""
    email = normalise_email(email)
    if CONTROL_CHARACTERS.search(display_name):
        raise InvalidValue(
            N_("A name is one line, without control characters."), field="display_name"
        )
    if role in VENUE_ROLES:
        if venue_id is None or organisation_id is not None:
            raise InvalidValue(N_("Venue roles belong to exactly one venue."), field="venue_id")
        if not await Venue.exists().where(Venue.id == venue_id):
            raise NotFound(N_("No such venue."), field="venue_id")
    elif role in ORGANISATION_ROLES:
        if organisation_id is None or venue_id is not None:
            raise InvalidValue(
                N_("Organisation roles belong to exactly one organisation."),
                field="organisation_id",
            )
        if not await Organisation.exists().where(Organisation.id == organisation_id):
            raise NotFound(N_("No such organisation."), field="organisation_id")
    elif venue_id is not None or organisation_id is not None:
        raise InvalidValue(N_("A network admin belongs to no venue or organisation."), field="role")
    if await email_taken(email):
        raise DuplicateEmail(field="email")
    user = User(
        email=email,
        display_name=display_name.strip() or email,
        password_hash=hash_password(password) if password else None,
        role=role.value,
        venue=venue_id,
        organisation=organisation_id,
        monthly_allowance_units=monthly_allowance_units,
        pseudonym=new_pseudonym(),
    )
    await user.save()
    return user


# Demo accounts have a published password: they may sign in only on a demo instance.
DEMO_ACCOUNT_DOMAIN = "demo.test"


def is_demo_account(email: str) -> bool:
    domain = email.strip().rpartition("@")[2].lower().rstrip(".")
    return domain == DEMO_ACCOUNT_DOMAIN or domain.endswith("." + DEMO_ACCOUNT_DOMAIN)


async def authenticate(email: str, password: str, *, allow_demo_accounts: bool = False) -> User:
    """The active user with this email and password, or InvalidCredentials (same for every cause)."""
    if is_demo_account(email) and not allow_demo_accounts:
        raise InvalidCredentials(
            N_("Demo accounts (@%(domain)s) can sign in only on a demo instance."),
            domain=DEMO_ACCOUNT_DOMAIN,
        )
    user = await User.objects().where(WhereRaw("lower(email) = lower({})", email.strip())).first()
    candidate = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(candidate, password)
    except (VerificationError, InvalidHashError):
        raise InvalidCredentials() from None
    if user is None or not user.password_hash or not user.active:
        raise InvalidCredentials()
    if _hasher.check_needs_rehash(user.password_hash):
        # The same password under newer parameters: no new credential, so the person's other
        # sessions go on (the trigger that ends sessions reads this transaction's flag).
        async with User._meta.db.transaction():
            await User.raw("SELECT set_config('tierslieux.same_password', 'on', true)")
            await User.update({User.password_hash: _hasher.hash(password)}).where(
                User.id == user.id
            )
    return user


async def get_active_user(user_id: uuid.UUID) -> User | None:
    return await User.objects().where((User.id == user_id) & (User.active == True)).first()  # noqa: E712


async def user_of(user_id: uuid.UUID) -> User | None:
    """The user, active or not, as they are stored."""
    return await User.objects().where(User.id == user_id).first()


async def set_password(user_id: uuid.UUID, password: str) -> None:
    """A new password; every session of the person ends, the caller's own included."""
    await User.update({User.password_hash: hash_password(password)}).where(User.id == user_id)


async def end_sessions(user_id: uuid.UUID) -> None:
    """End every session of this person, on every API process (sign out everywhere, erasure)."""
    await User.update({User.session_generation: User.session_generation + 1}).where(
        User.id == user_id
    )


async def end_session(claims: dict[str, Any]) -> None:
    """End the one session these checked token claims name (sign-out); other sessions stay."""
    try:
        session_id = uuid.UUID(str(claims["sid"]))
        user_id = uuid.UUID(str(claims["sub"]))
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (KeyError, ValueError, TypeError):
        return  # a token without a session was never accepted: nothing to end
    # Sessions whose token has expired need no record; sign-outs keep the table small.
    await EndedSession.delete().where(EndedSession.expires_at < now())
    await EndedSession.raw(
        "INSERT INTO ended_session (id, account, expires_at)"
        " SELECT {}, id, {} FROM app_user WHERE id = {} ON CONFLICT (id) DO NOTHING",
        session_id,
        expires_at,
        user_id,
    )


def now() -> datetime:
    return datetime.now(UTC)


async def sign_in(
    settings: Settings,
    redis: Redis,
    email: str,
    password: str,
    client: str,
    *,
    user_agent: str = "",
) -> tuple[str, int]:
    """Check an email and password (throttled) and issue an access token: the API and pages share it."""
    throttle = LoginThrottle(redis, settings.login_free_attempts)
    await throttle.check(email, client)
    try:
        user = await authenticate(email, password, allow_demo_accounts=settings.is_demo)
    except InvalidCredentials:
        await throttle.failed(email, client)
        raise
    await throttle.succeeded(email, client)
    return await open_session(settings, user, user_agent=user_agent)


async def open_session(
    settings: Settings,
    user: User,
    *,
    user_agent: str = "",
    method: str = "password",
    id_token: str | None = None,
) -> tuple[str, int]:
    """Issue a session's token and record it, so that the person sees it on /account."""
    session_id = uuid.uuid4()
    token, expires_in = issue_access_token(
        settings, user.id, user.role, generation=user.session_generation, session_id=session_id
    )
    # Forgotten once expired: the table holds only what may still be in use.
    await UserSession.delete().where(
        (UserSession.account == user.id) & (UserSession.expires_at < now())
    )
    await UserSession.insert(
        UserSession(
            id=session_id,
            account=user.id,
            generation=user.session_generation,
            expires_at=now() + timedelta(seconds=expires_in),
            user_agent=user_agent[:200],
            method=method,
            id_token=id_token,
        )
    )
    return token, expires_in


async def user_principal(claims: dict[str, Any]) -> Principal | None:
    """The active person that checked token claims name, while their session lasts.

    One query by primary keys on every authenticated request: the person is active, the
    token was issued under their current session generation, its session was not signed out.
    """
    try:
        user_id = uuid.UUID(str(claims["sub"]))
        session_id = uuid.UUID(str(claims["sid"]))
        generation = claims["gen"]
    except (KeyError, ValueError, TypeError):
        return None  # issued before sessions existed, or not by us
    if not isinstance(generation, int) or isinstance(generation, bool):
        return None
    user = await fetch_row(
        """
        SELECT id, role, venue, organisation, display_name FROM app_user
         WHERE id = $1 AND active AND session_generation = $2
           AND NOT EXISTS (SELECT 1 FROM ended_session WHERE ended_session.id = $3)
        """,
        user_id,
        generation,
        session_id,
    )
    if user is None:
        return None
    return Principal(
        role=Role(user["role"]),
        user_id=user["id"],
        venue_id=user["venue"],
        organisation_id=user["organisation"],
        display_name=user["display_name"],
    )


async def provider_id_token(claims: dict[str, Any]) -> str | None:
    """The provider's id token of the session these token claims name, if it came from one."""
    try:
        session_id = uuid.UUID(str(claims["sid"]))
    except (KeyError, ValueError):
        return None
    row = await UserSession.select(UserSession.id_token).where(UserSession.id == session_id).first()
    return row["id_token"] if row else None


async def party_exists(kind: str, party_id: uuid.UUID) -> bool:
    """Whether the venue or organisation a network admin's scoped request names exists."""
    table = {"venue": "venue", "organisation": "organisation"}[kind]
    row = await fetch_row(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE id = $1) AS found", party_id)
    return bool(row and row["found"])
