"""`tierslieux billing …`: the monthly close from the command line."""

from __future__ import annotations

import asyncio
from datetime import date

import click
from arq import create_pool
from arq.connections import RedisSettings

from billing import invoice_mail
from billing.close import CloseInProgress, CloseResult, PeriodNotOver, close_period
from billing.jobs import network_identity, send_invoices
from billing.money import euros
from billing.usage import MissingRate
from service.settings import Settings, SettingsError, load


@click.group()
def billing() -> None:
    """Monthly reconciliation."""


def _month(text: str) -> date:
    try:
        if len(text) != 7:
            raise ValueError
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        raise click.BadParameter("write the month as YYYY-MM", param_hint="MONTH") from None


def _print(result: CloseResult) -> None:
    click.echo(
        f"{'Dry run of' if result.dry_run else 'Close of'} {result.month:%Y-%m}: {result.status}"
    )
    if result.collected:
        collected = result.collected
        click.echo(
            f"  usage: {collected.visits} visits, {collected.no_shows} no-shows, "
            f"{collected.late_cancellations} late cancellations"
        )
    click.echo(
        f"  invoices:   {len(result.invoices):>5}  {euros(result.organisations_excl_cents)} HT"
    )
    click.echo(f"  statements: {len(result.statements):>5}  {euros(result.venues_excl_cents)} HT")
    click.echo(f"  network share: {euros(result.network_share_cents)} HT")


async def _send(settings: Settings, month: date) -> str:
    """What the close job does next: queue the Stripe push, or email the invoices."""
    if not settings.stripe_api_key:
        written = await invoice_mail.email_invoices(month)
        return f"  invoices emailed: {written} new message(s) in the outbox"
    redis = await create_pool(RedisSettings.from_dsn(settings.redis_url or ""))
    try:
        await send_invoices({"settings": settings, "redis": redis}, f"{month:%Y-%m}")
    finally:
        await redis.aclose()
    return "  invoices queued for Stripe (job push_invoices_to_stripe, run by the worker)"


@billing.command("close")
@click.argument("month")
@click.option("--dry-run", is_flag=True, help="Show the totals and write nothing.")
def close(month: str, dry_run: bool) -> None:
    """Close MONTH (YYYY-MM): usage lines, invoices, statements. Safe to run again."""
    first = _month(month)
    try:
        settings = load()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    if not settings.database_url:
        raise click.ClickException("DATABASE_URL must be set.")
    if settings.stripe_api_key and not settings.redis_url and not dry_run:
        raise click.ClickException("REDIS_URL must be set to queue the Stripe push.")
    sent = ""

    async def run() -> CloseResult:
        nonlocal sent
        from service.database import use_database
        from service.piccolo_conf import DB

        use_database(settings.database_url or "")
        await DB.start_connection_pool(min_size=1, max_size=4)
        try:
            result = await close_period(first, network_identity(settings), dry_run=dry_run)
            if not dry_run:
                sent = await _send(settings, first)
            return result
        finally:
            await DB.close_connection_pool()

    try:
        result = asyncio.run(run())
    except (CloseInProgress, PeriodNotOver) as error:
        raise click.ClickException(error.detail) from None
    except MissingRate as error:
        raise click.ClickException(
            f"{error}: add the venue or organisation rates, then close again."
        ) from None
    _print(result)
    if sent:
        click.echo(sent)
