"""The SQL both database stores share; SQLiteStore and PostgresStore supply the connection.

Statements are written with ``?`` placeholders; a session converts them to its
driver's style. Lookups go through indexes in chunks of at most ``_CHUNK`` keys (the
membership lookup, ``_TRACKED_CHUNK``), and listings page by key, so no operation
reads a whole table into memory.
"""

# Statements are built from constant column lists, placeholder counts and fixed lock
# clauses; values always travel as parameters.
# ruff: noqa: S608

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from typing_extensions import override

from pdmc.errors import SchemaVersionError
from pdmc.storage._base import (
    StoreBase,
    check_finish,
    check_status,
    email_keys,
    finished_already,
    member_keys,
    membership_keys,
    no_run,
    person_keys,
)
from pdmc.storage._batch import PendingRetry, event_key
from pdmc.storage._checks import require_positive, require_time
from pdmc.storage._json import decode_json
from pdmc.storage._leases import (
    check_holder,
    check_ttl,
    grant_lease,
    is_current,
    lease_being_taken,
    lost_lease,
)
from pdmc.storage._links import LinkIndex
from pdmc.storage._records import (
    Claim,
    FlowRecord,
    FlowStatus,
    Lease,
    Link,
    Outcome,
    RetryRow,
    Run,
)
from pdmc.storage._schema import MIGRATIONS

__all__ = ["Session", "SQLStore"]

_CHUNK = 500
_TRACKED_CHUNK = 1000  # the engine asks for up to this many memberships at once

_FLOW_COLUMNS = (
    "flow_id, name, definition, definition_version, status, status_reason, created_at, "
    "updated_at, activated_at, next_run_at, last_run_at"
)
_LINK_COLUMNS = (
    "account_pair, audience_id, email, person_id, member_id, member_status, "
    "pipedrive_fingerprint, mailchimp_fingerprint, created_at, updated_at"
)
_RUN_COLUMNS = "run_id, flow_id, status, started_at, finished_at, counts, error"
_RETRY_COLUMNS = "flow_id, row_key, payload, error, attempts, first_failed_at, next_attempt_at"
_LEASE_COLUMNS = "holder, token, acquired_at, expires_at"
_CLAIM_COLUMNS = "claim_key, holder, token, acquired_at, expires_at"

_PUT_FLOW = (
    f"INSERT INTO pdmc_flows ({_FLOW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (flow_id) DO UPDATE SET name = excluded.name, "
    "definition = excluded.definition, definition_version = excluded.definition_version, "
    "status = excluded.status, status_reason = excluded.status_reason, "
    "created_at = excluded.created_at, updated_at = excluded.updated_at, "
    "activated_at = excluded.activated_at, next_run_at = excluded.next_run_at, "
    "last_run_at = excluded.last_run_at"
)
_PUT_CHECKPOINT = (
    "INSERT INTO pdmc_checkpoints (flow_id, name, value, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (flow_id, name) DO UPDATE SET value = excluded.value, "
    "updated_at = excluded.updated_at"
)
_PUT_RETRY = (
    f"INSERT INTO pdmc_retries ({_RETRY_COLUMNS}) VALUES (?, ?, ?, ?, 1, ?, ?) "
    "ON CONFLICT (flow_id, row_key) DO UPDATE SET payload = excluded.payload, "
    "error = excluded.error, attempts = pdmc_retries.attempts + 1, "
    "next_attempt_at = excluded.next_attempt_at"
)
_DELETE_RETRY = "DELETE FROM pdmc_retries WHERE flow_id = ? AND row_key = ?"
_OUTCOME_COLUMNS = "run_id, action, email, person_id, member_id, reason, recorded_at"
_INSERT_EVENT = (
    "INSERT INTO pdmc_events (source, event_id, processed_at) VALUES (?, ?, ?) "
    "ON CONFLICT (source, event_id) DO NOTHING"
)
_PUT_MEMBERSHIP = (
    "INSERT INTO pdmc_memberships (flow_id, contact_key, matching, seen_at) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (flow_id, contact_key) DO UPDATE SET "
    "matching = excluded.matching, seen_at = excluded.seen_at"
)
_PUT_CLAIM = (
    f"INSERT INTO pdmc_claims ({_CLAIM_COLUMNS}) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (claim_key) DO UPDATE SET holder = excluded.holder, "
    "token = excluded.token, acquired_at = excluded.acquired_at, "
    "expires_at = excluded.expires_at"
)
_DELETE_CLAIM = "DELETE FROM pdmc_claims WHERE claim_key = ? AND holder = ? AND token = ?"


