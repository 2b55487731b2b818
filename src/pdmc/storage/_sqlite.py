"""SQLiteStore: the default state store, one file on the local disk."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from typing_extensions import override

from pdmc.errors import ConfigurationError, StoreError
from pdmc.storage._clock import Clock
from pdmc.storage._sql import Session, SQLStore

__all__ = ["SQLiteStore"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MIN_SQLITE = (3, 35, 0)  # RETURNING
_T = TypeVar("_T")


def _when_not_busy(call: Callable[[], _T], timeout: float) -> _T:
    """Run ``call``, trying again while another process holds the file, up to ``timeout``.

    Turning a new file to WAL needs it to itself, and SQLite answers "busy" at once,
    without waiting, when several processes open the same new file together.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


class _SQLiteSession(Session):
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._connection.execute(sql, params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._connection.execute(sql, params).rowcount

    def run_many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        if params:
            self._connection.executemany(sql, params)


class SQLiteStore(SQLStore):
    """The default state store: one SQLite file, with nothing to set up.

    Several processes on one machine may share the file: it runs in WAL mode (readers
    never wait for the writer), each write is one ``BEGIN IMMEDIATE`` transaction,
    and a writer that finds the file busy waits up to ``timeout`` seconds. Commits
    are durable (``synchronous = FULL``): a crash or a power cut loses no committed
    batch. The file must be on a local disk (WAL does not work over network file
    systems); for workers on several machines use
    :class:`~pdmc.storage.PostgresStore`.

    Opening a file written by an older pdmc upgrades its schema in place; a file
    written by a newer pdmc is refused.

    Args:
        path: the database file; it is created if missing (its folder must exist).
        clock: where the store reads the time; the system clock by default.
        timeout: how long, in seconds, a write waits for another process's write.

    Raises:
        StoreError: the file cannot be opened or is not a pdmc store.
        SchemaVersionError: the file was written by a newer pdmc.
        ConfigurationError: ``path`` is ``":memory:"`` (use
            :class:`~pdmc.storage.MemoryStore`), or the SQLite library is older
            than 3.35.
    """

    _TIME_TYPE = "INTEGER"
    _SERIAL_TYPE = "INTEGER PRIMARY KEY AUTOINCREMENT"
    _BYTEWISE = "COLLATE BINARY"

    def __init__(
        self, path: str | os.PathLike[str], *, clock: Clock | None = None, timeout: float = 30.0
    ) -> None:
        super().__init__(clock)
        if os.fspath(path) in ("", ":memory:"):
            raise ConfigurationError("SQLiteStore needs a file path; use MemoryStore for memory")
        if sqlite3.sqlite_version_info < _MIN_SQLITE:
            raise ConfigurationError(
                f"SQLiteStore needs SQLite 3.35 or later; Python uses {sqlite3.sqlite_version}"
            )
        self._path = Path(path)
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        try:
            connection = sqlite3.connect(
                self._path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the SQLite store {str(self._path)!r}: {exc}") from exc
        self._connection = connection
        try:
            self._configure(timeout)
            self._migrate()
        except BaseException:
            self.close()
            raise

    def _configure(self, timeout: float) -> None:
        with self._session(write=False) as session:
            mode = _when_not_busy(lambda: session.rows("PRAGMA journal_mode = WAL")[0][0], timeout)
            session.run("PRAGMA synchronous = FULL")
            session.run("PRAGMA foreign_keys = ON")
        if mode != "wal":
            raise StoreError(f"{self!r} cannot use write-ahead logging (journal mode {mode!r})")

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self._path)!r})"

    def close(self) -> None:
        """Close the connection; later calls raise :class:`~pdmc.errors.StoreError`."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @override
    @contextmanager
    def _session(self, *, write: bool) -> Iterator[Session]:
        with self._lock:
            connection = self._connection
            if connection is None:
                raise StoreError(f"{self!r} is closed")
            try:
                if write:
                    connection.execute("BEGIN IMMEDIATE")
                try:
                    yield _SQLiteSession(connection)
                    if write:
                        connection.execute("COMMIT")
                finally:
                    if connection.in_transaction:
                        connection.rollback()
            except sqlite3.Error as exc:
                raise StoreError(f"{self!r}: {exc}") from exc

    @override
    def _encode_time(self, value: datetime) -> int:
        return (value - _EPOCH) // _MICROSECOND

    @override
    def _decode_time(self, value: Any) -> datetime:
        return _EPOCH + timedelta(microseconds=value)
