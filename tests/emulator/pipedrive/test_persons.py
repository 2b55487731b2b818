"""Persons on v2: wire shape, writes, update_time, listing, cursors, search, merge."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.contracts import documented_example
from tests.emulator.pipedrive.conftest import Rig

FULL_PERSON: dict[str, Any] = {
    "name": "Jane Doe",
    "emails": [
        {"value": "jane@example.com", "primary": True, "label": "work"},
        {"value": "jane@home.example", "primary": False, "label": "home"},
    ],
    "phones": [{"value": "+3725550000", "primary": True, "label": "mobile"}],
    "im": [{"value": "janedoe", "primary": True, "label": "skype"}],
    "org_id": 7,
    "visible_to": 7,
    "label_ids": [1, 2],
    "notes": "Met at the fair",
    "birthday": "1990-04-01",
    "job_title": "CTO",
    "postal_address": {"value": "1 Main St, Tallinn", "locality": "Tallinn", "country": "EE"},
}


def _create(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post("/api/v2/persons", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def _ids(http: httpx.Client, **params: Any) -> list[int]:
    response = http.get("/api/v2/persons", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return [person["id"] for person in response.json()["data"]]


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["data"] is None
    message: str = body["error"]
    return message


def test_a_full_person_has_every_key_of_the_documented_example(http: httpx.Client) -> None:
    """A person with every field set is read back with exactly the example's keys."""
    created = _create(http, **FULL_PERSON)
    read = http.get(f"/api/v2/persons/{created['id']}").json()["data"]
    assert set(read) == set(documented_example("getPerson")["data"])
    assert read["emails"] == FULL_PERSON["emails"]
    assert read["postal_address"] == FULL_PERSON["postal_address"]
    assert (read["first_name"], read["last_name"]) == ("Jane", "Doe")
    assert read["add_time"].endswith("Z")
    assert read["custom_fields"] == {}


def test_unset_contact_sync_fields_are_left_out(http: httpx.Client) -> None:
    """Empty notes, birthday, job title, address and IM are absent, not null."""
    created = _create(http, name="Madonna")
    assert not {"notes", "birthday", "job_title", "postal_address", "im", "last_name"} & set(
        created
    )
    assert created["first_name"] == "Madonna"
    assert created["org_id"] is None
    assert created["picture_id"] is None


def test_create_returns_the_marketing_status_and_reads_need_include_fields(
    http: httpx.Client,
) -> None:
    """Writes return marketing_status; reads only with include_fields=marketing_status."""
    created = _create(
        http, name="Ann", emails=[{"value": "ann@example.com"}], marketing_status="subscribed"
    )
    assert created["marketing_status"] == "subscribed"
    plain = http.get(f"/api/v2/persons/{created['id']}").json()["data"]
    assert "marketing_status" not in plain
    included = http.get(
        f"/api/v2/persons/{created['id']}", params={"include_fields": "marketing_status"}
    ).json()["data"]
    assert included["marketing_status"] == "subscribed"


def test_an_api_name_splits_again_and_an_app_first_name_rebuilds_the_name(
    http: httpx.Client, rig: Rig
) -> None:
    """Writing ``name`` resets first and last name to its split; an app edit rebuilds it."""
    person_id = _create(http, name="Jane Doe")["id"]
    rig.pipedrive.update_person(person_id, {"first_name": "Janet"})
    read = http.get(f"/api/v2/persons/{person_id}").json()["data"]
    assert (read["name"], read["first_name"], read["last_name"]) == ("Janet Doe", "Janet", "Doe")
    http.patch(f"/api/v2/persons/{person_id}", json={"name": "Anna Maria Schmidt"})
    read = http.get(f"/api/v2/persons/{person_id}").json()["data"]
    assert (read["first_name"], read["last_name"]) == ("Anna", "Maria Schmidt")
    rig.pipedrive.update_person(person_id, {"last_name": "Berg"})
    read = http.get(f"/api/v2/persons/{person_id}").json()["data"]
    assert (read["name"], read["first_name"], read["last_name"]) == ("Anna Berg", "Anna", "Berg")


