"""The Trigger base class: what decides which contacts a flow syncs, and when.

A trigger is scheduled (it walks a source from a cursor: a full first pass, then
incremental ones), event-driven (it turns verified webhook events into
candidates), or both. The engine does everything else: it reads current state,
maps fields, plans writes against the store, writes in bulk and records links,
fingerprints and checkpoints. Subclass :class:`Trigger` and override the template
methods your trigger needs; register nothing, the class is found by its
``type_name`` when a saved flow is loaded.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar, Self

from attrs import field, frozen

from pdmc.clients.mailchimp import MailchimpClient, Member
from pdmc.clients.pipedrive import Person, PipedriveClient
from pdmc.errors import ConfigurationError
from pdmc.flows._webhooks import MailchimpEvent, PipedriveEvent
from pdmc.mapping import Direction

__all__ = [
    "Candidates",
    "EventContext",
    "ScanContext",
    "Trigger",
    "TriggerUpdates",
    "WebhookNeeds",
    "trigger_from_config",
]


class TriggerUpdates(enum.Enum):
    """Which later changes of an already-synced contact a flow keeps syncing."""

    WHILE_MATCHING = "while_matching"
    """Only while the contact still matches (segments and tags)."""
    ONCE_SYNCED = "once_synced"
    """For as long as the source contact exists (Pipedrive filters)."""
    NEVER = "never"
    """None: the contact is synced when the trigger fires (deal stage, new contact)."""


@frozen(kw_only=True)
class Candidates:
    """Contacts a trigger hands to the engine, with the checkpoint that follows them.

    A trigger fills the side its direction reads: ``persons`` (or ``person_ids``
    to fetch) for Pipedrive to Mailchimp, ``members`` (or ``emails`` to fetch) for
    Mailchimp to Pipedrive. ``checkpoint`` is stored in the same transaction as the
    batch's writes, so a crash resumes right after the last written batch.
    ``only_tracked`` hands contacts that are synced only if the flow already syncs
    them (updates of earlier matches). ``end_of_pass`` marks the last batch of a full
    pass: contacts the pass did not find stop matching (for triggers whose updates
    last only while matching). ``occurrences`` names, by person id or email, what each
    contact is synced for (a deal's move into a stage, a sign-up): the flow syncs an
    occurrence once, so one the webhook delivered and the scheduled fallback finds
    again is not synced a second time with the contact's later values.
    """

    persons: tuple[Person, ...] = ()
    person_ids: tuple[int, ...] = ()
    members: tuple[Member, ...] = ()
    emails: tuple[str, ...] = ()
    checkpoint: Mapping[str, Any] | None = None
    only_tracked: bool = False
    end_of_pass: bool = False
    occurrences: Mapping[int, str] | Mapping[str, str] = field(factory=dict)

    def __len__(self) -> int:
        return len(self.persons) + len(self.person_ids) + len(self.members) + len(self.emails)


@frozen(kw_only=True)
class WebhookNeeds:
    """The webhooks a trigger needs for its near-instant part."""

    pipedrive: frozenset[tuple[str, str]] = frozenset()
    """``(event_object, event_action)`` pairs, such as ``("person", "change")``."""
    mailchimp: frozenset[str] = frozenset()
    """Audience events, such as ``"subscribe"`` or ``"profile"``."""

    def __or__(self, other: WebhookNeeds) -> WebhookNeeds:
        return WebhookNeeds(
            pipedrive=self.pipedrive | other.pipedrive, mailchimp=self.mailchimp | other.mailchimp
        )


@frozen(kw_only=True)
class ScanContext:
    """What a scheduled pass may read.

    ``checkpoint`` holds what the trigger stored with its last written batch (empty
    on the first pass); ``activated_at`` is when the flow was last activated (for a
    Mailchimp-to-Pipedrive flow in Mailchimp's own time, read from its ``Date``
    header, so it compares with members' timestamps whatever the host's clock says)
    and ``now`` the engine's clock.
    """

    pipedrive: PipedriveClient
    mailchimp: MailchimpClient
    audience_id: str
    checkpoint: Mapping[str, Any]
    activated_at: datetime | None
    now: datetime
    full_rescan: bool = False


@frozen(kw_only=True)
class EventContext:
    """What an event handler may read: the clients, the audience, the activation time.

    ``activated_at`` is as in :class:`ScanContext`; ``now`` is the engine's clock.
    """

    pipedrive: PipedriveClient
    mailchimp: MailchimpClient
    audience_id: str
    activated_at: datetime | None
    now: datetime


class Trigger(ABC):
    """The base of every trigger; subclass it to write your own.

    Template methods, all optional but :meth:`to_config`:

    * :meth:`scan`: the scheduled pass. Yield :class:`Candidates` batches of at most
      a page each, each with the checkpoint to resume after it. Read
      ``context.checkpoint`` to continue an interrupted pass or to run an
      incremental one.
    * :meth:`on_pipedrive_event` / :meth:`on_mailchimp_event`: turn a verified
      webhook event into candidates (or ``None`` to ignore it). The engine re-reads
      each candidate's current state before writing, so events are only hints.
    * :meth:`webhooks`: the webhooks the event part needs.
    * :meth:`check_sources`: return a reason when every source the trigger watches
      is gone; the engine then deactivates the flow with that reason.
    * :meth:`admits`: a last word on one contact, with its current state in hand
      (return a skip reason, or ``None`` to let it sync).

    Class attributes: ``type_name`` (unique, stored with saved flows),
    ``direction`` and ``updates`` (see :class:`TriggerUpdates`).
    """

    type_name: ClassVar[str]
    direction: ClassVar[Direction]
    updates: ClassVar[TriggerUpdates] = TriggerUpdates.NEVER
    _registry: ClassVar[dict[str, type[Trigger]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("type_name")
        if name is not None:
            Trigger._registry[name] = cls

    @abstractmethod
    def to_config(self) -> dict[str, Any]:
        """Return the JSON document that :meth:`from_config` rebuilds this trigger from."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        """Rebuild a trigger from :meth:`to_config`'s document (keyword arguments by default)."""
        return cls(**config)

    @property
    def is_scheduled(self) -> bool:
        """Whether the trigger has a scheduled pass."""
        return type(self).scan is not Trigger.scan

    def scan(self, context: ScanContext) -> Iterator[Candidates]:
        """Yield candidate batches for a scheduled pass (none by default)."""
        del context
        return iter(())

    def on_pipedrive_event(self, context: EventContext, event: PipedriveEvent) -> Candidates | None:
        """Turn a Pipedrive event into candidates, or ignore it (the default)."""
        del context, event
        return None

    def on_mailchimp_event(self, context: EventContext, event: MailchimpEvent) -> Candidates | None:
        """Turn a Mailchimp event into candidates, or ignore it (the default)."""
        del context, event
        return None

    def admits(self, contact: Person | Member, context: EventContext) -> str | None:
        """Return why ``contact`` must not sync now, or ``None`` (the default) to sync it."""
        del contact, context
        return None

    def webhooks(self) -> WebhookNeeds:
        """The webhooks the event part needs (none by default)."""
        return WebhookNeeds()

    def check_sources(
        self, pipedrive: PipedriveClient, mailchimp: MailchimpClient, audience_id: str
    ) -> str | None:
        """Return why the trigger can no longer run (every source gone), or ``None``."""
        del pipedrive, mailchimp, audience_id
        return None

    def describe(self) -> str:
        """A one-line description for reports and notebooks."""
        return f"{self.type_name} {self.to_config()}"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Trigger)
            and type(other) is type(self)
            and other.to_config() == self.to_config()
        )

    def __hash__(self) -> int:
        return hash((self.type_name, repr(sorted(self.to_config().items()))))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_config().items())
        return f"{type(self).__name__}({args})"


def trigger_from_config(type_name: str, config: Mapping[str, Any]) -> Trigger:
    """Rebuild a saved trigger by its ``type_name``.

    Raises:
        ConfigurationError: no trigger class of that name is imported.
    """
    cls = Trigger._registry.get(type_name)  # noqa: SLF001 - the registry is this module's
    if cls is None:
        raise ConfigurationError(
            f"no trigger named {type_name!r} is known; import the module that defines it"
        )
    return cls.from_config(config)
