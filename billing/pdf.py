"""A document as people read it: an A4 PDF with every legal mention, and its Factur-X twin.

The plain PDF is drawn with ReportLab in the bundled Bitstream Vera fonts (embedded, as
PDF/A requires: no text in the unembedded standard 14 fonts). The Factur-X PDF is the same
page with an sRGB output intent, the XMP metadata of PDF/A-3 and the CII XML attached, as
the `factur-x` library writes them.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from facturx import generate_from_binary
from PIL import ImageCms
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from billing.cii import type_code
from billing.documents import FRANCHISE_MENTION
from billing.money import euros

FONT, BOLD = "Vera", "VeraBd"
INK = colors.HexColor("#1b1b1b")
MUTED = colors.HexColor("#555555")
RULE = colors.HexColor("#b0b0b0")
BAND = colors.HexColor("#e8eef5")

TITLES = {"380": "FACTURE", "389": "FACTURE", "381": "AVOIR", "261": "AVOIR"}
SELF_BILLED = {"389", "261"}
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
UNITS = {"half_day": "demi-journée", "day": "journée", "hour": "heure"}


@cache
def _fonts() -> None:
    folder = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(folder / "VeraBd.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, textColor=INK)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=10, textColor=MUTED),
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=16, leading=20),
        "label": ParagraphStyle("label", parent=body, fontName=BOLD, fontSize=8, textColor=MUTED),
        "strong": ParagraphStyle("strong", parent=body, fontName=BOLD),
        "right": ParagraphStyle("right", parent=body, alignment=TA_RIGHT),
        "right_strong": ParagraphStyle("rs", parent=body, fontName=BOLD, alignment=TA_RIGHT),
    }


def money(cents: int) -> str:
    # Vera has no narrow no-break space (U+202F): a plain no-break space keeps 1 234,56 € whole.
    return euros(cents).replace("\u202f", "\u00a0").replace(" €", "\u00a0€")


def french_date(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def _rate(rate: Decimal) -> str:
    return f"{(Decimal(rate) * 100).normalize():f}".replace(".", ",") + "\u00a0%"


def _party_lines(party: dict[str, Any], *, is_seller: bool) -> list[str]:
    lines = [f"<b>{escape(party['name'])}</b>"]
    if party.get("trade_name") and party["trade_name"] != party["name"]:
        lines.append(escape(party["trade_name"]))
    if party.get("legal_form"):
        lines.append(escape(party["legal_form"]))
    if party.get("address"):
        lines.append(escape(party["address"]))
    if party.get("siret"):
        lines.append(f"SIRET {party['siret']}")
    if party.get("vat_number"):
        lines.append(f"N° TVA intracommunautaire {party['vat_number']}")
    elif is_seller and party.get("charges_vat") is False:
        lines.append("TVA non applicable (franchise en base)")
    if party.get("chorus_service_code"):
        lines.append(f"Code service Chorus Pro : {escape(party['chorus_service_code'])}")
    if party.get("chorus_engagement_number"):
        lines.append(f"N° d'engagement : {escape(party['chorus_engagement_number'])}")
    if party.get("email"):
        lines.append(escape(party["email"]))
    return lines


class _PageNumbers(Canvas):
    """A canvas that knows the page count when it draws each page's footer ("page 2 / 3")."""

    footer = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(FONT, 7.5)
            self.setFillColor(MUTED)
            self.drawString(18 * mm, 10 * mm, self.footer)
            self.drawRightString(
                A4[0] - 18 * mm, 10 * mm, f"page {self._pageNumber} / {len(self._pages)}"
            )
            super().showPage()
        super().save()


def _canvas_for(footer: str) -> type[Canvas]:
    return type("DocumentCanvas", (_PageNumbers,), {"footer": footer})


