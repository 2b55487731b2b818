"""Rate limits: the 2-second burst window by plan, the daily token budget, 429 and the HTML 403."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from pdmc.clients import RetryPolicy
from pdmc.emulator.pipedrive import (
    BLOCK_SECONDS,
    PLANS,
    STRIKES_BEFORE_BLOCK,
    TOKEN_COSTS,
    BurstUse,
)
from pdmc.errors import ConfigurationError, ThrottledError
from tests.emulator.pipedrive.conftest import API, Rig

ME = "/v1/users/me"


def test_every_answer_carries_the_rate_limit_headers(http: httpx.Client, rig: Rig) -> None:
    """Limit, remaining, seconds to reset and the daily budget left come with each answer."""
    budget = rig.pipedrive.token_budget_left()
    first = http.get(ME)
    second = http.get("/api/v2/persons")
    assert first.headers["x-ratelimit-limit"] == "80"
    assert (first.headers["x-ratelimit-remaining"], second.headers["x-ratelimit-remaining"]) == (
        "79",
        "78",
    )
    assert first.headers["x-ratelimit-reset"] == "2"
    assert int(first.headers["x-daily-requests-left"]) == budget - 2
    assert int(second.headers["x-daily-requests-left"]) == budget - 2 - 10


@pytest.mark.parametrize("plan", sorted(PLANS))
def test_the_burst_window_follows_the_plan(plan: str) -> None:
    """An API token gets the plan's requests per 2 s, then a 429 until the window resets."""
    rig = Rig(plan=plan)
    limit = PLANS[plan].api_token_burst
    with rig.http() as http:
        answers = [http.get(ME).status_code for _ in range(limit)]
        refused = http.get(ME)
        assert answers == [200] * limit
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "2"
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert refused.json() == {
            "success": False,
            "error": "Request over limit",
            "error_info": refused.json()["error_info"],
            "data": None,
            "additional_data": None,
        }
        rig.clock.advance(2)
        assert http.get(ME).status_code == 200


def test_oauth_tokens_get_the_larger_burst(rig: Rig) -> None:
    """An OAuth access token's window is the plan's OAuth limit (professional: 320)."""
    access, _ = rig.pipedrive.issue_oauth_tokens()
    headers = {"authorization": f"Bearer {access.reveal()}"}
    with httpx.Client(base_url=API, transport=rig.transport, headers=headers) as http:
        answers = [http.get(ME) for _ in range(321)]
    assert answers[0].headers["x-ratelimit-limit"] == str(PLANS["professional"].oauth_burst)
    assert [a.status_code for a in answers].count(200) == 320
    assert answers[-1].status_code == 429


def test_search_has_its_own_ten_per_window(http: httpx.Client) -> None:
    """Search allows 10 requests per 2 s on every plan; other calls keep going."""
    search = [http.get("/api/v2/persons/search", params={"term": "ab"}) for _ in range(11)]
    assert [s.status_code for s in search] == [200] * 10 + [429]
    assert search[0].headers["x-ratelimit-limit"] == "10"
    assert http.get(ME).status_code == 200


def test_refused_requests_cost_nothing(http: httpx.Client, rig: Rig) -> None:
    """429s and 401s take no tokens and no room in the window."""
    for _ in range(80):
        http.get(ME)
    left = rig.pipedrive.token_budget_left()
    assert http.get(ME).status_code == 429
    assert http.get(ME, headers={"x-api-token": "wrong"}).status_code == 401
    assert rig.pipedrive.token_budget_left() == left
    rig.clock.advance(2)
    assert http.get(ME).headers["x-ratelimit-remaining"] == "79"


def test_tokens_charged_match_each_operations_cost(rig: Rig) -> None:
    """The budget, the request log and pdmc's own count all charge x-token-cost per call."""
    with rig.client() as client:
        before = rig.pipedrive.token_budget_left()
        person = client.get_current_user()
        list(client.list_persons())
        list(client.list_person_fields())
        client.list_filters()
        del person
        spent = before - rig.pipedrive.token_budget_left()
        expected = sum(
            TOKEN_COSTS[key]
            for key in (
                ("GET", "/v1/users/me"),
                ("GET", "/api/v2/persons"),
                ("GET", "/api/v2/personFields"),
                ("GET", "/v1/filters"),
            )
        )
        assert spent == expected == client.usage.tokens == rig.pipedrive.log.tokens
        assert rig.pipedrive.log.by_operation()["getFilters"].tokens == 20


