"""Bad input: fake and malformed addresses, persons without one, values that cannot convert.

Every bad contact must get one clear outcome naming the contact, the field (when one
field is at fault) and the reason; nothing crashes; every other contact keeps
syncing. The design leaves a contact with a bad address out (a permanent skip,
reported once) and a contact with a bad value in with that one field left out (its
outcome lists the field and the reason). So the reference run is the same story in
which the bad-address persons and the bad values reach the apps only after the last
sync: both services must then hold exactly what the run under test left.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, Final

from attrs import frozen

from pdmc.flows import Action, ContactOutcome, Flow, MailchimpSegmentsTrigger, SyncReport
from pdmc.mapping import Direction, FieldPair
from tests.flows_safety.world import World, make_world
from tests.reliability.input_support import settle
from tests.reliability.ledger import LEDGER, check_end

HOT: Final = 90
"""A lead score every contact of these stories has, so the score filter matches them."""
AT_LIMIT: Final = "a" * 253 + "é"
"""255 bytes: exactly what a Mailchimp text merge field holds."""
OVER_LIMIT: Final = "a" * 254 + "é"
"""256 bytes, 255 characters: the multi-byte character crosses Mailchimp's limit."""


@frozen
class BadPerson:
    """A person whose address or one of whose values Mailchimp cannot take."""

    first_name: str
    email: str | None
    field: str | None
    reason: str
    values: Mapping[str, Any] = {}


def _bad_persons(budget_field: str) -> tuple[BadPerson, ...]:
    return (
        BadPerson("Reserved", "test@example.com", None, "fake or invalid"),
        BadPerson("Keyboard", "asdf@gmail.com", None, "fake or invalid"),
        BadPerson("Doubled", "jane.doe@@mail", None, "the email address is not valid"),
        BadPerson("Nomail", None, None, "the person has no email address"),
        BadPerson(
            "Umlauts",
            "umlauts@harbour-mail.net",
            "job_title",
            "400 bytes",
            {"job_title": "ü" * 200},
        ),
        BadPerson(
            "Boundary",
            "boundary@harbour-mail.net",
            "job_title",
            "256 bytes",
            {"job_title": OVER_LIMIT},
        ),
        BadPerson(
            "Partial",
            "partial@harbour-mail.net",
            "postal_address",
            "the address is incomplete",
            {"postal_address": {"value": "Rue X, Paris", "locality": "Paris"}},
        ),
        BadPerson(
            "Huge",
            "huge.budget@harbour-mail.net",
            budget_field,
            "too large",
            {"custom_fields": {budget_field: {"value": 1e20, "currency": "EUR"}}},
        ),
    )


GOOD: Final = (
    ("Ada", "ada.good@harbour-mail.net", {"job_title": AT_LIMIT}),
    ("Bea", "bea.good@harbour-mail.net", {"job_title": "é" * 127}),
    ("Cem", "cem.good@harbour-mail.net", {"job_title": "Buyer"}),
    ("Dag", "dag.good@harbour-mail.net", {}),
)
"""Contacts that sync whole: two sit just under the 255-byte limit."""


def _pd_pairs(world: World) -> tuple[FieldPair, ...]:
    return (
        *world.pairs(Direction.PD_TO_MC),
        FieldPair("job_title", "COMPANY"),
        FieldPair(_budget(world), "SCORE"),
        FieldPair("postal_address", "ADDRESS"),
    )


def _budget(world: World) -> str:
    """The monetary "Annual budget" field, mapped to the number merge field SCORE."""
    return world.summary.person_fields["Annual budget"]


def _add(world: World, first: str, email: str | None, values: Mapping[str, Any]) -> int:
    custom = {world.score_field: HOT, **values.get("custom_fields", {})}
    plain = {k: v for k, v in values.items() if k != "custom_fields"}
    return world.emulator.pipedrive.add_person(
        first_name=first,
        last_name="Input",
        emails=[email] if email else [],
        custom_fields=custom,
        **plain,
    )


def _play_pipedrive(*, reference: bool) -> tuple[World, dict[str, int], list[SyncReport]]:
    """The Pipedrive-to-Mailchimp story; the reference adds the bad input after the last sync.

    Returns the world, the bad persons' ids by first name, and the reports of the
    initial sync and of the sync after a later near-instant edit.
    """
    world = make_world(contacts=24, seed=5)
    bad = _bad_persons(_budget(world))
    ids: dict[str, int] = {}
    for first, email, values in GOOD:
        ids[first] = _add(world, first, email, values)
    for person in bad:
        if not reference:
            ids[person.first_name] = _add(world, person.first_name, person.email, person.values)
        elif person.field is not None:  # the reference gets the contact, not its bad value
            ids[person.first_name] = _add(world, person.first_name, person.email, {})
    flow = world.filter_flow().evolve(pairs=_pd_pairs(world))
    world.start(flow)
    reports = settle(world)
    # A near-instant edit later: a new first name and, at once, an oversized job title.
    edit = {"first_name": "Adele"}
    oversized = {"job_title": "ß" * 200}
    pipedrive = world.emulator.pipedrive
    pipedrive.update_person(ids["Ada"], edit if reference else {**edit, **oversized})
    reports += settle(world)
    if reference:
        pipedrive.update_person(ids["Ada"], oversized)
        for person in bad:
            if person.field is None:
                ids[person.first_name] = _add(world, person.first_name, person.email, {})
            else:
                changes = dict(person.values)
                if "custom_fields" in changes:
                    changes["custom_fields"] = {**changes["custom_fields"]}
                pipedrive.update_person(ids[person.first_name], changes)
    return world, ids, reports


