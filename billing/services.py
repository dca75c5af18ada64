"""Reading the money: documents each role may see, their lines, the usage behind them, summaries."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from billing.tables import Document, DocumentLine
from service.kernel.dates import parse_month
from service.kernel.errors import Forbidden, NotFound
from service.kernel.i18n import N_
from service.kernel.identity import VENUE_ROLES, Principal, Role

DOCUMENT_KINDS = ("invoice", "statement", "credit_note")


def parse_period(text: str) -> date:
    """An accounting month, `YYYY-MM`, inside the range the service accepts."""
    return parse_month(text, field="period")


def _scope(principal: Principal, kind: str) -> tuple[str, list[Any]]:
    """The SQL condition limiting documents of `kind` to what the principal may see."""
    if principal.is_network_admin:
        return "TRUE", []
    if principal.role == Role.ORG_ADMIN and kind in ("invoice", "credit_note"):
        return "coalesce(d.organisation, c.organisation) = {}", [principal.organisation_id]
    if principal.role in VENUE_ROLES and kind in ("statement", "credit_note"):
        return "coalesce(d.venue, c.venue) = {}", [principal.venue_id]
    raise Forbidden(N_("Your role does not see these documents."))


async def list_documents(
    principal: Principal, kind: str, period: date | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    condition, args = _scope(principal, kind)
    where = f"d.kind = {{}} AND {condition}"
    args = [kind, *args]
    if period is not None:
        where += " AND d.period = {}"
        args.append(period)
    base = f"FROM document d LEFT JOIN document c ON c.id = d.corrects WHERE {where}"
    total = await Document.raw(f"SELECT count(*) AS n {base}", *args)
    rows = await Document.raw(
        f"""
        SELECT d.id, d.kind, d.number, d.period, d.issued_on, d.due_on, d.organisation, d.venue,
               d.corrects, d.currency, d.total_excl_cents, d.total_vat_cents, d.total_incl_cents,
               d.buyer->>'name' AS buyer_name, d.seller->>'name' AS seller_name,
               coalesce((SELECT sum(p.amount_cents) FROM payment p WHERE p.document = d.id), 0)
                   AS paid_cents
          {base}
         ORDER BY d.issued_on DESC, d.number DESC LIMIT {{}} OFFSET {{}}
        """,
        *args,
        limit,
        offset,
    )
    return rows, int(total[0]["n"])


async def get_document(principal: Principal, kind: str, document_id: uuid.UUID) -> dict[str, Any]:
    condition, args = _scope(principal, kind)
    rows = await Document.raw(
        f"""
        SELECT d.*, coalesce((SELECT sum(p.amount_cents) FROM payment p WHERE p.document = d.id), 0)
                   AS paid_cents
          FROM document d LEFT JOIN document c ON c.id = d.corrects
         WHERE d.id = {{}} AND d.kind = {{}} AND {condition}
        """,
        document_id,
        kind,
        *args,
    )
    if not rows:
        raise NotFound(N_("No such document."))
    document = rows[0]
    document["lines"] = (
        await DocumentLine.select()
        .where(DocumentLine.document == document_id)
        .order_by(DocumentLine.position)
    )
    return document


async def usage_behind(
    principal: Principal, kind: str, document_id: uuid.UUID
) -> list[dict[str, Any]]:
    """Every usage line a document accounts for: the transparency of each line.

    A venue sees agents only by their pseudonym; an organisation sees its agents' names.
    Venue, workspace and organisation are named as billed, never as renamed since. Past the
    retention the agent is gone and everyone sees the line's pseudonym (billing/retention.py).
    """
    document = await get_document(principal, kind, document_id)
    party = "venue" if kind == "statement" else "organisation"
    party_id = document["venue"] if kind == "statement" else document["organisation"]
    who = "a.pseudonym" if kind == "statement" else "a.display_name"
    return await Document.raw(
        f"""
        SELECT u.id, u.kind, u.local_date, coalesce({who}, u.agent_pseudonym) AS agent, u.workspace_name AS workspace,
               u.workspace_kind, u.unit, u.quantity,
               u.organisation_price_cents, u.organisation_vat_rate,
               u.venue_price_cents, u.venue_vat_rate, u.venue_name AS venue,
               u.venue_commune AS commune, u.organisation_name AS organisation,
               u.visit, u.booking
          FROM usage_line u
          LEFT JOIN app_user a ON a.id = u.agent
         WHERE u.period = {{}} AND u.{party} = {{}}
         ORDER BY u.local_date, u.venue_name, u.workspace_name
        """,
        document["period"],
        party_id,
    )


async def summary(period: date) -> dict[str, Any]:
    """The month by organisation, venue and commune: revenue, payouts, network share."""
    by_organisation = await Document.raw(
        """
        SELECT o.id, o.name, count(DISTINCT u.id) AS usage_lines,
               coalesce(sum(u.quantity * u.organisation_price_cents), 0) AS revenue_excl_cents,
               coalesce(sum(u.quantity * u.venue_price_cents), 0) AS payouts_excl_cents
          FROM usage_line u JOIN organisation o ON o.id = u.organisation
         WHERE u.period = {}
         GROUP BY o.id, o.name ORDER BY o.name
        """,
        period,
    )
    by_venue = await Document.raw(
        """
        SELECT v.id, v.name, v.commune, count(*) AS usage_lines,
               sum(u.quantity * u.organisation_price_cents) AS revenue_excl_cents,
               sum(u.quantity * u.venue_price_cents) AS payouts_excl_cents
          FROM usage_line u JOIN venue v ON v.id = u.venue
         WHERE u.period = {}
         GROUP BY v.id, v.name, v.commune ORDER BY v.name
        """,
        period,
    )
    by_commune = await Document.raw(
        """
        SELECT v.commune, v.insee_code, count(*) AS usage_lines,
               sum(u.quantity * u.organisation_price_cents) AS revenue_excl_cents,
               sum(u.quantity * u.venue_price_cents) AS payouts_excl_cents
          FROM usage_line u JOIN venue v ON v.id = u.venue
         WHERE u.period = {}
         GROUP BY v.commune, v.insee_code ORDER BY v.commune
        """,
        period,
    )
    documents = await Document.raw(
        """
        SELECT kind, count(*) AS documents, coalesce(sum(total_excl_cents), 0) AS excl_cents,
               coalesce(sum(total_vat_cents), 0) AS vat_cents,
               coalesce(sum(total_incl_cents), 0) AS incl_cents
          FROM document WHERE period = {} GROUP BY kind
        """,
        period,
    )
    for rows in (by_organisation, by_venue, by_commune):
        for row in rows:
            row["network_share_cents"] = row["revenue_excl_cents"] - row["payouts_excl_cents"]
    totals = {row["kind"]: row for row in documents}
    invoiced = int(totals.get("invoice", {}).get("excl_cents", 0))
    paid_out = int(totals.get("statement", {}).get("excl_cents", 0))
    return {
        "period": period,
        "documents": documents,
        "invoiced_excl_cents": invoiced,
        "statements_excl_cents": paid_out,
        "network_share_cents": invoiced - paid_out,
        "by_organisation": by_organisation,
        "by_venue": by_venue,
        "by_commune": by_commune,
    }
