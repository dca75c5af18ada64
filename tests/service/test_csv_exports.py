"""Every CSV the service writes is safe to open in a spreadsheet, found from the route table.

Tenants name things other tenants read: a venue's name lands in an organisation's invoice
lines, in the network's summaries and in the public open data. A cell that begins with
`=`, `+`, `-`, `@`, a tab or a carriage return is a formula to a spreadsheet. This suite
seeds such names, calls every GET route of the app (as every role allowed to call it),
and checks each CSV answer, so that a new CSV route cannot forget.
"""

from __future__ import annotations

import ast
import csv
import io
import itertools
import re
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from billing import credit_notes
from billing.close import close_period
from billing.tables import Document, UsageLine
from booking.tables import User, Venue
from service.kernel import audit
from service.kernel.auth import Access
from service.kernel.csv_export import FORMULA_STARTS, csv_text, neutralise
from service.kernel.identity import Role
from service.kernel.settings import Settings
from tests.billing.factories import NETWORK, make_visit
from tests.factories import auth, make_organisation, make_user, make_venue, make_workspace
from tests.service.test_role_matrix import app_routes, concrete

HYPERLINK = '=HYPERLINK("http://evil.test","x")'
OCTOBER = date(2026, 10, 1)
NUMBER = re.compile(r"-?\d+(\.\d+)?")
# A CSV route may be reached only through a query parameter: these are tried on every GET
# route. A new route whose CSV needs another parameter must add it here.
QUERY_PROBES: list[dict[str, str]] = [
    {},
    *({"format": "csv", "by": by} for by in ("organisation", "venue", "commune")),
    *({"by": by} for by in ("organisation", "commune")),
]
# Every CSV route there is today: the walk must find at least these, or it proves nothing.
KNOWN_CSV_ROUTES = {
    "/opendata/venues.csv",
    "/api/v1/billing/periods/{period:str}/summary",
    "/api/v1/invoices/{document_id:uuid}/lines.csv",
    "/api/v1/statements/{document_id:uuid}/lines.csv",
    "/api/v1/credit-notes/{document_id:uuid}/lines.csv",
    "/network/close/{period:str}/summary.csv",
    "/api/v1/audit",
    "/network/audit.csv",
}


def test_a_formula_start_gets_a_quote_and_numbers_stay_numbers() -> None:
    for start in FORMULA_STARTS:
        assert neutralise(f"{start}1+1") == f"'{start}1+1"
    assert neutralise("La Ruche") == "La Ruche"
    assert neutralise(-1250) == -1250  # a credit note's amount, summed by the reader
    assert neutralise("-12.50") == "'-12.50"  # text is text, whatever it looks like
    assert neutralise(None) == ""
    text = csv_text(["name", "amount"], [[HYPERLINK + ";x", -1250]])
    assert list(csv.reader(io.StringIO(text), delimiter=";")) == [
        ["name", "amount"],
        ["'" + HYPERLINK + ";x", "-1250"],
    ]


