"""Seeding: the generator's data, its determinism and memory, and loading into the emulator."""

from __future__ import annotations

import hashlib
import json
import re
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from pdmc.emulator import Emulator, SeedSummary
from pdmc.emulator._seed import (
    MERGE_FIELDS,
    PERSON_FIELDS,
    TAGS,
    CompanyUser,
    ContactTrait,
    EarlierPerson,
    SeedContact,
    SeedSpec,
    generate_contacts,
)
from pdmc.emulator.mailchimp._emails import email_rejection_reason

SCRIPTS = {
    "Cyrillic": re.compile(r"[\u0400-\u04ff]"),
    "Greek": re.compile(r"[\u0370-\u03ff]"),
    "Japanese kana": re.compile(r"[\u3040-\u30ff]"),
    "CJK ideographs": re.compile(r"[\u4e00-\u9fff]"),
    "Latin accents": re.compile(r"[À-ž]"),
    "apostrophe": re.compile(r"['’]"),  # noqa: RUF001 - the typographic apostrophe too
    "hyphen": re.compile(r"\w-\w"),
}


def _wire(value: Any) -> Any:
    if isinstance(value, ContactTrait):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


def _fingerprint(contacts: Iterator[SeedContact]) -> str:
    digest = hashlib.sha256()
    for contact in contacts:
        record = attrs.asdict(contact, value_serializer=lambda _i, _a, v: _wire(v))
        digest.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def contacts() -> list[SeedContact]:
    return list(generate_contacts(SeedSpec(contacts=5000, seed=11)))


def test_the_same_seed_gives_the_same_stream() -> None:
    """Two streams from the same spec hash alike, record by record; another seed differs."""
    spec = SeedSpec(contacts=1000, seed=42)
    assert _fingerprint(generate_contacts(spec)) == _fingerprint(generate_contacts(spec))
    assert _fingerprint(generate_contacts(spec)) != _fingerprint(
        generate_contacts(attrs.evolve(spec, seed=43))
    )


def test_a_longer_stream_starts_with_the_shorter_one() -> None:
    """Asking for more contacts extends the stream without changing its beginning."""
    short = list(generate_contacts(SeedSpec(contacts=300, seed=5)))
    long = list(generate_contacts(SeedSpec(contacts=600, seed=5)))
    assert long[:300] == short
    assert [c.index for c in long] == list(range(600))


def test_every_awkward_case_occurs(contacts) -> None:
    """Five thousand contacts include every data-quality case, each more than a few times."""
    seen = Counter(trait for contact in contacts for trait in contact.traits)
    assert set(seen) == set(ContactTrait) - {ContactTrait.NONE}
    assert min(seen.values()) >= 10


def test_names_come_in_many_scripts_and_spellings(contacts) -> None:
    """Names include Cyrillic, Greek, Japanese, Chinese, accents, apostrophes and hyphens."""
    names = [c.person.name for c in contacts if c.person] + [
        c.member.merge_fields.get("LNAME", "") for c in contacts if c.member
    ]
    for script, pattern in SCRIPTS.items():
        assert any(pattern.search(name) for name in names), script
    assert len({c.locale for c in contacts}) == 12


def test_mailchimp_addresses_are_unique_and_acceptable(contacts) -> None:
    """No two members share an address in any case, and Mailchimp accepts every one."""
    addresses = [c.member.email for c in contacts if c.member]
    assert len({a.lower() for a in addresses}) == len(addresses)
    assert [a for a in addresses if email_rejection_reason(a)] == []
    assert any(a != a.lower() for a in addresses)