def _outcomes_of(reports: list[SyncReport], person_id: int) -> list[ContactOutcome]:
    return [o for r in reports for o in r.outcomes if o.person_id == person_id]


def test_bad_pipedrive_contacts_are_named_once_and_the_others_sync() -> None:
    """Fake, malformed and missing addresses and unconvertible values never stop the sync."""
    world, ids, reports = _play_pipedrive(reference=False)
    reference, _, _ = _play_pipedrive(reference=True)
    bad = _bad_persons(_budget(world))

    for person in bad:
        (outcome,) = _outcomes_of(reports, ids[person.first_name])
        if person.field is None:
            assert outcome.action is Action.SKIPPED
            assert outcome.permanent
            assert outcome.email == person.email
            assert person.reason in (outcome.reason or "")
        else:
            assert outcome.action is Action.CREATED
            assert outcome.email == person.email
            (problem,) = outcome.field_errors
            assert f":{person.field}:" in problem
            assert person.reason in problem
    for report in reports:
        assert report.counts["failed"] == 0
        per_contact = Counter(o.person_id for o in report.outcomes)
        assert max(per_contact.values(), default=1) == 1, "a contact counted twice"
    # The edit synced near-instantly, by webhook: its run's history names the field.
    (edited,) = [
        o
        for run in world.engine.history("filter", limit=100)
        for o in world.store.iter_outcomes(run.run_id, action="updated")
        if o.person_id == ids["Ada"]
    ]
    assert "job_title" in (edited.reason or "")
    assert "400 bytes" in (edited.reason or "")
    members = {
        str(m["email_address"]): m for m in world.emulator.mailchimp.iter_members(world.audience)
    }
    assert members["ada.good@harbour-mail.net"]["merge_fields"]["FNAME"] == "Adele"
    assert members["ada.good@harbour-mail.net"]["merge_fields"]["COMPANY"] == AT_LIMIT
    assert members["boundary@harbour-mail.net"]["merge_fields"]["FNAME"] == "Boundary"
    check_end(
        "bad input: Pipedrive to Mailchimp",
        world.emulator,
        reference.emulator,
        world.audience,
        faults=len(bad) + 1,
    )


def _play_mailchimp(*, reference: bool) -> tuple[World, list[SyncReport]]:
    """A tag flow over members, one with a score no JSON number holds exactly."""
    world = make_world(contacts=24, seed=5)
    mailchimp = world.emulator.mailchimp
    members = {
        "nina.tag@harbour-mail.net": {"FNAME": "Nina", "COMPANY": "é" * 127, "SCORE": 75},
        "omar.tag@harbour-mail.net": {"FNAME": "Omar", "COMPANY": AT_LIMIT, "SCORE": 12},
        "huge.tag@harbour-mail.net": {"FNAME": "Huge", "COMPANY": "Big", "SCORE": 1e20},
    }
    for email, values in members.items():
        kept = {k: v for k, v in values.items() if not (reference and v == 1e20)}
        mailchimp.add_member(world.audience, email, merge_fields=kept)
    tag = mailchimp.add_tag(world.audience, "Imported", list(members))
    pairs = (
        *world.pairs(Direction.MC_TO_PD),
        FieldPair("job_title", "COMPANY"),
        FieldPair(world.score_field, "SCORE"),
    )
    flow = Flow(
        id="imported",
        name="imported members to Pipedrive",
        trigger=MailchimpSegmentsTrigger([tag]),
        pairs=pairs,
        audience_id=world.audience,
    )
    world.start(flow)
    reports = settle(world)
    if reference:
        mailchimp.update_profile(world.audience, "huge.tag@harbour-mail.net", {"SCORE": 1e20})
    return world, reports


def test_a_mailchimp_value_that_cannot_convert_leaves_only_that_field_out() -> None:
    """A member whose score is too large becomes a person without it, the field named."""
    world, reports = _play_mailchimp(reference=False)
    reference, _ = _play_mailchimp(reference=True)

    outcomes = [o for r in reports for o in r.outcomes]
    (huge,) = [o for o in outcomes if o.email == "huge.tag@harbour-mail.net"]
    assert huge.action is Action.CREATED
    (problem,) = huge.field_errors
    assert "SCORE" in problem
    assert "too large" in problem
    created = {o.email for o in outcomes if o.action is Action.CREATED}
    assert {"nina.tag@harbour-mail.net", "omar.tag@harbour-mail.net"} <= created
    assert all(not o.field_errors for o in outcomes if o.email != huge.email)
    check_end(
        "bad input: Mailchimp to Pipedrive",
        world.emulator,
        reference.emulator,
        world.audience,
        faults=1,
    )


def test_bad_rows_in_a_dry_run_are_named_without_a_write() -> None:
    """A dry run names every bad address and unconvertible value and writes nothing."""
    world = make_world(contacts=24, seed=5)
    bad = _bad_persons(_budget(world))
    ids = {p.first_name: _add(world, p.first_name, p.email, p.values) for p in bad}
    flow = world.filter_flow().evolve(pairs=_pd_pairs(world))
    world.engine.create_flow(flow, confirm_subscribed=True)
    world.engine.activate(flow.id)
    members_before = world.emulator.mailchimp.member_count(world.audience)

    plan = world.engine.dry_run(flow.id)

    for person in bad:
        (outcome,) = [o for o in plan.outcomes if o.person_id == ids[person.first_name]]
        named = outcome.reason if person.field is None else " ".join(outcome.field_errors)
        # Mailchimp's fake-address verdict needs a write; the plan cannot know it.
        if person.reason != "fake or invalid":
            assert person.reason in (named or "")
    assert world.emulator.mailchimp.member_count(world.audience) == members_before
    LEDGER.record("bad input: dry run", faults=len(bad), contacts=len(bad))
