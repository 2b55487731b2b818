"""Pipelines, stages, deals (moving between stages) and deal participants."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pdmc.errors import ConfigurationError
from tests.emulator.pipedrive.conftest import Rig


def _data(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_a_new_company_has_one_pipeline_of_five_stages(http: httpx.Client) -> None:
    """Like a new Pipedrive account, the emulator starts with a default pipeline."""
    pipelines = _data(http.get("/api/v2/pipelines"))
    assert [p["name"] for p in pipelines] == ["Pipeline"]
    stages = _data(http.get("/api/v2/stages", params={"pipeline_id": pipelines[0]["id"]}))
    assert [s["order_nr"] for s in stages] == [1, 2, 3, 4, 5]
    assert _data(http.get("/api/v2/stages/3"))["name"] == "Demo Scheduled"
    assert _data(http.get("/api/v2/pipelines/1"))["is_deleted"] is False
    assert http.get("/api/v2/stages/99").status_code == 404
    assert http.get("/api/v2/pipelines/99").status_code == 404


def test_stages_sort_and_page(http: httpx.Client, rig: Rig) -> None:
    """getStages sorts by order_nr descending and pages with a cursor."""
    pipeline = rig.pipedrive.add_pipeline("Renewals")
    for name in ("Due", "Asked", "Signed"):
        rig.pipedrive.add_stage(pipeline, name)
    params = {"pipeline_id": pipeline, "sort_by": "order_nr", "sort_direction": "desc", "limit": 2}
    first = http.get("/api/v2/stages", params=params).json()
    rest = http.get(
        "/api/v2/stages", params={**params, "cursor": first["additional_data"]["next_cursor"]}
    ).json()
    assert [s["name"] for page in (first, rest) for s in page["data"]] == ["Signed", "Asked", "Due"]
    assert rest["additional_data"]["next_cursor"] is None
    with pytest.raises(ConfigurationError, match="no pipeline 99"):
        rig.pipedrive.add_stage(99, "Lost")


def test_adding_a_deal_places_it_and_makes_its_person_a_participant(
    http: httpx.Client, rig: Rig
) -> None:
    """A deal in a stage takes that stage's pipeline; its person becomes a participant."""
    person = rig.pipedrive.add_person(name="Dana", emails=["dana@example.com"])
    pipeline = rig.pipedrive.add_pipeline("Partners")
    stage = rig.pipedrive.add_stage(pipeline, "Talking")
    deal = _data(
        http.post("/api/v2/deals", json={"title": "T", "person_id": person, "stage_id": stage})
    )
    assert (deal["pipeline_id"], deal["stage_id"], deal["status"]) == (pipeline, stage, "open")
    participants = http.get(f"/v1/deals/{deal['id']}/participants").json()
    assert [p["person"]["id"] for p in participants["data"]] == [person]
    assert participants["data"][0]["person_id"]["value"] == person
    assert participants["additional_data"]["pagination"]["more_items_in_collection"] is False
    default = _data(http.post("/api/v2/deals", json={"title": "Default"}))
    assert (default["pipeline_id"], default["stage_id"]) == (1, 1)
    by_pipeline = _data(http.post("/api/v2/deals", json={"title": "P", "pipeline_id": pipeline}))
    assert by_pipeline["stage_id"] == stage


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"stage_id": 1}, "title is required"),
        ({"title": "x", "stage_id": 99}, "no stage with id 99"),
        ({"title": "x", "stage_id": 1, "pipeline_id": 2}, "is not in pipeline 2"),
        ({"title": "x", "person_id": 99}, "person_id: no people with id 99"),
        ({"title": "x", "status": "paused"}, "status must be one of"),
        ({"title": "x", "currency": "euro"}, "3-letter code"),
        ({"title": "x", "value": "100"}, "value must be a number"),
        ({"title": "x", "products": []}, "not emulated or unknown: products"),
    ],
)
def test_bad_deals_are_refused(http: httpx.Client, body: dict[str, Any], reason: str) -> None:
    """addDeal refuses bad bodies with a 400 naming the field."""
    response = http.post("/api/v2/deals", json=body)
    assert response.status_code == 400
    assert reason in response.json()["error"]


