"""Fingerprints: stable hashes of a contact's mapped values, for no-op writes and echoes."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from pdmc.clients.mailchimp.models import Member
from pdmc.clients.pipedrive.models import Person
from pdmc.mapping import (
    Direction,
    FieldMap,
    FieldPair,
    MonthDay,
    fingerprint,
    fingerprint_member,
    fingerprint_person,
    map_member_to_person_input,
    map_person_to_merge_fields,
)

from .conftest import SCORE


@pytest.fixture
def fieldmap(pipedrive, mailchimp) -> FieldMap:
    """A Pipedrive → Mailchimp map with text, number, date-like and address values."""
    base = FieldMap.default(Direction.PD_TO_MC, pipedrive, mailchimp)
    for pair in (
        FieldPair(SCORE, "SCORE"),
        FieldPair("birthday", "BIRTHDAY"),
        FieldPair("postal_address", "ADDRESS"),
    ):
        base = base.with_pair(pair)
    return base


def member(email: str = "ada@example.com", **merge_fields: object) -> Member:
    """A member with ``merge_fields``."""
    return Member(id="1" * 32, email_address=email, status="subscribed", merge_fields=merge_fields)


def test_fingerprint_is_a_stable_sha256_of_canonical_json() -> None:
    """The same values give the same digest whatever their key order or number spelling."""
    first = fingerprint({"a": "x", "b": Decimal("1.50"), "c": MonthDay(2, 29)})
    second = fingerprint({"c": MonthDay(2, 29), "b": Decimal("1.5"), "a": "x"})
    assert first == second
    assert len(first) == 64
    assert fingerprint({"a": "x"}) != fingerprint({"a": "y"})
    assert fingerprint({"a": None}) != fingerprint({})


def test_equal_values_in_other_formats_fingerprint_the_same(fieldmap) -> None:
    """5 and "5", an email's case and an address's key order do not change the fingerprint."""
    address = {"addr1": "1 Way", "city": "A", "state": "B", "zip": "1", "country": "us"}
    reordered = dict(reversed(list(address.items())))
    one = member(FNAME="Ada", SCORE=5, ADDRESS=address)
    other = member(
        "ADA@example.COM", FNAME="Ada", SCORE="5.0", ADDRESS=reordered | {"country": "US"}
    )
    assert fingerprint_member(one, fieldmap) == fingerprint_member(other, fieldmap)


def test_a_changed_mapped_value_changes_the_fingerprint(fieldmap) -> None:
    """Any change to a mapped value gives a new fingerprint."""
    assert fingerprint_member(member(FNAME="Ada"), fieldmap) != fingerprint_member(
        member(FNAME="Adah"), fieldmap
    )


def test_unmapped_fields_do_not_change_the_fingerprint(fieldmap, ada) -> None:
    """Values the map does not name are not part of the fingerprint."""
    assert fingerprint_member(member(FNAME="Ada"), fieldmap) == fingerprint_member(
        member(FNAME="Ada", WEBSITE="https://example.com"), fieldmap
    )
    other_job = attrs.evolve(ada, job_title="Countess")
    assert fingerprint_person(ada, fieldmap) == fingerprint_person(other_job, fieldmap)


def test_a_value_that_cannot_be_read_still_fingerprints_stably(fieldmap) -> None:
    """An unreadable value hashes by its repr, so the same junk gives the same fingerprint."""
    first = fingerprint_member(member(SCORE="1,5"), fieldmap)
    assert first == fingerprint_member(member(SCORE="1,5"), fieldmap)
    assert first != fingerprint_member(member(SCORE="2,5"), fieldmap)


def test_pdmcs_own_write_comes_back_with_the_stored_fingerprint(ada, fieldmap) -> None:
    """The member Mailchimp returns after a write fingerprints as the write did: an echo."""
    mapped = map_person_to_merge_fields(ada, fieldmap)
    as_returned = {**mapped.values, "SCORE": str(mapped.values["SCORE"]), "LNAME": "Lovelace"}
    echo = member(mapped.email.upper(), **as_returned)
    assert fingerprint_member(echo, fieldmap) == mapped.fingerprint
    edited = member(mapped.email, **{**as_returned, "FNAME": "Augusta"})
    assert fingerprint_member(edited, fieldmap) != mapped.fingerprint


def test_a_person_written_by_pdmc_comes_back_with_the_stored_fingerprint(
    pipedrive, mailchimp
) -> None:
    """The person Pipedrive returns after a write fingerprints as the write did."""
    inbound = FieldMap.default(Direction.MC_TO_PD, pipedrive, mailchimp).with_pair(
        FieldPair(SCORE, "SCORE")
    )
    source = member(FNAME="Grace", LNAME="Hopper", PHONE="+1 555 0100", SCORE=7)
    mapped = map_member_to_person_input(source, inbound)
    body = mapped.input
    stored = Person(
        id=1,
        name=body.name,
        first_name="Grace",
        last_name="Hopper",
        emails=body.emails,
        phones=body.phones,
        custom_fields={SCORE: 7.0},
    )
    assert fingerprint_person(stored, inbound) == mapped.fingerprint
