"""Piccolo migrations, one sub-folder per app."""

from __future__ import annotations

from piccolo.engine import engine_finder


async def execute_sql(sql: str) -> None:
    """Run a multi-statement SQL script inside the migration's transaction.

    Piccolo's `run_ddl` goes through a prepared statement, which takes one statement only;
    constraints, triggers and extensions read best as one script per migration.
    """
    engine = engine_finder()
    assert engine is not None
    transaction = engine.current_transaction.get()
    if transaction is not None:
        await transaction.connection.execute(sql)
    else:
        connection = await engine.get_new_connection()
        try:
            await connection.execute(sql)
        finally:
            await connection.close()