class Session(ABC):
    """The statements of one store operation, on one connection."""

    @abstractmethod
    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a statement and return the rows it produced."""

    @abstractmethod
    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement and return how many rows it changed."""

    @abstractmethod
    def run_many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        """Run a statement once per parameter row, in order."""

    def insert_rows(self, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` (values for ``columns``, comma-separated) into ``table``."""
        if rows:
            marks = _marks(len(rows[0]))
            self.run_many(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def _apply_in_memory(
    index: LinkIndex, links: Sequence[Link], now: datetime
) -> tuple[dict[str, Link | None], list[str]]:
    """Upsert ``links`` into ``index`` in order; return what the tables must change.

    The first result maps each changed link's email to its stored version (``None``
    for a link new in this batch); the second lists the emails of stored links that
    a person's link absorbed, to be deleted.
    """
    origins: dict[str, Link | None] = {}
    absorbed: list[str] = []
    for link in links:
        change = index.upsert(link, now, None)
        if change is None:
            continue
        if change.absorbed is not None:
            stored = origins.pop(change.absorbed.email, change.absorbed)
            if stored is not None:
                absorbed.append(stored.email)
        previous = change.previous
        origins[change.current.email] = (
            None if previous is None else origins.pop(previous.email, previous)
        )
    return origins, absorbed


def _chunks(keys: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _keys(link: Link) -> tuple[str, int | None, str | None]:
    return link.email, link.person_id, link.member_id


class SQLStore(StoreBase[Session], ABC):
    """Everything the SQL stores share; a subclass supplies sessions and column types."""

    _MIGRATIONS: ClassVar[tuple[tuple[str, ...], ...]] = MIGRATIONS
    _TIME_TYPE: ClassVar[str]
    _SERIAL_TYPE: ClassVar[str]
    _BYTEWISE: ClassVar[str]
    _SKIP_LOCKED: ClassVar[str] = ""
    _FOR_SHARE: ClassVar[str] = ""

    # -- the hooks each database supplies ----------------------------------------

    @abstractmethod
    def _session(self, *, write: bool) -> AbstractContextManager[Session]:
        """Open a session; with ``write``, one transaction committed on a clean exit."""

    @abstractmethod
    def _encode_time(self, value: datetime) -> Any: ...

    @abstractmethod
    def _decode_time(self, value: Any) -> datetime: ...

    def _lock_link_scopes(self, session: Session, scopes: Sequence[tuple[str, str]]) -> None:
        """Serialise link writers of the same audiences (not needed where writes are serial)."""

    def _lock_claim(self, session: Session, key: str) -> None:
        """Serialise the takers of one claim (not needed where writes are serial)."""

    def _prepare_schema(self, session: Session) -> None:
        """Get ready to read or change the schema version inside the migration transaction."""

    def _rows_added(self, session: Session, table: str, count: int) -> None:
        """Learn that the batch being written adds up to ``count`` rows to ``table``."""

    @override
    def _write(self) -> AbstractContextManager[Session]:
        return self._session(write=True)

    def _read(self) -> AbstractContextManager[Session]:
        return self._session(write=False)

    def _time(self, value: datetime | None) -> Any:
        return None if value is None else self._encode_time(value)

    def _opt_time(self, value: Any) -> datetime | None:
        return None if value is None else self._decode_time(value)

    # -- schema ------------------------------------------------------------------

    def _schema_version(self, session: Session) -> int | None:
        session.run("CREATE TABLE IF NOT EXISTS pdmc_schema (version INTEGER NOT NULL)")
        found = session.rows("SELECT version FROM pdmc_schema")
        return int(found[0][0]) if found else None

    def _migrate(self) -> None:
        """Bring the database to the current schema version, in one transaction.

        Raises:
            SchemaVersionError: the database was written by a newer pdmc.
        """
        latest = len(self._MIGRATIONS)
        with self._write() as session:
            self._prepare_schema(session)
            version = self._schema_version(session)
            current = 0 if version is None else version
            if current > latest:
                raise SchemaVersionError(
                    f"{self!r} has schema version {current}, but this pdmc reads versions up "
                    f"to {latest}: upgrade pdmc to use this store"
                )
            for step in self._MIGRATIONS[current:]:
                for statement in step:
                    session.run(
                        statement.format(
                            time=self._TIME_TYPE, serial=self._SERIAL_TYPE, bytewise=self._BYTEWISE
                        )
                    )
            if version is None:
                session.run("INSERT INTO pdmc_schema (version) VALUES (?)", (latest,))
            elif current != latest:
                session.run("UPDATE pdmc_schema SET version = ?", (latest,))

    def schema_version(self) -> int:
        """Return the schema version of the database (the current one once opened)."""
        with self._read() as session:
            rows = session.rows("SELECT version FROM pdmc_schema")
        return int(rows[0][0])

    # -- flows -------------------------------------------------------------------

    def _flow(self, row: Sequence[Any]) -> FlowRecord:
        return FlowRecord(
            flow_id=row[0],
            name=row[1],
            definition=decode_json(row[2]),
            definition_version=row[3],
            status=row[4],
            status_reason=row[5],
            created_at=self._decode_time(row[6]),
            updated_at=self._decode_time(row[7]),
            activated_at=self._opt_time(row[8]),
            next_run_at=self._opt_time(row[9]),
            last_run_at=self._opt_time(row[10]),
        )

    @override
    def _read_flow(self, tx: Session, flow_id: str) -> FlowRecord | None:
        rows = tx.rows(f"SELECT {_FLOW_COLUMNS} FROM pdmc_flows WHERE flow_id = ?", (flow_id,))
        return self._flow(rows[0]) if rows else None

    @override
    def _put_flow(self, tx: Session, flow: FlowRecord, definition: str) -> None:
        tx.run(
            _PUT_FLOW,
            (
                flow.flow_id,
                flow.name,
                definition,
                flow.definition_version,
                flow.status,
                flow.status_reason,
                self._time(flow.created_at),
                self._time(flow.updated_at),
                self._time(flow.activated_at),
                self._time(flow.next_run_at),
                self._time(flow.last_run_at),
            ),
        )

    def get_flow(self, flow_id: str) -> FlowRecord | None:
        with self._read() as session:
            return self._read_flow(session, flow_id)

    def list_flows(self, *, status: FlowStatus | None = None) -> list[FlowRecord]:
        check_status(status)
        where, params = ("", ()) if status is None else (" WHERE status = ?", (status,))
        with self._read() as session:
            rows = session.rows(
                f"SELECT {_FLOW_COLUMNS} FROM pdmc_flows{where} ORDER BY created_at, flow_id",
                params,
            )
        return [self._flow(row) for row in rows]

    def delete_flow(self, flow_id: str) -> bool:
        with self._write() as session:
            return session.run("DELETE FROM pdmc_flows WHERE flow_id = ?", (flow_id,)) > 0

    def flows_due(self, at: datetime | None = None) -> list[FlowRecord]:
        moment = self._now() if at is None else require_time("at", at)
        with self._read() as session:
            rows = session.rows(
                f"SELECT {_FLOW_COLUMNS} FROM pdmc_flows WHERE status = 'active' "
                "AND next_run_at <= ? ORDER BY next_run_at, flow_id",
                (self._encode_time(moment),),
            )
        return [self._flow(row) for row in rows]

    # -- links -------------------------------------------------------------------

    def _link(self, row: Sequence[Any]) -> Link:
        return Link(
            account_pair=row[0],
            audience_id=row[1],
            email=row[2],
            person_id=row[3],
            member_id=row[4],
            member_status=row[5],
            pipedrive_fingerprint=row[6],
            mailchimp_fingerprint=row[7],
            created_at=self._decode_time(row[8]),
            updated_at=self._decode_time(row[9]),
        )

    def _link_rows(
        self,
        session: Session,
        account_pair: str,
        audience_id: str,
        column: Literal["person_id", "member_id", "email"],
        keys: Sequence[Any],
    ) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = []
        for chunk in _chunks(keys):
            found += session.rows(
                f"SELECT {_LINK_COLUMNS} FROM pdmc_links WHERE account_pair = ? "
                f"AND audience_id = ? AND {column} IN ({_marks(len(chunk))})",
                (account_pair, audience_id, *chunk),
            )
        return found

    def _links_where(
        self,
        session: Session,
        account_pair: str,
        audience_id: str,
        column: Literal["person_id", "member_id", "email"],
        keys: Sequence[Any],
    ) -> list[Link]:
        rows = self._link_rows(session, account_pair, audience_id, column, keys)
        return [self._link(row) for row in rows]

    def links_for_persons(
        self, account_pair: str, audience_id: str, person_ids: Iterable[int]
    ) -> dict[int, Link]:
        keys = person_keys(person_ids)
        with self._read() as session:
            links = self._links_where(session, account_pair, audience_id, "person_id", keys)
        return {link.person_id: link for link in links if link.person_id is not None}

    def links_for_members(
        self, account_pair: str, audience_id: str, member_ids: Iterable[str]
    ) -> dict[str, Link]:
        keys = member_keys(member_ids)
        with self._read() as session:
            links = self._links_where(session, account_pair, audience_id, "member_id", keys)
        return {link.member_id: link for link in links if link.member_id is not None}

    def links_for_emails(
        self, account_pair: str, audience_id: str, emails: Iterable[str]
    ) -> dict[str, Link]:
        keys = email_keys(emails)
        with self._read() as session:
            links = self._links_where(session, account_pair, audience_id, "email", keys)
        return {link.email: link for link in links}

    def iter_links(
        self, account_pair: str, audience_id: str, *, page_size: int = 1000
    ) -> Iterator[Link]:
        require_positive("page_size", page_size)
        after = ""
        while True:
            with self._read() as session:
                rows = session.rows(
                    f"SELECT {_LINK_COLUMNS} FROM pdmc_links WHERE account_pair = ? "
                    "AND audience_id = ? AND email > ? ORDER BY email LIMIT ?",
                    (account_pair, audience_id, after, page_size),
                )
            if not rows:
                return
            page = [self._link(row) for row in rows]
            yield from page
            after = page[-1].email

    def count_links(self, account_pair: str, audience_id: str) -> int:
        with self._read() as session:
            rows = session.rows(
                "SELECT COUNT(*) FROM pdmc_links WHERE account_pair = ? AND audience_id = ?",
                (account_pair, audience_id),
            )
        return int(rows[0][0])

    def _link_values(self, link: Link) -> tuple[Any, ...]:
        return (
            link.account_pair,
            link.audience_id,
            link.email,
            link.person_id,
            link.member_id,
            link.member_status,
            link.pipedrive_fingerprint,
            link.mailchimp_fingerprint,
            self._time(link.created_at),
            self._time(link.updated_at),
        )

    def _links_touched(
        self, session: Session, account_pair: str, audience_id: str, links: Sequence[Link]
    ) -> list[Link]:
        """The stored links sharing a key with ``links``: the only ones an upsert can meet.

        Looked up by email first (the usual match), then by the person and member ids
        that no link found so far holds.
        """
        rows: dict[str, tuple[Any, ...]] = {}

        def fetch(column: Literal["person_id", "member_id", "email"], keys: list[Any]) -> None:
            for row in self._link_rows(session, account_pair, audience_id, column, keys):
                rows.setdefault(row[2], row)

        fetch("email", email_keys(link.email for link in links))
        known: set[Any] = {None, *(row[3] for row in rows.values())}
        fetch(
            "person_id",
            person_keys(link.person_id for link in links if link.person_id not in known),
        )
        known = {None, *(row[4] for row in rows.values())}
        fetch(
            "member_id",
            member_keys(link.member_id for link in links if link.member_id not in known),
        )
        return [self._link(row) for row in rows.values()]

    def _write_links(self, tx: Session, links: Sequence[Link], now: datetime) -> None:
        scopes: dict[tuple[str, str], list[Link]] = {}
        for link in links:
            scopes.setdefault((link.account_pair, link.audience_id), []).append(link)
        self._lock_link_scopes(tx, sorted(scopes))
        for (pair, audience), scoped in scopes.items():
            # Apply the batch in memory, in order, then write only its net effect.
            index = LinkIndex(self._links_touched(tx, pair, audience, scoped))
            origins, absorbed = _apply_in_memory(index, scoped, now)
            moved = absorbed
            refreshed: list[Link] = []
            added: list[Link] = []
            for email, origin in origins.items():
                final = index.by_email[email]
                if origin is not None and _keys(origin) == _keys(final):
                    refreshed.append(final)
                else:
                    added.append(final)
                    if origin is not None:
                        moved.append(origin.email)
            # Deleting every moved link before inserting keeps each key unique throughout.
            for chunk in _chunks(moved):
                tx.run(
                    "DELETE FROM pdmc_links WHERE account_pair = ? AND audience_id = ? "
                    f"AND email IN ({_marks(len(chunk))})",
                    (pair, audience, *chunk),
                )
            self._refresh_links(tx, pair, audience, refreshed, now)
            tx.insert_rows("pdmc_links", _LINK_COLUMNS, [self._link_values(link) for link in added])
            self._rows_added(tx, "pdmc_links", len(added) - len(moved))

    def _refresh_links(
        self,
        session: Session,
        account_pair: str,
        audience_id: str,
        links: Sequence[Link],
        now: datetime,
    ) -> None:
        """Write the status and fingerprints of one audience's links whose keys did not change."""
        stamp = self._encode_time(now)
        session.run_many(
            "UPDATE pdmc_links SET member_status = ?, pipedrive_fingerprint = ?, "
            "mailchimp_fingerprint = ?, updated_at = ? "
            "WHERE account_pair = ? AND audience_id = ? AND email = ?",
            [
                (
                    link.member_status,
                    link.pipedrive_fingerprint,
                    link.mailchimp_fingerprint,
                    stamp,
                    account_pair,
                    audience_id,
                    link.email,
                )
                for link in links
            ],
        )

    # -- memberships -------------------------------------------------------------

    def tracked(self, flow_id: str, keys: Iterable[str]) -> dict[str, bool]:
        wanted = membership_keys(keys)
        found: dict[str, bool] = {}
        with self._read() as session:
            for chunk in _chunks(wanted, _TRACKED_CHUNK):
                rows = session.rows(
                    "SELECT contact_key, matching FROM pdmc_memberships WHERE flow_id = ? "
                    f"AND contact_key IN ({_marks(len(chunk))})",
                    (flow_id, *chunk),
                )
                found.update((key, bool(matching)) for key, matching in rows)
        return found

    @override
    def _write_memberships(
        self,
        tx: Session,
        flow_id: str,
        memberships: Mapping[str, bool],
        pass_started: datetime | None,
        now: datetime,
    ) -> None:
        if memberships:
            self._put_memberships(tx, flow_id, memberships, now)
            self._rows_added(tx, "pdmc_memberships", len(memberships))
        if pass_started is not None:
            tx.run(
                "UPDATE pdmc_memberships SET matching = ? "
                "WHERE flow_id = ? AND matching AND seen_at < ?",
                (False, flow_id, self._encode_time(pass_started)),
            )

    def _put_memberships(
        self, session: Session, flow_id: str, memberships: Mapping[str, bool], now: datetime
    ) -> None:
        """Upsert a flow's memberships as seen at ``now``."""
        stamp = self._encode_time(now)
        session.run_many(
            _PUT_MEMBERSHIP,
            [(flow_id, key, matching, stamp) for key, matching in memberships.items()],
        )

    # -- checkpoints -----------------------------------------------------------

    def get_checkpoints(self, flow_id: str) -> dict[str, Any]:
        with self._read() as session:
            rows = session.rows(
                "SELECT name, value FROM pdmc_checkpoints WHERE flow_id = ?", (flow_id,)
            )
        return {name: decode_json(value) for name, value in rows}

    @override
    def _write_checkpoints(
        self, tx: Session, flow_id: str, checkpoints: Mapping[str, str], now: datetime
    ) -> None:
        stamp = self._encode_time(now)
        tx.run_many(
            _PUT_CHECKPOINT,
            [(flow_id, name, value, stamp) for name, value in checkpoints.items()],
        )

    # -- processed events --------------------------------------------------------

    def mark_event_processed(self, source: str, event_id: str) -> bool:
        key = event_key(source, event_id)
        now = self._now()
        with self._write() as session:
            return session.run(_INSERT_EVENT, (*key, self._encode_time(now))) == 1

    def is_event_processed(self, source: str, event_id: str) -> bool:
        with self._read() as session:
            return bool(
                session.rows(
                    "SELECT 1 FROM pdmc_events WHERE source = ? AND event_id = ?",
                    (source, event_id),
                )
            )

    def purge_events(self, older_than: datetime) -> int:
        require_time("older_than", older_than)
        with self._write() as session:
            return session.run(
                "DELETE FROM pdmc_events WHERE processed_at < ?",
                (self._encode_time(older_than),),
            )

    @override
    def _write_events(self, tx: Session, events: Sequence[tuple[str, str]], now: datetime) -> None:
        stamp = self._encode_time(now)
        tx.run_many(_INSERT_EVENT, [(source, event_id, stamp) for source, event_id in events])

    # -- retry rows ----------------------------------------------------------------

    def due_retries(self, flow_id: str, *, limit: int = 500) -> list[RetryRow]:
        require_positive("limit", limit)
        now = self._now()
        with self._read() as session:
            rows = session.rows(
                f"SELECT {_RETRY_COLUMNS} FROM pdmc_retries WHERE flow_id = ? "
                "AND next_attempt_at <= ? ORDER BY next_attempt_at, row_key LIMIT ?",
                (flow_id, self._encode_time(now), limit),
            )
        return [
            RetryRow(
                flow_id=row[0],
                row_key=row[1],
                payload=decode_json(row[2]),
                error=row[3],
                attempts=row[4],
                first_failed_at=self._decode_time(row[5]),
                next_attempt_at=self._decode_time(row[6]),
            )
            for row in rows
        ]

    def count_retries(self, flow_id: str) -> int:
        with self._read() as session:
            rows = session.rows("SELECT COUNT(*) FROM pdmc_retries WHERE flow_id = ?", (flow_id,))
        return int(rows[0][0])

    @override
    def _write_retries(
        self, tx: Session, flow_id: str, retries: Mapping[str, PendingRetry | None], now: datetime
    ) -> None:
        stamp = self._encode_time(now)
        tx.run_many(
            _PUT_RETRY,
            [
                (
                    flow_id,
                    key,
                    retry.payload,
                    retry.error,
                    stamp,
                    self._encode_time(retry.next_attempt_at),
                )
                for key, retry in retries.items()
                if retry is not None
            ],
        )
        tx.run_many(
            _DELETE_RETRY, [(flow_id, key) for key, retry in retries.items() if retry is None]
        )

    # -- runs and outcomes -----------------------------------------------------------

    def _run(self, row: Sequence[Any]) -> Run:
        return Run(
            run_id=row[0],
            flow_id=row[1],
            status=row[2],
            started_at=self._decode_time(row[3]),
            finished_at=self._opt_time(row[4]),
            counts=decode_json(row[5]),
            error=row[6],
        )

    @override
    def _read_run(self, tx: Session, run_id: int) -> Run | None:
        rows = tx.rows(f"SELECT {_RUN_COLUMNS} FROM pdmc_runs WHERE run_id = ?", (run_id,))
        return self._run(rows[0]) if rows else None

    def start_run(self, flow_id: str) -> Run:
        now = self._now()
        with self._write() as session:
            self._require_flow(session, flow_id)
            rows = session.rows(
                "INSERT INTO pdmc_runs (flow_id, status, started_at, counts) "
                f"VALUES (?, 'running', ?, '{{}}') RETURNING {_RUN_COLUMNS}",
                (flow_id, self._encode_time(now)),
            )
        return self._run(rows[0])

    def finish_run(
        self,
        run_id: int,
        *,
        status: Literal["succeeded", "failed"],
        counts: Mapping[str, int] | None = None,
        error: str | None = None,
    ) -> Run:
        counts_json = check_finish(run_id, status, counts, error)
        now = self._now()
        with self._write() as session:
            rows = session.rows(
                "UPDATE pdmc_runs SET status = ?, finished_at = ?, counts = ?, error = ? "
                f"WHERE run_id = ? AND status = 'running' RETURNING {_RUN_COLUMNS}",
                (status, self._encode_time(now), counts_json, error, run_id),
            )
            if rows:
                return self._run(rows[0])
            run = self._read_run(session, run_id)
        raise no_run(run_id) if run is None else finished_already(run)

    def get_run(self, run_id: int) -> Run | None:
        with self._read() as session:
            return self._read_run(session, run_id)

    def list_runs(self, flow_id: str, *, limit: int = 20) -> list[Run]:
        require_positive("limit", limit)
        with self._read() as session:
            rows = session.rows(
                f"SELECT {_RUN_COLUMNS} FROM pdmc_runs WHERE flow_id = ? "
                "ORDER BY run_id DESC LIMIT ?",
                (flow_id, limit),
            )
        return [self._run(row) for row in rows]

    def iter_outcomes(
        self, run_id: int, *, action: str | None = None, page_size: int = 1000
    ) -> Iterator[Outcome]:
        require_positive("page_size", page_size)
        where, extra = ("", ()) if action is None else (" AND action = ?", (action,))
        after = 0
        while True:
            with self._read() as session:
                rows = session.rows(
                    "SELECT seq, action, email, person_id, member_id, reason, recorded_at "
                    f"FROM pdmc_outcomes WHERE run_id = ?{where} AND seq > ? "
                    "ORDER BY seq LIMIT ?",
                    (run_id, *extra, after, page_size),
                )
            if not rows:
                return
            for row in rows:
                yield Outcome(
                    action=row[1],
                    email=row[2],
                    person_id=row[3],
                    member_id=row[4],
                    reason=row[5],
                    recorded_at=self._decode_time(row[6]),
                )
            after = rows[-1][0]

    def purge_runs(self, older_than: datetime) -> int:
        require_time("older_than", older_than)
        with self._write() as session:
            return session.run(
                "DELETE FROM pdmc_runs WHERE finished_at IS NOT NULL AND started_at < ?",
                (self._encode_time(older_than),),
            )

    @override
    def _write_outcomes(
        self, tx: Session, run_id: int, outcomes: Sequence[Outcome], now: datetime
    ) -> None:
        stamp = self._encode_time(now)
        tx.insert_rows(
            "pdmc_outcomes",
            _OUTCOME_COLUMNS,
            [
                (run_id, o.action, o.email, o.person_id, o.member_id, o.reason, stamp)
                for o in outcomes
            ],
        )

    # -- leases --------------------------------------------------------------------

    def _lease(self, flow_id: str, row: Sequence[Any]) -> Lease | None:
        # Token 0 marks the row a first acquisition creates before it takes the lease.
        if row[1] == 0:
            return None
        return Lease(
            flow_id=flow_id,
            holder=row[0],
            token=row[1],
            acquired_at=self._decode_time(row[2]),
            expires_at=self._decode_time(row[3]),
        )

    def acquire_lease(self, flow_id: str, holder: str, ttl: timedelta) -> Lease:
        check_holder(holder)
        check_ttl(ttl)
        now = self._now()
        stamp = self._encode_time(now)
        with self._write() as session:
            self._require_flow(session, flow_id)
            session.run(
                f"INSERT INTO pdmc_leases (flow_id, {_LEASE_COLUMNS}) VALUES (?, '', 0, ?, ?) "
                "ON CONFLICT (flow_id) DO NOTHING",
                (flow_id, stamp, stamp),
            )
            rows = session.rows(
                f"SELECT {_LEASE_COLUMNS} FROM pdmc_leases WHERE flow_id = ?{self._SKIP_LOCKED}",
                (flow_id,),
            )
            if not rows:  # another worker holds the row lock: it is taking the lease now
                raise lease_being_taken(flow_id)
            lease = grant_lease(self._lease(flow_id, rows[0]), flow_id, holder, ttl, now)
            session.run(
                "UPDATE pdmc_leases SET holder = ?, token = ?, acquired_at = ?, expires_at = ? "
                "WHERE flow_id = ?",
                (
                    lease.holder,
                    lease.token,
                    self._encode_time(lease.acquired_at),
                    self._encode_time(lease.expires_at),
                    flow_id,
                ),
            )
        return lease

    def renew_lease(self, lease: Lease, ttl: timedelta) -> Lease:
        check_ttl(ttl)
        now = self._now()
        with self._write() as session:
            rows = session.rows(
                "UPDATE pdmc_leases SET expires_at = ? WHERE flow_id = ? AND holder = ? "
                f"AND token = ? RETURNING {_LEASE_COLUMNS}",
                (self._encode_time(now + ttl), lease.flow_id, lease.holder, lease.token),
            )
        renewed = self._lease(lease.flow_id, rows[0]) if rows else None
        if renewed is None:
            raise lost_lease(lease)
        return renewed

    def release_lease(self, lease: Lease) -> None:
        stamp = self._encode_time(self._now())
        with self._write() as session:
            session.run(
                "UPDATE pdmc_leases SET expires_at = ? WHERE flow_id = ? AND holder = ? "
                "AND token = ? AND expires_at > ?",
                (stamp, lease.flow_id, lease.holder, lease.token, stamp),
            )

    def get_lease(self, flow_id: str) -> Lease | None:
        now = self._now()
        with self._read() as session:
            rows = session.rows(
                f"SELECT {_LEASE_COLUMNS} FROM pdmc_leases WHERE flow_id = ?", (flow_id,)
            )
        lease = self._lease(flow_id, rows[0]) if rows else None
        return lease if lease is not None and lease.expires_at > now else None

    @override
    def _check_lease(self, tx: Session, lease: Lease) -> None:
        rows = tx.rows(
            f"SELECT holder, token FROM pdmc_leases WHERE flow_id = ?{self._FOR_SHARE}",
            (lease.flow_id,),
        )
        if not rows or not is_current(lease, rows[0][0], rows[0][1]):
            raise lost_lease(lease)

    # -- claims --------------------------------------------------------------------

    @override
    def _read_claim(self, tx: Session, key: str) -> Claim | None:
        self._lock_claim(tx, key)
        rows = tx.rows(f"SELECT {_CLAIM_COLUMNS} FROM pdmc_claims WHERE claim_key = ?", (key,))
        if not rows:
            return None
        _, holder, token, acquired_at, expires_at = rows[0]
        return Claim(
            key=key,
            holder=holder,
            token=token,
            acquired_at=self._decode_time(acquired_at),
            expires_at=self._decode_time(expires_at),
        )

    @override
    def _put_claim(self, tx: Session, claim: Claim) -> None:
        tx.run(
            _PUT_CLAIM,
            (
                claim.key,
                claim.holder,
                claim.token,
                self._encode_time(claim.acquired_at),
                self._encode_time(claim.expires_at),
            ),
        )

    @override
    def _release_claims(self, tx: Session, claims: Sequence[Claim]) -> None:
        tx.run_many(_DELETE_CLAIM, [(claim.key, claim.holder, claim.token) for claim in claims])