def test_the_daily_budget_scales_with_plan_and_seats(rig: Rig) -> None:
    """A company's budget is 30,000 x the plan multiplier x seats."""
    company = rig.pipedrive.add_company("Big", plan="enterprise", seats=3)
    assert company.daily_token_budget == 30_000 * 7 * 3
    assert rig.pipedrive.token_budget_left(company) == 630_000
    assert rig.pipedrive.default_company.daily_token_budget == 90_000


def test_an_exhausted_budget_answers_429_until_midnight(http: httpx.Client, rig: Rig) -> None:
    """When today's tokens are spent, calls get 429 with Retry-After to midnight UTC."""
    rig.pipedrive.spend_tokens(rig.pipedrive.token_budget_left() - 10)
    assert http.get("/api/v2/persons").status_code == 200  # 10 tokens: the last ones
    refused = http.get(ME)
    assert refused.status_code == 429
    now = rig.clock.now()
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
    assert int(refused.headers["retry-after"]) == int((midnight - now).total_seconds())
    assert refused.headers["x-daily-requests-left"] == "0"
    rig.clock.set(midnight)
    answer = http.get(ME)
    assert answer.status_code == 200
    assert int(answer.headers["x-daily-requests-left"]) == 90_000 - 2


def test_other_apps_spend_the_same_budget(rig: Rig) -> None:
    """spend_tokens charges today's budget as the company's other apps would; never below 0."""
    rig.pipedrive.spend_tokens(1_000)
    assert rig.pipedrive.token_budget_left() == 89_000
    with pytest.raises(ConfigurationError):
        rig.pipedrive.spend_tokens(-1)


def test_a_client_that_ignores_429s_is_blocked_with_html(http: httpx.Client, rig: Rig) -> None:
    """After 10 refusals in a row the token gets an HTML 403 for a minute."""
    for _ in range(80):
        http.get(ME)
    refusals = [http.get(ME).status_code for _ in range(STRIKES_BEFORE_BLOCK)]
    assert refusals == [429] * STRIKES_BEFORE_BLOCK
    blocked = http.get(ME)
    assert blocked.status_code == 403
    assert blocked.headers["content-type"] == "text/html"
    assert blocked.text.startswith("<html>")
    rig.clock.advance(2)
    assert http.get(ME).status_code == 403  # the window reset, the block did not
    rig.clock.advance(BLOCK_SECONDS)
    assert http.get(ME).status_code == 200


def test_waiting_between_429s_avoids_the_block() -> None:
    """An admitted request clears the count, so a patient client is never blocked."""
    rig = Rig(plan="essential")
    with rig.http(checked=False) as http:
        for _ in range(3 * STRIKES_BEFORE_BLOCK):
            while http.get(ME).status_code == 200:
                pass
            rig.clock.advance(2)
        assert http.get(ME).status_code == 200


def test_pdmc_paces_itself_by_the_headers(rig: Rig) -> None:
    """pdmc's client, pacing on the headers, makes 300 calls without a single 429."""
    with rig.client(retry=RetryPolicy.no_wait(attempts=3)) as client:
        for _ in range(300):
            client.get_current_user()
        assert client.usage.rate_limited == 0
    assert rig.pipedrive.log.statuses() == {200: 300}


def test_pdmc_sees_the_html_403_as_throttling(http: httpx.Client, rig: Rig) -> None:
    """The blocking 403 reaches pdmc as a retryable ThrottledError."""
    for _ in range(80 + STRIKES_BEFORE_BLOCK):
        http.get(ME)
    with rig.client() as client, pytest.raises(ThrottledError):
        client.get_current_user()


def test_the_limiter_counts_windows_admitted_and_refused_requests(
    http: httpx.Client, rig: Rig
) -> None:
    """Each bucket counts its windows, admitted requests and the requests it refused itself."""
    limit = PLANS["professional"].api_token_burst
    for _ in range(limit + 3):
        http.get(ME)
    rig.clock.advance(2)
    http.get(ME)
    for _ in range(11):
        http.get("/api/v2/persons/search", params={"term": "ab"})
    use = rig.pipedrive.limiter.use()
    assert use["general"] == BurstUse(windows=2, admitted=limit + 1 + 10, refused=3)
    assert use["search"] == BurstUse(windows=1, admitted=10, refused=1)
