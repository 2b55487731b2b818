"""Merge fields: every type's value rules, required fields, the error format, field CRUD."""

from __future__ import annotations

from typing import Any

import pytest

from pdmc.clients.mailchimp import MemberUpsert
from pdmc.errors import InvalidMergeFieldsError

ADDRESS = {"addr1": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"}
FIELDS: dict[str, dict[str, Any]] = {
    "NOTE": {"type": "text"},
    "SCORE": {"type": "number"},
    "HOME": {"type": "address"},
    "USPHONE": {"type": "phone", "options": {"phone_format": "US"}},
    "ANYPHONE": {"type": "phone"},
    "USDATE": {"type": "date", "options": {"date_format": "MM/DD/YYYY"}},
    "EUDATE": {"type": "date", "options": {"date_format": "DD/MM/YYYY"}},
    "SITE": {"type": "url"},
    "AVATAR": {"type": "imageurl"},
    "PLAN": {"type": "radio", "options": {"choices": ["Free", "Pro"]}},
    "REGION": {"type": "dropdown", "options": {"choices": ["EMEA", "APAC"]}},
    "BDAY": {"type": "birthday"},
    "EUBDAY": {"type": "birthday", "options": {"date_format": "DD/MM"}},
    "ZIPCODE": {"type": "zip"},
}


@pytest.fixture
def fields(mailchimp, list_id):
    for tag, spec in FIELDS.items():
        mailchimp.add_merge_field(list_id, tag=tag, name=tag.title(), **spec)
    return FIELDS


def put(http, list_id, *, email="ada@lovelace.dev", merge_fields=None, **params):
    body = {"email_address": email, "status_if_new": "subscribed", "merge_fields": merge_fields}
    return http.put(f"/lists/{list_id}/members/{email}", json=body, params=params)


@pytest.mark.parametrize(
    ("tag", "sent", "stored"),
    [
        ("NOTE", "plain text", "plain text"),
        ("NOTE", 12, "12"),
        ("SCORE", 42, 42),
        ("SCORE", "3.5", 3.5),
        ("HOME", ADDRESS, {**ADDRESS, "addr2": "", "country": "US"}),
        ("USPHONE", "(555) 123-4567", "(555) 123-4567"),
        ("ANYPHONE", "+44 20 7946 0958", "+44 20 7946 0958"),
        ("USDATE", "01/31/2026", "2026-01-31"),
        ("USDATE", "2026-01-31", "2026-01-31"),
        ("EUDATE", "31/01/2026", "2026-01-31"),
        ("EUDATE", "31-01-2026", "2026-01-31"),
        ("SITE", "https://pdmc.dev/docs", "https://pdmc.dev/docs"),
        ("AVATAR", "https://cdn.pdmc.dev/ada.png", "https://cdn.pdmc.dev/ada.png"),
        ("PLAN", "Pro", "Pro"),
        ("REGION", "APAC", "APAC"),
        ("BDAY", "02/29", "02/29"),
        ("BDAY", "1/5", "01/05"),
        ("EUBDAY", "31/12", "31/12"),
        ("ZIPCODE", "02134", "02134"),
    ],
)
@pytest.mark.usefixtures("fields")
def test_each_type_takes_its_documented_values(http, list_id, tag, sent, stored):
    """A valid value of each merge field type is stored (and normalized) as the API shows it."""
    response = put(http, list_id, merge_fields={tag: sent})
    assert response.status_code == 200, response.json()
    assert response.json()["merge_fields"][tag] == stored


@pytest.mark.parametrize(
    ("tag", "sent"),
    [
        ("NOTE", {"nested": "object"}),
        ("SCORE", "forty-two"),
        ("SCORE", True),
        ("HOME", {"addr1": "1 Main St", "state": "IL", "zip": "62701"}),
        ("HOME", "1 Main St, Springfield"),
        ("USPHONE", "+44 20 7946 0958"),
        ("ANYPHONE", "call me maybe"),
        ("USDATE", "31/01/2026"),
        ("EUDATE", "2026-02-30"),
        ("SITE", "pdmc.dev"),
        ("AVATAR", "not a url"),
        ("PLAN", "Enterprise"),
        ("REGION", "emea"),
        ("BDAY", "13/01"),
        ("EUBDAY", "12/31"),
        ("ZIPCODE", "2134"),
    ],
)
@pytest.mark.usefixtures("fields")
def test_each_type_refuses_values_it_cannot_hold(http, list_id, tag, sent):
    """A bad value is refused with "Your merge fields were invalid." naming the field."""
    response = put(http, list_id, merge_fields={tag: sent})
    body = response.json()
    assert (response.status_code, body["detail"]) == (400, "Your merge fields were invalid.")
    assert [error["field"] for error in body["errors"]] == [tag]
    assert body["errors"][0]["message"]


def test_text_is_cut_at_255_bytes_without_splitting_a_character(fields, http, list_id):
    """Text longer than 255 bytes is truncated at a character boundary, not refused."""
    response = put(http, list_id, merge_fields={"NOTE": "é" * 200})  # 400 bytes
    stored = response.json()["merge_fields"]["NOTE"]
    assert stored == "é" * 127
    assert len(stored.encode()) == 254


def test_every_bad_field_is_reported_at_once(fields, client, list_id):
    """The client gets one InvalidMergeFieldsError carrying each bad field and its message."""
    upsert = MemberUpsert(
        email_address="ada@lovelace.dev",
        status_if_new="subscribed",
        merge_fields={"SCORE": "many", "ZIPCODE": "1", "PLAN": "Free"},
    )
    with pytest.raises(InvalidMergeFieldsError) as refused:
        client.upsert_member(list_id, upsert)
    assert sorted(field for field, _ in refused.value.field_errors) == ["SCORE", "ZIPCODE"]


def test_required_fields_are_enforced_unless_validation_is_skipped(mailchimp, http, list_id):
    """A new member without a required field is refused, unless skip_merge_validation=true."""
    mailchimp.add_merge_field(list_id, tag="COMPANY", name="Company", type="text", required=True)
    refused = put(http, list_id, merge_fields={"FNAME": "Ada"})
    assert refused.json()["errors"] == [{"field": "COMPANY", "message": "Please enter a value"}]
    skipped = put(http, list_id, merge_fields={"FNAME": "Ada"}, skip_merge_validation="true")
    assert skipped.status_code == 200
    # An update that does not touch the required field is not held to it...
    assert put(http, list_id, merge_fields={"LNAME": "Lovelace"}).status_code == 200
    # ...but clearing it is refused.
    assert put(http, list_id, merge_fields={"COMPANY": ""}).status_code == 400


def test_skipping_validation_still_checks_formats(fields, http, list_id):
    """skip_merge_validation lifts required fields only; a malformed value is still refused."""
    response = put(http, list_id, merge_fields={"ZIPCODE": "x"}, skip_merge_validation="true")
    assert response.status_code == 400


def test_empty_string_clears_and_unknown_tags_are_ignored(fields, http, list_id):
    """ "" clears a value; a tag the audience does not have is ignored, as Mailchimp does."""
    put(http, list_id, merge_fields={"SCORE": 7, "fname": "Ada"})
    cleared = put(http, list_id, merge_fields={"SCORE": "", "NOSUCHTAG": "x"}).json()
    assert (cleared["merge_fields"]["SCORE"], cleared["merge_fields"]["FNAME"]) == ("", "Ada")
    assert "NOSUCHTAG" not in cleared["merge_fields"]


def test_merge_fields_are_created_read_changed_and_deleted(http, list_id):
    """POST gives the next merge_id (and MMERGE<n> without a tag); PATCH renames with the
    values; DELETE drops them."""
    base = f"/lists/{list_id}/merge-fields"
    created = http.post(base, json={"name": "Favourite colour", "type": "dropdown",
                                    "options": {"choices": ["Red", "Blue"]}}).json()  # fmt: skip
    assert (created["merge_id"], created["tag"]) == (5, "MMERGE5")
    assert created["options"]["choices"] == ["Red", "Blue"]
    put(http, list_id, merge_fields={"MMERGE5": "Blue"})
    renamed = http.patch(f"{base}/5", json={"name": "Colour", "tag": "COLOUR"}).json()
    assert renamed["tag"] == "COLOUR"
    member = http.get(f"/lists/{list_id}/members/ada@lovelace.dev").json()
    assert member["merge_fields"]["COLOUR"] == "Blue"
    listed = http.get(base, params={"type": "dropdown"}).json()
    assert [f["tag"] for f in listed["merge_fields"]] == ["COLOUR"]
    assert http.get(f"{base}/5").json()["name"] == "Colour"
    assert http.delete(f"{base}/5").status_code == 204
    member = http.get(f"/lists/{list_id}/members/ada@lovelace.dev").json()
    assert "COLOUR" not in member["merge_fields"]
    assert http.get(f"{base}/5").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Bad", "type": "text", "tag": "LOWER CASE"}, "tag"),
        ({"name": "Dup", "type": "text", "tag": "FNAME"}, "tag"),
        ({"name": "Odd", "type": "colour"}, "type"),
        ({"name": "Date", "type": "date", "options": {"date_format": "YYYY.MM.DD"}}, "options"),
    ],
)
def test_bad_merge_field_definitions_are_refused(http, list_id, body, field):
    """A bad tag, a taken tag, an unknown type or a bad option is a 400 naming the field."""
    response = http.post(f"/lists/{list_id}/merge-fields", json=body)
    assert (response.status_code, response.json()["errors"][0]["field"]) == (400, field)
