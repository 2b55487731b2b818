"""What the fault scenarios share: an incremental story, a seeded engine, faulty syncs.

The initial-sync scenarios replay :mod:`tests.flows_safety.story` (a Mailchimp-tag
flow's initial sync, then a Pipedrive-filter flow's). The incremental scenarios replay
:func:`play_incremental`: both kinds of flow settled over the seeded contacts, then
people change some contacts in both apps, then the flows' next scheduled run, which
the scenario breaks. Both stories have an uninterrupted reference run that
:func:`~tests.reliability.ledger.check_end` compares with.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Final

from pdmc.clients import RetryPolicy
from pdmc.emulator import FaultPlan
from pdmc.flows import SyncEngine
from tests.flows_safety import story
from tests.flows_safety.world import (
    MAILCHIMP_AUTH,
    PIPEDRIVE_AUTH,
    SCORE_THRESHOLD,
    WATCHED_TAG,
    World,
    make_world,
)
from tests.reliability.ledger import statuses

Play = Callable[..., World]
"""A story: ``play(sync=..., world=...)`` returns the world it played on."""

NEW_CUSTOMERS: Final = (
    "margarida.costa@lisboa-moveis.pt",
    "henrik.lund@fjord-marine.no",
)
"""Members people add to Mailchimp, tagged with the watched tag, before the incremental run."""


def seeded_engine(world: World, seed: int) -> SyncEngine:
    """Give ``world`` an engine whose clients retry with a backoff drawn from ``seed``.

    The clients sleep on the emulator's clock (no real waiting) and their jitter comes
    from a seeded generator, so a scenario replays the same emulated time, hence the
    same rate-limit windows and the same fault draws, on every run. Webhooks are
    rewired to the new engine, which is returned.
    """
    emulator = world.emulator
    retry = RetryPolicy(jitter=random.Random(seed).random)  # noqa: S311 - not crypto
    world.engine = SyncEngine(
        emulator.pipedrive_client(retry=retry),
        emulator.mailchimp_client(retry=retry),
        world.store,
        clock=emulator.clock,
        pipedrive_webhook_auth=PIPEDRIVE_AUTH,
        mailchimp_webhook_auth=MAILCHIMP_AUTH,
    )
    world.wire_webhooks()
    return world.engine


def _primary(person: dict[str, Any]) -> str | None:
    return next((e["value"] for e in person["emails"] if e["primary"]), None)


def _status(members: dict[str, dict[str, Any]], person: dict[str, Any]) -> str | None:
    member = members.get(str(_primary(person)).lower())
    return None if member is None else str(member["status"])


def play_incremental(
    *, sync: story.Sync = story.settle, world: World | None = None, webhooks: bool = True
) -> World:
    """Settle a filter flow and a tag flow, let people change contacts, then run ``sync``.

    ``sync`` gets the world and phase 1; it runs the incremental sync (the flows are
    due again when it starts) and lets the flows settle. With ``webhooks=False`` the
    deliveries that follow the changes are acknowledged and dropped (a deployment whose
    webhook endpoint is down), so the scheduled run alone carries every change. The
    changes, made as people do in the apps: three persons with an address newly match
    the filter (new members), and one whose member exists already (the member gets the
    person's values and the flow's tag); three matching persons are renamed (member
    updates), and the third one's member unsubscribes (the update must not resubscribe
    it); two members of the watched tag change their first name (person updates); two
    new members get the tag (new persons).
    """
    world = world or make_world(contacts=40, seed=5)
    world.start(world.filter_flow(tag="from-pipedrive"), world.tag_flow())
    world.settle()
    if not webhooks:
        world.emulator.on_webhook(lambda _: 200)
    pipedrive, mailchimp = world.emulator.pipedrive, world.emulator.mailchimp
    field = world.score_field
    members = {str(m["email_address"]).lower(): m for m in mailchimp.iter_members(world.audience)}
    below, matching = [], []
    for person in pipedrive.iter_persons():
        if _primary(person):
            score = person["custom_fields"].get(field) or 0
            (matching if score >= SCORE_THRESHOLD else below).append(person)
    newcomers = [p for p in below if _status(members, p) is None][:3]
    joining = [p for p in below if _status(members, p) == "subscribed"][:1]
    for person in [*newcomers, *joining]:
        pipedrive.update_person(person["id"], {"custom_fields": {field: 95}})
    renamed = [p for p in matching if _status(members, p) == "subscribed"][:3]
    for number, person in enumerate(renamed):
        pipedrive.update_person(person["id"], {"first_name": f"Renamed{number}"})
    mailchimp.unsubscribe(world.audience, str(_primary(renamed[-1])))
    # Not a renamed person's member: an edit of one contact on both sides at once ends
    # as whichever flow runs first writes it, which faults may reorder.
    busy = {str(_primary(p)).lower() for p in renamed}
    tagged = [
        email
        for email, member in members.items()
        if WATCHED_TAG in {t["name"] for t in member["tags"]}
        and member["status"] == "subscribed"
        and email not in busy
    ]
    for email in tagged[:2]:
        mailchimp.update_profile(world.audience, email, {"FNAME": "Changed"})
    for email in NEW_CUSTOMERS:
        first, last = email.split("@")[0].split(".")
        mailchimp.add_member(
            world.audience,
            email,
            merge_fields={"FNAME": first.title(), "LNAME": last.title()},
            tags=[WATCHED_TAG],
            notify=True,
        )
    sync(world, 1)
    return world


def play_initial(*, sync: story.Sync = story.settle, world: World | None = None) -> World:
    """The initial-sync story of the crash proofs (:func:`tests.flows_safety.story.play`)."""
    return story.play(sync=sync, world=world)


def play_unhooked(*, sync: story.Sync = story.settle, world: World | None = None) -> World:
    """The incremental story with the webhooks after the changes lost."""
    return play_incremental(sync=sync, world=world, webhooks=False)


PHASES: Final[dict[str, tuple[int, ...]]] = {
    "initial": (1, 2),
    "incremental": (1,),
    "incremental-unhooked": (1,),
}
"""The phases of each story that are the sync under test (both initial syncs, or the run)."""

STORIES: Final[dict[str, Play]] = {
    "initial": play_initial,
    "incremental": play_incremental,
    "incremental-unhooked": play_unhooked,
}
"""The stories the scenarios break, by name."""

_REFERENCES: dict[str, World] = {}


def reference(name: str) -> World:
    """The story ``name`` played once without a failure (kept for the session)."""
    if name not in _REFERENCES:
        _REFERENCES[name] = STORIES[name]()
    return _REFERENCES[name]


class FaultySync:
    """A phase sync that runs with faults in chosen phases, then settles without them.

    In each of ``phases`` it arms the emulator's fault plan with ``arm`` and runs the
    flows until they settle with the faults on (the clients retry, the engine keeps
    failed rows for later runs); then it clears the plan and lets them settle again,
    so a fault that merely delayed a write is caught up. Other phases just settle.
    :attr:`statuses_before` holds every member's status as the first faulty phase
    began (what :func:`~tests.reliability.ledger.check_end` checks no opted-out member
    left).
    """

    def __init__(self, arm: Callable[[FaultPlan], None], *, phases: tuple[int, ...]) -> None:
        self.arm, self.phases = arm, phases
        self.statuses_before: dict[str, str] | None = None

    def __call__(self, world: World, phase: int) -> None:
        plan = world.emulator.faults
        if phase in self.phases:
            if self.statuses_before is None:
                self.statuses_before = statuses(world.emulator, world.audience)
            self.arm(plan)
        world.settle()
        plan.clear()
        world.settle()
