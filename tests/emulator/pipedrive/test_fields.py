"""Person fields: standard ones, custom ones of every type, options, subfields, values."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pdmc.emulator.pipedrive._fields import ALL_FIELD_TYPES, CREATABLE_TYPES
from pdmc.errors import ConfigurationError
from tests.emulator.pipedrive.conftest import Rig

STANDARD = {
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "org_id",
    "owner_id",
    "label_ids",
    "visible_to",
    "marketing_status",
    "add_time",
    "update_time",
    "picture_id",
    "postal_address",
    "birthday",
    "job_title",
    "notes",
    "im",
}


def _fields(http: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = http.get("/api/v2/personFields", params=params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_standard_fields_exist_from_the_start(http: httpx.Client) -> None:
    """A new company lists Pipedrive's built-in person fields, none of them custom."""
    fields = _fields(http)
    assert {field["field_code"] for field in fields} == STANDARD
    assert not any(field["is_custom_field"] for field in fields)
    marketing = next(f for f in fields if f["field_code"] == "marketing_status")
    assert [o["id"] for o in marketing["options"]] == [
        "no_consent",
        "unsubscribed",
        "subscribed",
        "archived",
    ]
    assert marketing["is_optional_response_field"] is True


def test_include_fields_adds_the_optional_objects(http: httpx.Client) -> None:
    """ui_visibility, important_fields and required_fields appear only when asked for."""
    plain = _fields(http)[0]
    assert not {"ui_visibility", "important_fields", "required_fields"} & set(plain)
    name = _fields(http, include_fields="required_fields")[0]
    assert name["required_fields"] == {"enabled": True}
    refused = http.get("/api/v2/personFields", params={"include_fields": "colour"})
    assert refused.status_code == 400


@pytest.mark.parametrize("field_type", sorted(CREATABLE_TYPES))
def test_every_creatable_type_can_be_added_through_the_api(
    http: httpx.Client, field_type: str
) -> None:
    """addPersonField takes each documented type and answers a 40-character key."""
    body: dict[str, Any] = {"field_name": f"My {field_type}", "field_type": field_type}
    if field_type in {"enum", "set"}:
        body["options"] = [{"label": "One"}, {"label": "Two"}]
    created = http.post("/api/v2/personFields", json=body).json()["data"]
    code = created["field_code"]
    assert len(code) == 40
    assert all(c in "0123456789abcdef" for c in code)
    assert created["is_custom_field"] is True
    fetched = http.get(f"/api/v2/personFields/{code}").json()["data"]
    assert fetched["field_type"] == field_type
    if field_type in {"enum", "set"}:
        assert [o["label"] for o in fetched["options"]] == ["One", "Two"]
        assert all(isinstance(o["id"], int) for o in fetched["options"])
    else:
        assert fetched["options"] is None


def test_address_and_monetary_fields_list_their_subfields(http: httpx.Client, rig: Rig) -> None:
    """Address fields have their components as subfields, monetary ones the currency."""
    address = rig.pipedrive.add_person_field("Office", "address")
    money = rig.pipedrive.add_person_field("Budget", "monetary")
    plain = rig.pipedrive.add_person_field("Nick", "varchar")
    by_code = {f["field_code"]: f for f in _fields(http)}
    assert f"{address}_locality" in {s["field_code"] for s in by_code[address]["subfields"]}
    assert by_code[money]["subfields"] == [
        {
            "field_code": f"{money}_currency",
            "field_name": "Currency of Budget",
            "field_type": "varchar",
        }
    ]
    assert by_code[plain]["subfields"] is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"field_name": "X", "field_type": "int"}, "field_type must be one of"),
        ({"field_name": "X", "field_type": "enum"}, "needs at least one option"),
        ({"field_name": "X", "field_type": "varchar", "options": [{"label": "a"}]}, "no options"),
        ({"field_name": " ", "field_type": "varchar"}, "must not be empty"),
        ({"field_type": "varchar"}, "field_name is required"),
        ({"field_name": "X", "field_type": "set", "options": ["a"]}, "objects with a label"),
    ],
)
def test_bad_field_definitions_are_refused(
    http: httpx.Client, body: dict[str, Any], reason: str
) -> None:
    """addPersonField refuses what Pipedrive refuses, naming the reason."""
    response = http.post("/api/v2/personFields", json=body)
    assert response.status_code == 400
    assert reason in response.json()["error"]


def test_every_listed_type_can_be_seeded_directly(rig: Rig) -> None:
    """The direct API adds fields of all 35 listed types, read-only ones included."""
    for field_type in sorted(ALL_FIELD_TYPES):
        options = ["A"] if field_type in {"enum", "set"} else None
        rig.pipedrive.add_person_field(field_type, field_type, options=options)
    with pytest.raises(ConfigurationError, match="'colour' is not a person field type"):
        rig.pipedrive.add_person_field("x", "colour")
    assert len(ALL_FIELD_TYPES) == 35