def test_a_person_without_a_valid_email_gets_no_consent(http: httpx.Client) -> None:
    """The requested marketing status is ignored when no email looks valid."""
    created = _create(
        http, name="Bob", emails=[{"value": "not-an-email"}], marketing_status="subscribed"
    )
    assert created["marketing_status"] == "no_consent"


def test_the_api_changes_a_marketing_status_only_once(http: httpx.Client, rig: Rig) -> None:
    """A second API change of the marketing status leaves it as it is; the app may."""
    person = _create(http, name="C", emails=[{"value": "c@example.com"}])
    first = http.patch(f"/api/v2/persons/{person['id']}", json={"marketing_status": "subscribed"})
    assert first.json()["data"]["marketing_status"] == "subscribed"
    second = http.patch(
        f"/api/v2/persons/{person['id']}", json={"marketing_status": "unsubscribed"}
    )
    assert second.status_code == 200
    assert second.json()["data"]["marketing_status"] == "subscribed"
    by_app = rig.pipedrive.update_person(person["id"], {"marketing_status": "unsubscribed"})
    assert by_app["marketing_status"] == "unsubscribed"


def test_archived_is_only_reachable_from_subscribed(http: httpx.Client) -> None:
    """Archiving a person who is not subscribed leaves the status unchanged."""
    person = _create(http, name="D", emails=[{"value": "d@example.com"}])
    answer = http.patch(f"/api/v2/persons/{person['id']}", json={"marketing_status": "archived"})
    assert answer.json()["data"]["marketing_status"] == "no_consent"


def test_update_time_bumps_on_every_change_and_not_on_a_no_op(http: httpx.Client, rig: Rig) -> None:
    """A PATCH that changes something moves update_time to now; an identical one does not."""
    person = _create(http, name="E")
    rig.clock.advance(61)
    changed = http.patch(f"/api/v2/persons/{person['id']}", json={"job_title": "CEO"})
    assert changed.json()["data"]["update_time"] != person["update_time"]
    rig.clock.advance(61)
    same = http.patch(f"/api/v2/persons/{person['id']}", json={"job_title": "CEO"})
    assert same.json()["data"]["update_time"] == changed.json()["data"]["update_time"]
    assert same.json()["data"]["add_time"] == person["add_time"]


def test_patch_changes_only_the_fields_sent(http: httpx.Client) -> None:
    """Fields left out of a PATCH keep their values; null clears one."""
    person = _create(http, **FULL_PERSON)
    updated = http.patch(
        f"/api/v2/persons/{person['id']}", json={"job_title": None, "name": "Jane Roe"}
    ).json()["data"]
    assert "job_title" not in updated
    assert updated["emails"] == FULL_PERSON["emails"]
    assert updated["last_name"] == "Roe"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "name is required"),
        ({"name": "  "}, "name must not be empty"),
        ({"name": "X", "favourite_colour": "red"}, "unknown person fields: favourite_colour"),
        ({"name": "X", "emails": "x@example.com"}, "emails must be a list"),
        ({"name": "X", "emails": [{"value": "x@example.com", "label": "office"}]}, "label"),
        ({"name": "X", "emails": [{"value": 5}]}, "emails[0].value must be a string"),
        ({"name": "X", "emails": [{"value": "x@e.com", "kind": "a"}]}, "unknown keys: kind"),
        ({"name": "X", "owner_id": 1}, "owner_id: no user with id 1"),
        ({"name": "X", "visible_to": 2}, "visible_to must be one of 1, 3, 5, 7"),
        ({"name": "X", "label_ids": [99]}, "label_ids: 99 is not a person label id"),
        ({"name": "X", "birthday": "1990-02-30"}, "birthday must be a date"),
        ({"name": "X", "marketing_status": "maybe"}, "marketing_status must be one of"),
        ({"name": "X", "add_time": "yesterday"}, "add_time must be an RFC 3339 date-time"),
        ({"name": "X", "custom_fields": {"abc": 1}}, "no custom person field has this key"),
        ({"name": "X", "postal_address": {"street": "x"}}, "unknown address parts: street"),
    ],
)
def test_bad_person_bodies_are_refused_naming_the_field(
    http: httpx.Client, body: dict[str, Any], reason: str
) -> None:
    """A create with a bad value is a 400 in Pipedrive's format that names the field."""
    assert reason in _error(http.post("/api/v2/persons", json=body), 400)


