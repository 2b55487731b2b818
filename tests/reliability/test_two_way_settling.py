"""Two-way flows settle after one write per side, whatever the webhooks do.

A Pipedrive-filter flow and a Mailchimp-tag flow run over the same contacts, both
with their webhooks on. Round after round, people edit a person in Pipedrive and a
member in Mailchimp at the same moment; the deliveries reach the engine in order, in
reverse (the other side's webhook first), or twice. Counted from both request logs,
each edit in Pipedrive costs exactly one Mailchimp write and no Pipedrive write, and
each edit in Mailchimp one Pipedrive write and no Mailchimp write, and nothing more
is written by the webhooks pdmc's own writes cause or by the scheduled runs after.
An address change costs one write too: the member moved in Mailchimp, or the person's
address in Pipedrive. The scenarios whose webhooks are reversed or doubled end as the
reference run, where the webhooks arrive once, in order.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any, Final

import pytest

from tests.flows_safety.world import World, primary_email, two_way, writes_by_operation
from tests.reliability.events_support import Order, Postbox, postbox_world, reversed_order, twice
from tests.reliability.ledger import check_end, statuses

SEED: Final = 5
CONTACTS: Final = 3
ROUNDS: Final = 3


def _primary(person: dict[str, Any]) -> str:
    email = primary_email(person)
    assert email is not None
    return email


def _two_way(world: World) -> list[dict[str, Any]]:
    """Both flows active and settled over three persons whose members are subscribed."""
    return two_way(world, CONTACTS)


def _writes(world: World) -> tuple[Counter[str], Counter[str]]:
    return Counter(writes_by_operation(world.emulator.pipedrive)), Counter(
        writes_by_operation(world.emulator.mailchimp)
    )


def play(order: Order) -> tuple[World, Postbox, list[tuple[Counter[str], Counter[str]]]]:
    """Rounds of simultaneous edits on both sides, each round's deliveries given by ``order``.

    Returns the world, its postbox, and each round's writes: (Pipedrive, Mailchimp).
    """
    world, postbox = postbox_world(seed=SEED)
    shared = _two_way(world)
    pipedrive, mailchimp = world.emulator.pipedrive, world.emulator.mailchimp
    costs = []
    for number in range(ROUNDS):
        for index, person in enumerate(shared):
            other = shared[(index + 1) % len(shared)]
            before_pd, before_mc = _writes(world)
            world.emulator.advance(3600)
            postbox.mode = "hold"
            pipedrive.update_person(person["id"], {"first_name": f"Runde{number}x{index}"})
            mailchimp.update_profile(
                world.audience, _primary(other), {"PHONE": f"+49 30 5550{number}{index}"}
            )
            world.emulator.deliver_webhooks()
            postbox.release(order)
            postbox.mode = "pass"
            world.settle()
            after_pd, after_mc = _writes(world)
            costs.append((after_pd - before_pd, after_mc - before_mc))
    return world, postbox, costs


_REFERENCE: list[World] = []


def reference() -> World:
    """The rounds with every delivery given once, in order (kept for the session)."""
    if not _REFERENCE:
        _REFERENCE.append(play(list)[0])
    return _REFERENCE[0]


ONE_EACH: Final = (Counter({"updatePerson": 1}), Counter({"postListsId": 1}))


def test_in_order_each_edit_costs_one_write_on_the_other_side_only():
    """Delivered once in order, a round of two edits costs one write per side, never more."""
    _, _, costs = play(list)
    assert costs == [ONE_EACH] * (ROUNDS * CONTACTS)


@pytest.mark.parametrize(("name", "order"), [("reversed", reversed_order), ("twice", twice)])
def test_reordered_or_doubled_deliveries_still_cost_one_write_per_side(name, order):
    """With the deliveries reversed or doubled, each round still costs one write per side."""
    world, postbox, costs = play(order)
    assert costs == [ONE_EACH] * (ROUNDS * CONTACTS)
    ref = reference()
    check_end(
        f"two-way, deliveries {name}",
        world.emulator,
        ref.emulator,
        world.audience,
        faults=postbox.moved + postbox.extra,
        statuses_before=statuses(ref.emulator, ref.audience),
    )


def test_a_member_edit_survives_the_filter_flow_reading_the_audience_first():
    """A member edit read by the filter flow's audience index before its webhook still syncs.

    The Pipedrive webhook of a simultaneous person edit makes the filter flow read the
    audience's changed members (the edited one among them) before the member's webhook
    arrives; the tag flow must still write the member's edit to Pipedrive once (the
    read must not record the edit as already synced, which once lost it).
    """
    world, postbox = postbox_world(seed=SEED)
    shared = _two_way(world)
    pipedrive, mailchimp = world.emulator.pipedrive, world.emulator.mailchimp
    world.emulator.advance(3600)
    before = _writes(world)
    postbox.mode = "hold"
    mailchimp.update_profile(world.audience, _primary(shared[0]), {"PHONE": "+49 30 1234567"})
    pipedrive.update_person(shared[1]["id"], {"first_name": "Greta"})
    world.emulator.deliver_webhooks()
    pipedrive_first = sorted(postbox.take(), key=lambda d: d.service != "pipedrive")
    assert [d.service for d in pipedrive_first] == ["pipedrive", "mailchimp"]
    postbox.held = pipedrive_first
    postbox.release()
    postbox.mode = "pass"
    world.settle()
    after = _writes(world)
    assert (after[0] - before[0], after[1] - before[1]) == ONE_EACH
    phones = pipedrive.get_person(shared[0]["id"])["phones"]
    assert [p["value"] for p in phones if p["primary"]] == ["+49 30 1234567"]


def test_an_edit_on_one_side_alone_writes_nothing_back():
    """Edits on one side only, alternating, each cost one write on the other side and no echo."""
    world, postbox = postbox_world(seed=SEED)
    shared = _two_way(world)
    pipedrive, mailchimp = world.emulator.pipedrive, world.emulator.mailchimp
    edits = []
    for number in range(ROUNDS):
        person = shared[number % len(shared)]
        edits += [
            (
                partial(pipedrive.update_person, person["id"], {"phones": [f"+43 1 90{number}"]}),
                (Counter(), Counter({"postListsId": 1})),
            ),
            (
                partial(
                    mailchimp.update_profile,
                    world.audience,
                    _primary(person),
                    {"PHONE": f"+43 1 80{number}"},
                ),
                (Counter({"updatePerson": 1}), Counter()),
            ),
        ]
    for edit, expected in edits:
        before = _writes(world)
        world.emulator.advance(3600)
        edit()
        world.emulator.deliver_webhooks()
        world.settle()
        after = _writes(world)
        assert (after[0] - before[0], after[1] - before[1]) == expected
    assert postbox.received, "no webhook reached the engine"


def test_an_address_change_on_either_side_costs_one_write_on_the_other():
    """A new address in Pipedrive moves the member; one in Mailchimp reaches the person; no echo."""
    world, _ = postbox_world(seed=SEED)
    shared = _two_way(world)
    pipedrive, mailchimp = world.emulator.pipedrive, world.emulator.mailchimp
    moves = [
        (
            partial(
                pipedrive.update_person,
                shared[0]["id"],
                {"emails": [{"value": "neu@umgezogen-mail.de", "primary": True}]},
            ),
            (Counter(), Counter({"patchListsIdMembersId": 1})),
        ),
        (
            partial(
                mailchimp.change_email, world.audience, _primary(shared[1]), "nouvelle@adresse.fr"
            ),
            (Counter({"updatePerson": 1}), Counter()),
        ),
    ]
    for move, expected in moves:
        before = _writes(world)
        world.emulator.advance(3600)
        move()
        world.emulator.deliver_webhooks()
        world.settle()
        after = _writes(world)
        assert (after[0] - before[0], after[1] - before[1]) == expected
    assert mailchimp.get_member(world.audience, "neu@umgezogen-mail.de") is not None
    person = pipedrive.get_person(shared[1]["id"])
    assert person is not None
    assert _primary(person) == "nouvelle@adresse.fr"
