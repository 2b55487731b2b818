"""Error bodies, faults, the current user, recents, the direct-state API and serving."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from pdmc.emulator import Emulator, Fault, FaultKind
from pdmc.errors import ConfigurationError, NotFoundError, RateLimitError
from tests.emulator.pipedrive.conftest import Rig


def test_errors_come_in_pipedrives_format(http: httpx.Client) -> None:
    """400, 404 and unknown paths answer success false, error, error_info, data and
    additional_data null."""
    for response, status in (
        (http.get("/api/v2/persons/12345"), 404),
        (http.get("/api/v2/nothing-here"), 404),
        (
            http.post(
                "/api/v2/persons", content=b"{x", headers={"content-type": "application/json"}
            ),
            400,
        ),
        (http.post("/api/v2/persons", json=["a list"]), 400),
    ):
        assert response.status_code == status
        body = response.json()
        assert set(body) == {"success", "error", "error_info", "data", "additional_data"}
        assert (body["success"], body["data"], body["additional_data"]) == (False, None, None)
        assert isinstance(body["error"], str)
        assert body["error"]
        assert isinstance(body["error_info"], str)


def test_injected_faults_speak_pipedrive(rig: Rig) -> None:
    """Fault-plan 429s carry Pipedrive's body and Retry-After; pdmc sees RateLimitError."""
    rig.faults.script(Fault(FaultKind.RATE_LIMIT, seconds=7), service="pipedrive")
    rig.faults.script(FaultKind.FORBIDDEN_HTML, service="pipedrive", operation="getCurrentUser")
    with rig.http() as http:
        limited = http.get("/v1/users/me")
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "7"
        assert limited.json()["success"] is False
        assert http.get("/v1/users/me").headers["content-type"] == "text/html"
    rig.faults.script(FaultKind.RATE_LIMIT, service="pipedrive")
    with rig.client() as client, pytest.raises(RateLimitError):
        client.get_current_user()


def test_the_current_user_names_the_company(rig: Rig) -> None:
    """getCurrentUser answers the token's user, an admin, with the company id and domain."""
    company = rig.pipedrive.default_company
    with rig.client() as client:
        user = client.get_current_user()
    assert (user.id, user.company_id, user.company_domain) == (
        company.user_id,
        company.id,
        company.domain,
    )
    assert user.is_admin