def test_add_time_can_be_set_on_create_only(http: httpx.Client) -> None:
    """add_time is taken on create and refused on update."""
    person = _create(http, name="Old", add_time="2020-01-01T10:00:00Z")
    assert person["add_time"] == "2020-01-01T10:00:00Z"
    refused = http.patch(
        f"/api/v2/persons/{person['id']}", json={"add_time": "2020-01-01T10:00:00Z"}
    )
    assert "only be set when the person is created" in _error(refused, 400)


def test_contact_points_get_one_primary_and_a_default_label(http: httpx.Client) -> None:
    """The first entry marked primary wins; without one the first is primary; blanks drop."""
    person = _create(
        http,
        name="P",
        emails=[{"value": "a@example.com"}, {"value": " "}, {"value": "b@example.com"}],
        phones=[
            {"value": "1", "primary": False},
            {"value": "2", "primary": True},
            {"value": "3", "primary": True},
        ],
    )
    assert person["emails"] == [
        {"value": "a@example.com", "primary": True, "label": "work"},
        {"value": "b@example.com", "primary": False, "label": "work"},
    ]
    assert [p["primary"] for p in person["phones"]] == [False, True, False]


def test_a_missing_or_deleted_person_is_a_404(http: httpx.Client) -> None:
    """Reading, changing or deleting an unknown or deleted person answers 404."""
    person = _create(http, name="Gone")
    deleted = http.delete(f"/api/v2/persons/{person['id']}")
    assert deleted.json() == {"success": True, "data": {"id": person["id"]}}
    assert _error(http.get(f"/api/v2/persons/{person['id']}"), 404) == "Person not found"
    assert _error(http.patch(f"/api/v2/persons/{person['id']}", json={"name": "x"}), 404)
    assert _error(http.delete("/api/v2/persons/999"), 404)
    assert _error(http.get("/api/v2/persons/abc"), 400)
    assert person["id"] not in _ids(http)


def test_updated_since_is_inclusive_and_updated_until_exclusive(
    http: httpx.Client, rig: Rig
) -> None:
    """The window compares update_time: since <= update_time < until."""
    first = _create(http, name="First")
    rig.clock.advance(60)
    second = _create(http, name="Second")
    rig.clock.advance(60)
    third = _create(http, name="Third")
    since, until = second["update_time"], third["update_time"]
    assert _ids(http, updated_since=since) == [second["id"], third["id"]]
    assert _ids(http, updated_until=until) == [first["id"], second["id"]]
    assert _ids(http, updated_since=since, updated_until=until) == [second["id"]]
    assert "RFC 3339" in _error(http.get("/api/v2/persons", params={"updated_since": "x"}), 400)


def test_updated_since_follows_changes_not_creation(http: httpx.Client, rig: Rig) -> None:
    """A person changed after the mark is listed; one only created before it is not."""
    old = _create(http, name="Old")
    untouched = _create(http, name="Untouched")
    rig.clock.advance(3600)
    mark = http.patch(f"/api/v2/persons/{old['id']}", json={"notes": "x"}).json()["data"]
    assert _ids(http, updated_since=mark["update_time"]) == [old["id"]]
    assert untouched["id"] in _ids(http)


