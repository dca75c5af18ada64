"""Document numbers: gapless and sequential per issuer, series and year.

The counter row is bumped with an upsert inside the transaction that issues the
document: concurrent issuers serialise on the row, and a rolled-back issue gives its
number back, so there is never a hole nor a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing.tables import NumberSequence

NETWORK = "network"


@dataclass(frozen=True)
class Series:
    issuer: str
    code: str
    prefix: str

    def format(self, year: int, number: int) -> str:
        return f"{self.prefix}-{year}-{number:06d}"


INVOICES = Series(NETWORK, "F", "TL")
CREDIT_NOTES = Series(NETWORK, "AV", "TL-AV")


def statements_of(venue_id: object) -> Series:
    """Self-billing statements are the venue's invoices, issued by the network in its name:
    each venue has its own sequence."""
    code = str(venue_id).replace("-", "")[:8].upper()
    return Series(f"venue:{venue_id}", "AF", f"AF-{code}")


async def next_number(series: Series, year: int) -> int:
    """The next number; must run inside the issuing transaction."""
    rows = await NumberSequence.raw(
        """
        INSERT INTO number_sequence (issuer, series, year, last_number) VALUES ({}, {}, {}, 1)
        ON CONFLICT (issuer, series, year)
        DO UPDATE SET last_number = number_sequence.last_number + 1
        RETURNING last_number
        """,
        series.issuer,
        series.code,
        year,
    )
    return int(rows[0]["last_number"])


def venue_credit_notes_of(venue_id: object) -> Series:
    """Credit notes on a venue's self-billing statements: the venue's own second series."""
    code = str(venue_id).replace("-", "")[:8].upper()
    return Series(f"venue:{venue_id}", "AA", f"AA-{code}")
