"""A few statements run on the database driver itself, for the webhooks (DESIGN.md §10).

A webhook that must answer within a small multiple of one bare INSERT cannot spend most
of its time in the ORM session's machinery for its two or three statements: checking out
a connection with a ping, the session's transaction bookkeeping, compiling, typed result
objects. Each statement here is written once, as SQL with ``:name`` parameters, with the
SQLAlchemy types of the parameters and columns that need converting. It is prepared once
per database: the driver's parameter style, and the types' own bind and result processors,
so values are stored and read exactly as the ORM stores and reads them (encrypted fields,
UTC timestamps, JSON). It runs on a connection of the application's own pool.

On PostgreSQL the statements of a :func:`connection` block are pipelined: nothing waits
for the server until a result is read or the block ends, so ``BEGIN``, a read and a write
with its ``COMMIT`` cost two round trips, not five.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any, NamedTuple

import psycopg
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from models import db

Processor = Callable[[Any], Any]

#: A unique constraint refused a write: the drivers' own errors, and the ORM's.
INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError, sa_exc.IntegrityError)

_NAMED = re.compile(r"(?<![:\w]):(\w+)")
#: Called with each statement's SQL before it is sent (the statement counts of tests and
#: of ``bench/webhook_profile.py``; SQLAlchemy's own events do not see these statements).
observers: list[Callable[[str], None]] = []


class Statement:
    """One statement: SQL with ``:name`` parameters, the types of the parameters that need
    converting (``params``) and of the columns that need converting (``columns``; others
    are returned as the driver gives them)."""

    def __init__(
        self,
        sql: str,
        *,
        params: Mapping[str, TypeEngine] | None = None,
        columns: Mapping[str, TypeEngine] | None = None,
    ) -> None:
        self.sql = sql
        self.params = dict(params or {})
        self.columns = dict(columns or {})
        #: Values filled in when not given (an INSERT's Python-side column defaults).
        self.defaults: dict[str, Callable[[], Any]] = {}
        self._prepared: dict[str, _Prepared] = {}

    def prepared(self, dialect: Dialect) -> _Prepared:
        found = self._prepared.get(dialect.name)
        if found is None:
            found = self._prepared[dialect.name] = _Prepared(self, dialect)
        return found


class _Prepared:
    """A statement as one database's driver takes it."""

    def __init__(self, statement: Statement, dialect: Dialect) -> None:
        if dialect.paramstyle == "pyformat":  # psycopg
            self.sql = _NAMED.sub(r"%(\1)s", statement.sql.replace("%", "%%"))
        elif dialect.paramstyle in ("named", "qmark"):  # sqlite3 takes :name as well
            self.sql = statement.sql
        else:  # pragma: no cover - the two databases the service runs on
            raise NotImplementedError(dialect.paramstyle)
        self.binds = tuple(
            (name, proc)
            for name, type_ in statement.params.items()
            if (proc := type_.dialect_impl(dialect).bind_processor(dialect)) is not None
        )
        self.results = {
            name: proc
            for name, type_ in statement.columns.items()
            if (proc := type_.dialect_impl(dialect).result_processor(dialect, None)) is not None
        }
        self.defaults = statement.defaults
        self._shape: tuple[tuple[str, ...], type, tuple] | None = None

    def parameters(self, values: Mapping[str, Any]) -> dict[str, Any]:
        params = dict(values)
        for name, make in self.defaults.items():
            if name not in params:
                params[name] = make()
        for name, proc in self.binds:
            params[name] = proc(params.get(name))
        return params

    def row(self, cursor, raw: tuple) -> NamedTuple:
        shape = self._shape
        if shape is None:
            # The statement's columns are known after its first run, and never change
            # (reading the cursor's description again on every row cost a tenth of it).
            names = tuple(d[0] for d in cursor.description)
            procs = tuple(self.results.get(name) for name in names)
            shape = self._shape = (names, _row_type(names), procs)
        _names, row_type, procs = shape
        return row_type._make(
            value if proc is None or value is None else proc(value)
            for value, proc in zip(raw, procs, strict=True)
        )


def _row_type(names: tuple[str, ...]) -> type:
    from collections import namedtuple

    return namedtuple("Row", names)


class Connection:
    """A pooled driver connection running :class:`Statement` objects."""

    def __init__(self, dbapi_connection, dialect: Dialect, pipeline=None, session=None) -> None:
        self.dbapi = dbapi_connection
        self.dialect = dialect
        self.postgres = dialect.name == "postgresql"
        self._pipeline = pipeline
        self._session = session

    def one(self, statement: Statement, values: Mapping[str, Any]) -> Any:
        """The statement's single row (or None)."""
        prepared = statement.prepared(self.dialect)
        cursor = self._execute(prepared, values)
        try:
            raw = cursor.fetchone()
            return None if raw is None else prepared.row(cursor, raw)
        finally:
            cursor.close()

    def run(self, statement: Statement, values: Mapping[str, Any]):
        """Send the statement; its cursor. On PostgreSQL its outcome (an error, the
        ``rowcount``) is known only after the next read, :meth:`sync` or :meth:`commit`."""
        return self._execute(statement.prepared(self.dialect), values)

    def _execute(self, prepared: _Prepared, values: Mapping[str, Any]):
        for observe in observers:
            observe(prepared.sql)
        cursor = self.dbapi.cursor()
        cursor.execute(prepared.sql, prepared.parameters(values))
        return cursor

    def begin(self) -> None:
        """Start a transaction in a block without one (``transaction=False``): the
        statements up to :meth:`commit` are then written together (SQLite)."""
        if self.postgres:  # pragma: no cover - its one caller needs it on SQLite only
            raise NotImplementedError("a PostgreSQL block without a transaction stays so")
        self.dbapi.execute("BEGIN")

    def sync(self) -> None:
        """Wait for everything sent so far (PostgreSQL's pipeline); errors surface here."""
        if self._pipeline is not None:
            self._pipeline.sync()

    def commit(self) -> None:
        """Commit (on PostgreSQL: and wait for everything sent before)."""
        if self._session is not None:
            self._session.commit()
            return
        self.dbapi.commit()
        self.sync()

    def rollback(self) -> None:
        if self._session is not None:
            self._session.rollback()
            return
        self.dbapi.rollback()