def _recent(http: httpx.Client, since: str, **params: Any) -> dict[str, Any]:
    response = http.get("/v1/recents", params={"since_timestamp": since, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_recents_lists_changes_since_a_moment(http: httpx.Client, rig: Rig) -> None:
    """Changed persons, deals, filters and stages come in time order; deleted persons too."""
    rig.clock.advance(60)
    since = rig.clock.now().strftime("%Y-%m-%d %H:%M:%S")
    person = rig.pipedrive.add_person(name="New")
    rig.clock.advance(1)
    gone = rig.pipedrive.add_person(name="Gone")
    rig.pipedrive.delete_person(gone)
    rig.clock.advance(1)
    deal = rig.pipedrive.add_deal(title="D", person_id=person, stage_id=1)
    rig.pipedrive.add_filter("f", {"glue": "and", "conditions": []})
    body = _recent(http, since)
    kinds = [(item["item"], item["id"]) for item in body["data"]]
    assert kinds == [("person", person), ("person", gone), ("deal", deal), ("filter", 1)]
    assert [item["data"]["active_flag"] for item in body["data"][:2]] == [True, False]
    assert body["data"][0]["data"]["email"] == []
    only_people = _recent(http, since, items="person", limit=1)
    assert [item["id"] for item in only_people["data"]] == [person]
    assert only_people["additional_data"]["pagination"]["next_start"] == 1
    assert _recent(http, "2025-01-01 00:00:00", items="stage")["data"][0]["item"] == "stage"


def test_recents_refuses_bad_timestamps_and_items(http: httpx.Client) -> None:
    """since_timestamp must be YYYY-MM-DD HH:MM:SS; unknown item types are a 400."""
    assert http.get("/v1/recents").status_code == 400
    assert http.get("/v1/recents", params={"since_timestamp": "2025-01-01"}).status_code == 400
    bad_items = {"since_timestamp": "2025-01-01 00:00:00", "items": "people"}
    assert http.get("/v1/recents", params=bad_items).status_code == 400


def test_pdmc_reads_recents(rig: Rig) -> None:
    """pdmc's client walks recents page by page."""
    for n in range(3):
        rig.pipedrive.add_person(name=f"P{n}")
    with rig.client(page_size=2) as client:
        items = list(client.list_recents(datetime(2026, 1, 1, tzinfo=UTC), items="person"))
    assert [item.id for item in items] == [1, 2, 3]


def test_direct_state_refuses_bad_input_by_name(rig: Rig) -> None:
    """Direct methods raise ConfigurationError naming the item, field and reason."""
    pipedrive = rig.pipedrive
    with pytest.raises(ConfigurationError, match=r"person 'X': emails\[0\]\.label"):
        pipedrive.add_person(name="X", emails=[{"value": "x@example.com", "label": "desk"}])
    with pytest.raises(ConfigurationError, match="person 99: no such person"):
        pipedrive.update_person(99, {"name": "Y"})
    person = pipedrive.add_person(first_name="Ada", last_name="Lovelace")
    with pytest.raises(ConfigurationError, match=f"person {person}: birthday"):
        pipedrive.update_person(person, {"birthday": "soon"})
    with pytest.raises(ConfigurationError, match="cannot be merged with itself"):
        pipedrive.merge_persons(person, person)
    with pytest.raises(ConfigurationError, match="filter 'f': conditions"):
        pipedrive.add_filter("f", {"glue": "or", "conditions": []})
    with pytest.raises(ConfigurationError, match="filter 5: no such filter"):
        pipedrive.delete_filter(5)
    with pytest.raises(ConfigurationError, match="unknown plan 'gold'"):
        pipedrive.add_company("Gold Inc", plan="gold")
    with pytest.raises(ConfigurationError, match="no such field"):
        pipedrive.person_field_id("nope")
    assert pipedrive.get_person(person) == {**pipedrive.get_person(person), "name": "Ada Lovelace"}


def test_direct_reads_count_and_iterate(rig: Rig) -> None:
    """person_count, iter_persons and get_person read state without touching the log."""
    ids = [rig.pipedrive.add_person(name=f"P{n}", emails=[f"p{n}@example.com"]) for n in range(3)]
    assert rig.pipedrive.person_count() == 3
    assert [p["id"] for p in rig.pipedrive.iter_persons()] == ids
    assert rig.pipedrive.get_person(999) is None
    assert rig.pipedrive.log.requests == 0
    assert "PipedriveEmulator(companies=1" in repr(rig.pipedrive)
    assert rig.pipedrive.default_company.api_token.reveal() not in repr(
        rig.pipedrive.default_company
    )


def test_the_whole_emulator_delivers_pipedrive_webhooks_after_each_request() -> None:
    """Through Emulator, a webhook is delivered right after the request that caused it."""
    emulator = Emulator()
    received: list[Any] = []
    emulator.on_webhook(lambda delivery: received.append(delivery) or 200)
    with emulator.pipedrive_client() as client:
        client.create_webhook(
            subscription_url="https://hooks.example.com/p",
            event_action="*",
            event_object="person",
            name="w",
        )
        with httpx.Client(
            transport=emulator.transport, base_url="https://api.pipedrive.com"
        ) as raw:
            raw.headers["x-api-token"] = emulator.pipedrive.default_company.api_token.reveal()
            raw.post("/api/v2/persons", json={"name": "Live"})
        assert len(received) == 1
        with pytest.raises(NotFoundError):
            client.get_person(42)


def test_served_over_real_http() -> None:
    """The same state answers over HTTP on localhost, to any HTTP client."""
    emulator = Emulator()
    emulator.pipedrive.add_person(name="Served")
    token = emulator.pipedrive.default_company.api_token.reveal()
    with emulator.serve() as server:
        url = server.urls["pipedrive"]
        answer = httpx.get(f"{url}/api/v2/persons", headers={"x-api-token": token})
    assert answer.status_code == 200
    assert [p["name"] for p in answer.json()["data"]] == ["Served"]
    assert answer.headers["x-ratelimit-limit"] == "80"
