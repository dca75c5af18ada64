"""Benchmark of document rendering: documents per second for one worker, by document size.

Each document goes the whole way a worker takes it: the CII XML (built and checked against
the Factur-X XSD), the plain PDF, and the PDF/A-3 Factur-X (output intent, XMP, XML attached).
The documents are built in memory with the shape the close writes (an organisation invoice
has one line per venue, workspace kind and price), so the figures are the rendering's CPU cost
alone; the job adds two reads and one insert per document.

    python3 -m uv run --frozen python -m bench.render [--seconds 20]

One arq worker renders in a thread with the GIL held by ReportLab and lxml: its rate is one
core's; add worker processes to use more cores.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import date
from decimal import Decimal
from typing import Any

from billing.documents import PAYMENT_MENTIONS
from billing.money import line_amounts
from billing.rendering import render_files

SELLER = {
    "name": "Réseau des tiers-lieux de la Métropole",
    "legal_form": "Association loi 1901",
    "siret": "73282932000074",
    "vat_number": "FR44732829320",
    "address": "2 rue de Paris, 59000 Lille",
    "email": "facturation@reseau.example",
    "iban": "FR7630006000011234567890189",
    "bic": "AGRIFRPP",
}
BUYER = {
    "name": "Ville de Roubaix",
    "siret": "73282932000074",
    "address": "17 Grand-Place, 59100 Roubaix",
    "email": "factures@ville.example",
    "chorus_service_code": "SERV-FIN-01",
    "chorus_engagement_number": "EJ-2026-0042",
}


def invoice(lines: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rows = []
    for position in range(1, lines + 1):
        quantity, price, rate = 1 + position % 17, 1200 + (position % 9) * 150, Decimal("0.20")
        amounts = line_amounts(quantity, price, rate)
        rows.append(
            {
                "position": position,
                "description": f"Tiers-lieu n° {position} (Commune {position % 90}) — "
                "Poste de travail à la demi-journée",
                "workspace_kind": "desk",
                "unit": "half_day",
                "quantity": quantity,
                "unit_price_cents": price,
                "vat_rate": rate,
                "excl_cents": amounts.excl_cents,
                "vat_cents": amounts.vat_cents,
                "incl_cents": amounts.incl_cents,
            }
        )
    excl = sum(r["excl_cents"] for r in rows)
    vat = sum(r["vat_cents"] for r in rows)
    document = {
        "kind": "invoice",
        "issuer": "network",
        "number": "TL-2026-000042",
        "period": date(2026, 10, 1),
        "issued_on": date(2026, 11, 1),
        "due_on": date(2026, 12, 1),
        "currency": "EUR",
        "total_excl_cents": excl,
        "total_vat_cents": vat,
        "total_incl_cents": excl + vat,
        "seller": SELLER,
        "buyer": BUYER,
        "mentions": PAYMENT_MENTIONS,
        "corrects": None,
    }
    return document, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="time spent per size")
    parser.add_argument("--sizes", default="3,30,300,3000", help="lines per document")
    parser.add_argument(
        "--quick", action="store_true", help="under a minute: 2 s per size, up to 300 lines"
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.sizes = min(args.seconds, 2.0), "3,30,300"
    figures: dict[str, float] = {}
    print(f"bench/render.py on {platform.processor() or platform.machine()}, one process")
    print("lines  documents  seconds  docs/s  ms/doc  Factur-X KB")
    for size in (int(s) for s in args.sizes.split(",")):
        document, lines = invoice(size)
        render_files(document, lines, None)  # warm: fonts, XSD and code lists load once
        done, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < args.seconds or done < 3:
            files = render_files(document, lines, None)
            done += 1
        figures[f"docs_per_s_{size}_lines"] = round(done / elapsed, 1)
        print(
            f"{size:>5}  {done:>9}  {elapsed:>7.1f}  {done / elapsed:>6.1f}  "
            f"{1000 * elapsed / done:>6.1f}  {len(files.facturx_pdf) / 1024:>11.0f}"
        )
    print(
        "reproduce: python3 -m uv run --frozen python -m bench.render "
        + f"--seconds {args.seconds:g} --sizes {args.sizes}"
    )
    print(json.dumps({"bench": "render", "quick": args.quick, **figures}))


if __name__ == "__main__":
    main()
