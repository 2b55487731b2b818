"""Identity under change: moved addresses, several addresses, shared addresses, merges.

One story on a seeded account pair with a Pipedrive-filter flow and a Mailchimp-tag
flow: a synced person's address changes in Pipedrive (its member must move, not be
duplicated), a tagged member's address changes in Mailchimp (``upemail``: its person
must take the new address), a new match holds two addresses (the primary one is its
identity; the secondary one is an existing member, which is left alone), two persons
share one address (one member, written by one of them; the other person gets a clear
outcome and is not merged), and two synced persons are merged in Pipedrive (the
surviving person keeps its link; no member is added). The story is played with
every webhook delivered once in order (the reference), twice, or lost (the scheduled
passes must then find every change); each ends as the reference does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import pytest
from attrs import define

from tests.flows_safety.world import World, writes_by_operation
from tests.reliability.events_support import Postbox, postbox_world, twice
from tests.reliability.ledger import check_end, statuses

SEED: Final = 7
MOVED_TO: Final = "moved.person@new-employer.de"
UPEMAIL_TO: Final = "member.renamed@other-provider.nl"
TAGGED: Final = ("ilse.jansen@polder-post.nl", "marek.dvorak@vltava-mail.cz")
SHARED: Final = "team@shared-inbox-gmbh.de"
PRIMARY: Final = "primary.address@two-addresses.at"
SECONDARY: Final = "second.address@two-addresses.at"
"""A member without a person, which a new person then holds as a secondary address."""


def _primary(person: dict[str, Any]) -> str | None:
    return next((e["value"] for e in person["emails"] if e["primary"]), None)


@define
class Cast:
    """The contacts the story changes (picked by seed, the same in every run)."""

    mover: int
    keep: int
    merged: int
    merged_email: str
    two_addresses: int
    secondary: str
    sharing: tuple[int, int]
    upemail_person: int


def _set_up(world: World) -> Cast:
    """Pick and make the story's contacts, start both flows and let them settle."""
    pipedrive, mailchimp = world.emulator.pipedrive, world.emulator.mailchimp
    linked = [
        p
        for p in pipedrive.iter_persons()
        if (email := _primary(p)) is not None
        and (member := mailchimp.get_member(world.audience, email)) is not None
        and member["status"] == "subscribed"
    ]
    assert len(linked) >= 3, "the seed has too few persons with a subscribed member"
    mover, keep, merged = (p["id"] for p in linked[:3])
    for person_id in (mover, keep, merged):
        pipedrive.update_person(person_id, {"custom_fields": {world.score_field: 95}})
    for email in TAGGED:
        mailchimp.add_member(world.audience, email, merge_fields={"FNAME": email.split(".")[0]})
    mailchimp.add_member(world.audience, SECONDARY, merge_fields={"FNAME": "Second"})
    tag = mailchimp.add_tag(world.audience, "Identity", TAGGED)
    tag_flow = world.tag_flow()
    world.start(world.filter_flow(), tag_flow.evolve(trigger=type(tag_flow.trigger)([tag])))
    world.settle()
    merged_email = str(_primary(pipedrive.get_person(merged) or {"emails": []}))
    (upemail_person,) = _persons_with(world, TAGGED[0])
    return Cast(mover, keep, merged, merged_email, 0, SECONDARY, (0, 0), upemail_person)


def _change(world: World, cast: Cast) -> None:
    """The identity changes people make, all at one moment."""
    pipedrive, mailchimp = world.emulator.pipedrive, world.emulator.mailchimp
    score = {world.score_field: 90}
    pipedrive.update_person(cast.mover, {"emails": [{"value": MOVED_TO, "primary": True}]})
    mailchimp.change_email(world.audience, TAGGED[0], UPEMAIL_TO)
    cast.two_addresses = pipedrive.add_person(
        name="Theresia Gruber",
        emails=[
            {"value": PRIMARY, "primary": True},
            {"value": cast.secondary, "primary": False},
        ],
        custom_fields=score,
    )
    cast.sharing = (
        pipedrive.add_person(name="Team Inbox", emails=[SHARED], custom_fields=score),
        pipedrive.add_person(name="Team Inbox (Vertrieb)", emails=[SHARED], custom_fields=score),
    )
    pipedrive.merge_persons(cast.keep, cast.merged)


Deliver = Callable[[World, Postbox], int]
"""Delivers (or loses) the webhooks the changes caused; returns the faults injected."""


def _once(world: World, postbox: Postbox) -> int:
    postbox.mode = "pass"
    world.emulator.deliver_webhooks()
    return 0


def _twice(world: World, postbox: Postbox) -> int:
    postbox.mode = "hold"
    world.emulator.deliver_webhooks()
    postbox.release(twice)
    return postbox.extra


