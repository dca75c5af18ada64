"""The `tierslieux` command: demo, serve, worker, migrate, backup, restore, user create (and billing)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import uuid
from pathlib import Path
from typing import NoReturn

import asyncpg
import click

from billing.cli import billing as billing_commands
from passes.cli import passes as passes_commands
from service.kernel.settings import Settings, SettingsError, load


class ConfigurationProblem(click.ClickException):
    """The environment does not let the command run; exit code 2, like a usage error."""

    exit_code = 2


def _settings() -> Settings:
    """The environment's settings, checked for the mode; a clear message instead of a traceback."""
    from service.app.demo import DemoFailed, demo_secret

    try:
        settings = load()
        if settings.mode == "demo" and not os.environ.get("SECRET_KEY"):
            # Started by hand in demo mode, the API and the worker sign with the key that
            # `tierslieux demo` keeps in DATA_DIR, so tokens stay valid across them.
            os.environ["SECRET_KEY"] = demo_secret(settings.data_dir)
            settings = load()
        settings.check()
    except (SettingsError, DemoFailed) as error:
        raise ConfigurationProblem(str(error)) from None
    return settings


def _production_refusals(settings: Settings) -> None:
    """In production, refuse the demo's secret and a database holding the demo's accounts."""
    from service.app.preflight import DemoAccountsPresent, refuse_demo_accounts

    if settings.mode != "production":
        return
    from service.app.demo import SECRET_FILE

    demo_secret_file = settings.data_dir / SECRET_FILE
    if demo_secret_file.is_file() and demo_secret_file.read_text().strip() == settings.secret_key:
        raise ConfigurationProblem(
            f"SECRET_KEY is the demo's secret ({demo_secret_file}): generate a new one for "
            "production (python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    if not settings.database_url:
        return
    timeout = max(settings.database_connect_timeout_ms / 1000, 2.0)
    try:
        asyncio.run(refuse_demo_accounts(settings.database_url, timeout))
    except DemoAccountsPresent as error:
        raise ConfigurationProblem(str(error)) from None


class Undecided(click.ClickException):
    """A check that could not tell (the server did not answer): exit code 2, not 1."""

    exit_code = 2


def _fail(message: str) -> NoReturn:
    raise click.ClickException(message)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Pass Tiers-Lieux: book workspaces across a network of third places."""


def _frontend() -> None:
    """The pages' browser packages (the scanner's QR decoder), installed from their lock file."""
    from web.assets import FrontendMissing, ensure_frontend

    try:
        ensure_frontend()
    except FrontendMissing as error:
        raise click.ClickException(str(error)) from None


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def demo(host: str, port: int) -> None:
    """Run everything with demo data: embedded PostgreSQL and Redis unless DATABASE_URL and
    REDIS_URL are set, the API and a worker. Ctrl-C stops it all."""
    from service.app.demo import run

    _frontend()
    sys.exit(run(host, port))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Serve the API (production mode unless APP_ENV says otherwise)."""
    import uvicorn

    settings = _settings()
    _production_refusals(settings)
    _frontend()
    proxies = [str(network) for network in settings.trusted_proxies]
    uvicorn.run(
        "service.app.factory:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # One JSON line per request comes from our own middleware.
        access_log=False,
        # The scheme (X-Forwarded-Proto) and client (X-Forwarded-For) are believed from
        # TRUSTED_PROXIES only, the same proxies as service.kernel.addresses believes.
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        log_level="warning",
    )


@main.command()
def worker() -> None:
    """Run the background jobs (arq worker; several may run side by side)."""
    settings = _settings()  # first: a bad setting is a clear error, not a traceback
    if not settings.redis_url:
        raise ConfigurationProblem("REDIS_URL must be set for the worker.")
    _production_refusals(settings)

    from service.app.worker import create_worker, cron_jobs

    # arq logs through the standard library; show its start, stops and failed jobs.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    create_worker(settings.redis_url, cron_jobs=cron_jobs(settings)).run()


@main.command()
@click.option(
    "--check",
    is_flag=True,
    help="Change nothing; exit 1 and list the pending migrations if there are any.",
)
def migrate(check: bool) -> None:
    """Create the database named in DATABASE_URL if missing, and apply pending migrations."""
    from service.app.demo import mask_password
    from service.kernel.database import MigrationFailed, ensure_database, pending_migrations
    from service.kernel.database import migrate as apply_migrations

    url = _database_url()
    if check:
        try:
            pending = asyncio.run(pending_migrations(url))
        except asyncpg.PostgresError as error:
            raise Undecided(f"database error: {error}") from None
        except OSError as error:
            raise Undecided(f"cannot reach PostgreSQL at {mask_password(url)}: {error}") from None
        if pending:
            click.echo(f"{len(pending)} pending migration(s) on {mask_password(url)}:")
            for name in sorted(pending):
                click.echo(f"  {name}")
            sys.exit(1)
        click.echo(f"Database {mask_password(url)} is up to date.")
        return

    async def run() -> None:
        await ensure_database(url)
        await apply_migrations(url)

    try:
        asyncio.run(run())
    except MigrationFailed as error:
        _fail(f"migration failed: {error}")
    except asyncpg.PostgresError as error:
        _fail(f"database error: {error}")
    except OSError as error:
        _fail(f"cannot reach PostgreSQL at {mask_password(url)}: {error}")
    click.echo(f"Database {mask_password(url)} is up to date.")