def test_person_addresses_show_each_problem_as_labelled(contacts) -> None:
    """Invalid, fake, shared, missing and several addresses are what their traits say."""
    persons = [c for c in contacts if c.person]
    for contact in persons:
        assert contact.person is not None
        emails = contact.person.emails
        first = emails[0].value if emails else None
        traits = contact.traits
        assert (not emails) == bool(traits & ContactTrait.NO_EMAIL)
        assert (len(emails) > 1) == bool(traits & ContactTrait.SEVERAL_EMAILS)
        assert sum(e.primary for e in emails) == (1 if emails else 0)
        assert (bool(emails) and not emails[0].primary) == bool(
            traits & ContactTrait.PRIMARY_NOT_FIRST
        )
        if traits & ContactTrait.INVALID_EMAIL:
            assert email_rejection_reason(first or "") == "syntax", first
        if traits & ContactTrait.FAKE_EMAIL:
            assert email_rejection_reason(first or "") is not None, first
        if traits & (ContactTrait.INVALID_EMAIL | ContactTrait.FAKE_EMAIL):
            assert contact.member is None or not emails[0].primary
    shared = Counter(
        c.person.emails[0].value.lower() for c in persons if c.person and c.person.emails
    )
    assert sum(n > 1 for n in shared.values()) >= 10


def test_members_and_persons_of_one_contact_agree_up_to_case(contacts) -> None:
    """A member of a person has the person's primary address, in another case when flagged."""
    both = [c for c in contacts if c.person and c.member]
    assert len(both) > 1000
    for contact in both:
        assert contact.person is not None
        assert contact.member is not None
        primary = next(e.value for e in contact.person.emails if e.primary)
        assert primary.lower() == contact.member.email.lower()
        differs = primary != contact.member.email
        assert differs == bool(contact.traits & ContactTrait.CASE_DIFFERS)


def test_custom_fields_of_every_type_and_merge_fields_of_every_tag_occur(contacts) -> None:
    """Every seeded person field and merge field has values, in the shapes the APIs take."""
    values: dict[str, list[Any]] = {f.name: [] for f in PERSON_FIELDS}
    merges: Counter[str] = Counter()
    for contact in contacts:
        if contact.person:
            for name, value in contact.person.custom_fields.items():
                values[name].append(value)
        if contact.member:
            merges.update(contact.member.merge_fields.keys())
    assert all(values.values()), [name for name, found in values.items() if not found]
    assert set(merges) == {f.tag for f in MERGE_FIELDS}
    by_type = {f.field_type: values[f.name] for f in PERSON_FIELDS}
    assert all(set(v) == {"value", "currency"} for v in by_type["monetary"])
    assert all(set(v) == {"start", "end"} and v["start"] <= v["end"] for v in by_type["daterange"])
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d", v) for v in by_type["time"])
    assert all(isinstance(v, CompanyUser) for v in by_type["user"])
    assert all(isinstance(v, EarlierPerson) and v.back >= 1 for v in by_type["people"])
    assert all(isinstance(v, tuple) and len(set(v)) == len(v) for v in by_type["set"])
    assert all(v["value"] for v in by_type["address"])


def test_members_come_in_every_status_with_known_tags(contacts) -> None:
    """Members are subscribed, unsubscribed, cleaned, pending, transactional or archived."""
    members = [c.member for c in contacts if c.member]
    assert {m.status for m in members} == {
        "subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived",
    }  # fmt: skip
    assert {tag for m in members for tag in m.tags} == set(TAGS)
    assert any(c.member and not c.person for c in contacts)


def test_the_mix_follows_the_spec() -> None:
    """in_both, mailchimp_only and with_deals shape the stream; zero shares mean none."""
    only_persons = list(generate_contacts(SeedSpec(contacts=400, in_both=0, mailchimp_only=0)))
    assert all(c.person and not c.member for c in only_persons)
    all_deals = list(generate_contacts(SeedSpec(contacts=400, mailchimp_only=0, with_deals=1)))
    assert all(c.person and c.person.deals for c in all_deals)
    only_members = list(generate_contacts(SeedSpec(contacts=100, in_both=0, mailchimp_only=1)))
    assert all(c.member and not c.person for c in only_members)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"contacts": -1}, "contacts"),
        ({"in_both": 1.5}, "in_both is a share"),
        ({"with_deals": -0.1}, "with_deals is a share"),
        ({"in_both": 0.7, "mailchimp_only": 0.4}, "more than 1"),
    ],
)
def test_a_spec_refuses_impossible_numbers(arguments, message) -> None:
    """A negative count, a share outside 0..1 or shares above 1 in total are refused."""
    with pytest.raises(ValueError, match=message):
        SeedSpec(**arguments)


