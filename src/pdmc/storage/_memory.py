"""MemoryStore: the state store that lives in this process's memory."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Literal

from attrs import evolve
from typing_extensions import override

from pdmc.errors import StoreError
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
from pdmc.storage._claims import holds
from pdmc.storage._clock import Clock
from pdmc.storage._journal import Journal
from pdmc.storage._json import decode_json
from pdmc.storage._leases import check_holder, check_ttl, grant_lease, is_current, lost_lease
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

__all__ = ["MemoryStore"]


class MemoryStore(StoreBase[Journal]):
    """A state store in this process's memory, for notebooks, demos and tests.

    It follows every rule of :class:`~pdmc.storage.StateStore` (a failed batch
    leaves nothing behind; threads racing for a lease get exactly one winner) but
    forgets everything when the process ends and cannot be shared with another
    process. Use :class:`~pdmc.storage.SQLiteStore` to keep state.

    Args:
        clock: where the store reads the time; the system clock by default.
    """

    def __init__(self, *, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self._lock = threading.RLock()
        self._closed = False
        self._flows: dict[str, tuple[FlowRecord, str]] = {}
        self._links: dict[tuple[str, str], LinkIndex] = {}
        self._checkpoints: dict[str, dict[str, str]] = {}
        self._events: dict[tuple[str, str], datetime] = {}
        self._retries: dict[str, dict[str, RetryRow]] = {}
        self._runs: dict[int, Run] = {}
        self._outcomes: dict[int, list[Outcome]] = {}
        self._leases: dict[str, Lease] = {}
        # flow id -> membership key -> (matching, seen_at)
        self._memberships: dict[str, dict[str, tuple[bool, datetime]]] = {}
        self._claims: dict[str, Claim] = {}
        self._run_ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"MemoryStore(flows={len(self._flows)}, closed={self._closed})"

    def close(self) -> None:
        """Mark the store closed; later calls raise :class:`~pdmc.errors.StoreError`."""
        with self._lock:
            self._closed = True

    @contextmanager
    def _read(self) -> Iterator[None]:
        with self._lock:
            if self._closed:
                raise StoreError("the MemoryStore is closed")
            yield

    @override
    @contextmanager
    def _write(self) -> Iterator[Journal]:
        with self._read():
            journal = Journal()
            try:
                yield journal
            except BaseException:
                journal.rollback()
                raise

    # -- flows -------------------------------------------------------------------

    @override
    def _read_flow(self, tx: Journal, flow_id: str) -> FlowRecord | None:
        entry = self._flows.get(flow_id)
        return None if entry is None else evolve(entry[0], definition=decode_json(entry[1]))

    @override
    def _put_flow(self, tx: Journal, flow: FlowRecord, definition: str) -> None:
        tx.set(self._flows, flow.flow_id, (evolve(flow, definition={}), definition))

    def get_flow(self, flow_id: str) -> FlowRecord | None:
        with self._read():
            return self._read_flow(Journal(), flow_id)

    def list_flows(self, *, status: FlowStatus | None = None) -> list[FlowRecord]:
        check_status(status)
        with self._read():
            flows = [
                self._read_flow(Journal(), flow_id)
                for flow_id, (flow, _) in self._flows.items()
                if status is None or flow.status == status
            ]
        found = [flow for flow in flows if flow is not None]
        return sorted(found, key=lambda flow: (flow.created_at, flow.flow_id))

    def delete_flow(self, flow_id: str) -> bool:
        with self._write():
            if self._flows.pop(flow_id, None) is None:
                return False
            self._checkpoints.pop(flow_id, None)
            self._retries.pop(flow_id, None)
            self._leases.pop(flow_id, None)
            self._memberships.pop(flow_id, None)
            for run_id in [run.run_id for run in self._runs.values() if run.flow_id == flow_id]:
                del self._runs[run_id]
                self._outcomes.pop(run_id, None)
            return True

    def flows_due(self, at: datetime | None = None) -> list[FlowRecord]:
        moment = self._now() if at is None else require_time("at", at)
        due = [
            flow
            for flow in self.list_flows(status="active")
            if flow.next_run_at is not None and flow.next_run_at <= moment
        ]
        return sorted(due, key=lambda flow: (flow.next_run_at, flow.flow_id))

    # -- links -------------------------------------------------------------------

    def _index(self, account_pair: str, audience_id: str) -> LinkIndex:
        return self._links.get((account_pair, audience_id)) or LinkIndex()

    def links_for_persons(
        self, account_pair: str, audience_id: str, person_ids: Iterable[int]
    ) -> dict[int, Link]:
        keys = person_keys(person_ids)
        with self._read():
            index = self._index(account_pair, audience_id)
            found = {key: index.by_person(key) for key in keys}
        return {key: link for key, link in found.items() if link is not None}

    def links_for_members(
        self, account_pair: str, audience_id: str, member_ids: Iterable[str]
    ) -> dict[str, Link]:
        keys = member_keys(member_ids)
        with self._read():
            index = self._index(account_pair, audience_id)
            found = {key: index.by_member(key) for key in keys}
        return {key: link for key, link in found.items() if link is not None}

    def links_for_emails(
        self, account_pair: str, audience_id: str, emails: Iterable[str]
    ) -> dict[str, Link]:
        keys = email_keys(emails)
        with self._read():
            index = self._index(account_pair, audience_id)
            return {key: index.by_email[key] for key in keys if key in index.by_email}

    def iter_links(
        self, account_pair: str, audience_id: str, *, page_size: int = 1000
    ) -> Iterator[Link]:
        require_positive("page_size", page_size)
        with self._read():
            emails = sorted(self._index(account_pair, audience_id).by_email)
        for start in range(0, len(emails), page_size):
            found = self.links_for_emails(
                account_pair, audience_id, emails[start : start + page_size]
            )
            yield from found.values()

    def count_links(self, account_pair: str, audience_id: str) -> int:
        with self._read():
            return len(self._index(account_pair, audience_id))

    @override
    def _write_links(self, tx: Journal, links: Sequence[Link], now: datetime) -> None:
        for link in links:
            index = tx.setdefault(self._links, (link.account_pair, link.audience_id), LinkIndex())
            index.upsert(link, now, tx)

    # -- memberships -------------------------------------------------------------

    def tracked(self, flow_id: str, keys: Iterable[str]) -> dict[str, bool]:
        wanted = membership_keys(keys)
        with self._read():
            stored = self._memberships.get(flow_id, {})
            return {key: stored[key][0] for key in wanted if key in stored}

    @override
    def _write_memberships(
        self,
        tx: Journal,
        flow_id: str,
        memberships: Mapping[str, bool],
        pass_started: datetime | None,
        now: datetime,
    ) -> None:
        if not memberships and pass_started is None:
            return
        stored = tx.setdefault(self._memberships, flow_id, {})
        for key, matching in memberships.items():
            tx.set(stored, key, (matching, now))
        if pass_started is not None:
            unseen = [
                (key, seen_at)
                for key, (matching, seen_at) in stored.items()
                if matching and seen_at < pass_started
            ]
            for key, seen_at in unseen:
                tx.set(stored, key, (False, seen_at))

    # -- checkpoints -----------------------------------------------------------

    def get_checkpoints(self, flow_id: str) -> dict[str, Any]:
        with self._read():
            stored = dict(self._checkpoints.get(flow_id, {}))
        return {name: decode_json(text) for name, text in stored.items()}

    @override
    def _write_checkpoints(
        self, tx: Journal, flow_id: str, checkpoints: Mapping[str, str], now: datetime
    ) -> None:
        for name, text in checkpoints.items():
            stored = tx.setdefault(self._checkpoints, flow_id, {})
            tx.set(stored, name, text)

    # -- processed events --------------------------------------------------------

    def mark_event_processed(self, source: str, event_id: str) -> bool:
        key = event_key(source, event_id)
        now = self._now()
        with self._write() as tx:
            if key in self._events:
                return False
            self._write_events(tx, [key], now)
            return True

    def is_event_processed(self, source: str, event_id: str) -> bool:
        with self._read():
            return (source, event_id) in self._events

    def purge_events(self, older_than: datetime) -> int:
        require_time("older_than", older_than)
        with self._write():
            old = [key for key, at in self._events.items() if at < older_than]
            for key in old:
                del self._events[key]
        return len(old)

    @override
    def _write_events(self, tx: Journal, events: Sequence[tuple[str, str]], now: datetime) -> None:
        for key in events:
            if key not in self._events:
                tx.set(self._events, key, now)

    # -- retry rows ----------------------------------------------------------------

    def due_retries(self, flow_id: str, *, limit: int = 500) -> list[RetryRow]:
        require_positive("limit", limit)
        now = self._now()
        with self._read():
            due = [
                row for row in self._retries.get(flow_id, {}).values() if row.next_attempt_at <= now
            ]
        due.sort(key=lambda row: (row.next_attempt_at, row.row_key))
        return [evolve(row, payload=decode_json(row.payload)) for row in due[:limit]]

    def count_retries(self, flow_id: str) -> int:
        with self._read():
            return len(self._retries.get(flow_id, {}))

    @override
    def _write_retries(
        self, tx: Journal, flow_id: str, retries: Mapping[str, PendingRetry | None], now: datetime
    ) -> None:
        for row_key, pending in retries.items():
            rows = tx.setdefault(self._retries, flow_id, {})
            if pending is None:
                tx.delete(rows, row_key)
                continue
            before = rows.get(row_key)
            tx.set(
                rows,
                row_key,
                RetryRow(
                    flow_id=flow_id,
                    row_key=row_key,
                    payload=pending.payload,
                    error=pending.error,
                    attempts=1 if before is None else before.attempts + 1,
                    first_failed_at=now if before is None else before.first_failed_at,
                    next_attempt_at=pending.next_attempt_at,
                ),
            )

    # -- runs and outcomes -----------------------------------------------------------

    @override
    def _read_run(self, tx: Journal, run_id: int) -> Run | None:
        return self._runs.get(run_id)

    def start_run(self, flow_id: str) -> Run:
        now = self._now()
        with self._write() as tx:
            self._require_flow(tx, flow_id)
            run = Run(run_id=next(self._run_ids), flow_id=flow_id, status="running", started_at=now)
            tx.set(self._runs, run.run_id, run)
            tx.set(self._outcomes, run.run_id, [])
        return run

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
        with self._write() as tx:
            run = self._runs.get(run_id)
            if run is None:
                raise no_run(run_id)
            if run.status != "running":
                raise finished_already(run)
            run = evolve(
                run, status=status, finished_at=now, counts=decode_json(counts_json), error=error
            )
            tx.set(self._runs, run_id, run)
        return run

    def get_run(self, run_id: int) -> Run | None:
        with self._read():
            return self._runs.get(run_id)

    def list_runs(self, flow_id: str, *, limit: int = 20) -> list[Run]:
        require_positive("limit", limit)
        with self._read():
            runs = [run for run in self._runs.values() if run.flow_id == flow_id]
        return sorted(runs, key=lambda run: run.run_id, reverse=True)[:limit]

    def iter_outcomes(
        self, run_id: int, *, action: str | None = None, page_size: int = 1000
    ) -> Iterator[Outcome]:
        require_positive("page_size", page_size)
        for start in itertools.count(0, page_size):
            with self._read():
                page = self._outcomes.get(run_id, [])[start : start + page_size]
            if not page:
                return
            yield from (outcome for outcome in page if action is None or outcome.action == action)

    def purge_runs(self, older_than: datetime) -> int:
        require_time("older_than", older_than)
        with self._write():
            old = [
                run.run_id
                for run in self._runs.values()
                if run.finished_at is not None and run.started_at < older_than
            ]
            for run_id in old:
                del self._runs[run_id]
                self._outcomes.pop(run_id, None)
        return len(old)

    @override
    def _write_outcomes(
        self, tx: Journal, run_id: int, outcomes: Sequence[Outcome], now: datetime
    ) -> None:
        for outcome in outcomes:
            tx.append(self._outcomes[run_id], evolve(outcome, recorded_at=now))

    # -- leases --------------------------------------------------------------------

    def acquire_lease(self, flow_id: str, holder: str, ttl: timedelta) -> Lease:
        check_holder(holder)
        check_ttl(ttl)
        now = self._now()
        with self._write() as tx:
            self._require_flow(tx, flow_id)
            lease = grant_lease(self._leases.get(flow_id), flow_id, holder, ttl, now)
            tx.set(self._leases, flow_id, lease)
        return lease

    def renew_lease(self, lease: Lease, ttl: timedelta) -> Lease:
        check_ttl(ttl)
        now = self._now()
        with self._write() as tx:
            current = self._current_lease(lease)
            renewed = evolve(current, expires_at=now + ttl)
            tx.set(self._leases, lease.flow_id, renewed)
        return renewed

    def release_lease(self, lease: Lease) -> None:
        now = self._now()
        with self._write() as tx:
            current = self._leases.get(lease.flow_id)
            if current is not None and is_current(current, lease.holder, lease.token):
                tx.set(
                    self._leases,
                    lease.flow_id,
                    evolve(current, expires_at=min(now, current.expires_at)),
                )

    def get_lease(self, flow_id: str) -> Lease | None:
        now = self._now()
        with self._read():
            current = self._leases.get(flow_id)
        return current if current is not None and current.expires_at > now else None

    def _current_lease(self, lease: Lease) -> Lease:
        current = self._leases.get(lease.flow_id)
        if current is None or not is_current(current, lease.holder, lease.token):
            raise lost_lease(lease)
        return current

    @override
    def _check_lease(self, tx: Journal, lease: Lease) -> None:
        self._current_lease(lease)

    # -- claims --------------------------------------------------------------------

    @override
    def _read_claim(self, tx: Journal, key: str) -> Claim | None:
        return self._claims.get(key)

    @override
    def _put_claim(self, tx: Journal, claim: Claim) -> None:
        tx.set(self._claims, claim.key, claim)

    @override
    def _release_claims(self, tx: Journal, claims: Sequence[Claim]) -> None:
        for claim in claims:
            stored = self._claims.get(claim.key)
            if stored is not None and holds(stored, claim):
                tx.delete(self._claims, claim.key)
