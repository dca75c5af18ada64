"""The one CSV writer of the service: every CSV it sends goes through here, neutralised.

A spreadsheet reads a cell that begins with `=`, `+`, `-` or `@` as a formula, and a
leading tab or carriage return can hide such a character from a naive check (OWASP,
"CSV Injection"). Names in our CSVs are typed by people of other tenants (a venue's
name lands in an organisation's invoice lines, in the network's summaries and in the
public open data), so a name like `=HYPERLINK("http://evil.test","x")` would become a
live link or worse in the reader's spreadsheet.

The rule: every text cell that begins with one of those characters gets a leading
single quote, which spreadsheets show as text and never evaluate. Numbers are exempt:
a cell the service hands over as an `int`, `Decimal` or `float` is written as the
number it is, so a credit note's `-1250` cents or a western longitude stays a number
the reader can sum. The exemption follows the Python type, never the column's name:
a number that arrives as text (`"-12.50"`) is quoted like any other text, since the
writer cannot know it is one. The csv module's quoting keeps a separator or a quote
inside a cell from opening a new cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from litestar import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def neutralise(value: Any) -> str | int | float | Decimal:
    """The cell as written: numbers as they are, text with a quote before a formula start."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, delimiter: str = ";") -> str:
    """A header and the rows, every cell neutralised (the header too: it is text as well)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow([neutralise(c) for c in columns])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return out.getvalue()


def csv_records(
    columns: Sequence[str], records: Iterable[Mapping[str, Any]], *, delimiter: str = ";"
) -> str:
    """`csv_text` for rows given as mappings; a missing column is an empty cell."""
    return csv_text(
        columns, ([record.get(c, "") for c in columns] for record in records), delimiter=delimiter
    )


def csv_download(text: str, filename: str) -> Response[bytes]:
    """A CSV attachment for a spreadsheet: `;`-separated by the callers, with a BOM so that
    spreadsheets read the accents right."""
    return Response(
        text.encode("utf-8-sig"),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