def _generator_peak(contacts: int) -> int:
    """Peak bytes allocated while generating ``contacts`` contacts and dropping each."""
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for _ in generate_contacts(SeedSpec(contacts=contacts, seed=3)):
            pass
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


def test_the_generator_runs_in_flat_memory() -> None:
    """Ten times more contacts raise the generator's peak by less than 16 bytes a contact."""
    for _ in generate_contacts(SeedSpec(contacts=5000, seed=4)):  # fill the free lists
        pass
    small, large = _generator_peak(500), _generator_peak(5000)
    assert large - small < 16 * (5000 - 500)


# Loading into the emulator


@pytest.fixture(scope="module")
def seeded() -> tuple[Emulator, SeedSummary]:
    emulator = Emulator()
    return emulator, emulator.seed(contacts=800, seed=21)


def _persons(emulator: Emulator) -> list[dict[str, Any]]:
    return list(emulator.pipedrive.iter_persons())


def _members(emulator: Emulator, summary: SeedSummary) -> list[dict[str, Any]]:
    return list(emulator.mailchimp.iter_members(summary.audience_id))


def test_the_summary_counts_what_the_emulator_holds(seeded) -> None:
    """Persons, members by status, deals and traits in the summary match the state."""
    emulator, summary = seeded
    assert summary.contacts == 800
    assert emulator.pipedrive.person_count() == summary.persons
    assert emulator.mailchimp.member_count(summary.audience_id) == summary.members
    statuses = Counter(m["status"] for m in _members(emulator, summary))
    assert statuses == summary.members_by_status
    with emulator.pipedrive_client() as pipedrive:
        deals = list(pipedrive.list_deals())
    assert len(deals) == summary.deals
    seeded_stages = {i for stages in summary.stages.values() for i in stages.values()}
    assert {deal.stage_id for deal in deals} <= seeded_stages
    assert {deal.status for deal in deals} == {"open", "won", "lost"}
    assert sum(summary.traits.values()) >= len(summary.traits) > 5


def test_the_awkward_cases_reach_the_emulator(seeded) -> None:
    """Shared, missing, invalid and differently-cased addresses are in the loaded state."""
    emulator, summary = seeded
    persons = _persons(emulator)
    by_address = Counter(e["value"].lower() for p in persons for e in p["emails"] if e["primary"])
    assert any(n > 1 for n in by_address.values())
    assert any(not p["emails"] for p in persons)
    assert any(email_rejection_reason(e["value"]) for p in persons for e in p["emails"])
    member_addresses = {m["email_address"] for m in _members(emulator, summary)}
    person_addresses = {e["value"] for p in persons for e in p["emails"]}
    lowered = {a.lower(): a for a in person_addresses}
    assert any(a not in person_addresses and a.lower() in lowered for a in member_addresses)


def test_custom_fields_of_every_type_hold_valid_values(seeded) -> None:
    """Every seeded field has values; users and persons referred to exist; options are ids."""
    emulator, summary = seeded
    persons = _persons(emulator)
    filled = {code for p in persons for code, v in p["custom_fields"].items() if v is not None}
    assert filled == set(summary.person_fields.values())
    ids = {p["id"] for p in persons}
    manager, referrer = (
        summary.person_fields["Account manager"],
        summary.person_fields["Referred by"],
    )
    industry = summary.person_fields["Industry"]
    options = set(emulator.pipedrive.person_field_options(industry).values())
    for person in persons:
        values = person["custom_fields"]
        assert values[manager] in {None, emulator.pipedrive.default_company.user_id}
        assert values[referrer] is None or values[referrer] in ids
        assert values[industry] is None or values[industry] in options