def test_an_unknown_field_is_a_404(http: httpx.Client) -> None:
    """getPersonField of a key nobody made answers 404 in Pipedrive's format."""
    response = http.get("/api/v2/personFields/deadbeef")
    assert response.status_code == 404
    assert response.json()["error"] == "Field not found"


def test_field_pages_follow_the_cursor(http: httpx.Client) -> None:
    """The field list pages with limit and next_cursor like every v2 list."""
    first = http.get("/api/v2/personFields", params={"limit": 10}).json()
    cursor = first["additional_data"]["next_cursor"]
    rest = http.get("/api/v2/personFields", params={"limit": 10, "cursor": cursor}).json()
    codes = [f["field_code"] for page in (first, rest) for f in page["data"]]
    assert sorted(codes) == sorted(STANDARD)
    assert rest["additional_data"]["next_cursor"] is None


VALUES: list[tuple[str, Any, Any]] = [
    # type, accepted value (as stored and read back), a refused value
    ("varchar", "hello", 5),
    ("varchar_auto", "auto", "x" * 256),
    ("text", "long " * 100, ["x"]),
    ("phone", "+372 555", 372),
    ("double", 2.5, "2.5"),
    ("int", 3, 3.5),
    ("boolean", True, "true"),
    ("date", "2024-02-29", "2023-02-29"),
    ("time", "09:30:00", "25:00:00"),
    (
        "daterange",
        {"start": "2024-01-01", "end": "2024-01-31"},
        {"start": "2024-02-01", "end": "2024-01-01"},
    ),
    ("timerange", {"start": "09:00:00", "end": "17:00:00"}, {"start": "09:00"}),
    ("monetary", {"value": 100, "currency": "EUR"}, {"value": 100}),
    ("address", {"value": "1 Main St", "locality": "Tartu"}, {"locality": "Tartu"}),
    ("org", 12, 0),
    ("json", {"any": ["thing"]}, None),
]


@pytest.mark.parametrize(("field_type", "good", "bad"), VALUES)
def test_custom_values_are_checked_by_type(
    http: httpx.Client, rig: Rig, field_type: str, good: Any, bad: Any
) -> None:
    """A value that fits the field's type is stored as sent; one that does not is a 400."""
    code = rig.pipedrive.add_person_field(field_type, field_type)
    person = http.post("/api/v2/persons", json={"name": "V", "custom_fields": {code: good}})
    assert person.json()["data"]["custom_fields"][code] == good
    if bad is not None:
        refused = http.patch(
            f"/api/v2/persons/{person.json()['data']['id']}", json={"custom_fields": {code: bad}}
        )
        assert refused.status_code == 400
        assert f"custom_fields.{code}" in refused.json()["error"]


def test_option_fields_take_option_ids_and_null_clears(http: httpx.Client, rig: Rig) -> None:
    """enum takes one option id, set a non-empty list of them; [] is refused, null clears."""
    tier = rig.pipedrive.add_person_field("Tier", "enum", options=["Gold", "Silver"])
    tags = rig.pipedrive.add_person_field("Tags", "set", options=["A", "B"])
    ids = rig.pipedrive.person_field_options(tier)
    tag_ids = list(rig.pipedrive.person_field_options(tags).values())
    person = http.post(
        "/api/v2/persons",
        json={"name": "O", "custom_fields": {tier: ids["Gold"], tags: tag_ids}},
    ).json()["data"]
    url = f"/api/v2/persons/{person['id']}"
    assert http.patch(url, json={"custom_fields": {tags: []}}).status_code == 400
    assert http.patch(url, json={"custom_fields": {tier: 999}}).status_code == 400
    assert (
        http.patch(url, json={"custom_fields": {tags: [tag_ids[0], tag_ids[0]]}}).status_code == 400
    )
    cleared = http.patch(url, json={"custom_fields": {tags: None, tier: None}}).json()["data"]
    assert cleared["custom_fields"] == {tier: None, tags: None}


def test_person_and_user_references_must_exist(http: httpx.Client, rig: Rig) -> None:
    """people and user fields take ids of existing persons and users only."""
    buddy = rig.pipedrive.add_person_field("Buddy", "people")
    manager = rig.pipedrive.add_person_field("Manager", "user")
    other = rig.pipedrive.add_person(name="Other")
    user = rig.pipedrive.default_company.user_id
    ok = http.post(
        "/api/v2/persons", json={"name": "R", "custom_fields": {buddy: other, manager: user}}
    )
    assert ok.status_code == 200
    bad = http.post("/api/v2/persons", json={"name": "R", "custom_fields": {buddy: 999}})
    assert "no people with id 999" in bad.json()["error"]
    bad = http.post("/api/v2/persons", json={"name": "R", "custom_fields": {manager: 1}})
    assert "no user with id 1" in bad.json()["error"]
