"""Background work of the reconciliation: the monthly close, run by arq workers."""

from __future__ import annotations

import uuid
from calendar import monthrange
from datetime import UTC, date, datetime, timedelta
from typing import Any

import stripe
import structlog
from arq import Retry

from billing import invoice_mail, rendering, stripe_sync
from billing.close import (
    NETWORK_TZ,
    CloseInProgress,
    close_period,
    mark_queued,
    paris_today,
    pending_closes,
)
from billing.documents import NetworkIdentity
from service.kernel.jobs import enqueue_once, once_cron

log = structlog.get_logger(__name__)


def network_identity(settings: Any) -> NetworkIdentity:
    return NetworkIdentity(
        name=settings.network_name,
        legal_form=settings.network_legal_form,
        siret=settings.network_siret,
        vat_number=settings.network_vat_number,
        address=settings.network_address,
        email=settings.network_email,
        iban=settings.network_iban,
        bic=settings.network_bic,
    )


# Another close or a dry run holds the lock (one at a time): the job tries again this much
# later; if its tries run out the sweeper queues it anew, the period being still `closing`.
BUSY_RETRY_SECONDS = 10


def close_job_id(month: date) -> str:
    """One job id per month: the API's, the page's, the cron's and the sweeper's close are one."""
    return f"close:{month:%Y-%m}"


def render_job_id(month: date) -> str:
    return f"render:{month:%Y-%m}"


async def queue_close(redis: Any, month: date, *, now: datetime | None = None) -> str:
    """Ask for `month` to be closed: recorded in PostgreSQL first, then queued to a worker.

    Should the job be lost (Redis restarted, flushed), the period stays `closing` in
    PostgreSQL and `requeue_lost_jobs` queues it again. Answers the period's status.
    """
    status = await mark_queued(month, now=now)
    if status != "closed":
        await enqueue_once(redis, "close_month", f"{month:%Y-%m}", job_id=close_job_id(month))
    return status


async def close_month(ctx: dict[str, Any], month: str) -> dict[str, Any]:
    """Close `month` (YYYY-MM); safe to run twice, resumes a close that died."""
    try:
        result = await close_period(
            date.fromisoformat(f"{month}-01"), network_identity(ctx["settings"])
        )
    except CloseInProgress:
        raise Retry(defer=BUSY_RETRY_SECONDS) from None
    log.info(
        "billing.closed",
        month=month,
        invoices=len(result.invoices),
        statements=len(result.statements),
        network_share_cents=result.network_share_cents,
    )
    if ctx.get("redis") is not None:
        # The PDFs are made by their own job: a close never waits for (or fails on) rendering.
        await enqueue_once(
            ctx["redis"],
            "render_documents",
            month,
            job_id=render_job_id(date.fromisoformat(f"{month}-01")),
        )
    await send_invoices(ctx, month)
    return {"month": month, "invoices": len(result.invoices), "statements": len(result.statements)}


async def render_documents(ctx: dict[str, Any], month: str | None = None) -> int:
    """Render every document of `month` (or of all months) that has no files yet."""
    period = date.fromisoformat(f"{month}-01") if month else None
    rendered = 0
    for document_id in await rendering.unrendered(period):
        rendered += await rendering.render(document_id)
    log.info("billing.rendered", month=month, documents=rendered)
    return rendered


async def render_document(ctx: dict[str, Any], document_id: str) -> bool:
    """Render one document (asked for by someone downloading it before the batch got to it)."""
    return await rendering.render(uuid.UUID(document_id))


async def send_invoices(ctx: dict[str, Any], month: str) -> None:
    """After the close: to Stripe (its own job, retried) when configured, else by email."""
    if ctx["settings"].stripe_api_key:
        # One job id per month: a close run again queues the push once.
        await ctx["redis"].enqueue_job(
            "push_invoices_to_stripe", month, _job_id=f"stripe-push:{month}"
        )
    else:
        await invoice_mail.email_invoices(
            date.fromisoformat(f"{month}-01"), str(ctx["settings"].base_url)
        )