def test_the_seeded_filters_select_what_their_conditions_say(seeded) -> None:
    """Both filters, one with and and or groups, list exactly the persons they describe."""
    emulator, summary = seeded
    fields = summary.person_fields
    options = emulator.pipedrive.person_field_options(fields["Industry"])
    software, healthcare = options["Software"], options["Healthcare"]
    persons = _persons(emulator)

    def industry(person: dict[str, Any]) -> Any:
        return person["custom_fields"][fields["Industry"]]

    def hot(person: dict[str, Any]) -> bool:
        score = person["custom_fields"][fields["Lead score"]]
        return (
            score is not None
            and score >= 70
            and bool(person["emails"])
            and industry(person) in {software, healthcare}
        )

    expected = {
        "Software industry": {p["id"] for p in persons if industry(p) == software},
        "Hot leads with an email": {p["id"] for p in persons if hot(p)},
    }
    with emulator.pipedrive_client() as pipedrive:
        for name, filter_id in summary.filters.items():
            listed = {p.id for p in pipedrive.list_persons(filter_id=filter_id)}
            assert listed == expected[name], name
            assert listed, name


def test_the_seeded_segments_hold_the_members_their_conditions_say(seeded) -> None:
    """The saved segments list the members tagged VIP and Customer, and those on paid plans."""
    emulator, summary = seeded
    # Segment listings leave out unsubscribed, cleaned, transactional and archived members.
    members = [m for m in _members(emulator, summary) if m["status"] in {"subscribed", "pending"}]

    def tagged(member: dict[str, Any]) -> set[str]:
        return {tag["name"] for tag in member["tags"]}

    expected = {
        "VIP customers": {m["email_address"] for m in members if {"VIP", "Customer"} <= tagged(m)},
        "Paying plans": {
            m["email_address"]
            for m in members
            if m["merge_fields"]["PLAN"] in {"Pro", "Enterprise"}
        },
    }
    with emulator.mailchimp_client() as mailchimp:
        for name, segment_id in summary.segments.items():
            listed = mailchimp.list_segment_members(summary.audience_id, segment_id)
            assert {m.email_address for m in listed} == expected[name], name
            assert expected[name], name


def test_seeding_sends_no_request_and_no_webhook() -> None:
    """Seeding uses the state API only: nothing in the request logs, nothing delivered."""
    emulator = Emulator()
    deliveries: list[object] = []
    emulator.on_webhook(lambda delivery: deliveries.append(delivery) or 200)
    with emulator.pipedrive_client() as pipedrive:
        pipedrive.create_webhook(
            subscription_url="https://hooks.example.org/pd",
            event_action="*",
            event_object="*",
            name="everything",
        )
    emulator.pipedrive.log.reset()
    emulator.seed(contacts=150, seed=2)
    emulator.advance(600)
    assert deliveries == []
    assert emulator.pipedrive.log.requests == emulator.mailchimp.log.requests == 0


def test_the_same_seed_loads_the_same_state() -> None:
    """Two emulators seeded alike hold identical persons and members, ids included."""
    first, second = Emulator(), Emulator()
    summaries = first.seed(contacts=250, seed=8), second.seed(contacts=250, seed=8)
    assert summaries[0] == summaries[1]
    assert _persons(first) == _persons(second)
    assert _members(first, summaries[0]) == _members(second, summaries[1])


def test_loaded_contacts_stay_small() -> None:
    """A loaded contact (person, member, deals and indexes) keeps under 5 KB of memory."""
    emulator = Emulator()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        emulator.seed(contacts=1000, seed=6)
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert retained / 1000 < 5000


@pytest.mark.slow
def test_fifty_thousand_contacts_load_and_list_in_pages() -> None:
    """50,000 contacts load, and walking every person and member page by page finds them all."""
    emulator = Emulator()
    summary = emulator.seed(contacts=50_000, seed=99)
    with emulator.pipedrive_client() as pipedrive:
        persons = sum(1 for _ in pipedrive.list_persons())
    with emulator.mailchimp_client() as mailchimp:
        members = sum(1 for _ in mailchimp.list_members(summary.audience_id, status="subscribed"))
    assert persons == summary.persons > 42_000
    assert members == summary.members_by_status["subscribed"]
