"""Flow: one trigger, one field map, one direction, one audience, an optional tag.

A flow is a plain value. The engine saves it in the state store as a versioned
JSON definition (:meth:`Flow.to_definition`), so a later pdmc reads what an older
one wrote (:meth:`Flow.from_definition`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final, Literal, TypeAlias

from attrs import evolve, field, frozen

from pdmc.errors import ConfigurationError
from pdmc.flows._trigger import Trigger, trigger_from_config
from pdmc.mapping import Direction, FieldPair

__all__ = ["DEFINITION_VERSION", "DEFAULT_INTERVAL", "Flow", "NewMemberStatus"]

NewMemberStatus: TypeAlias = Literal["subscribed", "pending"]

DEFINITION_VERSION: Final = 1
"""The layout of the JSON document :meth:`Flow.to_definition` writes."""

DEFAULT_INTERVAL: Final = timedelta(hours=4)
"""How often a scheduled flow runs unless told otherwise: six times a day."""

_MIN_INTERVAL: Final = timedelta(minutes=5)


def _pairs(value: Any) -> tuple[FieldPair, ...]:
    return tuple(value)


def _check_interval(_: object, __: object, value: timedelta) -> None:
    if value < _MIN_INTERVAL:
        raise ConfigurationError(f"a flow's interval must be at least {_MIN_INTERVAL}")


@frozen(kw_only=True)
class Flow:
    """A sync flow, as the caller defines it.

    Attributes:
        id: a stable id, unique among the caller's flows.
        name: what people call it.
        trigger: what decides which contacts sync, and when.
        pairs: the field pairs the flow syncs (a :class:`~pdmc.mapping.FieldMap`
            is built from them and the live field catalogs before every run).
        audience_id: the Mailchimp audience on the other side.
        tag: a Mailchimp tag put on every member the flow writes (Pipedrive to
            Mailchimp only).
        new_member_status: the status new Mailchimp members get (``pending`` sends
            the audience's opt-in email); existing members' status never changes.
        interval: how often the scheduled part runs.
    """

    id: str
    name: str
    trigger: Trigger
    pairs: tuple[FieldPair, ...] = field(converter=_pairs)
    audience_id: str
    tag: str | None = None
    new_member_status: NewMemberStatus = "subscribed"
    interval: timedelta = field(default=DEFAULT_INTERVAL, validator=_check_interval)

    def __attrs_post_init__(self) -> None:
        if not self.id.strip() or not self.name.strip():
            raise ConfigurationError("a flow needs an id and a name")
        if self.tag is not None and self.direction is not Direction.PD_TO_MC:
            raise ConfigurationError("only a Pipedrive to Mailchimp flow puts a tag on members")

    @property
    def direction(self) -> Direction:
        """Which way the flow copies: its trigger's direction."""
        return self.trigger.direction

    def evolve(self, **changes: Any) -> Flow:
        """A copy with ``changes`` applied (and checked again)."""
        return evolve(self, **changes)

    def to_definition(self) -> dict[str, Any]:
        """The JSON document the store keeps for this flow."""
        return {
            "trigger": {"type": self.trigger.type_name, "config": self.trigger.to_config()},
            "pairs": [
                {
                    "pipedrive": p.pipedrive,
                    "mailchimp": p.mailchimp,
                    "truncate": p.truncate,
                    "clear_when_empty": p.clear_when_empty,
                    "send_option_labels": p.send_option_labels,
                }
                for p in self.pairs
            ],
            "audience_id": self.audience_id,
            "tag": self.tag,
            "new_member_status": self.new_member_status,
            "interval_seconds": int(self.interval.total_seconds()),
        }

    @classmethod
    def from_definition(
        cls, flow_id: str, name: str, definition: Mapping[str, Any], version: int
    ) -> Flow:
        """Rebuild a flow from the store's document.

        Raises:
            ConfigurationError: the document was written by a newer pdmc, or names a
                trigger class that is not imported.
        """
        if version > DEFINITION_VERSION:
            raise ConfigurationError(
                f"flow {flow_id!r} was saved by a newer pdmc (definition v{version})"
            )
        trigger = definition["trigger"]
        return cls(
            id=flow_id,
            name=name,
            trigger=trigger_from_config(trigger["type"], trigger.get("config") or {}),
            pairs=[FieldPair(**pair) for pair in definition.get("pairs", ())],
            audience_id=definition["audience_id"],
            tag=definition.get("tag"),
            new_member_status=definition.get("new_member_status", "subscribed"),
            interval=timedelta(seconds=definition.get("interval_seconds", 14_400)),
        )
