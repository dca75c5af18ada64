"""Reading an uploaded CSV within bounds: the whole file, each value, each line's shape.

Every CSV the service accepts (agents to invite, bank statements) goes through `read_rows`,
so a file too large, a 500,000-character value, a stray byte that is not UTF-8 or a line
with more values than columns is refused with a sentence, never a 500.
"""

from __future__ import annotations

import csv
import io

from service.kernel.errors import InvalidValue
from service.kernel.i18n import N_

# No value of any file we read comes close: an email is at most 254 characters, a
# bank label 140 (SEPA remittance text).
MAX_FIELD_CHARS = 1_000


class CsvRefused(InvalidValue):
    """An uploaded CSV the service will not read (too large, not UTF-8, malformed)."""


def read_rows(
    content: bytes, *, max_bytes: int, prefer: str = ","
) -> tuple[list[str], list[dict[str, str]]]:
    """The column names (stripped, lower case) and the rows of a `;`- or `,`-separated CSV.

    The separator is the one the first line uses most (`prefer` on a tie). Values are
    stripped; values beyond the named columns are dropped, missing ones are "".
    """
    if len(content) > max_bytes:
        raise CsvRefused(
            N_("The file is too large (at most %(kilobytes)s kB)."),
            field="file",
            kilobytes=max_bytes // 1000,
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvRefused(N_("The file must be UTF-8."), field="file") from None
    first_line = text.split("\n", 1)[0]
    semicolons, commas = first_line.count(";"), first_line.count(",")
    delimiter = prefer if semicolons == commas else (";" if semicolons > commas else ",")
    # The module's own limit (131,072 characters) is process-wide; ours is checked below.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    lines: list[list[str]] = []
    try:
        for values in reader:
            if any(len(value) > MAX_FIELD_CHARS for value in values):
                raise _too_long(reader.line_num)
            lines.append(values)
    except csv.Error as error:
        if "field limit" in str(error):
            raise _too_long(reader.line_num) from None
        raise CsvRefused(
            N_("Line %(line)s cannot be read as CSV."), field="file", line=reader.line_num
        ) from None
    if not lines:
        return [], []
    columns = [name.strip().lower() for name in lines[0]]
    rows = [
        {name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(columns)}
        for values in lines[1:]
        if any(v.strip() for v in values)
    ]
    return columns, rows


def _too_long(line: int) -> CsvRefused:
    return CsvRefused(
        N_("Line %(line)s: a value is longer than %(chars)s characters."),
        field="file",
        line=line,
        chars=MAX_FIELD_CHARS,
    )