@contextmanager
def connection(*, transaction: bool = True) -> Iterator[Connection]:
    """A connection of the application's pool for a few :class:`Statement` objects.

    On PostgreSQL the statements of a ``transaction`` are pipelined. Without one, each
    statement commits on its own: on PostgreSQL no ``BEGIN`` and ``COMMIT`` round trips;
    on SQLite a write takes the file's write lock and commits in one call of the driver,
    so the lock is never held while Python waits for its turn to run (under a threaded
    server that wait is up to the interpreter's switch interval, 5 ms, and every other
    writer sleeps meanwhile); :meth:`Connection.begin` starts a transaction there when a
    block has two writes. Whatever is not committed when the block ends is rolled back;
    a connection the database dropped is thrown away, not given back to the pool."""
    engine = db.engine
    dialect = engine.dialect
    fairy = engine.raw_connection()
    dbapi = fairy.dbapi_connection
    postgres = dialect.name == "postgresql"
    isolation = None if postgres else dbapi.isolation_level
    try:
        if not transaction:
            if postgres:
                dbapi.autocommit = True
            else:
                dbapi.isolation_level = None  # the driver no longer begins transactions
        pipelined = dbapi.pipeline() if postgres and transaction else nullcontext()
        with pipelined as pipeline:
            yield Connection(dbapi, dialect, pipeline)
    except dialect.loaded_dbapi.Error as exc:
        if dialect.is_disconnect(exc, dbapi, None):
            fairy.invalidate(exc)
        raise
    finally:
        try:
            if fairy.is_valid:
                dbapi.rollback()
                if not transaction:
                    if postgres:
                        dbapi.autocommit = False
                    else:
                        dbapi.isolation_level = isolation
        except Exception as exc:
            # Never give the pool a connection in an unknown state (still committing each
            # statement on its own, say): the ORM would use it next.
            fairy.invalidate(exc)
        finally:
            fairy.close()


def insert(
    table, keys: tuple[str, ...], where: str | None = None, *, unless_conflict: bool = False
) -> Statement:
    """An INSERT of these columns of ``table``, plus every other column with a Python-side
    default, filled as the ORM fills it (:attr:`Statement.defaults`). With ``where`` (SQL
    with its own parameters) the row is written only if that holds; ``unless_conflict``:
    only if no row has its unique values (the cursor's ``rowcount`` tells)."""
    if where is not None and unless_conflict:  # SQLite cannot parse the two together
        raise ValueError("where or unless_conflict, not both")
    defaults: dict[str, Callable[[], Any]] = {}
    for column in table.columns:
        default = column.default
        if column.key in keys or default is None:
            continue
        if default.is_scalar:
            defaults[column.key] = (lambda value: lambda: value)(default.arg)
        elif default.is_callable:
            defaults[column.key] = (lambda fn: lambda: fn(None))(default.arg)
        else:  # pragma: no cover - SQL expression or sequence defaults: not in this schema
            raise ValueError(f"{table.name}.{column.key}: a default the driver cannot fill")
    names = (*keys, *defaults)
    # Identifiers from the table's own metadata, values as parameters.
    columns = ", ".join(f'"{table.c[name].name}"' for name in names)
    values = ", ".join(f":{name}" for name in names)
    sql = f'INSERT INTO "{table.name}" ({columns}) ' + (
        f"VALUES ({values})" if where is None else f"SELECT {values} WHERE {where}"
    )
    if unless_conflict:
        sql += " ON CONFLICT DO NOTHING"
    statement = Statement(sql, params={name: table.c[name].type for name in names})
    statement.defaults = defaults
    return statement


def update(table, keys: tuple[str, ...], where: str) -> Statement:
    """An UPDATE setting these columns of ``table`` to the parameters of the same names,
    where ``where`` (SQL with its own parameters) holds."""
    assignments = ", ".join(f'"{table.c[name].name}" = :{name}' for name in keys)
    return Statement(
        f'UPDATE "{table.name}" SET {assignments} WHERE {where}',  # noqa: S608 - as insert()
        params={name: table.c[name].type for name in keys},
    )


@contextmanager
def session_connection() -> Iterator[Connection]:
    """The ORM session's own connection, for statements that must share its transaction
    with ORM work; committed and rolled back through the session."""
    session = db.session
    sa_connection = session.connection()
    try:
        yield Connection(
            sa_connection.connection.dbapi_connection, sa_connection.dialect, session=session
        )
    except BaseException:
        session.rollback()
        raise
