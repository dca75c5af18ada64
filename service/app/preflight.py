"""What a production process checks in the database before it starts serving."""

from __future__ import annotations

import asyncpg

from booking.services.accounts import DEMO_ACCOUNT_DOMAIN


class DemoAccountsPresent(RuntimeError):
    """The database holds the demo's accounts, whose password is published."""


async def refuse_demo_accounts(dsn: str, timeout_s: float) -> bool:
    """Raise DemoAccountsPresent when accounts under `demo.test` exist; False when unchecked.

    Demo accounts cannot sign in outside demo mode, but a production database that holds them
    was seeded by mistake (or is a demo's copy): starting on it is refused. A database that
    does not answer, or is not migrated yet, is left to /readyz and `migrate`: the process
    starts (False), so that a restart does not wait for PostgreSQL.
    """
    try:
        connection = await asyncpg.connect(dsn, timeout=timeout_s)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM app_user WHERE lower(email) LIKE $1 OR lower(email) LIKE $2",
            f"%@{DEMO_ACCOUNT_DOMAIN}",
            f"%.{DEMO_ACCOUNT_DOMAIN}",
            timeout=timeout_s,
        )
    except asyncpg.UndefinedTableError:
        return False
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    finally:
        await connection.close(timeout=timeout_s)
    if count:
        raise DemoAccountsPresent(
            f"DATABASE_URL holds {count} demo account(s) (@{DEMO_ACCOUNT_DOMAIN}) and APP_ENV "
            "is production: start on a database that was never seeded with the demo "
            "(or use APP_ENV=demo)."
        )
    return True
