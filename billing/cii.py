"""A document as Factur-X CII XML at the EN 16931 profile (the e-invoice, machine side).

The `factur-x` library builds the XML from EN 16931 business terms (BT-/BG- keys) and checks
it against the Factur-X XSD; this module only says which of our fields is which term.
Amounts go in as decimal strings made from integer cents: no float ever touches money.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from facturx import generate_cii_xml

from billing.documents import FRANCHISE_MENTION

# UNTDID 1001 document type codes.
INVOICE = "380"
SELF_BILLED_INVOICE = "389"
CREDIT_NOTE = "381"
SELF_BILLED_CREDIT_NOTE = "261"

# UN/ECE Recommendation 20 units; a half-day has no code of its own: it is counted as a unit.
UNIT_CODES = {"half_day": "C62", "day": "DAY", "hour": "HUR"}

SEPA_CREDIT_TRANSFER = "58"
SIRENE = "0002"  # ISO 6523 ICD: SIREN
SIRET = "0009"  # ISO 6523 ICD: SIRET (what Chorus Pro reads for a public buyer)
EMAIL_SCHEME = "EM"
FRANCHISE_VATEX = "VATEX-FR-FRANCHISE"

_POSTAL = re.compile(r"^(?P<street>.*?)[,\s]+(?P<postcode>\d{5})\s+(?P<city>.+)$")


def amount(cents: int) -> str:
    """Cents as the decimal string EN 16931 expects (2 decimals for EUR)."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def percent(rate: Decimal) -> str:
    return f"{(Decimal(rate) * 100).quantize(Decimal('0.01'))}"


def type_code(document: dict[str, Any]) -> str:
    self_billed = document["issuer"].startswith("venue:")
    if document["kind"] == "credit_note":
        return SELF_BILLED_CREDIT_NOTE if self_billed else CREDIT_NOTE
    return SELF_BILLED_INVOICE if self_billed else INVOICE


def split_address(text: str) -> dict[str, str]:
    """Split "12 rue X, 59000 Lille" into the address lines EN 16931 wants (country FR)."""
    match = _POSTAL.match(text.strip())
    if match is None:
        return {"addr_l1": text.strip(), "country_code": "FR"}
    return {
        "addr_l1": match["street"].strip(" ,"),
        "postcode": match["postcode"],
        "city": match["city"].strip(),
        "country_code": "FR",
    }


def _party(party: dict[str, Any], *, legal_id_scheme: str) -> dict[str, Any]:
    siret = party.get("siret") or ""
    result: dict[str, Any] = {"name": party["name"], **split_address(party.get("address") or "")}
    if party.get("trade_name") and party["trade_name"] != party["name"]:
        result["biz_name"] = party["trade_name"]
    if siret:
        if legal_id_scheme == SIRET:
            result["legal_identifier"] = siret
        else:
            result["legal_identifier"] = siret[:9]
            result["identifiers"] = {SIRET: siret}
        result["legal_identifier_schemeid"] = legal_id_scheme
    if party.get("vat_number"):
        result["vat_identifier"] = party["vat_number"]
    elif siret and legal_id_scheme == SIRENE:
        # A seller under the VAT franchise has no VAT number: its SIRET is its tax registration.
        result["tax_identifier"] = siret
    if party.get("legal_form"):
        result["legal_info"] = party["legal_form"]
    if party.get("email"):
        result["einvoicing_addr"] = party["email"]
        result["einvoicing_addr_schemeid"] = EMAIL_SCHEME
        result["contacts"] = [{"email": party["email"]}]
    return result


def _note_subject(text: str) -> str:
    """UNTDID 4451 subject of a legal mention, as French e-invoicing rules classify them."""
    lowered = text.lower()
    if "escompte" in lowered:
        return "AAB"
    if "recouvrement" in lowered:
        return "PMT"
    if "retard" in lowered:
        return "PMD"
    if "tva" in lowered:
        return "TXD"
    return "AAI"


