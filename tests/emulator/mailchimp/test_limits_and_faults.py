"""The 10-connection limit, and faults injected through the transport (scripted or seeded)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from pdmc.clients import AsyncMailchimpClient, RetryPolicy
from pdmc.clients.mailchimp import MemberUpsert
from pdmc.emulator import Emulator, Fault, FaultKind
from pdmc.errors import RequestTimeoutError

API = "https://us6.api.mailchimp.com/3.0"


async def test_an_eleventh_simultaneous_connection_gets_429(rig):
    """With 11 requests in flight at once, ten are answered and one gets 429."""
    key = rig.mailchimp.default_account.api_key.reveal()
    async with httpx.AsyncClient(transport=rig.transport, auth=("u", key)) as http:
        responses = await asyncio.gather(*(http.get(f"{API}/ping") for _ in range(11)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 10 + [429]
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.headers["content-type"] == "application/problem+json"
    assert rig.mailchimp.peak_connections == 10
    assert rig.mailchimp.log.count("connection_limit") == 1


async def test_pdmc_async_client_stays_under_the_limit(rig):
    """pdmc's async client, with 40 calls at once, never opens more than it is allowed."""
    client = AsyncMailchimpClient(
        rig.mailchimp.default_account.api_key, transport=rig.transport, retry=RetryPolicy.no_wait(1)
    )
    async with client:
        await asyncio.gather(*(client.ping() for _ in range(40)))
    assert rig.mailchimp.peak_connections <= 10
    assert rig.mailchimp.log.count("connection_limit") == 0


def outcomes(seed: int) -> list[str]:
    """What 40 requests through a fresh emulator with seeded random faults got."""
    emulator = Emulator()
    emulator.faults.random(
        0.4,
        seed=seed,
        service="mailchimp",
        kinds=[FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.CONNECTION_RESET],
    )
    key = emulator.mailchimp.default_account.api_key.reveal()
    seen = []
    with httpx.Client(transport=emulator.transport, auth=("u", key)) as http:
        for _ in range(40):
            try:
                seen.append(str(http.get(f"{API}/ping").status_code))
            except httpx.ConnectError:
                seen.append("reset")
    return seen


def test_seeded_faults_repeat_exactly():
    """The same seed and traffic fail the same requests the same way; another seed differs."""
    first = outcomes(7)
    assert first == outcomes(7)
    assert first != outcomes(8)
    assert {"200", "429", "503", "reset"} <= set(first)


def test_a_rate_limit_fault_is_a_problem_document_with_retry_after():
    """An injected 429 looks like Mailchimp's: problem+json with Retry-After."""
    emulator = Emulator()
    emulator.faults.script(Fault(FaultKind.RATE_LIMIT, seconds=3), service="mailchimp")
    key = emulator.mailchimp.default_account.api_key.reveal()
    with httpx.Client(transport=emulator.transport, auth=("u", key)) as http:
        response = http.get(f"{API}/ping")
    assert (response.status_code, response.headers["retry-after"]) == (429, "3")
    assert response.json()["title"] == "Too Many Requests"


def test_pdmc_retries_a_bodyless_403_and_5xx():
    """The client rides out Mailchimp's body-less 403 and a 503 through the emulator."""
    emulator = Emulator()
    for kind in (FaultKind.FORBIDDEN_NO_BODY, FaultKind.SERVER_ERROR):
        emulator.faults.script(kind, service="mailchimp", operation="getListsIdMembers")
    list_id = emulator.mailchimp.default_audience_id
    emulator.mailchimp.add_member(list_id, "ada@lovelace.dev")
    with emulator.mailchimp_client(retry=RetryPolicy.no_wait(3)) as client:
        assert [m.email_address for m in client.list_members(list_id)] == ["ada@lovelace.dev"]
    assert emulator.faults.injected[FaultKind.FORBIDDEN_NO_BODY] == 1


def test_a_timeout_after_commit_leaves_the_write_done():
    """A timeout after the service acted surfaces to the caller, and the member exists."""
    emulator = Emulator()
    emulator.faults.script(
        FaultKind.TIMEOUT_AFTER_COMMIT, service="mailchimp", operation="putListsIdMembersId"
    )
    list_id = emulator.mailchimp.default_audience_id
    with (
        emulator.mailchimp_client(retry=RetryPolicy.no_wait(1)) as client,
        pytest.raises(RequestTimeoutError),
    ):
        client.upsert_member(
            list_id, MemberUpsert(email_address="ada@lovelace.dev", status_if_new="subscribed")
        )
    assert emulator.mailchimp.get_member(list_id, "ada@lovelace.dev") is not None