def test_updated_since_over_many_changes_takes_the_scanning_path(rig: Rig) -> None:
    """With more changes than the change log gathers, the walk by id still filters right."""
    pipedrive = rig.pipedrive
    early = [pipedrive.add_person(name=f"Early {n}", notify=False) for n in range(2100)]
    rig.clock.advance(60)
    late = [pipedrive.add_person(name=f"Late {n}", notify=False) for n in range(2100)]
    mark = pipedrive.get_person(late[0])
    assert mark is not None
    with rig.http() as http:
        seen: list[int] = []
        params: dict[str, Any] = {"updated_since": mark["update_time"], "limit": 500}
        while True:
            body = http.get("/api/v2/persons", params=params).json()
            seen += [p["id"] for p in body["data"]]
            if not body["additional_data"]["next_cursor"]:
                break
            params["cursor"] = body["additional_data"]["next_cursor"]
    assert seen == late
    assert early[-1] not in seen


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_by_update_time_orders_by_the_last_change(
    http: httpx.Client, rig: Rig, direction: str
) -> None:
    """sort_by=update_time lists persons in the order of their last change."""
    a, b, c = (_create(http, name=name)["id"] for name in "ABC")
    rig.clock.advance(10)
    http.patch(f"/api/v2/persons/{a}", json={"notes": "changed"})
    expected = [b, c, a] if direction == "asc" else [a, c, b]
    assert _ids(http, sort_by="update_time", sort_direction=direction) == expected


def test_sort_by_add_time_honours_explicit_add_times(http: httpx.Client) -> None:
    """Persons created with an earlier add_time sort before older ids."""
    late = _create(http, name="Late", add_time="2025-06-01T00:00:00Z")["id"]
    early = _create(http, name="Early", add_time="2024-06-01T00:00:00Z")["id"]
    now = _create(http, name="Now")["id"]
    assert _ids(http, sort_by="add_time") == [early, late, now]
    assert _ids(http, sort_by="add_time", sort_direction="desc", limit=2) == [now, late]


def _walk(http: httpx.Client, between: Any = None, **params: Any) -> list[int]:
    seen, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        body = http.get("/api/v2/persons", params=query).json()
        seen += [p["id"] for p in body["data"]]
        cursor = body["additional_data"]["next_cursor"]
        if cursor is None:
            return seen
        if between is not None:
            between()


@pytest.mark.parametrize(
    "sort", [{}, {"sort_direction": "desc"}, {"sort_by": "update_time"}, {"sort_by": "add_time"}]
)
def test_cursor_walks_are_stable_under_concurrent_inserts_and_deletes(
    http: httpx.Client, rig: Rig, sort: dict[str, str]
) -> None:
    """Persons present throughout a walk are seen exactly once, whatever happens between pages."""
    ids = [rig.pipedrive.add_person(name=f"P{n}") for n in range(7)]
    doomed = ids[5]
    added: list[int] = []

    def meanwhile() -> None:
        added.append(rig.pipedrive.add_person(name="New"))
        if rig.pipedrive.get_person(doomed) is not None:
            rig.pipedrive.delete_person(doomed)

    seen = _walk(http, meanwhile, limit=2, **sort)
    survivors = [i for i in ids if i != doomed]
    assert sorted(i for i in seen if i in survivors) == survivors
    assert len(seen) == len(set(seen))


def test_cursors_are_opaque_and_tied_to_their_listing(http: httpx.Client, rig: Rig) -> None:
    """A cursor resumes only the sort it came from; garbage is a 400."""
    for n in range(3):
        rig.pipedrive.add_person(name=f"P{n}")
    cursor = http.get("/api/v2/persons", params={"limit": 1}).json()["additional_data"][
        "next_cursor"
    ]
    assert cursor
    assert "id" not in cursor
    other = http.get("/api/v2/persons", params={"cursor": cursor, "sort_by": "update_time"})
    assert "another listing" in _error(other, 400)
    assert _error(http.get("/api/v2/persons", params={"cursor": "%%%"}), 400)


