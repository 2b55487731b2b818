"""Mapping whole contacts: persons into merge fields, members into person write bodies."""

from __future__ import annotations

import pytest

from pdmc import UNSET
from pdmc.clients.mailchimp.models import Member
from pdmc.clients.pipedrive.models import ContactPoint, Person, PostalAddress
from pdmc.errors import ConfigurationError
from pdmc.mapping import (
    Direction,
    FieldMap,
    FieldPair,
    map_member_to_person_input,
    map_person_to_merge_fields,
)

from .conftest import BUDGET, COMPANY, CONTRACT, SCORE, SOURCE

MEMBER_ID = "5" * 32


@pytest.fixture
def outbound(pipedrive, mailchimp) -> FieldMap:
    """A Pipedrive → Mailchimp map with a field of most kinds."""
    return (
        FieldMap.default(Direction.PD_TO_MC, pipedrive, mailchimp)
        .with_pair(FieldPair(COMPANY, "COMPANY"))
        .with_pair(FieldPair("postal_address", "ADDRESS"))
        .with_pair(FieldPair("birthday", "BIRTHDAY"))
        .with_pair(FieldPair(CONTRACT, "SIGNUP"))
        .with_pair(FieldPair(BUDGET, "SCORE"))
        .with_pair(FieldPair(SOURCE, "SOURCE", send_option_labels=True))
    )


@pytest.fixture
def inbound(pipedrive, mailchimp) -> FieldMap:
    """A Mailchimp → Pipedrive map with names, phone, address and two custom fields."""
    return (
        FieldMap.default(Direction.MC_TO_PD, pipedrive, mailchimp)
        .with_pair(FieldPair("postal_address", "ADDRESS"))
        .with_pair(FieldPair(SCORE, "SCORE"))
        .with_pair(FieldPair(COMPANY, "COMPANY"))
    )


def member(**merge_fields: object) -> Member:
    """A subscribed member whose merge fields are ``merge_fields``."""
    return Member(
        id=MEMBER_ID,
        email_address="grace@example.com",
        status="subscribed",
        merge_fields=merge_fields,
    )


def test_a_person_maps_to_merge_fields(ada, outbound) -> None:
    """Every mapped value arrives converted, keyed by merge tag, with the primary email."""
    mapped = map_person_to_merge_fields(ada, outbound)
    assert mapped.errors == ()
    assert mapped.email == "Ada@Example.com"
    assert mapped.values == {
        "FNAME": "Ada",
        "LNAME": "Lovelace",
        "PHONE": "+44 20 7946 0000",
        "COMPANY": "Analytical Engines Ltd",
        "ADDRESS": {
            "addr1": "12 St James's Square",
            "city": "London",
            "state": "England",
            "zip": "SW1Y 4JH",
            "country": "GB",
        },
        "BIRTHDAY": "12/10",
        "SIGNUP": "2024-02-29",
        "SCORE": 1500.25,
        "SOURCE": "Outbound",
    }


def test_a_bad_value_is_reported_and_the_other_fields_still_map(ada, outbound) -> None:
    """One unconvertible value yields one error; the person's other values still map."""
    broken = Person(
        id=ada.id,
        emails=ada.emails,
        first_name="Ada",
        postal_address=PostalAddress(route="Somewhere"),
        custom_fields={**ada.custom_fields, CONTRACT: "tomorrow"},
    )
    mapped = map_person_to_merge_fields(broken, outbound)
    assert [e.field for e in mapped.errors] == ["pipedrive:postal_address", f"pipedrive:{CONTRACT}"]
    assert all(e.contact == "person 7" for e in mapped.errors)
    assert mapped.values["FNAME"] == "Ada"
    assert "SIGNUP" not in mapped.values
    assert "LNAME" not in mapped.values  # empty source: left alone


def test_a_person_without_an_email_address_is_an_error(outbound) -> None:
    """Mailchimp keys members by email, so a person without one is reported."""
    mapped = map_person_to_merge_fields(Person(id=3, first_name="Nobody"), outbound)
    assert mapped.email is None
    assert [e.reason for e in mapped.errors] == ["no email address"]
    assert mapped.values == {"FNAME": "Nobody"}