def _header(document: dict[str, Any], corrected: dict[str, Any] | None, s: Any) -> Flowable:
    code = type_code(document)
    period: date = document["period"]
    facts = [
        Paragraph(TITLES[code], s["title"]),
        *([Paragraph("Autofacturation", s["strong"])] if code in SELF_BILLED else []),
        Paragraph(f"N° <b>{escape(document['number'])}</b>", s["body"]),
        Paragraph(f"Date d'émission : {french_date(document['issued_on'])}", s["body"]),
        Paragraph(f"Période : {MONTHS[period.month - 1]} {period.year}", s["body"]),
    ]
    if document["kind"] != "credit_note":
        facts.append(Paragraph(f"Échéance : <b>{french_date(document['due_on'])}</b>", s["body"]))
    if corrected is not None:
        facts.append(
            Paragraph(
                f"Rectifie le document n° <b>{escape(corrected['number'])}</b> "
                f"du {french_date(corrected['issued_on'])}",
                s["body"],
            )
        )
    label = "FOURNISSEUR" if code in SELF_BILLED else "ÉMETTEUR"
    seller = [Paragraph(label, s["label"])]
    seller += [
        Paragraph(line, s["body"]) for line in _party_lines(document["seller"], is_seller=True)
    ]
    table = Table([[seller, facts]], colWidths=[95 * mm, 79 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BACKGROUND", (1, 0), (1, 0), BAND),
                ("LEFTPADDING", (1, 0), (1, 0), 8),
                ("TOPPADDING", (1, 0), (1, 0), 6),
                ("BOTTOMPADDING", (1, 0), (1, 0), 8),
            ]
        )
    )
    return table


def _buyer(document: dict[str, Any], s: Any) -> Flowable:
    label = "DESTINATAIRE" if document["kind"] == "invoice" else "CLIENT"
    if document["issuer"].startswith("venue:"):
        label = "CLIENT, ÉMETTEUR DE LA FACTURE PAR MANDAT DU FOURNISSEUR"
    cell = [Paragraph(label, s["label"])]
    cell += [
        Paragraph(line, s["body"]) for line in _party_lines(document["buyer"], is_seller=False)
    ]
    table = Table([["", cell]], colWidths=[95 * mm, 79 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (1, 0), (1, 0), 0.6, RULE),
                ("LEFTPADDING", (1, 0), (1, 0), 8),
                ("TOPPADDING", (1, 0), (1, 0), 6),
                ("BOTTOMPADDING", (1, 0), (1, 0), 8),
            ]
        )
    )
    return table