def test_limit_defaults_to_100_and_stops_at_500(http: httpx.Client, rig: Rig) -> None:
    """Without limit a page holds 100 persons; limit above 500 is refused."""
    for n in range(120):
        rig.pipedrive.add_person(name=f"P{n}", notify=False)
    page = http.get("/api/v2/persons").json()
    assert len(page["data"]) == 100
    assert page["additional_data"]["next_cursor"]
    assert "between 1 and 500" in _error(http.get("/api/v2/persons", params={"limit": 501}), 400)


def test_ids_owner_org_and_deal_narrow_the_list(http: httpx.Client, rig: Rig) -> None:
    """ids, owner_id, org_id and deal_id each restrict getPersons."""
    a = _create(http, name="A", org_id=5)["id"]
    b = _create(http, name="B")["id"]
    deal = rig.pipedrive.add_deal(title="Deal", person_id=b, stage_id=1)
    owner = rig.pipedrive.default_company.user_id
    assert _ids(http, ids=f"{b},{a},999") == [a, b]
    assert _ids(http, org_id=5) == [a]
    assert _ids(http, owner_id=owner) == [a, b]
    assert _ids(http, owner_id=owner + 1) == []
    assert _ids(http, deal_id=deal) == [b]
    assert "at most 100" in _error(
        http.get("/api/v2/persons", params={"ids": ",".join(map(str, range(101)))}), 400
    )


def test_option_labels_labels_and_a_subset_of_custom_fields(http: httpx.Client, rig: Rig) -> None:
    """include_option_labels, include_labels and custom_fields shape the read."""
    tier = rig.pipedrive.add_person_field("Tier", "enum", options=["Gold", "Silver"])
    tags = rig.pipedrive.add_person_field("Tags", "set", options=["A", "B"])
    note = rig.pipedrive.add_person_field("Note", "varchar")
    gold = rig.pipedrive.person_field_options(tier)["Gold"]
    a_b = list(rig.pipedrive.person_field_options(tags).values())
    person = _create(
        http, name="L", label_ids=[1], custom_fields={tier: gold, tags: a_b, note: "n"}
    )
    read = http.get(
        f"/api/v2/persons/{person['id']}",
        params={
            "include_option_labels": "true",
            "include_labels": "true",
            "custom_fields": f"{tier},{tags}",
        },
    ).json()["data"]
    assert read["custom_fields"] == {
        tier: {"id": gold, "label": "Gold"},
        tags: [{"id": a_b[0], "label": "A"}, {"id": a_b[1], "label": "B"}],
    }
    assert read["labels"] == [{"id": 1, "label": "Customer"}]
    too_many = ",".join([note] * 16)
    assert "at most 15" in _error(
        http.get(f"/api/v2/persons/{person['id']}", params={"custom_fields": too_many}), 400
    )


def test_exact_email_search_ignores_case_and_finds_every_holder(
    http: httpx.Client, rig: Rig
) -> None:
    """exact_match on emails matches whole addresses in any case, all persons holding it."""
    one = rig.pipedrive.add_person(name="One", emails=["Shared@Example.com"])
    two = rig.pipedrive.add_person(name="Two", emails=["other@example.com", "shared@example.COM"])
    rig.pipedrive.add_person(name="Three", emails=["shared@example.com.au"])
    response = http.get(
        "/api/v2/persons/search",
        params={"term": "SHARED@example.com", "fields": "email", "exact_match": "true"},
    )
    items = response.json()["data"]["items"]
    assert [item["item"]["id"] for item in items] == [one, two]
    assert items[0]["item"]["emails"] == ["Shared@Example.com"]
    assert items[0]["result_score"] == 1.0


