"""Catalogs and contacts shaped like what the clients return, shared by the mapping tests."""

from __future__ import annotations

import pytest

from pdmc.clients.mailchimp.models import MergeField, MergeFieldOptions
from pdmc.clients.pipedrive.models import (
    ContactPoint,
    FieldOption,
    FieldSubfield,
    Person,
    PersonField,
    PostalAddress,
)
from pdmc.mapping import FieldCatalog

SCORE = "a" * 40
SOURCE = "b" * 40
COMPANY = "c" * 40
CONTRACT = "d" * 40
BUDGET = "e" * 40
TOPICS = "f" * 40
OFFICE = "0" * 40
BIO = "1" * 40

_ADDRESS_PARTS = (
    "value", "street_number", "route", "subpremise", "locality", "admin_area_level_1",
    "admin_area_level_2", "country", "postal_code",
)  # fmt: skip


def _standard(code: str, name: str, field_type: str, **extra: object) -> PersonField:
    return PersonField(field_code=code, field_name=name, field_type=field_type, **extra)


def _custom(code: str, name: str, field_type: str, **extra: object) -> PersonField:
    return PersonField(
        field_code=code, field_name=name, field_type=field_type, is_custom_field=True, **extra
    )


def person_fields() -> list[PersonField]:
    """Standard and custom person fields as Pipedrive v2 reports them."""
    address_parts = tuple(FieldSubfield(field_code=p, field_name=p) for p in _ADDRESS_PARTS)
    sources = (FieldOption(id=1, label="Inbound"), FieldOption(id=2, label="Outbound"))
    topics = (FieldOption(id=7, label="Sales"), FieldOption(id=8, label="Support"))
    return [
        _standard("name", "Name", "varchar", required=True),
        _standard("first_name", "First name", "varchar"),
        _standard("last_name", "Last name", "varchar"),
        _standard("emails", "Email", "varchar"),
        _standard("phones", "Phone", "phone"),
        _standard("org_id", "Organization", "org"),
        _standard("owner_id", "Owner", "user"),
        _standard("label_ids", "Labels", "set"),
        _standard("postal_address", "Postal address", "address", subfields=address_parts),
        _standard("birthday", "Birthday", "date"),
        _standard("job_title", "Job title", "varchar"),
        _standard("notes", "Notes", "text"),
        _standard("marketing_status", "Marketing status", "enum"),
        _standard("add_time", "Person created", "date"),
        _custom(SCORE, "Score", "double"),
        _custom(SOURCE, "Lead source", "enum", options=sources),
        _custom(TOPICS, "Topics", "set", options=topics),
        _custom(COMPANY, "Company", "varchar"),
        _custom(CONTRACT, "Contract date", "date"),
        _custom(BUDGET, "Budget", "monetary"),
        _custom(OFFICE, "Office", "address", subfields=address_parts),
        _custom(BIO, "Biography", "text"),
    ]


def _merge(number: int, tag: str, name: str, field_type: str, **options: object) -> MergeField:
    return MergeField(
        merge_id=number,
        tag=tag,
        name=name,
        type=field_type,
        options=MergeFieldOptions(**options),
    )


def merge_fields() -> list[MergeField]:
    """An audience's merge fields, one of each type, as Mailchimp reports them."""
    return [
        _merge(1, "FNAME", "First Name", "text"),
        _merge(2, "LNAME", "Last Name", "text"),
        _merge(3, "ADDRESS", "Address", "address"),
        _merge(4, "PHONE", "Phone Number", "phone", phone_format="International"),
        _merge(5, "BIRTHDAY", "Birthday", "birthday", date_format="MM/DD"),
        _merge(6, "SIGNUP", "Signup date", "date", date_format="DD/MM/YYYY"),
        _merge(7, "SCORE", "Score", "number"),
        _merge(8, "WEBSITE", "Website", "url"),
        _merge(9, "AVATAR", "Avatar", "imageurl"),
        _merge(10, "PLAN", "Plan", "radio", choices=("Free", "Pro")),
        _merge(11, "REGION", "Region", "dropdown", choices=("EU", "US")),
        _merge(12, "ZIPCODE", "Zip", "zip"),
        _merge(13, "COMPANY", "Company", "text"),
        _merge(14, "SOURCE", "Lead source", "text"),
        _merge(15, "JOBTITLE", "Job title", "text"),
    ]


@pytest.fixture
def pipedrive() -> FieldCatalog:
    """The Pipedrive catalog built from :func:`person_fields`."""
    return FieldCatalog.for_pipedrive(person_fields())


@pytest.fixture
def mailchimp() -> FieldCatalog:
    """The Mailchimp catalog built from :func:`merge_fields`."""
    return FieldCatalog.for_mailchimp(merge_fields())


@pytest.fixture
def ada() -> Person:
    """A person with a value in most mapped fields."""
    return Person(
        id=7,
        first_name="Ada",
        last_name="Lovelace",
        emails=(
            ContactPoint(value="old@example.com"),
            ContactPoint(value="Ada@Example.com", primary=True),
        ),
        phones=(ContactPoint(value="+44 20 7946 0000", primary=True),),
        birthday="1815-12-10",
        job_title="Analyst",
        postal_address=PostalAddress(
            street_number="12",
            route="St James's Square",
            locality="London",
            admin_area_level_1="England",
            postal_code="SW1Y 4JH",
            country="United Kingdom",
        ),
        custom_fields={
            SCORE: 12.5,
            SOURCE: 2,
            TOPICS: [7, 8],
            COMPANY: "Analytical Engines Ltd",
            CONTRACT: "2024-02-29",
            BUDGET: {"value": 1500.25, "currency": "GBP"},
        },
    )
