"""The story the crash proofs replay: two initial syncs over the same contacts.

Phase 1 is a Mailchimp-tag flow's initial sync: six tagged members have no person
yet (it creates them), and the members of four persons are tagged with a first name
changed in Mailchimp (it updates the three subscribed ones; the fourth is cleaned,
and the tag's listing leaves it out). Then people change three of those persons' addresses
in Pipedrive and raise their lead score, and phase 2 is a Pipedrive-filter flow's
initial sync: it moves the three linked members to their new addresses and batch
subscribes the other matching persons. Each phase's sync is a parameter, so a proof
can break it (a failed write, a killed process) and let the flows settle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from pdmc.emulator import FaultPlan
from tests.flows_safety.world import (
    World,
    make_world,
    members_state,
    persons_state,
    writes_by_operation,
)

NEW_MEMBERS: Final = (
    "amelie.laurent@atelier-rivoli.fr",
    "tomasz.nowak@wisla-logistyka.pl",
    "ines.pena@correo-andaluz.es",
    "kenji.sato@hikari-denki.jp",
    "olga.ivanova@sever-trade.ru",
    "liam.oconnor@harbourview.ie",
)

Sync = Callable[[World, int], None]
"""Runs one phase's initial sync on a world until it settles (the phase is 1 or 2)."""


def settle(world: World, phase: int) -> None:
    """The unbroken sync: run the due flows until they settle."""
    del phase
    world.settle()


def _primary(person: dict[str, Any]) -> str:
    return next(e["value"] for e in person["emails"] if e["primary"])


def play(
    *, sync: Sync = settle, faults: FaultPlan | None = None, world: World | None = None
) -> World:
    """Play the story on ``world`` (a fresh in-memory one by default) and return it."""
    world = world or make_world(contacts=40, seed=5, faults=faults)
    mailchimp, pipedrive = world.emulator.mailchimp, world.emulator.pipedrive
    in_both = [
        p
        for p in pipedrive.iter_persons()
        if p["emails"] and mailchimp.get_member(world.audience, _primary(p)) is not None
    ][:4]
    for email in NEW_MEMBERS:
        first, last = email.split("@")[0].split(".")
        mailchimp.add_member(
            world.audience, email, merge_fields={"FNAME": first.title(), "LNAME": last.title()}
        )
    tagged = [_primary(p) for p in in_both]
    tag = mailchimp.add_tag(world.audience, "Trade fair leads", [*tagged, *NEW_MEMBERS])
    for email in tagged:
        mailchimp.update_profile(world.audience, email, {"FNAME": "Renamed"})
    tag_flow = world.tag_flow()
    world.start(tag_flow.evolve(trigger=type(tag_flow.trigger)([tag])))
    sync(world, 1)
    for number, person in enumerate(in_both[:3]):
        pipedrive.update_person(
            person["id"],
            {
                "emails": [{"value": f"moved{number}@new-domain-mail.com", "primary": True}],
                "custom_fields": {world.score_field: 90},
            },
        )
    world.start(world.filter_flow(tag="from-pipedrive"))
    sync(world, 2)
    return world


def outcome(world: World) -> tuple[Any, ...]:
    """What the story leaves that must not depend on failures: persons and members."""
    return persons_state(world.emulator), members_state(world.emulator, world.audience)


_REFERENCE: list[World] = []


def reference() -> World:
    """The story played once without a failure (kept for the session)."""
    if not _REFERENCE:
        _REFERENCE.append(play())
    return _REFERENCE[0]


def reference_writes() -> dict[str, int]:
    """The writes the unbroken story makes, per operation, both services together."""
    world = reference()
    return {
        **writes_by_operation(world.emulator.pipedrive),
        **writes_by_operation(world.emulator.mailchimp),
    }
