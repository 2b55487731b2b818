"""A batch: everything one written chunk of a sync must record, committed all or nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from attrs import define, field, frozen, setters

from pdmc.errors import ConfigurationError
from pdmc.storage._checks import require_positive, require_text, require_time
from pdmc.storage._claims import check_claim
from pdmc.storage._json import encode_json
from pdmc.storage._records import Claim, Lease, Link, Outcome

__all__ = ["Batch", "PendingRetry", "event_key"]


@frozen(kw_only=True)
class PendingRetry:
    """A contact to try again later, as a batch carries it (``payload`` is JSON text)."""

    row_key: str
    payload: str
    error: str
    next_attempt_at: datetime


def event_key(source: str, event_id: str) -> tuple[str, str]:
    """Return ``(source, event_id)`` after checking both are non-empty strs."""
    return require_text("an event's source", source), require_text("an event id", event_id)


@define(repr=False)
class Batch:
    """The state one written chunk of a sync leaves behind, committed in one transaction.

    Build a batch while the engine writes a chunk (up to 500 contacts), then hand it
    to :meth:`~pdmc.storage.StateStore.commit_batch`: its links and fingerprints, its
    checkpoints, retry rows, outcomes, processed event ids, the flow's memberships and
    the claims it releases are stored together, or not at all, so a checkpoint never
    runs ahead of what it vouches for.

    Attributes:
        flow_id: the flow the batch belongs to.
        run_id: the run the outcomes belong to; needed by :meth:`record_outcome`.
        lease: the lease the writer holds; when given, the commit is refused with
            :class:`~pdmc.errors.LeaseHeldError` if another worker has taken the
            flow over since (a writer that stalled past its lease cannot clobber
            the new holder's work).

    Values are checked as they are added: bad input raises
    :class:`~pdmc.errors.ConfigurationError` at the line that added it. JSON values
    are encoded on the spot, so changing a dict after adding it changes nothing.

    A store reads the parts through the read-only properties; links keep their
    order (a later upsert of the same contact sees the earlier one), checkpoints,
    retries and memberships keep the last value given for each name or key.
    """

    flow_id: str = field(on_setattr=setters.frozen)
    run_id: int | None = field(default=None, on_setattr=setters.frozen)
    lease: Lease | None = field(default=None, on_setattr=setters.frozen)
    _links: list[Link] = field(init=False, factory=list)
    _checkpoints: dict[str, str] = field(init=False, factory=dict)
    _retries: dict[str, PendingRetry | None] = field(init=False, factory=dict)
    _outcomes: list[Outcome] = field(init=False, factory=list)
    _events: dict[tuple[str, str], None] = field(init=False, factory=dict)
    _memberships: dict[str, bool] = field(init=False, factory=dict)
    _pass_started: datetime | None = field(init=False, default=None)
    _released_claims: dict[tuple[str, str], Claim] = field(init=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        require_text("Batch.flow_id", self.flow_id)
        if self.run_id is not None:
            require_positive("Batch.run_id", self.run_id)
        if self.lease is not None and self.lease.flow_id != self.flow_id:
            raise ConfigurationError(
                f"the batch of flow {self.flow_id!r} was given the lease of flow "
                f"{self.lease.flow_id!r}"
            )

    def upsert_link(self, link: Link) -> None:
        """Add or update ``link`` (and its fingerprints) following the upsert rule.

        The store finds the contact's link by person id, member id, then email; the
        commit raises :class:`~pdmc.errors.LinkConflictError` if those keys belong to
        two different links.
        """
        if not isinstance(link, Link):
            raise ConfigurationError(f"Batch.upsert_link takes a Link, got {link!r}")
        self._links.append(link)

    def set_checkpoint(self, name: str, value: Any) -> None:
        """Set the flow's checkpoint (or cursor) ``name`` to the JSON value ``value``."""
        require_text("a checkpoint name", name)
        self._checkpoints[name] = encode_json(
            value, what=f"checkpoint {name!r} of flow {self.flow_id!r}"
        )

    def retry_later(
        self, row_key: str, *, payload: Any, error: str, next_attempt_at: datetime
    ) -> None:
        """Keep the contact ``row_key`` for another try at ``next_attempt_at``.

        A contact already waiting gets one more attempt counted, the new payload,
        error and time; its ``first_failed_at`` stays.
        """
        require_text("a retry's row_key", row_key)
        message: object = error
        if not isinstance(message, str):
            raise ConfigurationError(f"the error of retry {row_key!r} must be a str, got {error!r}")
        self._retries[row_key] = PendingRetry(
            row_key=row_key,
            payload=encode_json(payload, what=f"the payload of retry {row_key!r}"),
            error=message,
            next_attempt_at=require_time(
                f"the next_attempt_at of retry {row_key!r}", next_attempt_at
            ),
        )

    def retry_done(self, row_key: str) -> None:
        """Remove the contact ``row_key`` from the retry rows (it succeeded or was given up)."""
        self._retries[require_text("a retry's row_key", row_key)] = None

    def record_outcome(self, outcome: Outcome) -> None:
        """Record what the run did with one contact.

        Raises:
            ConfigurationError: the batch has no ``run_id``.
        """
        if self.run_id is None:
            raise ConfigurationError(
                f"the batch of flow {self.flow_id!r} has no run_id to record outcomes under"
            )
        if not isinstance(outcome, Outcome):
            raise ConfigurationError(f"Batch.record_outcome takes an Outcome, got {outcome!r}")
        self._outcomes.append(outcome)

    def mark_event(self, source: str, event_id: str) -> None:
        """Record the webhook event ``event_id`` of ``source`` as processed."""
        self._events[event_key(source, event_id)] = None

    def track(self, key: str, *, matching: bool = True) -> None:
        """Record that the flow syncs the contact ``key``, and whether it matches the trigger now.

        ``key`` is the engine's name for the contact within the flow (``"person:42"``,
        ``"member:ada@example.org"``). On commit the membership is stored as seen at
        the commit time; read it back with :meth:`~pdmc.storage.StateStore.tracked`.
        """
        require_text("a membership key", key)
        flag: object = matching
        if not isinstance(flag, bool):
            raise ConfigurationError(
                f"the matching of membership {key!r} must be a bool, got {matching!r}"
            )
        self._memberships[key] = flag

    def end_pass(self, started_at: datetime) -> None:
        """Close a full pass over the flow's contacts that began at ``started_at``.

        On commit, after this batch's own :meth:`track` calls are stored, every
        membership of the flow last seen before ``started_at`` is marked not matching:
        the pass did not see it. Memberships are stamped with the store's clock, so
        take ``started_at`` from a time the store stamped (the ``started_at`` of the
        run that began the pass, say), not from another machine's clock. Calling it
        again replaces the time.
        """
        self._pass_started = require_time("the started_at of end_pass", started_at)

    def release_claim(self, claim: Claim) -> None:
        """Release ``claim`` when the batch commits, in the same transaction.

        The state that proves the guarded work done (the link of a person just
        created, say) and the release then commit together. A claim taken over or
        released before the commit is left alone, as
        :meth:`~pdmc.storage.StateStore.release_claim` leaves it.
        """
        check_claim(claim, "Batch.release_claim")
        self._released_claims[claim.key, claim.token] = claim

    @property
    def links(self) -> Sequence[Link]:
        """The links to upsert, in the order given."""
        return tuple(self._links)

    @property
    def checkpoints(self) -> Mapping[str, str]:
        """The checkpoints to set: name to JSON text."""
        return dict(self._checkpoints)

    @property
    def retries(self) -> Mapping[str, PendingRetry | None]:
        """The retry rows to write, by row key; ``None`` removes the row."""
        return dict(self._retries)

    @property
    def outcomes(self) -> Sequence[Outcome]:
        """The outcomes to record under ``run_id``, in order."""
        return tuple(self._outcomes)

    @property
    def events(self) -> Sequence[tuple[str, str]]:
        """The ``(source, event_id)`` pairs to mark processed."""
        return tuple(self._events)

    @property
    def memberships(self) -> Mapping[str, bool]:
        """The memberships to store, by key: whether each contact matches the trigger."""
        return dict(self._memberships)

    @property
    def pass_started(self) -> datetime | None:
        """When the pass that this batch ends began (see :meth:`end_pass`), or ``None``."""
        return self._pass_started

    @property
    def released_claims(self) -> Sequence[Claim]:
        """The claims to release on commit."""
        return tuple(self._released_claims.values())

    def __repr__(self) -> str:
        ended = None if self._pass_started is None else self._pass_started.isoformat()
        return (
            f"Batch(flow_id={self.flow_id!r}, run_id={self.run_id!r}, "
            f"links={len(self._links)}, checkpoints={sorted(self._checkpoints)}, "
            f"retries={len(self._retries)}, outcomes={len(self._outcomes)}, "
            f"events={len(self._events)}, memberships={len(self._memberships)}, "
            f"end_pass={ended!r}, claims={len(self._released_claims)})"
        )
