"""Text that must stay on one line: names, mail subjects, the fields of a calendar entry.

A line break in a name would inject a mail header (or, with Python's mail library, fail the
whole message), split a calendar line or a CSV row. Typed input is refused with
`ONE_LINE_PATTERN` or `CONTROL_CHARACTERS`; what comes from elsewhere (an identity
provider, an old row) is made one line with `one_line`.
"""

from __future__ import annotations

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# The same rule as a JSON schema pattern (msgspec's `Meta(pattern=…)`).
ONE_LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"


def one_line(text: str) -> str:
    """`text` with its control characters as spaces and each run of blanks as one space."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", text).split())