def test_no_module_writes_csv_but_the_shared_writer() -> None:
    """A module calling `csv.writer` itself would skip the neutralising."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for package in ("service", "booking", "passes", "billing", "web"):
        for path in (root / package).rglob("*.py"):
            if path.name == "csv_export.py" and path.parent.name == "kernel":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "csv"
                    and node.attr in ("writer", "DictWriter")
                ):
                    offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == [], "write CSV through service.kernel.csv_export: " + ", ".join(offenders)


@pytest.fixture
async def hostile_world(settings: Settings) -> dict[str, object]:
    """A closed month whose every name a tenant can type begins like a formula."""
    venue = await make_venue(name=HYPERLINK, commune="+Lille", address="@SUM(A1)")
    desk = await make_workspace(venue, name="-2+3")
    organisation = await make_organisation(name="\t=1+1")
    agent = await make_user(Role.AGENT, organisation=organisation, display_name="=cmd")
    # Names typed since 2026-12-04 cannot hold a control character; a row stored before can,
    # and every CSV must still neutralise it.
    await User.update({User.display_name: "\r=cmd"}).where(User.id == agent.id)
    await make_visit(agent, venue, desk, date(2026, 10, 5))
    await make_visit(agent, venue, desk, date(2026, 10, 6))
    await close_period(OCTOBER, NETWORK, now=datetime(2026, 11, 3, tzinfo=UTC))
    invoice = await Document.select().where(Document.kind == "invoice").first()
    statement = await Document.select().where(Document.kind == "statement").first()
    assert invoice is not None
    assert statement is not None
    usage = await UsageLine.select(UsageLine.id).first()
    assert usage is not None
    await credit_notes.credit(invoice["id"], [usage["id"]], "Erreur", NETWORK, date(2026, 11, 4))
    credit_note = (
        await Document.select()
        .where((Document.kind == "credit_note") & (Document.organisation == organisation.id))
        .first()
    )
    assert credit_note is not None
    # The audit trail's cells are ids and code-given names, but an object id can come from
    # outside (a bank's reference, say): a hostile one must reach its CSV neutralised.
    await audit.record(audit.SYSTEM, "bank_statement.import", "bank_statement", HYPERLINK)
    callers = {
        Role.NETWORK_ADMIN: auth(settings, await make_user(Role.NETWORK_ADMIN)),
        Role.ORG_ADMIN: auth(settings, await make_user(Role.ORG_ADMIN, organisation=organisation)),
        Role.VENUE_ADMIN: auth(settings, await make_user(Role.VENUE_ADMIN, venue=venue)),
        Role.VENUE_STAFF: auth(settings, await make_user(Role.VENUE_STAFF, venue=venue)),
        Role.AGENT: auth(settings, agent),
    }
    return {
        "callers": callers,
        "venue": venue,
        "organisation": organisation,
        "invoice": invoice["id"],
        "statement": statement["id"],
        "credit_note": credit_note["id"],
    }


def _path_values(path: str, world: dict[str, object]) -> dict[str, str]:
    document = "invoice"
    if "/statements" in path:
        document = "statement"
    elif "/credit-notes" in path:
        document = "credit_note"
    return {
        "document_id": str(world[document]),
        "statement_id": str(world["statement"]),
        "invoice_id": str(world["invoice"]),
        "period": "2026-10",
        "venue_id": str(world["venue"].id),  # type: ignore[attr-defined]
        "organisation_id": str(world["organisation"].id),  # type: ignore[attr-defined]
    }


def _allowed(access: Access, callers: dict[Role, dict[str, str]]) -> list[dict[str, str]]:
    if access.public:
        return [{}]
    return [headers for role, headers in callers.items() if role in access.roles]


def _unsafe_cells(body: str) -> tuple[list[list[str]], list[str]]:
    delimiter = ";" if ";" in body.splitlines()[0] else ","
    rows = list(csv.reader(io.StringIO(body), delimiter=delimiter))
    unsafe = [
        cell
        for cell in itertools.chain.from_iterable(rows)
        if cell.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(cell)
    ]
    return rows, unsafe


async def test_every_csv_route_neutralises_hostile_names(
    app: Litestar, client: httpx.AsyncClient, hostile_world: dict[str, object]
) -> None:
    callers: dict[Role, dict[str, str]] = hostile_world["callers"]  # type: ignore[assignment]
    found: set[str] = set()
    failures: list[str] = []
    for route in app_routes(app):
        if route.method != "GET" or route.access is None:
            continue
        path = concrete(route.path, _path_values(route.path, hostile_world))
        for params in QUERY_PROBES:
            for headers in _allowed(route.access, callers):
                response = await client.get(path, params=params, headers=headers)
                if not response.headers.get("content-type", "").startswith("text/csv"):
                    continue
                found.add(route.path)
                where = f"GET {path}?{params} ({route.handler})"
                rows, unsafe = _unsafe_cells(response.content.decode("utf-8-sig"))
                if unsafe:
                    failures.append(f"{where}: live formula cells {unsafe!r}")
                elif not any(cell.startswith("'") for row in rows[1:] for cell in row):
                    failures.append(f"{where}: no hostile name reached the CSV {rows!r}")
    assert failures == [], "\n".join(failures)
    assert found >= KNOWN_CSV_ROUTES, f"CSV routes not reached: {KNOWN_CSV_ROUTES - found}"


async def test_the_open_data_csv_quotes_a_hostile_name_but_keeps_coordinates_numbers(
    client: httpx.AsyncClient,
) -> None:
    await make_venue(name=HYPERLINK, longitude=-1.5536, latitude=47.2184)

    response = await client.get("/opendata/venues.csv")

    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["name"] for r in rows] == ["'" + HYPERLINK]
    assert rows[0]["longitude"] == "-1.553600"


async def test_an_issued_documents_csv_shows_the_names_as_issued(
    client: httpx.AsyncClient, hostile_world: dict[str, object]
) -> None:
    callers: dict[Role, dict[str, str]] = hostile_world["callers"]  # type: ignore[assignment]
    venue: Venue = hostile_world["venue"]  # type: ignore[assignment]
    await Venue.update({Venue.name: "Le Nouveau Nom", Venue.commune: "Roubaix"}).where(
        Venue.id == venue.id
    )

    invoice_csv = await client.get(
        f"/api/v1/invoices/{hostile_world['invoice']}/lines.csv",
        headers=callers[Role.ORG_ADMIN],
    )
    statement_csv = await client.get(
        f"/api/v1/statements/{hostile_world['statement']}/lines.csv",
        headers=callers[Role.VENUE_ADMIN],
    )

    for response in (invoice_csv, statement_csv):
        assert response.status_code == 200, response.text
        rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
        assert len(rows) == 2
        assert {(r["venue"], r["commune"]) for r in rows} == {("'" + HYPERLINK, "'+Lille")}
        assert "Le Nouveau Nom" not in response.text