def _category(rate: Decimal, seller: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """VAT category code, exemption reason text and code of a line at `rate`."""
    if rate > 0:
        return "S", None, None
    if seller.get("charges_vat") is False:
        return "E", FRANCHISE_MENTION, FRANCHISE_VATEX
    return "E", "Exonération de TVA", None


def cii_data(
    document: dict[str, Any],
    lines: list[dict[str, Any]],
    corrected: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The EN 16931 business terms of one issued document."""
    seller: dict[str, Any] = document["seller"]
    buyer: dict[str, Any] = document["buyer"]
    period: date = document["period"]
    next_month = date(period.year + (period.month == 12), period.month % 12 + 1, 1)
    last_day = date.fromordinal(next_month.toordinal() - 1)
    data: dict[str, Any] = {
        "BT-1": document["number"],
        "BT-2": document["issued_on"],
        "BT-3": type_code(document),
        # French billing mode S1: an invoice for services, to be paid (not already paid).
        "BT-23": "S1",
        "BT-5": document["currency"],
        "BT-9": document["due_on"],
        "BT-73": period,
        "BT-74": last_day,
        # The service is delivered over the month; its last day stands as the delivery date.
        "BT-72": last_day,
        "BG-1": [{"BT-21": _note_subject(m), "BT-22": m} for m in document["mentions"]],
        "BG-4": _party(seller, legal_id_scheme=SIRENE),
        "BG-7": _party(buyer, legal_id_scheme=SIRET),
    }
    if document["kind"] != "credit_note":
        data["BT-20"] = (
            f"Paiement à 30 jours, au plus tard le {document['due_on']:%d/%m/%Y}, "
            f"par virement en rappelant le numéro {document['number']}."
        )
        # Paid into the seller's account: the network's on an invoice, the venue's on a
        # statement. Chorus Pro rejects a public body's invoice without it.
        data["BT-81"] = SEPA_CREDIT_TRANSFER
        data["BT-83"] = document["number"]
        if seller.get("iban"):
            data["BT-84"] = seller["iban"].replace(" ", "")
        if seller.get("bic"):
            data["BT-86"] = seller["bic"]
    # A public body's service code and engagement number (Chorus Pro routing).
    if buyer.get("chorus_service_code"):
        data["BT-10"] = buyer["chorus_service_code"]
    if buyer.get("chorus_engagement_number"):
        data["BT-13"] = buyer["chorus_engagement_number"]
    if corrected is not None:
        data["BG-3"] = [{"BT-25": corrected["number"], "BT-26": corrected["issued_on"]}]

    breakdown: dict[tuple[str, Decimal], list[int]] = defaultdict(lambda: [0, 0])
    reasons: dict[tuple[str, Decimal], tuple[str | None, str | None]] = {}
    cii_lines = []
    for line in lines:
        rate = Decimal(line["vat_rate"])
        category, reason, reason_code = _category(rate, seller)
        key = (category, rate)
        breakdown[key][0] += line["excl_cents"]
        breakdown[key][1] += line["vat_cents"]
        reasons[key] = (reason, reason_code)
        cii_lines.append(
            {
                "BT-126": str(line["position"]),
                "BT-129": str(line["quantity"]),
                "BT-130": UNIT_CODES.get(line["unit"], "C62"),
                "BT-131": amount(line["excl_cents"]),
                "BT-146": amount(line["unit_price_cents"]),
                "BT-151": category,
                "BT-152": percent(rate),
                "BT-153": line["description"],
            }
        )
    data["BG-25"] = cii_lines
    vat_breakdown = []
    for (category, rate), (taxable, tax) in sorted(breakdown.items()):
        entry: dict[str, Any] = {
            "BT-116": amount(taxable),
            "BT-117": amount(tax),
            "BT-118": category,
            "BT-119": percent(rate),
        }
        reason, reason_code = reasons[(category, rate)]
        if reason:
            entry["BT-120"] = reason
        if reason_code:
            entry["BT-121"] = reason_code
        vat_breakdown.append(entry)
    data["BG-23"] = vat_breakdown
    data.update(
        {
            "BT-106": amount(document["total_excl_cents"]),
            "BT-109": amount(document["total_excl_cents"]),
            "BT-110": amount(document["total_vat_cents"]),
            "BT-112": amount(document["total_incl_cents"]),
            "BT-115": amount(document["total_incl_cents"]),
        }
    )
    return data


def cii_xml(
    document: dict[str, Any],
    lines: list[dict[str, Any]],
    corrected: dict[str, Any] | None = None,
) -> bytes:
    """The CII XML of a document, checked against the Factur-X EN 16931 XSD."""
    xml: bytes = generate_cii_xml(
        cii_data(document, lines, corrected),
        level="en16931",
        check_xsd=True,
        check_schematron=False,  # needs a Saxon server; the tests run the schematron
    )
    return xml
