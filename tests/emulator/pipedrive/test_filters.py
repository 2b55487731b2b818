"""Filters (v1): every operator on standard and custom fields, and/or glue, limits, CRUD."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pdmc.clients.pipedrive.models import FilterCondition, FilterConditionGroup, FilterConditions
from tests.emulator.pipedrive.conftest import Rig


class People:
    """Three persons to filter: Alice, Bob and Carol, with custom fields."""

    def __init__(self, rig: Rig) -> None:
        pipedrive = rig.pipedrive
        self.score = pipedrive.add_person_field("Score", "double")
        self.tier = pipedrive.add_person_field("Tier", "enum", options=["Gold", "Silver"])
        self.tags = pipedrive.add_person_field("Tags", "set", options=["A", "B"])
        self.tier_ids = pipedrive.person_field_options(self.tier)
        tag = pipedrive.person_field_options(self.tags)
        self.alice = pipedrive.add_person(
            name="Alice Smith",
            emails=["alice@example.com"],
            birthday="1990-01-01",
            label_ids=[1],
            custom_fields={self.score: 10, self.tier: self.tier_ids["Gold"], self.tags: [tag["A"]]},
        )
        self.bob = pipedrive.add_person(
            name="Bob Jones",
            emails=["bob@test.org"],
            birthday="1985-06-15",
            custom_fields={
                self.score: 50,
                self.tier: self.tier_ids["Silver"],
                self.tags: [tag["A"], tag["B"]],
            },
        )
        self.carol = pipedrive.add_person(name="Carol Smith")
        self.tag_ids = tag


def _condition(field_id: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {
        "object": "person",
        "field_id": field_id,
        "operator": operator,
        "value": value,
        "extra_value": None,
    }


def _tree(
    all_of: list[dict[str, Any]], any_of: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "glue": "and",
        "conditions": [
            {"glue": "and", "conditions": all_of},
            {"glue": "or", "conditions": any_of or []},
        ],
    }


def _matches(http: httpx.Client, conditions: dict[str, Any]) -> list[int]:
    created = http.post(
        "/v1/filters", json={"name": "f", "type": "people", "conditions": conditions}
    )
    assert created.status_code == 200, created.text
    listed = http.get("/api/v2/persons", params={"filter_id": created.json()["data"]["id"]})
    return [person["id"] for person in listed.json()["data"]]


OPERATOR_CASES = [
    # operator, standard (field, value, names), custom Score (value, names)
    ("=", ("name", "alice smith", "A"), (10, "A")),
    ("!=", ("name", "Alice Smith", "BC"), (10, "BC")),
    ("<", ("name", "Bob", "A"), (20, "A")),
    (">", ("name", "Bob Jones", "C"), (20, "B")),
    ("<=", ("name", "bob jones", "AB"), (50, "AB")),
    (">=", ("name", "bob jones", "BC"), (10, "AB")),
    ("IS NULL", ("email", None, "C"), (None, "C")),
    ("IS NOT NULL", ("email", None, "AB"), (None, "AB")),
    ("LIKE '$%'", ("name", "al", "A"), ("5", "B")),
    ("LIKE '%$%'", ("name", "SMITH", "AC"), ("0", "AB")),
    ("NOT LIKE '$%'", ("name", "al", "BC"), ("1", "BC")),
]


def _who(people: People, letters: str) -> list[int]:
    by_letter = {"A": people.alice, "B": people.bob, "C": people.carol}
    return [by_letter[letter] for letter in letters]


@pytest.mark.parametrize(("operator", "standard", "custom"), OPERATOR_CASES)
def test_each_operator_on_a_standard_field(
    http: httpx.Client, rig: Rig, operator: str, standard: tuple[str, Any, str], custom: Any
) -> None:
    """Every operator the contract lists works on a standard person field."""
    del custom
    people = People(rig)
    field, value, expected = standard
    assert _matches(http, _tree([_condition(field, operator, value)])) == _who(people, expected)


@pytest.mark.parametrize(("operator", "standard", "custom"), OPERATOR_CASES)
def test_each_operator_on_a_custom_field(
    http: httpx.Client, rig: Rig, operator: str, standard: Any, custom: tuple[Any, str]
) -> None:
    """Every operator works on a custom number field, named by its numeric id."""
    del standard
    people = People(rig)
    value, expected = custom
    field_id = str(rig.pipedrive.person_field_id(people.score))
    assert _matches(http, _tree([_condition(field_id, operator, value)])) == _who(people, expected)


def test_and_or_glue_combine(http: httpx.Client, rig: Rig) -> None:
    """The and group needs all its conditions, the or group any, and both groups must hold."""
    people = People(rig)
    tier = people.tier
    gold, silver = str(people.tier_ids["Gold"]), str(people.tier_ids["Silver"])
    either = [_condition(tier, "=", gold), _condition("name", "=", "carol smith")]
    assert _matches(http, _tree([], either)) == [people.alice, people.carol]
    assert _matches(http, _tree([_condition("email", "IS NOT NULL")], either)) == [people.alice]
    both = [_condition("email", "IS NOT NULL"), _condition(tier, "=", silver)]
    assert _matches(http, _tree(both)) == [people.bob]
    assert _matches(http, _tree([], [])) == [people.alice, people.bob, people.carol]


def test_option_label_date_and_owner_fields_filter(http: httpx.Client, rig: Rig) -> None:
    """Sets match by contained option, labels by id, dates by day, owners by user id."""
    people = People(rig)
    b = str(people.tag_ids["B"])
    owner = str(rig.pipedrive.default_company.user_id)
    assert _matches(http, _tree([_condition(people.tags, "=", b)])) == [people.bob]
    assert _matches(http, _tree([_condition(people.tags, "!=", b)])) == [people.alice, people.carol]
    assert _matches(http, _tree([_condition("label_ids", "=", 1)])) == [people.alice]
    assert _matches(http, _tree([_condition("birthday", "<", "1989-01-01")])) == [people.bob]
    assert _matches(http, _tree([_condition("owner_id", "=", owner)])) == _who(people, "ABC")
    today = rig.clock.now().date().isoformat()
    assert _matches(http, _tree([_condition("add_time", "=", today)])) == _who(people, "ABC")
    assert _matches(http, _tree([_condition("marketing_status", "=", "no_consent")])) == _who(
        people, "ABC"
    )


def test_filters_follow_later_changes(http: httpx.Client, rig: Rig) -> None:
    """A saved filter is evaluated at read time, so a changed person enters or leaves it."""
    people = People(rig)
    conditions = _tree([_condition("name", "LIKE '%$%'", "smith")])
    created = http.post(
        "/v1/filters", json={"name": "f", "type": "people", "conditions": conditions}
    )
    filter_id = created.json()["data"]["id"]
    rig.pipedrive.update_person(people.bob, {"name": "Bob Smith"})
    rig.pipedrive.update_person(people.carol, {"name": "Carol Jones"})
    listed = http.get("/api/v2/persons", params={"filter_id": filter_id}).json()["data"]
    assert [p["id"] for p in listed] == [people.alice, people.bob]


def _refusal(http: httpx.Client, conditions: Any, kind: str = "people") -> str:
    response = http.post("/v1/filters", json={"name": "f", "type": kind, "conditions": conditions})
    assert response.status_code == 400, response.text
    message: str = response.json()["error"]
    return message


@pytest.mark.parametrize(
    ("conditions", "reason"),
    [
        ({"glue": "or", "conditions": []}, "must be 'and'"),
        ({"glue": "and", "conditions": [{"glue": "and", "conditions": []}] * 3}, "two groups"),
        ({"glue": "and", "conditions": [{"glue": "xor", "conditions": []}]}, "'and' or 'or'"),
        (_tree([_condition("colour", "=", "red")]), "'colour' is not a person field"),
        (_tree([_condition("name", "~", "x")]), "operator '~' is not one of"),
        (_tree([{**_condition("name", "=", "x"), "object": "deal"}]), "object must be one of"),
        (_tree([_condition("name", "=")]), "value is required with operator ="),
        (_tree([{**_condition("add_time", "=", None), "extra_value": "last_week"}]), "extra_value"),
        (_tree([_condition("birthday", "=", "01/02/1990")]), "must be a date as YYYY-MM-DD"),
        (_tree([_condition("name", "=", "x")] * 9, [_condition("name", "=", "y")] * 8), "16"),
        ("name = x", "conditions must be an object"),
    ],
)
def test_bad_condition_trees_are_refused(http: httpx.Client, conditions: Any, reason: str) -> None:
    """addFilter checks the tree and names the group or condition at fault."""
    assert reason in _refusal(http, conditions)


def test_sixteen_conditions_are_allowed(http: httpx.Client) -> None:
    """Exactly 16 conditions is within the limit."""
    tree = _tree([_condition("name", "!=", "x")] * 8, [_condition("name", "!=", "y")] * 8)
    assert _matches(http, tree) == []


def test_filters_of_other_types_store_only_empty_trees(http: httpx.Client) -> None:
    """Organisation and other filters are kept, but their conditions are not emulated."""
    created = http.post("/v1/filters", json={"name": "o", "type": "org", "conditions": _tree([])})
    assert created.status_code == 200
    assert "not emulated" in _refusal(http, _tree([_condition("name", "=", "x")]), kind="org")


def test_filter_crud_through_pdmc_client(rig: Rig) -> None:
    """pdmc's client creates, reads with field codes, lists, renames and deletes a filter."""
    People(rig)
    conditions = FilterConditions(
        glue="and",
        conditions=(
            FilterConditionGroup(
                glue="and",
                conditions=(
                    FilterCondition(
                        object="person", field_id="name", operator="=", value="Alice Smith"
                    ),
                ),
            ),
            FilterConditionGroup(glue="or"),
        ),
    )
    with rig.client() as client:
        created = client.create_filter("Alices", conditions)
        fetched = client.get_filter(created.id)
        assert fetched.conditions is not None
        condition = fetched.conditions.conditions[0].conditions[0]
        assert (condition.field_code, condition.field_id) == (
            "name",
            str(rig.pipedrive.person_field_id("name")),
        )
        assert [f.name for f in client.list_filters()] == ["Alices"]
        assert client.list_filters(type="deals") == []
        renamed = client.update_filter(created.id, name="Only Alice", conditions=conditions)
        assert renamed.name == "Only Alice"
        assert [p.name for p in client.list_persons(filter_id=created.id)] == ["Alice Smith"]
        client.delete_filter(created.id)
        assert client.list_filters() == []


