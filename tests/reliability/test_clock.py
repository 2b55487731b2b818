"""Clocks that disagree, and changes that land on the cursor's second: nothing is lost.

The engine and its store run on a clock five minutes ahead of, or behind, the
services' clock (a host whose time drifted), and the webhooks are lost, so only the
scheduled passes can find the changes: their cursors (``updated_since`` for the
filter flow, ``since_timestamp_opt`` for the new-contact flow) are written in the
engine's time and read in the services'. A person is edited in the very second the
filter flow's pass stored as its cursor: the next pass must sync the edit once, and
the pass after it must write nothing. New members sign up a few minutes after the
new-contact flow was activated. Each run ends as the reference run, whose clocks
agree and whose webhooks arrive.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Final

import pytest

from tests.flows_safety.world import World, writes_by_operation
from tests.reliability.events_support import Postbox, postbox_world, skew
from tests.reliability.ledger import check_end, statuses

SEED: Final = 9
SKEW: Final = timedelta(minutes=5)
SIGN_UPS: Final = ("aino.korhonen@revontuli-posti.fi", "bruno.esposito@vesuvio-mail.it")


def _primary(person: dict[str, Any]) -> str | None:
    return next((e["value"] for e in person["emails"] if e["primary"]), None)


def _minutes(offset: timedelta) -> str:
    return f"{offset.total_seconds() / 60:+.0f} min"


def _mailchimp_writes(world: World) -> Counter[str]:
    return Counter(writes_by_operation(world.emulator.mailchimp))


def play(
    offset: timedelta, *, lose_webhooks: bool, sign_ups: bool = False
) -> tuple[World, Postbox, dict[str, Any]]:
    """The story on an engine ``offset`` off the services' clock; the world and its facts.

    The facts: ``boundary`` (the edited person's update time and the cursor it landed
    on, in the services' time), ``synced`` and ``again`` (Mailchimp writes of the pass
    after the edit and of the one after that).
    """
    world, postbox = postbox_world(seed=SEED)
    skew(world, offset)
    world.emulator.on_webhook(postbox)
    pipedrive, mailchimp = world.emulator.pipedrive, world.emulator.mailchimp
    synced = [
        p
        for p in pipedrive.iter_persons()
        if (email := _primary(p)) is not None
        and (member := mailchimp.get_member(world.audience, email)) is not None
        and member["status"] == "subscribed"
    ][:3]
    for person in synced:
        pipedrive.update_person(person["id"], {"custom_fields": {world.score_field: 95}})
    world.start(world.filter_flow(), *([world.new_contact_flow()] if sign_ups else []))
    postbox.mode = "hold" if lose_webhooks else "pass"
    world.emulator.advance(120)
    for email in SIGN_UPS if sign_ups else ():
        mailchimp.subscribe(world.audience, email, merge_fields={"FNAME": email.split(".")[0]})
    world.settle()
    world.emulator.advance(3600)
    world.engine.run_flow("filter")
    cursor = datetime.fromisoformat(world.store.get_checkpoints("filter")["scan"]["since"])
    edited = pipedrive.update_person(synced[0]["id"], {"first_name": "Grenzfall"})
    facts: dict[str, Any] = {
        "boundary": (
            datetime.fromisoformat(edited["update_time"]),
            cursor - offset,
        )
    }
    world.emulator.deliver_webhooks()
    before = _mailchimp_writes(world)
    world.engine.run_flow("filter")
    facts["synced"] = _mailchimp_writes(world) - before
    world.emulator.advance(3600)
    before = _mailchimp_writes(world)
    world.engine.run_flow("filter")
    facts["again"] = _mailchimp_writes(world) - before
    world.settle()
    return world, postbox, facts


_REFERENCE: dict[bool, World] = {}


def reference(*, sign_ups: bool = False) -> World:
    """The story with agreeing clocks and every webhook delivered (kept for the session)."""
    if sign_ups not in _REFERENCE:
        _REFERENCE[sign_ups] = play(timedelta(0), lose_webhooks=False, sign_ups=sign_ups)[0]
    return _REFERENCE[sign_ups]


@pytest.mark.parametrize("offset", [SKEW, -SKEW], ids=["engine ahead", "engine behind"])
def test_a_skewed_engine_with_lost_webhooks_loses_no_change(offset):
    """Five minutes of skew and no webhooks: the passes still find every change, once."""
    world, postbox, facts = play(offset, lose_webhooks=True)
    updated, cursor = facts["boundary"]
    assert int(updated.timestamp()) == int(cursor.timestamp()), "the edit missed the boundary"
    assert facts["synced"] == Counter({"postListsId": 1})
    assert facts["again"] == Counter()
    ref = reference()
    check_end(
        f"clock skew {_minutes(offset)}, webhooks lost",
        world.emulator,
        ref.emulator,
        world.audience,
        faults=1 + len(postbox.take()),
        statuses_before=statuses(ref.emulator, ref.audience),
    )


def test_an_edit_on_the_cursors_second_syncs_once_with_agreeing_clocks():
    """With agreeing clocks, an edit on the cursor's very second syncs once, then never again."""
    world, postbox, facts = play(timedelta(0), lose_webhooks=True)
    updated, cursor = facts["boundary"]
    assert int(updated.timestamp()) == int(cursor.timestamp())
    assert (facts["synced"], facts["again"]) == (Counter({"postListsId": 1}), Counter())
    ref = reference()
    check_end(
        "edit on the cursor's second, webhooks lost",
        world.emulator,
        ref.emulator,
        world.audience,
        faults=len(postbox.take()),
        statuses_before=statuses(ref.emulator, ref.audience),
    )


@pytest.mark.parametrize("offset", [SKEW, -SKEW], ids=["engine ahead", "engine behind"])
def test_new_contacts_right_after_activation_survive_a_skewed_engine(offset):
    """With five minutes of skew, exactly the members who joined after activation are synced."""
    world, postbox, _ = play(offset, lose_webhooks=True, sign_ups=True)
    ref = reference(sign_ups=True)
    check_end(
        f"clock skew {_minutes(offset)}, sign-ups after activation, webhooks lost",
        world.emulator,
        ref.emulator,
        world.audience,
        faults=1 + len(postbox.take()),
        statuses_before=statuses(ref.emulator, ref.audience),
    )