def test_moving_a_deal_sets_stage_change_time(http: httpx.Client, rig: Rig) -> None:
    """PATCH stage_id moves the deal and stamps stage_change_time and update_time."""
    deal = rig.pipedrive.add_deal(title="Move", person_id=None, stage_id=1)
    rig.clock.advance(120)
    moved = _data(http.patch(f"/api/v2/deals/{deal}", json={"stage_id": 4}))
    assert moved["stage_id"] == 4
    assert moved["stage_change_time"] == moved["update_time"]
    assert moved["update_time"] != moved["add_time"]
    rig.clock.advance(120)
    again = _data(http.patch(f"/api/v2/deals/{deal}", json={"stage_id": 4}))
    assert again["update_time"] == moved["update_time"]


def test_winning_and_reopening_a_deal(http: httpx.Client, rig: Rig) -> None:
    """Won sets won_time and close_time; reopening clears them."""
    deal = rig.pipedrive.add_deal(title="Win", person_id=None, stage_id=1)
    won = _data(http.patch(f"/api/v2/deals/{deal}", json={"status": "won"}))
    assert won["won_time"] == won["close_time"]
    reopened = _data(http.patch(f"/api/v2/deals/{deal}", json={"status": "open"}))
    assert "won_time" not in reopened
    assert reopened["close_time"] is None


def test_listing_deals_by_stage_person_status_and_time(http: httpx.Client, rig: Rig) -> None:
    """getDeals narrows by stage, person, status and update window; deleted ones hide."""
    pipedrive = rig.pipedrive
    person = pipedrive.add_person(name="Eve")
    a = pipedrive.add_deal(title="A", person_id=person, stage_id=1)
    b = pipedrive.add_deal(title="B", person_id=None, stage_id=2, status="won")
    rig.clock.advance(60)
    c = pipedrive.add_deal(title="C", person_id=None, stage_id=2)
    mark = pipedrive.get_deal(c)
    assert mark is not None
    pipedrive.delete_deal(a)

    def ids(**params: Any) -> list[int]:
        return [d["id"] for d in _data(http.get("/api/v2/deals", params=params))]

    assert ids() == [b, c]
    assert ids(stage_id=2, status="open") == [c]
    assert ids(status="deleted") == [a]
    assert ids(status="open,won") == [b, c]
    assert ids(updated_since=mark["update_time"]) == [c]
    assert ids(sort_by="id", sort_direction="desc") == [c, b]
    assert ids(person_id=person, status="deleted") == [a]
    assert http.get(f"/api/v2/deals/{a}").status_code == 404
    assert http.get("/api/v2/deals", params={"status": "paused"}).status_code == 400


def test_participants_page_and_follow_persons(http: httpx.Client, rig: Rig) -> None:
    """Participants page with start/limit; deleting a person removes it and unlinks the deal."""
    pipedrive = rig.pipedrive
    people = [pipedrive.add_person(name=f"P{n}") for n in range(3)]
    deal = pipedrive.add_deal(title="Team", person_id=people[0], stage_id=1)
    for person in people[1:]:
        pipedrive.add_deal_participant(deal, person)
    assert pipedrive.add_deal_participant(deal, people[1]) == 2
    first = http.get(f"/v1/deals/{deal}/participants", params={"limit": 2}).json()
    assert first["additional_data"]["pagination"] == {
        "start": 0,
        "limit": 2,
        "more_items_in_collection": True,
        "next_start": 2,
    }
    with rig.client() as client:
        assert [p.person_id for p in client.list_deal_participants(deal)] == people
    pipedrive.delete_person(people[0])
    remaining = http.get(f"/v1/deals/{deal}/participants").json()["data"]
    assert [p["person"]["id"] for p in remaining] == people[1:]
    updated = pipedrive.get_deal(deal)
    assert updated is not None
    assert "person_id" not in updated
    assert http.get("/v1/deals/99/participants").status_code == 404


def test_direct_deal_methods_refuse_unknown_ids(rig: Rig) -> None:
    """move_deal, delete_deal and add_deal name the deal or stage they cannot find."""
    with pytest.raises(ConfigurationError, match="deal 9: no such deal"):
        rig.pipedrive.move_deal(9, 1)
    deal = rig.pipedrive.add_deal(title="D", person_id=None, stage_id=1)
    with pytest.raises(ConfigurationError, match="no stage with id 99"):
        rig.pipedrive.move_deal(deal, 99)
    with pytest.raises(ConfigurationError, match="deal 'X'"):
        rig.pipedrive.add_deal(title="X", person_id=12345, stage_id=1)
