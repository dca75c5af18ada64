"""`tierslieux billing …`: the monthly close from the command line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

import click

from billing import invoice_mail, rendering
from billing.close import CloseInProgress, CloseResult, PeriodNotOver, close_period
from billing.jobs import network_identity, render_job_id, send_invoices
from billing.money import euros
from billing.usage import MissingRate
from service.kernel.dates import MonthNotValid, parse_month
from service.kernel.jobs import enqueue_once
from service.kernel.outages import redis_client
from service.kernel.settings import Settings, SettingsError, load

T = TypeVar("T")


@click.group()
def billing() -> None:
    """Monthly reconciliation."""


def _month(text: str) -> date:
    try:
        return parse_month(text)
    except MonthNotValid:
        raise click.BadParameter(
            "write the month as YYYY-MM, from 2000-01 to 2100-12", param_hint="MONTH"
        ) from None


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


def _settings() -> Settings:
    try:
        settings = load()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    if not settings.database_url:
        raise click.ClickException("DATABASE_URL must be set.")
    return settings


def _on_database(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` in an event loop of its own with the database pool open."""

    async def run() -> T:
        from service.kernel.database import DB, use_database

        use_database(settings.database_url or "")
        await DB.start_connection_pool(min_size=1, max_size=4)
        try:
            return await work()
        finally:
            await DB.close_connection_pool()

    return asyncio.run(run())


async def _after_close(settings: Settings, month: date) -> list[str]:
    """What the close job does next: queue the rendering, and the Stripe push or the emails."""
    said = []
    if not settings.stripe_api_key:
        written = await invoice_mail.email_invoices(month, str(settings.base_url))
        said.append(f"  invoices emailed: {written} new message(s) in the outbox")
    if settings.redis_url:
        redis = redis_client(settings.redis_url, settings.redis_timeout_ms)
        try:
            await enqueue_once(
                redis, "render_documents", f"{month:%Y-%m}", job_id=render_job_id(month)
            )
            said.append("  PDFs queued for rendering (job render_documents, run by the worker)")
            if settings.stripe_api_key:
                await send_invoices({"settings": settings, "redis": redis}, f"{month:%Y-%m}")
                said.append(
                    "  invoices queued for Stripe (job push_invoices_to_stripe, run by the worker)"
                )
        finally:
            await redis.aclose()
    else:
        said.append("  no REDIS_URL: render the PDFs with `tierslieux billing render`")
    return said


@billing.command("close")
@click.argument("month")
@click.option("--dry-run", is_flag=True, help="Show the totals and write nothing.")
def close(month: str, dry_run: bool) -> None:
    """Close MONTH (YYYY-MM): usage lines, invoices, statements. Safe to run again."""
    first = _month(month)
    settings = _settings()
    if settings.stripe_api_key and not settings.redis_url and not dry_run:
        raise click.ClickException("REDIS_URL must be set to queue the Stripe push.")
    said: list[str] = []

    async def work() -> CloseResult:
        result = await close_period(first, network_identity(settings), dry_run=dry_run)
        if not dry_run:
            said.extend(await _after_close(settings, first))
        return result

    try:
        result = _on_database(settings, work)
    except (CloseInProgress, PeriodNotOver) as error:
        raise click.ClickException(error.detail) from None
    except MissingRate as error:
        raise click.ClickException(
            f"{error}: add the venue or organisation rates, then close again."
        ) from None
    _print(result)
    for line in said:
        click.echo(line)


@billing.command("render")
@click.argument("month", required=False)
def render(month: str | None) -> None:
    """Render the PDFs and XML of MONTH's documents (all months if omitted) that have none yet.

    The worker does this after each close; this is for a worker that was down.
    """
    first = _month(month) if month else None
    settings = _settings()

    async def work() -> int:
        done = 0
        for document_id in await rendering.unrendered(first):
            done += await rendering.render(document_id)
        return done

    click.echo(f"Rendered {_on_database(settings, work)} documents.")