def test_fuzzy_search_matches_parts_of_names_and_custom_fields(
    http: httpx.Client, rig: Rig
) -> None:
    """Without exact_match a term matches inside values, best matches first."""
    city = rig.pipedrive.add_person_field("City", "varchar")
    starts = rig.pipedrive.add_person(name="Tallinn Office")
    inside = rig.pipedrive.add_person(name="Lina", custom_fields={city: "Old Tallinn"})
    rig.pipedrive.add_person(name="Nobody")
    items = http.get("/api/v2/persons/search", params={"term": "tallinn"}).json()["data"]["items"]
    assert [item["item"]["id"] for item in items] == [starts, inside]
    assert items[1]["item"]["custom_fields"] == ["Old Tallinn"]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"term": "a"}, "at least 2 characters"),
        ({"term": "ab", "fields": "email,address"}, "address cannot be searched"),
    ],
)
def test_bad_searches_are_refused(http: httpx.Client, params: dict[str, str], reason: str) -> None:
    """A too-short term or an unknown field is a 400."""
    assert reason in _error(http.get("/api/v2/persons/search", params=params), 400)


def test_search_pages_with_a_cursor(http: httpx.Client, rig: Rig) -> None:
    """Search results come in pages linked by next_cursor."""
    for n in range(5):
        rig.pipedrive.add_person(name=f"Ann {n}")
    first = http.get("/api/v2/persons/search", params={"term": "ann", "limit": 3}).json()
    cursor = first["additional_data"]["next_cursor"]
    second = http.get(
        "/api/v2/persons/search", params={"term": "ann", "limit": 3, "cursor": cursor}
    ).json()
    ids = [i["item"]["id"] for page in (first, second) for i in page["data"]["items"]]
    assert sorted(ids) == [1, 2, 3, 4, 5]
    assert second["additional_data"]["next_cursor"] is None


def test_merging_through_the_api_keeps_the_target(http: httpx.Client, rig: Rig) -> None:
    """PUT /v1/persons/{id}/merge folds id into merge_with_id and answers the kept person."""
    keep = _create(http, name="Keep", emails=[{"value": "keep@example.com"}])
    gone = _create(
        http, name="Gone", emails=[{"value": "gone@example.com"}], job_title="CFO", org_id=3
    )
    deal = rig.pipedrive.add_deal(title="Deal", person_id=gone["id"], stage_id=1)
    response = http.put(f"/v1/persons/{gone['id']}/merge", json={"merge_with_id": keep["id"]})
    data = response.json()["data"]
    assert (data["id"], data["merge_what_id"], data["org_id"]) == (keep["id"], gone["id"], 3)
    assert [e["value"] for e in data["email"]] == ["keep@example.com", "gone@example.com"]
    assert http.get(f"/api/v2/persons/{gone['id']}").status_code == 404
    kept = http.get(f"/api/v2/persons/{keep['id']}").json()["data"]
    assert kept["job_title"] == "CFO"
    moved = rig.pipedrive.get_deal(deal)
    assert moved is not None
    assert moved["person_id"] == keep["id"]
    assert "itself" in _error(
        http.put(f"/v1/persons/{keep['id']}/merge", json={"merge_with_id": keep["id"]}), 400
    )


def test_the_change_log_compacts_without_losing_order(http: httpx.Client, rig: Rig) -> None:
    """Thousands of changes to a few persons keep update_time order and windows right."""
    ids = [rig.pipedrive.add_person(name=f"P{n}", notify=False) for n in range(5)]
    for round_number in range(1000):
        for person in ids:
            rig.pipedrive.update_person(person, {"notes": f"round {round_number}"})
        rig.clock.advance(1)
    rig.pipedrive.update_person(ids[2], {"notes": "last"})
    log = rig.pipedrive.tenant().persons._log_seq
    assert len(log) < 5000  # compacted: only live entries and recent changes remain
    assert _ids(http, sort_by="update_time") == [ids[0], ids[1], ids[3], ids[4], ids[2]]
    round_time = http.get(f"/api/v2/persons/{ids[0]}").json()["data"]["update_time"]
    final_time = http.get(f"/api/v2/persons/{ids[2]}").json()["data"]["update_time"]
    assert _ids(http, updated_since=round_time) == ids
    assert _ids(http, updated_since=final_time) == [ids[2]]
