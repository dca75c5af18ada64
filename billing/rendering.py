"""Rendering issued documents into files (Factur-X PDF, plain PDF, CII XML), in worker jobs.

A document never changes, so it is rendered once: its files are stored beside it and served
from there. Rendering a document twice (two workers, a replayed job) stores nothing twice.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from billing.cii import cii_xml
from billing.pdf import facturx_pdf, render_pdf
from billing.tables import Document, DocumentFile, DocumentLine
from service.kernel.errors import DomainError
from service.kernel.i18n import N_
from service.kernel.problems import register

FACTURX_PDF, PLAIN_PDF, CII_XML = "facturx_pdf", "pdf", "cii_xml"
FILE_KINDS = (FACTURX_PDF, PLAIN_PDF, CII_XML)


class NotRenderedYet(DomainError):
    """The files are not made yet; a job to make them is queued: ask again shortly."""

    default_detail = N_("This document is being rendered; try again in a few seconds.")
    retry_after = 5


register(NotRenderedYet, "document-rendering", 503, "Document being rendered")


@dataclass(frozen=True)
class Rendered:
    facturx_pdf: bytes
    pdf: bytes
    xml: bytes


def render_files(
    document: dict[str, Any], lines: list[dict[str, Any]], corrected: dict[str, Any] | None
) -> Rendered:
    """The three files of one document (CPU work: call it off the event loop)."""
    xml = cii_xml(document, lines, corrected)
    pdf = render_pdf(document, lines, corrected)
    return Rendered(facturx_pdf(pdf, xml, document), pdf, xml)


async def load(document_id: uuid.UUID) -> tuple[dict[str, Any], list[dict[str, Any]], Any]:
    document = (
        await Document.select().where(Document.id == document_id).output(load_json=True).first()
    )
    if document is None:
        raise LookupError(f"no document {document_id}")
    lines = (
        await DocumentLine.select()
        .where(DocumentLine.document == document_id)
        .order_by(DocumentLine.position)
    )
    corrected = None
    if document["corrects"] is not None:
        corrected = (
            await Document.select(Document.number, Document.issued_on)
            .where(Document.id == document["corrects"])
            .first()
        )
    return document, lines, corrected


async def render(document_id: uuid.UUID) -> bool:
    """Render and store a document's files; False if they were there already."""
    if await DocumentFile.exists().where(
        (DocumentFile.document == document_id) & (DocumentFile.kind == FACTURX_PDF)
    ):
        return False
    document, lines, corrected = await load(document_id)
    files = await asyncio.to_thread(render_files, document, lines, corrected)
    await DocumentFile.raw(
        """
        INSERT INTO document_file (document, kind, content, created_at)
        VALUES ({}, 'facturx_pdf', {}, now()), ({}, 'pdf', {}, now()), ({}, 'cii_xml', {}, now())
        ON CONFLICT (document, kind) DO NOTHING
        """,
        document_id,
        files.facturx_pdf,
        document_id,
        files.pdf,
        document_id,
        files.xml,
    )
    return True


async def unrendered(period: date | None = None) -> list[uuid.UUID]:
    """Documents (of a month, or all) whose files are not made yet."""
    condition = "AND d.period = {}" if period is not None else ""
    rows = await Document.raw(
        f"""
        SELECT d.id FROM document d
         WHERE NOT EXISTS (SELECT 1 FROM document_file f
                            WHERE f.document = d.id AND f.kind = 'facturx_pdf')
         {condition}
         ORDER BY d.issued_on, d.number
        """,
        *([period] if period is not None else []),
    )
    return [row["id"] for row in rows]


async def unrendered_months() -> list[date]:
    """The months (first days) that have a document without its files."""
    rows = await Document.raw(
        """
        SELECT DISTINCT d.period FROM document d
         WHERE NOT EXISTS (SELECT 1 FROM document_file f
                            WHERE f.document = d.id AND f.kind = 'facturx_pdf')
         ORDER BY 1
        """
    )
    return [row["period"] for row in rows]


async def stored_file(document_id: uuid.UUID, kind: str) -> bytes | None:
    row = (
        await DocumentFile.select(DocumentFile.content)
        .where((DocumentFile.document == document_id) & (DocumentFile.kind == kind))
        .first()
    )
    return None if row is None else bytes(row["content"])