async def push_invoices_to_stripe(ctx: dict[str, Any], month: str) -> dict[str, Any]:
    """Push every invoice of `month` to Stripe; safe to run again, each push is idempotent.

    One invoice failing (Stripe unreachable, a refused customer) does not stop the others;
    the job is then retried later and resumes where each push stopped.
    """
    pushed, failed = 0, []
    for document_id in await stripe_sync.invoices_of(date.fromisoformat(f"{month}-01")):
        try:
            if await stripe_sync.push_invoice(document_id, ctx["settings"]) is not None:
                pushed += 1
        except stripe.StripeError as error:
            failed.append(str(document_id))
            log.error("stripe.push_failed", document_id=str(document_id), error=str(error))
    if failed and ctx.get("job_try", 1) < 5:
        raise Retry(defer=60 * ctx.get("job_try", 1))
    return {"month": month, "pushed": pushed, "failed": failed}


async def monthly_close(ctx: dict[str, Any], now: datetime | None = None) -> str | None:
    """On the close day at the close time, Europe/Paris (the 1st at 02:00 unless
    MONTHLY_CLOSE_DAY and MONTHLY_CLOSE_TIME say otherwise), queue the month before's close.

    arq's cron speaks UTC and Paris is UTC+1 or UTC+2, so this runs every hour at the close
    time's minute and acts in the close hour of the close day, local time, only. It queues
    the close like the API does (one job id per month), so a close asked for by hand at the
    same time is the same job.
    """
    settings = ctx["settings"]
    moment = (now or datetime.now(UTC)).astimezone(NETWORK_TZ)
    close_day = min(settings.monthly_close_day, monthrange(moment.year, moment.month)[1])
    if moment.day != close_day or moment.hour != settings.monthly_close_time.hour:
        return None
    today = paris_today(now)
    previous = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    await queue_close(ctx["redis"], previous, now=now)
    return previous.strftime("%Y-%m")


# How far back the sweeper looks for a closed month whose invoices were not sent: the close
# sends them seconds after it ends, so a week covers a long outage of the workers without
# ever sending a month's invoices that were closed before Stripe or email was set up.
AFTER_CLOSE_WINDOW = timedelta(days=7)


async def requeue_lost_jobs(ctx: dict[str, Any], now: datetime | None = None) -> dict[str, int]:
    """Queue again the work pending in PostgreSQL whose job is no longer in Redis.

    Months `closing` that no worker is closing, months with documents not rendered, and the
    invoices of a month closed this week that were not sent (the close's job died after the
    close): their emails are written here, their Stripe push is queued. The job ids are the
    ones the API uses, so work still queued or running is left alone and is never doubled;
    the jobs themselves are idempotent.
    """
    redis, settings = ctx["redis"], ctx["settings"]
    closed_since = (now or datetime.now(UTC)) - AFTER_CLOSE_WINDOW
    done = {"closes": 0, "renders": 0, "emails": 0, "stripe_pushes": 0}
    for month in await pending_closes():
        done["closes"] += await enqueue_once(
            redis, "close_month", f"{month:%Y-%m}", job_id=close_job_id(month)
        )
    for month in await rendering.unrendered_months():
        done["renders"] += await enqueue_once(
            redis, "render_documents", f"{month:%Y-%m}", job_id=render_job_id(month)
        )
    if settings.stripe_api_key:
        for month in await stripe_sync.months_not_pushed(closed_since):
            # A plain enqueue: a push that ran and failed keeps its id for an hour (arq's
            # keep_result), which spaces out the tries against Stripe.
            queued = await redis.enqueue_job(
                "push_invoices_to_stripe", f"{month:%Y-%m}", _job_id=f"stripe-push:{month:%Y-%m}"
            )
            done["stripe_pushes"] += queued is not None
    else:
        for month in await invoice_mail.months_not_emailed(closed_since):
            done["emails"] += await invoice_mail.email_invoices(month, str(settings.base_url))
    if any(done.values()):
        log.warning("jobs.requeued", **done)
    return done


def cron_jobs(settings: Any) -> list[Any]:
    at = settings.monthly_close_time
    return [
        once_cron(monthly_close, minute=at.minute, second=at.second, run_at_startup=False),
        # Every minute, at a second the other crons do not use.
        once_cron(requeue_lost_jobs, second=40, run_at_startup=True),
    ]


FUNCTIONS = [
    close_month,
    render_documents,
    render_document,
    push_invoices_to_stripe,
]