def test_a_missing_email_is_reported_beside_other_errors(outbound) -> None:
    """The missing address is reported even when another value also failed."""
    person = Person(id=3, custom_fields={CONTRACT: "soon"})
    mapped = map_person_to_merge_fields(person, outbound)
    assert [e.reason for e in mapped.errors][-1] == "no email address"
    assert len(mapped.errors) == 2


def test_mapping_the_wrong_way_is_a_configuration_error(ada, outbound, inbound) -> None:
    """A map for one direction cannot convert a contact the other way."""
    with pytest.raises(ConfigurationError):
        map_person_to_merge_fields(ada, inbound)
    with pytest.raises(ConfigurationError):
        map_member_to_person_input(member(), outbound)


def test_a_new_member_maps_to_a_new_person(inbound) -> None:
    """Without a current person, the body names, addresses and describes a new person."""
    mapped = map_member_to_person_input(
        member(FNAME="Grace", LNAME="Hopper", PHONE="+1 555 0100", SCORE="7", COMPANY="Navy"),
        inbound,
    )
    assert mapped.errors == ()
    body = mapped.input
    assert body.name == "Grace Hopper"
    assert body.emails == (ContactPoint(value="grace@example.com", primary=True),)
    assert body.phones == (ContactPoint(value="+1 555 0100", primary=True),)
    assert body.custom_fields == {SCORE: 7, COMPANY: "Navy"}
    assert body.postal_address is UNSET  # absent from the member: left alone
    assert mapped.values["first_name"] == "Grace"


def test_an_update_keeps_what_the_member_does_not_carry(inbound) -> None:
    """With the current person, the unmapped half of the name and old contacts are kept."""
    current = Person(
        id=9,
        first_name="Grace",
        last_name="Hopper",
        emails=(ContactPoint(value="GRACE@example.com", primary=True),),
        phones=(ContactPoint(value="+1 555 0100", primary=True, label="work"),),
    )
    mapped = map_member_to_person_input(
        member(FNAME="Amazing", LNAME="", PHONE="+1 555 0199"), inbound, current=current
    )
    body = mapped.input
    assert body.name == "Amazing Hopper"
    assert body.emails is UNSET  # the person already has this address
    assert body.phones == (
        ContactPoint(value="+1 555 0199", primary=True),
        ContactPoint(value="+1 555 0100", primary=False, label="work"),
    )


def test_clearing_a_phone_drops_only_the_primary_number(pipedrive, mailchimp) -> None:
    """clear_when_empty on phone removes the primary number and keeps the others."""
    fieldmap = FieldMap(
        Direction.MC_TO_PD,
        pipedrive,
        mailchimp,
        [
            FieldPair("email", "EMAIL"),
            FieldPair("name", "FNAME"),
            FieldPair("phone", "PHONE", clear_when_empty=True),
        ],
    )
    current = Person(
        id=9,
        phones=(ContactPoint(value="111", primary=True), ContactPoint(value="222")),
    )
    mapped = map_member_to_person_input(member(FNAME="G", PHONE=""), fieldmap, current=current)
    assert mapped.input.phones == (ContactPoint(value="222"),)
    assert mapped.values["phone"] is None
    assert mapped.input.name == "G"


def test_a_new_email_address_becomes_primary_and_the_old_one_stays(inbound) -> None:
    """An email change from Mailchimp makes the new address primary; nothing is deleted."""
    current = Person(id=9, emails=(ContactPoint(value="old@example.com", primary=True),))
    mapped = map_member_to_person_input(member(FNAME="G"), inbound, current=current)
    assert mapped.input.emails == (
        ContactPoint(value="grace@example.com", primary=True),
        ContactPoint(value="old@example.com", primary=False),
    )


def test_member_errors_are_reported_per_field(inbound) -> None:
    """A bad member value becomes an error naming the member; the rest still maps."""
    mapped = map_member_to_person_input(member(FNAME="Grace", SCORE="1,5"), inbound)
    assert [(e.field, e.contact) for e in mapped.errors] == [
        ("mailchimp:SCORE", f"member {MEMBER_ID}")
    ]
    assert mapped.input.name == "Grace"
    assert mapped.input.custom_fields is UNSET
