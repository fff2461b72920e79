"""Persistence of engine state behind a small :class:`Store` protocol.

``open_store(url)`` gives the SQL store (SQLite default, PostgreSQL by URL) with its schema migrated;
:class:`MemoryStore` keeps everything in dictionaries. Importing this package does not import
SQLAlchemy: the pure core only needs :mod:`safeguarding.store.protocol`. See ``docs/store.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from safeguarding.store.memory import MemoryStore
from safeguarding.store.protocol import (
    AccountRecord,
    ChangeSet,
    ConversationRecord,
    EdgeKey,
    EdgeKind,
    OutboxItem,
    ProcessedEvent,
    Store,
)

if TYPE_CHECKING:
    from safeguarding.store.sql import SqlStore

__all__ = [
    "AccountRecord",
    "ChangeSet",
    "ConversationRecord",
    "EdgeKey",
    "EdgeKind",
    "MemoryStore",
    "OutboxItem",
    "ProcessedEvent",
    "Store",
    "open_store",
    "upgrade_database",
]


def open_store(url: str, *, migrate: bool = True) -> SqlStore:
    """Open the SQL store at ``url`` (``sqlite:///path.db`` or ``postgresql://...``).

    With ``migrate`` (the default) the schema is brought up to date first, so a fresh database just
    works; pass False where start-up must not change the schema, and run ``safeguarding db upgrade``.
    """
    from safeguarding.store import migrate as m
    from safeguarding.store.sql import SqlStore, create_db_engine

    engine = create_db_engine(url)
    if migrate:
        m.upgrade(engine)
    return SqlStore(engine)


def upgrade_database(url: str, revision: str = "head") -> str | None:
    """Run the migrations on ``url``; returns the revision reached."""
    from safeguarding.store import migrate as m
    from safeguarding.store.sql import create_db_engine

    engine = create_db_engine(url)
    try:
        return m.upgrade(engine, revision)
    finally:
        engine.dispose()
