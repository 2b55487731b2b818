"""What the shipped stores share: the clock, flow bookkeeping, the steps of a batch commit.

Each store supplies a write transaction (``_write``) and the steps that read and
write its own storage; :class:`StoreBase` runs them in the order every store follows,
so the rules live in one place.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from types import TracebackType
from typing import Generic, Self, TypeVar

from attrs import evolve

from pdmc._types import UNSET, UnsetType
from pdmc.errors import ConfigurationError, StoreError
from pdmc.storage._batch import Batch, PendingRetry
from pdmc.storage._checks import require_positive, require_text
from pdmc.storage._claims import check_claim, check_claim_request, grant_claim
from pdmc.storage._clock import Clock, SystemClock, read_clock
from pdmc.storage._flows import flow_not_found, stamp_flow
from pdmc.storage._json import decode_json, encode_json
from pdmc.storage._protocol import StateStore
from pdmc.storage._records import (
    FLOW_STATUSES,
    Claim,
    FlowRecord,
    FlowStatus,
    Lease,
    Link,
    Outcome,
    Run,
    normalise_email,
)

__all__ = [
    "StoreBase",
    "check_finish",
    "check_run_of_flow",
    "check_status",
    "email_keys",
    "finished_already",
    "member_keys",
    "membership_keys",
    "no_run",
    "person_keys",
]

_Tx = TypeVar("_Tx")


def check_status(status: object) -> None:
    """Refuse a flow status (or status filter) that is not a flow status."""
    if status is not None and status not in FLOW_STATUSES:
        raise ConfigurationError(f"status must be one of {FLOW_STATUSES}, got {status!r}")


def check_finish(run_id: int, status: object, counts: object, error: object) -> str:
    """Check the arguments of ``finish_run``; return the counts as JSON text."""
    if status not in ("succeeded", "failed"):
        raise ConfigurationError(
            f"run {run_id} can finish as 'succeeded' or 'failed', not {status!r}"
        )
    if error is not None and not isinstance(error, str):
        raise ConfigurationError(f"the error of run {run_id} must be a str, got {error!r}")
    tallies = {} if counts is None else counts
    if not isinstance(tallies, Mapping) or not all(
        isinstance(key, str) and isinstance(number, int) and not isinstance(number, bool)
        for key, number in tallies.items()
    ):
        raise ConfigurationError(f"the counts of run {run_id} must map str to int, got {counts!r}")
    return encode_json(dict(tallies), what=f"the counts of run {run_id}")


def finished_already(run: Run) -> StoreError:
    """The error for finishing a run twice."""
    return StoreError(f"run {run.run_id} of flow {run.flow_id!r} has already finished")


def no_run(run_id: int) -> StoreError:
    """The error for an operation on a run the store does not hold."""
    return StoreError(f"no run has the id {run_id!r}")


def check_run_of_flow(run: Run | None, run_id: int, flow_id: str) -> None:
    """Refuse a batch whose run does not exist or belongs to another flow."""
    if run is None:
        raise no_run(run_id)
    if run.flow_id != flow_id:
        raise StoreError(f"run {run_id} belongs to flow {run.flow_id!r}, not {flow_id!r}")


def person_keys(person_ids: Iterable[object]) -> list[int]:
    """Return the distinct person ids asked for, refusing anything but positive ints."""
    return [require_positive("a person id", key) for key in dict.fromkeys(person_ids)]


def member_keys(member_ids: Iterable[object]) -> list[str]:
    """Return the distinct member ids asked for, refusing anything but non-empty strs."""
    return [require_text("a member id", key) for key in dict.fromkeys(member_ids)]


def email_keys(emails: Iterable[object]) -> list[str]:
    """Return the distinct normalised addresses asked for, refusing anything but strs."""
    return list(dict.fromkeys(normalise_email(require_text("an email", email)) for email in emails))


def membership_keys(keys: Iterable[object]) -> list[str]:
    """Return the distinct membership keys asked for, refusing anything but non-empty strs."""
    return [require_text("a membership key", key) for key in dict.fromkeys(keys)]


class StoreBase(StateStore, ABC, Generic[_Tx]):
    """The common half of every shipped store; ``_Tx`` is its write-transaction handle."""

    def __init__(self, clock: Clock | None) -> None:
        given: object = clock
        if given is not None and not isinstance(given, Clock):
            raise ConfigurationError(f"clock must have a now() method, got {clock!r}")
        self._clock: Clock = SystemClock() if clock is None else clock

    @property
    def clock(self) -> Clock:
        """The clock the store reads the time from."""
        return self._clock

    def _now(self) -> datetime:
        return read_clock(self._clock)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- the hooks each store supplies -------------------------------------------

    @abstractmethod
    def _write(self) -> AbstractContextManager[_Tx]:
        """Open a write transaction: committed on exit, rolled back on an exception."""

    @abstractmethod
    def _read_flow(self, tx: _Tx, flow_id: str) -> FlowRecord | None: ...

    @abstractmethod
    def _put_flow(self, tx: _Tx, flow: FlowRecord, definition: str) -> None: ...

    @abstractmethod
    def _check_lease(self, tx: _Tx, lease: Lease) -> None:
        """Refuse a batch whose lease was taken over or released."""

    @abstractmethod
    def _read_run(self, tx: _Tx, run_id: int) -> Run | None: ...

    @abstractmethod
    def _write_links(self, tx: _Tx, links: Sequence[Link], now: datetime) -> None: ...

    @abstractmethod
    def _write_checkpoints(
        self, tx: _Tx, flow_id: str, checkpoints: Mapping[str, str], now: datetime
    ) -> None: ...

    @abstractmethod
    def _write_retries(
        self, tx: _Tx, flow_id: str, retries: Mapping[str, PendingRetry | None], now: datetime
    ) -> None: ...

    @abstractmethod
    def _write_outcomes(
        self, tx: _Tx, run_id: int, outcomes: Sequence[Outcome], now: datetime
    ) -> None: ...

    @abstractmethod
    def _write_events(self, tx: _Tx, events: Sequence[tuple[str, str]], now: datetime) -> None: ...

    @abstractmethod
    def _write_memberships(
        self,
        tx: _Tx,
        flow_id: str,
        memberships: Mapping[str, bool],
        pass_started: datetime | None,
        now: datetime,
    ) -> None:
        """Store the memberships as seen at ``now``; then, given ``pass_started``, end the pass."""

    @abstractmethod
    def _read_claim(self, tx: _Tx, key: str) -> Claim | None:
        """Read the stored claim on ``key``, expired or not, for a change in this transaction."""

    @abstractmethod
    def _put_claim(self, tx: _Tx, claim: Claim) -> None: ...

    @abstractmethod
    def _release_claims(self, tx: _Tx, claims: Sequence[Claim]) -> None:
        """Delete each stored claim that is still the given one (same holder and token)."""

    # -- flows -------------------------------------------------------------------

    def _require_flow(self, tx: _Tx, flow_id: str) -> FlowRecord:
        flow = self._read_flow(tx, flow_id)
        if flow is None:
            raise flow_not_found(flow_id)
        return flow

    def _store_flow(self, tx: _Tx, flow: FlowRecord) -> FlowRecord:
        definition = encode_json(flow.definition, what=f"the definition of flow {flow.flow_id!r}")
        self._put_flow(tx, flow, definition)
        return evolve(flow, definition=decode_json(definition))

    def save_flow(self, flow: FlowRecord) -> FlowRecord:
        if not isinstance(flow, FlowRecord):
            raise ConfigurationError(f"save_flow takes a FlowRecord, got {flow!r}")
        encode_json(flow.definition, what=f"the definition of flow {flow.flow_id!r}")
        now = self._now()
        with self._write() as tx:
            return self._store_flow(tx, stamp_flow(flow, self._read_flow(tx, flow.flow_id), now))

    def set_flow_status(
        self, flow_id: str, status: FlowStatus, *, reason: str | None = None
    ) -> FlowRecord:
        check_status(status)
        now = self._now()
        with self._write() as tx:
            stored = self._require_flow(tx, flow_id)
            changed = evolve(stored, status=status, status_reason=reason)
            return self._store_flow(tx, stamp_flow(changed, stored, now))

    def set_flow_schedule(
        self,
        flow_id: str,
        *,
        next_run_at: datetime | None,
        last_run_at: datetime | UnsetType = UNSET,
    ) -> FlowRecord:
        with self._write() as tx:
            stored = self._require_flow(tx, flow_id)
            changed = evolve(
                stored,
                next_run_at=next_run_at,
                last_run_at=stored.last_run_at if last_run_at is UNSET else last_run_at,
            )
            return self._store_flow(tx, changed)

    # -- batches -----------------------------------------------------------------

    def commit_batch(self, batch: Batch) -> None:
        if not isinstance(batch, Batch):
            raise ConfigurationError(f"commit_batch takes a Batch, got {batch!r}")
        now = self._now()
        with self._write() as tx:
            self._require_flow(tx, batch.flow_id)
            if batch.lease is not None:
                self._check_lease(tx, batch.lease)
            if batch.run_id is not None:
                check_run_of_flow(self._read_run(tx, batch.run_id), batch.run_id, batch.flow_id)
            self._write_links(tx, batch.links, now)
            self._write_checkpoints(tx, batch.flow_id, batch.checkpoints, now)
            self._write_retries(tx, batch.flow_id, batch.retries, now)
            if batch.run_id is not None:
                self._write_outcomes(tx, batch.run_id, batch.outcomes, now)
            self._write_events(tx, batch.events, now)
            self._write_memberships(tx, batch.flow_id, batch.memberships, batch.pass_started, now)
            self._release_claims(tx, batch.released_claims)

    # -- claims ------------------------------------------------------------------

    def claim(self, key: str, holder: str, ttl: timedelta) -> Claim | None:
        key, holder, ttl = check_claim_request(key, holder, ttl)
        now = self._now()
        with self._write() as tx:
            claim = grant_claim(self._read_claim(tx, key), key, holder, ttl, now)
            if claim is not None:
                self._put_claim(tx, claim)
        return claim

    def release_claim(self, claim: Claim) -> None:
        check_claim(claim, "release_claim")
        with self._write() as tx:
            self._release_claims(tx, [claim])
