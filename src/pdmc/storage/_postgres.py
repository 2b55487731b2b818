"""PostgresStore: the state store for many workers, on PostgreSQL through psycopg 3.

This is the one module that imports psycopg; :mod:`pdmc.storage` loads it only when
``PostgresStore`` is asked for, so pdmc works without psycopg installed.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from typing_extensions import override

from pdmc._secret import Secret
from pdmc.errors import ConfigurationError, StoreError
from pdmc.storage._clock import Clock
from pdmc.storage._records import Link
from pdmc.storage._sql import Session, SQLStore

__all__ = ["PostgresStore"]

# The planner only uses the link and membership indexes well once it knows how their
# tables are filled; until autovacuum first looks (up to a minute), a fast-growing table
# can push it to scan every link of an audience, or every membership of a flow, on each
# lookup. So a store analyzes such a table itself after adding this many rows to it, and
# again each time it has added as many as it knew of.
_ANALYZE_AFTER = 1000
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SHOWN_PARTS = ("host", "port", "dbname", "user")


@functools.lru_cache(maxsize=256)
def _pg(statement: str) -> str:
    """Turn the shared statements' ``?`` placeholders into psycopg's ``%s``."""
    return statement.replace("?", "%s")


class _Growth:
    """Counts the rows a store added to one table, and says when to analyze it again."""

    def __init__(self) -> None:
        self._known = 0
        self._new = 0

    def grew(self, count: int) -> bool:
        """Add ``count`` rows; return whether the table grew enough to analyze it now."""
        self._new += count
        if self._new < max(_ANALYZE_AFTER, self._known):
            return False
        self._known += self._new
        self._new = 0
        return True


def _lock_key(*parts: str) -> int:
    """A stable 64-bit advisory-lock key for the given names."""
    digest = hashlib.blake2b("\0".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class _PostgresSession(Session):
    def __init__(self, connection: psycopg.Connection[tuple[Any, ...]]) -> None:
        self._connection = connection

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._connection.execute(_pg(statement), params).fetchall()

    def run(self, statement: str, params: Sequence[Any] = ()) -> int:
        return self._connection.execute(_pg(statement), params).rowcount

    def run_many(self, statement: str, params: Sequence[Sequence[Any]]) -> None:
        if params:
            with self._connection.cursor() as cursor:
                cursor.executemany(_pg(statement), params)

    @override
    def insert_rows(self, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
        # COPY moves a batch in one round trip, several times faster than INSERTs.
        if rows:
            with (
                self._connection.cursor() as cursor,
                cursor.copy(
                    sql.SQL("COPY {} ({}) FROM STDIN").format(
                        sql.Identifier(table),
                        sql.SQL(", ").join(sql.Identifier(c.strip()) for c in columns.split(",")),
                    )
                ) as copy,
            ):
                for row in rows:
                    copy.write_row(row)


class PostgresStore(SQLStore):
    """The state store for many workers: PostgreSQL, through psycopg 3.

    Every worker opens its own ``PostgresStore`` on the same database. A flow's
    lease is taken under a row lock (``SELECT ... FOR UPDATE SKIP LOCKED``), so of
    several workers racing for a flow exactly one wins and none waits; batches that
    write links of the same audience are serialised by an advisory lock, so two
    flows of one account pair never create the same link twice; the takers of one
    claim are serialised by another, so exactly one gets it. Times come from the
    store's clock, so keep the workers' clocks in sync (NTP) and choose lease
    durations well above their drift.

    Tables live in their own schema (``pdmc`` unless told otherwise), created on
    first use, and are upgraded in place when a newer pdmc opens them; a schema
    written by a newer pdmc is refused.

    Args:
        conninfo: a libpq connection string or URL
            (``"postgresql://pdmc@db.internal/app"``); pass a :class:`~pdmc.Secret`
            when it holds a password. It never appears in reprs or errors.
        schema: the PostgreSQL schema holding pdmc's tables (lower case letters,
            digits and ``_``).
        clock: where the store reads the time; the system clock by default.
        connect_timeout: how long, in seconds, to wait for a connection.

    Raises:
        ConfigurationError: the connection string or schema name is malformed.
        StoreError: the database cannot be reached.
        SchemaVersionError: the schema was written by a newer pdmc.
    """

    _TIME_TYPE = "TIMESTAMPTZ"
    _SERIAL_TYPE = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    _BYTEWISE = 'COLLATE "C"'
    _SKIP_LOCKED = " FOR UPDATE SKIP LOCKED"
    _FOR_SHARE = " FOR SHARE"

    def __init__(
        self,
        conninfo: str | Secret,
        *,
        schema: str = "pdmc",
        clock: Clock | None = None,
        connect_timeout: int = 10,
    ) -> None:
        super().__init__(clock)
        name: object = schema
        if not isinstance(name, str) or not _SCHEMA_NAME.fullmatch(name):
            raise ConfigurationError(
                f"schema must be 1-63 lower-case letters, digits or '_', got {schema!r}"
            )
        self._conninfo = conninfo if isinstance(conninfo, Secret) else Secret(conninfo)
        try:
            parts = conninfo_to_dict(self._conninfo.reveal())
        except psycopg.Error:
            # The driver's message may quote the string, password and all.
            raise ConfigurationError("the PostgreSQL connection string is malformed") from None
        self._shown = {key: parts[key] for key in _SHOWN_PARTS if parts.get(key)}
        self._schema = schema
        self._connect_timeout = connect_timeout
        self._lock = threading.RLock()
        self._connection: psycopg.Connection[tuple[Any, ...]] | None = None
        self._closed = False
        self._growth = {table: _Growth() for table in ("pdmc_links", "pdmc_memberships")}
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    @property
    def schema(self) -> str:
        """The PostgreSQL schema holding pdmc's tables."""
        return self._schema

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={value!r}" for key, value in self._shown.items())
        return f"PostgresStore({shown}, schema={self._schema!r})"

    def close(self) -> None:
        """Close the connection; later calls raise :class:`~pdmc.errors.StoreError`."""
        with self._lock:
            self._closed = True
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        connection = psycopg.connect(
            self._conninfo.reveal(), autocommit=True, connect_timeout=self._connect_timeout
        )
        try:
            connection.execute(
                sql.SQL("SET search_path TO {}").format(sql.Identifier(self._schema))
            )
            connection.execute("SET TIME ZONE 'UTC'")
            # pdmc's queries fetch a few hundred rows by key from indexes that stay in
            # memory; the default cost of a random read (4, for spinning disks) makes the
            # planner scan whole tables instead once they hold tens of thousands of links.
            connection.execute("SET random_page_cost = 1.1")
        except BaseException:
            connection.close()
            raise
        return connection

    @override
    @contextmanager
    def _session(self, *, write: bool) -> Iterator[Session]:
        with self._lock:
            if self._closed:
                raise StoreError(f"{self!r} is closed")
            try:
                connection = self._connection
                if connection is None or connection.broken or connection.closed:
                    if connection is not None:
                        connection.close()
                    self._connection = connection = self._connect()
                if write:
                    with connection.transaction():
                        yield _PostgresSession(connection)
                else:
                    yield _PostgresSession(connection)
            except psycopg.Error as exc:
                raise StoreError(f"{self!r}: {exc}") from exc

    @override
    def _prepare_schema(self, session: Session) -> None:
        session.run("SELECT pg_advisory_xact_lock(?)", (_lock_key("pdmc-schema", self._schema),))
        session.run(f'CREATE SCHEMA IF NOT EXISTS "{self._schema}"')

    @override
    def _lock_link_scopes(self, session: Session, scopes: Sequence[tuple[str, str]]) -> None:
        for account_pair, audience_id in scopes:
            session.run(
                "SELECT pg_advisory_xact_lock(?)",
                (_lock_key("pdmc-links", self._schema, account_pair, audience_id),),
            )

    @override
    def _lock_claim(self, session: Session, key: str) -> None:
        session.run(
            "SELECT pg_advisory_xact_lock(?)", (_lock_key("pdmc-claim", self._schema, key),)
        )

    @override
    def _refresh_links(
        self,
        session: Session,
        account_pair: str,
        audience_id: str,
        links: Sequence[Link],
        now: datetime,
    ) -> None:
        # One statement for the whole batch instead of one per link.
        if links:
            session.run(
                "UPDATE pdmc_links AS link SET member_status = new.status, "
                "pipedrive_fingerprint = new.pipedrive, mailchimp_fingerprint = new.mailchimp, "
                "updated_at = ? FROM unnest(?::text[], ?::text[], ?::text[], ?::text[]) "
                "AS new(email, status, pipedrive, mailchimp) "
                "WHERE link.account_pair = ? AND link.audience_id = ? AND link.email = new.email",
                (
                    now,
                    [link.email for link in links],
                    [link.member_status for link in links],
                    [link.pipedrive_fingerprint for link in links],
                    [link.mailchimp_fingerprint for link in links],
                    account_pair,
                    audience_id,
                ),
            )

    @override
    def _put_memberships(
        self, session: Session, flow_id: str, memberships: Mapping[str, bool], now: datetime
    ) -> None:
        # One statement for the whole batch instead of one per membership.
        session.run(
            "INSERT INTO pdmc_memberships (flow_id, contact_key, matching, seen_at) "
            "SELECT ?, new.contact_key, new.matching, ? "
            "FROM unnest(?::text[], ?::boolean[]) AS new(contact_key, matching) "
            "ON CONFLICT (flow_id, contact_key) DO UPDATE SET matching = excluded.matching, "
            "seen_at = excluded.seen_at",
            (flow_id, now, list(memberships), list(memberships.values())),
        )

    @override
    def _rows_added(self, session: Session, table: str, count: int) -> None:
        if self._growth[table].grew(count):
            session.run(f"ANALYZE {table}")

    @override
    def _encode_time(self, value: datetime) -> datetime:
        return value

    @override
    def _decode_time(self, value: Any) -> datetime:
        if not isinstance(value, datetime):
            raise StoreError(f"{self!r} read {value!r} where a timestamp belongs")
        return value.astimezone(UTC)
