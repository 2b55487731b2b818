"""The StateStore protocol: everything the sync engine asks of the place pdmc remembers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, runtime_checkable

from pdmc._types import UNSET, UnsetType
from pdmc.storage._batch import Batch
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

__all__ = ["StateStore"]


@runtime_checkable
class StateStore(Protocol):
    """What pdmc remembers between runs, and the rules that keep it consistent.

    Implement this protocol to keep pdmc's state somewhere of your own; the
    conformance suite in :mod:`pdmc.storage.testing` checks an implementation
    against the rules below. pdmc ships :class:`~pdmc.storage.MemoryStore`,
    :class:`~pdmc.storage.SQLiteStore` (the default) and
    :class:`~pdmc.storage.PostgresStore`.

    Every store reads the time from its clock (:class:`~pdmc.storage.Clock`).
    Every method may raise :class:`~pdmc.errors.StoreError` when the storage
    underneath fails; bad arguments raise :class:`~pdmc.errors.ConfigurationError`.
    Operations on a flow the store does not hold raise
    :class:`~pdmc.errors.FlowNotFoundError`.
    """

    # -- flows ---------------------------------------------------------------

    def save_flow(self, flow: FlowRecord) -> FlowRecord:
        """Create or replace a flow; return it as stored, with the store's timestamps.

        Raises:
            ConfigurationError: the definition is not a JSON document.
        """
        ...

    def get_flow(self, flow_id: str) -> FlowRecord | None:
        """Return the flow ``flow_id``, or ``None`` if there is none."""
        ...

    def list_flows(self, *, status: FlowStatus | None = None) -> list[FlowRecord]:
        """Return every flow (or those with ``status``), oldest first."""
        ...

    def delete_flow(self, flow_id: str) -> bool:
        """Delete a flow with its checkpoints, retry rows, runs, memberships and lease.

        Links stay: they are shared by every flow of the account pair. Returns
        whether a flow was deleted.
        """
        ...

    def set_flow_status(
        self, flow_id: str, status: FlowStatus, *, reason: str | None = None
    ) -> FlowRecord:
        """Change a flow's status (``reason`` says why; a deactivation needs one).

        Returns the updated flow; turning it active sets ``activated_at``.
        """
        ...

    def set_flow_schedule(
        self,
        flow_id: str,
        *,
        next_run_at: datetime | None,
        last_run_at: datetime | UnsetType = UNSET,
    ) -> FlowRecord:
        """Set when a flow runs next (``None``: not scheduled) and, if given, when it last ran.

        Returns the updated flow.
        """
        ...

    def flows_due(self, at: datetime | None = None) -> list[FlowRecord]:
        """Return the active flows whose ``next_run_at`` is at or before ``at`` (default: now).

        The most overdue come first.
        """
        ...

    # -- links and fingerprints ----------------------------------------------

    def links_for_persons(
        self, account_pair: str, audience_id: str, person_ids: Iterable[int]
    ) -> dict[int, Link]:
        """Return the links of the given Pipedrive persons, by person id.

        Persons without a link are absent from the result. One call serves a whole
        batch: the lookup is indexed and does not grow with the number of links.
        """
        ...

    def links_for_members(
        self, account_pair: str, audience_id: str, member_ids: Iterable[str]
    ) -> dict[str, Link]:
        """Return the links of the given Mailchimp members, by member id."""
        ...

    def links_for_emails(
        self, account_pair: str, audience_id: str, emails: Iterable[str]
    ) -> dict[str, Link]:
        """Return the links of the given addresses, by normalised email.

        Addresses match case-insensitively (see :func:`~pdmc.storage.normalise_email`);
        the keys of the result are the normalised forms.
        """
        ...

    def iter_links(
        self, account_pair: str, audience_id: str, *, page_size: int = 1000
    ) -> Iterator[Link]:
        """Yield every link of an audience, reading ``page_size`` at a time.

        Links come in the order of their emails' code points (as Python's ``sorted``
        orders them), whatever the database's locale.
        """
        ...

    def count_links(self, account_pair: str, audience_id: str) -> int:
        """Return how many links an audience has."""
        ...

    # -- memberships -----------------------------------------------------------

    def tracked(self, flow_id: str, keys: Iterable[str]) -> dict[str, bool]:
        """Return which of ``keys`` the flow tracks, each with whether it matches the trigger.

        Memberships are written by :meth:`Batch.track <pdmc.storage.Batch.track>` and
        :meth:`Batch.end_pass <pdmc.storage.Batch.end_pass>`. Keys the flow does not
        track are absent from the result; so is every key of a flow the store does not
        hold. One indexed query answers up to 1000 keys, so one call serves a batch.

        Raises:
            ConfigurationError: a key is not a non-empty str.
        """
        ...

    # -- checkpoints -----------------------------------------------------------

    def get_checkpoints(self, flow_id: str) -> dict[str, Any]:
        """Return a flow's checkpoints and cursors, by name (empty if it has none)."""
        ...

    # -- processed events ------------------------------------------------------

    def mark_event_processed(self, source: str, event_id: str) -> bool:
        """Record an event as processed; return ``False`` if it already was.

        Atomic: when several workers receive the same event, exactly one gets
        ``True``.
        """
        ...

    def is_event_processed(self, source: str, event_id: str) -> bool:
        """Return whether an event was recorded as processed (and not purged since)."""
        ...

    def purge_events(self, older_than: datetime) -> int:
        """Forget events processed before ``older_than``; return how many were forgotten."""
        ...

    # -- retry rows --------------------------------------------------------------

    def due_retries(self, flow_id: str, *, limit: int = 500) -> list[RetryRow]:
        """Return up to ``limit`` of a flow's retry rows that are due now, the oldest due first."""
        ...

    def count_retries(self, flow_id: str) -> int:
        """Return how many rows of a flow wait for a retry, due or not."""
        ...

    # -- runs and outcomes -----------------------------------------------------

    def start_run(self, flow_id: str) -> Run:
        """Record that a run of the flow starts now; return it (``running``)."""
        ...

    def finish_run(
        self,
        run_id: int,
        *,
        status: Literal["succeeded", "failed"],
        counts: Mapping[str, int] | None = None,
        error: str | None = None,
    ) -> Run:
        """Record how a running run ended; return it.

        Raises:
            StoreError: there is no such run, or it has already finished.
        """
        ...

    def get_run(self, run_id: int) -> Run | None:
        """Return the run ``run_id``, or ``None`` if there is none."""
        ...

    def list_runs(self, flow_id: str, *, limit: int = 20) -> list[Run]:
        """Return a flow's latest runs, newest first."""
        ...

    def iter_outcomes(
        self, run_id: int, *, action: str | None = None, page_size: int = 1000
    ) -> Iterator[Outcome]:
        """Yield a run's outcomes (or those with ``action``) in the order recorded.

        Reads ``page_size`` at a time, so a run of any size can be walked.
        """
        ...

    def purge_runs(self, older_than: datetime) -> int:
        """Delete the finished runs started before ``older_than``, with their outcomes.

        Returns how many runs were deleted.
        """
        ...

    # -- leases ----------------------------------------------------------------

    def acquire_lease(self, flow_id: str, holder: str, ttl: timedelta) -> Lease:
        """Take the right to run a flow for ``ttl``; return the lease.

        ``holder`` names the worker and must be unique to it (host, process and a
        random part, say). The holder of a live lease asking again gets it extended.
        When several workers race for a free lease, exactly one gets it.

        Raises:
            LeaseHeldError: another holder's lease has not expired.
        """
        ...

    def renew_lease(self, lease: Lease, ttl: timedelta) -> Lease:
        """Extend a lease to ``ttl`` from now; return the renewed lease.

        A lapsed lease can be renewed as long as no one took it over.

        Raises:
            LeaseHeldError: the lease was taken over or released.
        """
        ...

    def release_lease(self, lease: Lease) -> None:
        """Give a lease up so another worker can take the flow at once.

        Does nothing if the lease was already taken over or released.
        """
        ...

    def get_lease(self, flow_id: str) -> Lease | None:
        """Return the live lease of a flow, or ``None`` if no one holds it."""
        ...

    # -- claims ----------------------------------------------------------------

    def claim(self, key: str, holder: str, ttl: timedelta) -> Claim | None:
        """Take the claim named ``key`` for ``ttl``; return it, or ``None`` if another holds it.

        A claim makes sure that one worker alone does a piece of work, in this
        process or any other sharing the store: pdmc claims
        ``"create-person:<account pair>:<email>"`` before it creates a Pipedrive
        person. The claim is granted when it is free, expired, or already held by
        ``holder`` (then it is extended to ``ttl`` from now, keeping its token);
        another holder's live claim refuses with ``None``. When several workers race
        for one claim, exactly one gets it. A claim needs no flow.

        The returned claim's ``taken_over`` is ``True`` when it replaced the
        expired, never released claim of another holder, who may have crashed half-way
        through the work: check whether the work was done before doing it again. So a
        store keeps an expired claim, however old, until it is taken over or released.

        Raises:
            ConfigurationError: ``key`` or ``holder`` is not a non-empty str, or
                ``ttl`` is not a positive timedelta.
        """
        ...

    def release_claim(self, claim: Claim) -> None:
        """Give a claim up, so another holder can take it at once, with ``taken_over`` false.

        Does nothing if the claim was already taken over or released. To release a
        claim together with the state that proves the work done, use
        :meth:`Batch.release_claim <pdmc.storage.Batch.release_claim>` instead.
        """
        ...

    # -- batches and lifecycle ---------------------------------------------------

    def commit_batch(self, batch: Batch) -> None:
        """Store everything in ``batch`` in one transaction: all of it, or none of it.

        Links, checkpoints, retry rows, outcomes and events are written first, then
        the memberships (stamped with the commit time) and the end of the pass, then
        the claims are released.

        Raises:
            FlowNotFoundError: the batch's flow does not exist.
            LeaseHeldError: the batch carries a lease that was taken over or released.
            LinkConflictError: a link's keys belong to two different stored links.
            StoreError: the batch's run does not exist or belongs to another flow.
        """
        ...

    def close(self) -> None:
        """Release the store's connections; the store is unusable afterwards."""
        ...
