"""Statements that bypass Piccolo's query builder: numbered like Piccolo's, run where it would."""

from __future__ import annotations

import uuid

import pytest

from service.kernel.database import DB, fetch_rows, numbered


def test_placeholders_are_numbered_in_order_and_literal_braces_stay() -> None:
    sql = "SELECT {}::int AS a, '{{}}'::jsonb AS b, {}::text AS c WHERE {} > 0"

    assert numbered(sql) == "SELECT $1::int AS a, '{}'::jsonb AS b, $2::text AS c WHERE $3 > 0"


def test_a_named_or_formatted_placeholder_is_refused() -> None:
    for sql in ("SELECT {name}", "SELECT {0}", "SELECT {:>3}", "SELECT {!r}"):
        with pytest.raises(ValueError, match="only bare"):
            numbered(sql)


async def test_inside_a_transaction_the_statement_is_part_of_it(database_url: str) -> None:
    marker = f"raw-{uuid.uuid4()}"
    await DB.run_ddl("CREATE TABLE IF NOT EXISTS raw_probe (marker text)")
    try:
        async with DB.transaction() as transaction:
            await fetch_rows(numbered("INSERT INTO raw_probe VALUES ({})"), marker)
            seen_inside = await fetch_rows(
                "SELECT count(*) AS n FROM raw_probe WHERE marker = $1", marker
            )
            await transaction.rollback()
        seen_after = await fetch_rows(
            "SELECT count(*) AS n FROM raw_probe WHERE marker = $1", marker
        )
    finally:
        await DB.run_ddl("DROP TABLE raw_probe")

    assert (seen_inside, seen_after) == ([{"n": 1}], [{"n": 0}])
