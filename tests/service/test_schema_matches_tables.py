"""Migrations applied to an empty database give exactly the columns the Piccolo tables declare."""

from __future__ import annotations

import asyncpg
from piccolo.conf.apps import Finder


async def test_every_table_and_column_exists_as_declared(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        )
    finally:
        await connection.close()
    in_database: dict[str, dict[str, bool]] = {}
    for row in rows:
        in_database.setdefault(row["table_name"], {})[row["column_name"]] = (
            row["is_nullable"] == "YES"
        )

    mismatches = []
    for table in Finder().get_table_classes():
        name = table._meta.tablename
        if name not in in_database:
            mismatches.append(f"missing table {name}")
            continue
        for column in table._meta.columns:
            db_name = column._meta.db_column_name
            if db_name not in in_database[name]:
                mismatches.append(f"missing column {name}.{db_name}")
            elif in_database[name][db_name] != column._meta.null and not column._meta.primary_key:
                mismatches.append(
                    f"{name}.{db_name}: nullable {in_database[name][db_name]} in the database"
                )
        extra = set(in_database[name]) - {c._meta.db_column_name for c in table._meta.columns}
        mismatches += [f"undeclared column {name}.{c}" for c in sorted(extra)]

    assert mismatches == []
    assert len(Finder().get_table_classes()) >= 25