def _lines(lines: list[dict[str, Any]], s: Any) -> Flowable:
    head = ["Désignation", "Qté", "Unité", "PU HT", "TVA", "Total HT"]
    right = {1, 3, 4, 5}
    rows: list[list[Any]] = [
        [Paragraph(h, s["right_strong"] if i in right else s["strong"]) for i, h in enumerate(head)]
    ]
    # Only the description wraps: the other cells are plain strings, which ReportLab lays out
    # several times faster than paragraphs (an invoice may have thousands of lines).
    for line in lines:
        rows.append(
            [
                Paragraph(escape(line["description"]), s["body"]),
                str(line["quantity"]),
                UNITS.get(line["unit"], line["unit"]),
                money(line["unit_price_cents"]),
                _rate(line["vat_rate"]),
                money(line["excl_cents"]),
            ]
        )
    if not lines:
        rows.append([Paragraph("Aucune prestation sur la période.", s["body"]), "", "", "", "", ""])
    # LongTable: splits over pages in linear time where Table re-measures the rest each page.
    table = LongTable(
        rows,
        colWidths=[68 * mm, 12 * mm, 27 * mm, 22 * mm, 17 * mm, 28 * mm],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("LEADING", (0, 0), (-1, -1), 12),
                ("TEXTCOLOR", (0, 0), (-1, -1), INK),
                ("ALIGN", (1, 1), (1, -1), "RIGHT"),
                ("ALIGN", (3, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), BAND),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _totals(document: dict[str, Any], lines: list[dict[str, Any]], s: Any) -> Flowable:
    by_rate: dict[Decimal, list[int]] = {}
    for line in lines:
        base = by_rate.setdefault(Decimal(line["vat_rate"]), [0, 0])
        base[0] += line["excl_cents"]
        base[1] += line["vat_cents"]
    rows: list[list[Any]] = [
        [
            Paragraph("Total HT", s["right"]),
            Paragraph(money(document["total_excl_cents"]), s["right"]),
        ]
    ]
    for rate, (excl, vat) in sorted(by_rate.items()):
        rows.append(
            [
                Paragraph(
                    FRANCHISE_MENTION
                    if rate == 0 and document["seller"].get("charges_vat") is False
                    else f"TVA {_rate(rate)} sur {money(excl)}",
                    s["right"],
                ),
                Paragraph(money(vat), s["right"]),
            ]
        )
    payable = "Montant de l'avoir TTC" if document["kind"] == "credit_note" else "Net à payer TTC"
    rows.append(
        [
            Paragraph(payable, s["right_strong"]),
            Paragraph(money(document["total_incl_cents"]), s["right_strong"]),
        ]
    )
    table = Table(rows, colWidths=[146 * mm, 28 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, INK),
                ("BACKGROUND", (0, -1), (-1, -1), BAND),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _payment(document: dict[str, Any], s: Any) -> list[Flowable]:
    seller = document["seller"]
    if document["kind"] == "credit_note" or not seller.get("iban"):
        return []
    text = (
        f"<b>Règlement</b> par virement au plus tard le {french_date(document['due_on'])} — "
        f"IBAN {escape(_grouped(seller['iban']))}"
        + (f" — BIC {escape(seller['bic'])}" if seller.get("bic") else "")
        + f" — référence à rappeler : <b>{escape(document['number'])}</b>"
    )
    return [Spacer(1, 5 * mm), Paragraph(text, s["body"])]


def _title(document: dict[str, Any]) -> str:
    code = type_code(document)
    kind = TITLES[code].capitalize() + (" (autofacturation)" if code in SELF_BILLED else "")
    return f"{kind} {document['number']}"


def _grouped(iban: str) -> str:
    compact = iban.replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def render_pdf(
    document: dict[str, Any],
    lines: list[dict[str, Any]],
    corrected: dict[str, Any] | None = None,
) -> bytes:
    """The document as a printable A4 PDF (all fonts embedded)."""
    _fonts()
    s = _styles()
    out = io.BytesIO()
    title = _title(document)
    template = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=document["seller"]["name"],
        subject=f"{title} — {document['buyer']['name']}",
        creator="Pass Tiers-Lieux",
        lang="fr-FR",
        # Not the unembedded Helvetica ReportLab starts each page with (PDF/A forbids it).
        initialFontName=FONT,
        initialFontSize=9,
    )
    story: list[Flowable] = [
        _header(document, None if document["kind"] != "credit_note" else corrected, s),
        Spacer(1, 6 * mm),
        _buyer(document, s),
        Spacer(1, 8 * mm),
        _lines(lines, s),
        Spacer(1, 4 * mm),
        KeepTogether([_totals(document, lines, s), *_payment(document, s)]),
        Spacer(1, 6 * mm),
    ]
    story += [Paragraph(escape(m), s["small"]) for m in document["mentions"]]
    template.build(story, canvasmaker=_canvas_for(f"{document['seller']['name']} — {title}"))
    return out.getvalue()


@cache
def _srgb_profile() -> bytes:
    profile: bytes = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return profile


def _with_output_intent(pdf: bytes) -> bytes:
    """Add the sRGB output intent PDF/A requires to say what the colours mean.

    pypdf has no helper for output intents: they go into the catalogue through its public
    `root_object`. Registering the profile stream and the intent as indirect objects (a
    stream must be one) still takes `_add_object`: pypdf 7 has no public equivalent, and
    factur-x registers its attachment the same way.
    """
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    icc = DecodedStreamObject()
    icc.set_data(_srgb_profile())
    icc[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB"),
            NameObject("/Info"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/DestOutputProfile"): writer._add_object(icc),
        }
    )
    writer.root_object[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def facturx_pdf(pdf: bytes, xml: bytes, document: dict[str, Any]) -> bytes:
    """The PDF/A-3 Factur-X invoice: the printable PDF with its CII XML embedded."""
    title = _title(document)
    result: bytes = generate_from_binary(
        _with_output_intent(pdf),
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=False,  # cii_xml has checked this very XML against the XSD
        pdf_metadata={
            "author": document["seller"]["name"],
            "keywords": "Factur-X, facture",
            "title": title,
            "subject": f"{title} — {document['buyer']['name']}",
        },
        lang="fr-FR",
    )
    return result