def _lost(world: World, postbox: Postbox) -> int:
    postbox.mode = "hold"
    world.emulator.deliver_webhooks()
    return len(postbox.take())


def _pipedrive_lost(world: World, postbox: Postbox) -> int:
    postbox.mode = "hold"
    world.emulator.deliver_webhooks()
    held = postbox.take()
    postbox.held = [d for d in held if d.service != "pipedrive"]
    lost = len(held) - len(postbox.held)
    postbox.release()
    return lost


def play(deliver: Deliver) -> tuple[World, Cast, int]:
    """The story, its webhooks delivered by ``deliver``; the settled world and faults."""
    world, postbox = postbox_world(seed=SEED)
    cast = _set_up(world)
    world.emulator.advance(3600)
    _change(world, cast)
    faults = deliver(world, postbox)
    postbox.mode = "pass"
    world.settle()
    return world, cast, faults


_REFERENCE: list[tuple[World, Cast, int]] = []


def reference() -> tuple[World, Cast]:
    """The story with every webhook delivered once, in order (kept for the session)."""
    if not _REFERENCE:
        _REFERENCE.append(play(_once))
    world, cast, _ = _REFERENCE[0]
    return world, cast


def _member(world: World, email: str) -> dict[str, Any] | None:
    return world.emulator.mailchimp.get_member(world.audience, email)


def _persons_with(world: World, email: str) -> list[int]:
    return [
        p["id"]
        for p in world.emulator.pipedrive.iter_persons()
        if any(str(e["value"]).lower() == email.lower() for e in p["emails"])
    ]


def test_an_email_change_in_pipedrive_moves_the_member():
    """The synced person's new address is its old member, moved: no second member."""
    world, cast = reference()
    moved = _member(world, MOVED_TO)
    assert moved is not None
    assert moved["status"] == "subscribed"
    assert writes_by_operation(world.emulator.mailchimp).get("patchListsIdMembersId") == 1
    assert _persons_with(world, MOVED_TO) == [cast.mover]


def test_an_upemail_in_mailchimp_changes_the_persons_address():
    """A member's new address becomes its person's primary address: no second person.

    Before the fix in ``SyncEngine.handle_mailchimp_webhook`` (the link and the flows'
    tracking follow an ``upemail`` to the new address), a second person was created.
    """
    world, cast = reference()
    assert _persons_with(world, UPEMAIL_TO) == [cast.upemail_person]
    person = world.emulator.pipedrive.get_person(cast.upemail_person)
    assert person is not None
    assert _primary(person) == UPEMAIL_TO


def test_the_primary_address_is_the_identity_and_the_secondary_member_is_left_alone():
    """A person with two addresses gets a member at the primary; the secondary's is untouched."""
    world, cast = reference()
    assert _member(world, PRIMARY) is not None
    secondary = _member(world, cast.secondary)
    assert secondary is not None
    assert secondary["merge_fields"]["FNAME"] != "Theresia"
    assert _persons_with(world, PRIMARY) == [cast.two_addresses]


def test_two_persons_sharing_an_address_make_one_member_and_stay_two_persons():
    """Two persons with one address: one member, both persons kept, the second reported."""
    world, cast = reference()
    assert sorted(_persons_with(world, SHARED)) == sorted(cast.sharing)
    member = _member(world, SHARED)
    assert member is not None
    reasons = [
        outcome.reason or ""
        for run in world.engine.history("filter", limit=50)
        for outcome in world.store.iter_outcomes(run.run_id)
        if outcome.person_id == cast.sharing[1]
    ]
    assert any(f"belongs to person {cast.sharing[0]}" in r for r in reasons), reasons
    names = [(world.emulator.pipedrive.get_person(i) or {}).get("name") for i in cast.sharing]
    assert names == ["Team Inbox", "Team Inbox (Vertrieb)"], "a sharing person was changed"
    assert "mergePersons" not in writes_by_operation(world.emulator.pipedrive)


def test_merged_persons_keep_one_link_and_add_no_member():
    """After a merge the surviving person keeps its member; the merged one's stays; none added."""
    world, cast = reference()
    assert world.emulator.pipedrive.get_person(cast.merged) is None
    survivor = world.emulator.pipedrive.get_person(cast.keep)
    assert survivor is not None
    survivor_email = _primary(survivor)
    assert survivor_email is not None
    member = _member(world, survivor_email)
    assert member is not None
    assert _member(world, cast.merged_email) is not None
    links = world.store.links_for_persons(world.engine.account_pair, world.audience, [cast.keep])
    assert (links[cast.keep].email, links[cast.keep].member_id) == (
        survivor_email.lower(),
        member["unique_email_id"],
    )


