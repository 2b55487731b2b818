"""Support for the event scenarios: webhook deliveries held back, and engines on skewed clocks.

A :class:`Postbox` stands between the emulator and the engine. In ``pass`` mode it
hands each delivery to the engine as it comes, as a healthy endpoint does; in
``hold`` mode it answers 200 and keeps the delivery, so a scenario can later feed the
engine what it kept in any order, twice, hours late, or never; in ``fail`` mode it
answers 500 (to the services named in :attr:`Postbox.failing`), so the services
retry, ban the URL (Pipedrive, after ten failed first attempts) and drop events. A
:class:`SkewedClock` gives the engine and its store a time some minutes off the
services' time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from attrs import define, field

from pdmc.emulator import EmulatorClock, WebhookDelivery
from pdmc.storage import MemoryStore
from tests.flows_safety.world import World, make_world, new_engine

Mode = Literal["pass", "hold", "fail"]
Order = Callable[[list[WebhookDelivery]], list[WebhookDelivery]]
"""Turns a batch of held deliveries into the sequence the engine receives."""

FAILED: Final = 500


@define
class Postbox:
    """The webhook endpoint of a world: passes, holds or fails deliveries.

    Attributes:
        mode: what happens to the next delivery.
        failing: the services whose deliveries fail in ``fail`` mode (both by default).
        held: deliveries answered 200 but not yet given to the engine.
        received: every delivery given to the engine, in the order given.
        refused: how many delivery attempts were answered 500.
        moved: how many released deliveries reached the engine out of their place.
        extra: how many released deliveries were copies of another.
    """

    world: World
    mode: Mode = "pass"
    failing: frozenset[str] = frozenset({"pipedrive", "mailchimp"})
    held: list[WebhookDelivery] = field(factory=list)
    received: list[WebhookDelivery] = field(factory=list)
    refused: int = 0
    moved: int = 0
    extra: int = 0

    def __call__(self, delivery: WebhookDelivery) -> int:
        """Answer one delivery attempt as the current mode says."""
        if self.mode == "hold":
            self.held.append(delivery)
            return 200
        if self.mode == "fail" and delivery.service in self.failing:
            self.refused += 1
            return FAILED
        return self.give(delivery)

    def give(self, delivery: WebhookDelivery) -> int:
        """Hand one delivery to the engine now; return the status it answered."""
        self.received.append(delivery)
        engine = self.world.engine
        return engine.receive(delivery.method, delivery.url, delivery.headers, delivery.body).status

    def release(self, order: Order = list) -> int:
        """Give the engine everything held, arranged by ``order``, until nothing is held.

        Deliveries the engine's own writes cause while it handles these are held too
        and released the same way in a next round. Returns how many were given.

        Raises:
            AssertionError: the engine refused a delivery.
        """
        given = 0
        self.mode = "hold"
        while self.held:
            batch, self.held = self.held, []
            arranged = order(batch)
            self.moved += out_of_place(batch, arranged)
            self.extra += len(arranged) - len(batch)
            given += give_all(self, arranged)
            self.world.emulator.deliver_webhooks()
        return given

    def take(self) -> list[WebhookDelivery]:
        """Everything held, removed from the postbox (to lose it, or to replay it later)."""
        taken, self.held = self.held, []
        return taken


def twice(batch: list[WebhookDelivery]) -> list[WebhookDelivery]:
    """Every delivery, then every delivery again (at-least-once delivery)."""
    return [*batch, *batch]


def reversed_order(batch: list[WebhookDelivery]) -> list[WebhookDelivery]:
    """The newest delivery first."""
    return batch[::-1]


def shuffled(seed: int) -> Order:
    """A seeded shuffle of each batch."""
    rng = random.Random(seed)  # noqa: S311 - a test's seeded order, not a secret

    def order(batch: list[WebhookDelivery]) -> list[WebhookDelivery]:
        copy = list(batch)
        rng.shuffle(copy)
        return copy

    return order


def out_of_place(batch: Sequence[WebhookDelivery], arranged: Sequence[WebhookDelivery]) -> int:
    """How many deliveries ``arranged`` gives at another position than ``batch`` had."""
    return sum(1 for before, after in zip(batch, arranged, strict=False) if before is not after)


def give_all(postbox: Postbox, deliveries: Sequence[WebhookDelivery]) -> int:
    """Hand ``deliveries`` to the engine now, in order; return how many.

    Raises:
        AssertionError: the engine refused one.
    """
    for delivery in deliveries:
        status = postbox.give(delivery)
        assert status == 200, f"the engine answered {status} to {delivery.url}"
    return len(deliveries)


def postbox_world(*, contacts: int = 40, seed: int = 5, **options: Any) -> tuple[World, Postbox]:
    """A world (see :func:`make_world`) whose webhooks go through a :class:`Postbox`."""
    world = make_world(contacts=contacts, seed=seed, **options)
    postbox = Postbox(world)
    world.emulator.on_webhook(postbox)
    return world, postbox


class SkewedClock:
    """The services' clock moved by a fixed offset: an engine host whose time is off."""

    def __init__(self, base: EmulatorClock, offset: timedelta) -> None:
        self.base = base
        self.offset = offset

    def __repr__(self) -> str:
        return f"SkewedClock(offset={self.offset})"

    def now(self) -> datetime:
        """The services' time plus the offset."""
        return self.base.now() + self.offset


def skew(world: World, offset: timedelta) -> World:
    """Give ``world`` a fresh store and engine whose clock is ``offset`` off the services'.

    Call it before any flow is created: the new store starts empty.
    """
    clock = SkewedClock(world.emulator.clock, offset)
    world.store = MemoryStore(clock=clock)
    world.engine = new_engine(world.emulator, world.store)
    world.engine.clock = clock
    world.wire_webhooks()
    return world
