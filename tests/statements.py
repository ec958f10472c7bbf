"""The SQL statements a block of code runs, whichever way it runs them: through
SQLAlchemy (its engine event) or on the driver's own cursor (:mod:`models.quick`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from models import quick


@contextmanager
def statements(engine) -> Iterator[list[str]]:
    """The first word of each statement run inside the block (commits excluded)."""
    seen: list[str] = []

    def note(sql: str) -> None:
        seen.append(sql.lstrip().split(None, 1)[0].upper())

    def on_engine(_conn, _cursor, statement, *_args) -> None:
        note(statement)

    event.listen(engine, "before_cursor_execute", on_engine)
    quick.observers.append(note)
    try:
        yield seen
    finally:
        quick.observers.remove(note)
        event.remove(engine, "before_cursor_execute", on_engine)
