"""The base of the service's row stores (tenancy, alerts, families, encrypted mode): one database, reads on
the reader pool, writes in their own short transaction with a duplicate turned into :class:`ConflictError`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from safeguarding.errors import ConflictError
from safeguarding.store.sql import SqlStore


class RowStore:
    def __init__(self, sql: SqlStore) -> None:
        self.sql = sql
        self.engine = sql.engine

    def _one(self, stmt: Any) -> Any:
        """The first row of ``stmt`` (None when there is none)."""
        with self.sql.reader.connect() as conn:
            return conn.execute(stmt).first()

    def _all(self, stmt: Any) -> list[Any]:
        with self.sql.reader.connect() as conn:
            return list(conn.execute(stmt).all())

    def _write(self, stmt: Any, what: str) -> int:
        """Run one write in its own transaction; the rows it touched. A duplicate key: ``what`` exists."""
        try:
            with self.engine.begin() as conn:
                return int(conn.execute(stmt).rowcount)
        except IntegrityError:
            raise ConflictError(f"{what} already exists") from None
