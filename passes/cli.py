"""`tierslieux passes …`: signing-key rotation."""

from __future__ import annotations

import asyncio

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from passes.keys import Keyring, encode_key, generate_folder_key, parse_keys, publish
from passes.tables import PassKey
from service.kernel import audit
from service.kernel.settings import SettingsError, load


@click.group()
def passes() -> None:
    """The pass: signing keys."""


@passes.command("rotate-key")
@click.option(
    "--print",
    "print_only",
    is_flag=True,
    help="Production: print a new PASS_SIGNING_KEYS entry to append to the secret, change nothing.",
)
def rotate_key(print_only: bool) -> None:
    """Sign new passes with a new key; passes signed by the old ones stay valid until they expire."""
    try:
        settings = load()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None

    async def known_ids() -> set[int]:
        from service.kernel.database import DB, use_database

        if not settings.database_url:
            return set()
        use_database(settings.database_url)
        await DB.start_connection_pool(min_size=1, max_size=2)
        try:
            return {row["key_id"] for row in await PassKey.select(PassKey.key_id)}
        finally:
            await DB.close_connection_pool()

    async def audit_new_entry(key_id: int) -> None:
        from service.kernel.database import DB, use_database

        use_database(settings.database_url or "")
        await DB.start_connection_pool(min_size=1, max_size=2)
        try:
            # The key takes effect when the operator adds it to the secret; the trail says
            # when one was made, and by the command line.
            await audit.record(
                audit.SYSTEM, "pass_key.generate", "pass_key", key_id, after={"key_id": key_id}
            )
        finally:
            await DB.close_connection_pool()

    if print_only or settings.pass_signing_keys:
        configured = set(parse_keys(settings.pass_signing_keys or ""))
        next_id = max(configured | asyncio.run(known_ids()), default=0) + 1
        entry = encode_key(next_id, Ed25519PrivateKey.generate())
        if settings.database_url:
            asyncio.run(audit_new_entry(next_id))
        click.echo(entry)
        click.echo(
            "Append it to PASS_SIGNING_KEYS (comma-separated, keep the old entries) and restart the "
            "API processes: new passes are then signed with key "
            f"{next_id}; passes signed before stay valid until they expire or are reissued.",
            err=True,
        )
        return
    key = generate_folder_key(settings.data_dir)

    async def record() -> None:
        from service.kernel.database import DB, use_database

        use_database(settings.database_url or "")
        await DB.start_connection_pool(min_size=1, max_size=2)
        try:
            async with DB.transaction():
                await publish(Keyring.from_settings(None, settings.data_dir, generate=False))
                await audit.record(
                    audit.SYSTEM,
                    "pass_key.rotate",
                    "pass_key",
                    key.key_id,
                    after={"current_key_id": key.key_id},
                )
        finally:
            await DB.close_connection_pool()

    if settings.database_url:
        asyncio.run(record())
    click.echo(f"New pass signing key {key.key_id} in {settings.data_dir / 'pass-keys'}.")