def test_listing_without_conditions_and_missing_filters(http: httpx.Client, rig: Rig) -> None:
    """getFilters leaves conditions out; an unknown filter is a 404, a bad filter_id a 400."""
    filter_id = rig.pipedrive.add_filter("All", _tree([]))
    listed = http.get("/v1/filters", params={"type": "people"}).json()["data"]
    assert "conditions" not in listed[0]
    assert http.get("/v1/filters/999").status_code == 404
    assert http.put("/v1/filters/999", json={"conditions": _tree([])}).status_code == 404
    assert http.put(f"/v1/filters/{filter_id}", json={"name": "x"}).status_code == 400
    assert http.delete(f"/v1/filters/{filter_id}").json() == {
        "success": True,
        "data": {"id": filter_id},
    }
    assert http.get("/api/v2/persons", params={"filter_id": filter_id}).status_code == 400
    assert http.get("/v1/filters", params={"type": "nonsense"}).status_code == 400


def test_deal_filters_combine_deal_and_person_fields(http: httpx.Client, rig: Rig) -> None:
    """A deals filter compares deal fields and the fields of the deal's person."""
    people = People(rig)
    big = rig.pipedrive.add_deal(title="Big", person_id=people.alice, stage_id=2, value=5000)
    rig.pipedrive.add_deal(title="Small", person_id=people.bob, stage_id=2, value=50)
    rig.pipedrive.add_deal(title="Other", person_id=people.carol, stage_id=1, value=9000)
    conditions = _tree(
        [
            {**_condition("stage_id", "=", 2), "object": "deal"},
            {**_condition("value", ">", 100), "object": "deal"},
        ],
        [_condition("name", "LIKE '%$%'", "smith")],
    )
    created = http.post(
        "/v1/filters", json={"name": "d", "type": "deals", "conditions": conditions}
    )
    filter_id = created.json()["data"]["id"]
    deals = http.get("/api/v2/deals", params={"filter_id": filter_id}).json()["data"]
    assert [deal["id"] for deal in deals] == [big]
    people_filter = rig.pipedrive.add_filter("p", _tree([]))
    assert http.get("/api/v2/deals", params={"filter_id": people_filter}).status_code == 400