@pytest.mark.parametrize(
    ("name", "deliver"),
    [
        ("twice", _twice),
        ("lost in Pipedrive", _pipedrive_lost),
        ("lost", _lost),
    ],
)
def test_identity_changes_end_as_the_reference_whatever_the_webhooks_do(name, deliver):
    """Delivered twice or lost, the identity changes end exactly as the reference run."""
    world, _, faults = play(deliver)
    ref, _ = reference()
    check_end(
        f"identity changes, webhooks {name}",
        world.emulator,
        ref.emulator,
        world.audience,
        faults=faults,
        statuses_before=statuses(ref.emulator, ref.audience),
    )
    assert world.emulator.mailchimp.member_count(world.audience) == (
        ref.emulator.mailchimp.member_count(ref.audience)
    )


MAIN_RECORD: Final = "main.record@company-main.com"
"""The primary address of a person, not synced yet, into which a synced one is merged."""


@define
class Merge:
    """A synced person merged into one not synced yet, and what the audience held before."""

    world: World
    postbox: Postbox
    keep: int
    merged_email: str
    before: int


def _merge_into_unsynced(*, member_at_main: bool = False) -> Merge:
    """Sync a person, add a person it is then merged into, and hold the webhooks.

    With ``member_at_main`` the audience has a member at the survivor's address already.
    """
    world, postbox = postbox_world(seed=SEED)
    pipedrive, mailchimp = world.emulator.pipedrive, world.emulator.mailchimp
    merged = next(
        p
        for p in pipedrive.iter_persons()
        if (email := _primary(p)) is not None
        and (member := mailchimp.get_member(world.audience, email)) is not None
        and member["status"] == "subscribed"
    )
    pipedrive.update_person(merged["id"], {"custom_fields": {world.score_field: 95}})
    if member_at_main:
        mailchimp.add_member(world.audience, MAIN_RECORD, merge_fields={"FNAME": "Main"})
    world.start(world.filter_flow())
    world.settle()
    before = mailchimp.member_count(world.audience)
    world.emulator.advance(3600)
    keep = pipedrive.add_person(
        name="Main Record", emails=[MAIN_RECORD], custom_fields={world.score_field: 90}
    )
    pipedrive.merge_persons(keep, merged["id"])
    postbox.mode = "hold"
    world.emulator.deliver_webhooks()
    return Merge(world, postbox, keep, str(_primary(merged)), before)


def _survivor_link(merge: Merge) -> Any:
    world = merge.world
    links = world.store.links_for_persons(world.engine.account_pair, world.audience, [merge.keep])
    return links[merge.keep]


def test_a_person_merged_into_an_unsynced_one_keeps_one_member():
    """Merging a synced person into one not synced yet moves its member, adding none.

    Before the fix in ``SyncEngine.handle_pipedrive_webhook`` (the survivor takes over
    the merged person's link), a second member was created at the survivor's address.
    """
    merge = _merge_into_unsynced()
    assert merge.postbox.release() > 0, "no webhook reached the engine"
    mailchimp = merge.world.emulator.mailchimp
    assert mailchimp.get_member(merge.world.audience, MAIN_RECORD) is not None, "not at once"
    merge.world.settle()
    assert mailchimp.member_count(merge.world.audience) == merge.before
    assert mailchimp.get_member(merge.world.audience, merge.merged_email) is None
    assert _survivor_link(merge).email == MAIN_RECORD


def test_a_merge_whose_webhook_is_lost_still_keeps_one_member():
    """The scheduled pass finds the merged person's link at the survivor's other address."""
    merge = _merge_into_unsynced()
    assert merge.postbox.take(), "the merge caused no webhook"
    merge.postbox.mode = "pass"
    merge.world.settle()
    mailchimp = merge.world.emulator.mailchimp
    assert mailchimp.member_count(merge.world.audience) == merge.before
    assert mailchimp.get_member(merge.world.audience, merge.merged_email) is None
    assert _survivor_link(merge).email == MAIN_RECORD


def test_a_merge_into_an_address_a_member_holds_links_that_member():
    """A member already at the survivor's address becomes its member; none is added.

    The merged person's link, taken over by the survivor, folds into the link of that
    member (the store's rule), and the merged person's member stays where it is.
    """
    merge = _merge_into_unsynced(member_at_main=True)
    merge.postbox.release()
    merge.world.settle()
    mailchimp = merge.world.emulator.mailchimp
    assert mailchimp.member_count(merge.world.audience) == merge.before
    at_main = mailchimp.get_member(merge.world.audience, MAIN_RECORD)
    assert at_main is not None
    link = _survivor_link(merge)
    assert (link.email, link.member_id) == (MAIN_RECORD, at_main["unique_email_id"])
    assert mailchimp.get_member(merge.world.audience, merge.merged_email) is not None
