"""Background work of the reconciliation: the monthly close, run by arq workers."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import stripe
import structlog
from arq import Retry, cron

from billing import invoice_mail, rendering, stripe_sync
from billing.close import NETWORK_TZ, close_period, paris_today
from billing.documents import NetworkIdentity

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


async def close_month(ctx: dict[str, Any], month: str) -> dict[str, Any]:
    """Close `month` (YYYY-MM); safe to run twice, resumes a close that died."""
    result = await close_period(
        date.fromisoformat(f"{month}-01"), network_identity(ctx["settings"])
    )
    log.info(
        "billing.closed",
        month=month,
        invoices=len(result.invoices),
        statements=len(result.statements),
        network_share_cents=result.network_share_cents,
    )
    if ctx.get("redis") is not None:
        # The PDFs are made by their own job: a close never waits for (or fails on) rendering.
        await ctx["redis"].enqueue_job("render_documents", month, _job_id=f"render:{month}")
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
    """On the 1st at 02:00 Europe/Paris, close the month before.

    arq's cron speaks UTC and Paris is UTC+1 or UTC+2, so this runs every hour of the
    1st and acts at 02:00 local time only.
    """
    moment = (now or datetime.now(UTC)).astimezone(NETWORK_TZ)
    if moment.day != 1 or moment.hour != 2:
        return None
    today = paris_today(now)
    previous = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    month = previous.strftime("%Y-%m")
    await close_month(ctx, month)
    return month


FUNCTIONS = [close_month, render_documents, render_document, push_invoices_to_stripe]
CRON_JOBS = [cron(monthly_close, day=1, minute=0, run_at_startup=False)]