def _database_url() -> str:
    try:
        settings = load()
    except SettingsError as error:
        raise ConfigurationProblem(str(error)) from None
    if not settings.database_url:
        raise ConfigurationProblem("DATABASE_URL must be set.")
    return settings.database_url


@main.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--timeout", default=3600, show_default=True, type=click.IntRange(1), help="Seconds.")
def backup(dest: Path, timeout: int) -> None:
    """Back up the database and DATA_DIR into the new folder DEST, with a manifest of
    SHA-256 checksums (docs/deployment.md)."""
    from service.app.backup import BackupFailed
    from service.app.backup import backup as make_backup

    url = _database_url()
    try:
        manifest = asyncio.run(make_backup(url, _data_dir(), dest, timeout_s=timeout))
    except BackupFailed as error:
        _fail(str(error))
    except (OSError, asyncpg.PostgresError) as error:
        _fail(f"backup failed: {error}")
    documents = sum(kind["count"] for kind in manifest["documents"].values())
    click.echo(
        f"Backed up into {dest}: {len(manifest['files'])} file(s), {documents} issued "
        f"document(s), {len(manifest['migrations'])} migrations."
    )


@main.command()
@click.argument("src", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--timeout", default=3600, show_default=True, type=click.IntRange(1), help="Seconds.")
def restore(src: Path, timeout: int) -> None:
    """Restore the backup SRC into the empty database of DATABASE_URL (created if missing)
    and DATA_DIR, after checking every checksum; then check the issued documents."""
    from service.app.backup import BackupFailed
    from service.app.backup import restore as restore_backup

    url = _database_url()
    try:
        manifest = asyncio.run(restore_backup(src, url, _data_dir(), timeout_s=timeout))
    except BackupFailed as error:
        _fail(str(error))
    except (OSError, asyncpg.PostgresError) as error:
        _fail(f"restore failed: {error}")
    documents = sum(kind["count"] for kind in manifest["documents"].values())
    click.echo(
        f"Restored {src} (made {manifest['created_at']}): {documents} issued document(s) "
        "and their files identical to the backup's."
    )


def _data_dir() -> Path:
    try:
        return load().data_dir
    except SettingsError as error:
        raise ConfigurationProblem(str(error)) from None


@main.group()
def user() -> None:
    """Manage users."""


_OPTION_OF_FIELD = {
    "email": "--email",
    "role": "--role",
    "venue_id": "--venue",
    "organisation_id": "--organisation",
}
ROLES = ("agent", "venue_staff", "venue_admin", "org_admin", "network_admin")


@user.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--venue", "venue_id", type=click.UUID, help="Venue id (venue roles).")
@click.option(
    "--organisation",
    "organisation_id",
    type=click.UUID,
    help="Organisation id (agents, org admins).",
)
@click.option("--name", default="", help="Display name (defaults to the email).")
def create_user(
    email: str,
    role: str,
    venue_id: uuid.UUID | None,
    organisation_id: uuid.UUID | None,
    name: str,
) -> None:
    """Create a user and print its id. The password is read from standard input when it is
    not a terminal (`echo "$PASSWORD" | tierslieux user create …`), else asked twice."""
    from booking.errors import DuplicateEmail
    from booking.services import accounts
    from service.kernel.database import use_database
    from service.kernel.errors import DomainError, NotFound
    from service.kernel.identity import Role

    url = _database_url()
    password = _read_password()

    async def run() -> uuid.UUID:
        use_database(url)
        created = await accounts.create_user(
            email=email,
            display_name=name,
            role=Role(role),
            password=password,
            venue_id=venue_id,
            organisation_id=organisation_id,
        )
        return created.id

    try:
        user_id = asyncio.run(run())
    except DuplicateEmail:
        _fail(f"a user with the email {email} already exists.")
    except NotFound as error:
        what = "venue" if error.field == "venue_id" else "organisation"
        _fail(f"no {what} with the id {venue_id or organisation_id}.")
    except DomainError as error:
        where = _OPTION_OF_FIELD.get(error.field or "", error.field)
        _fail(f"{where}: {error.detail}" if where else error.detail)
    except asyncpg.PostgresError as error:
        _fail(f"database error: {error}")
    except OSError as error:
        _fail(f"cannot reach PostgreSQL: {error}")
    click.echo(str(user_id))


def _read_password() -> str:
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            _fail("no password on standard input.")
        return password
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


main.add_command(billing_commands)
main.add_command(passes_commands)


if __name__ == "__main__":
    main()
