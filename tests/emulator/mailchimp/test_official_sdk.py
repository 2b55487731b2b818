"""A client nobody here wrote: Mailchimp's official ``mailchimp-marketing`` SDK over real HTTP.

The SDK builds ``https://<dc>.api.mailchimp.com/3.0`` from the key; pointing its
``api_client.host`` at the local server is the one change it needs. It sends Basic
auth with the key through ``requests``, as it does against the real service.
"""

from __future__ import annotations

import hashlib
import json

import mailchimp_marketing
import pytest
from mailchimp_marketing.api_client import ApiClientError

from pdmc.emulator import Emulator

EMAIL = "Ada@Lovelace.dev"
EMAIL_HASH = hashlib.md5(EMAIL.lower().encode(), usedforsecurity=False).hexdigest()


@pytest.fixture(scope="module")
def served():
    # One server for the module: stopping one waits out its half-second poll.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NO_PROXY", "127.0.0.1,localhost")
        emulator = Emulator()
        with emulator.serve() as server:
            yield emulator, server.url_of(emulator.mailchimp)


@pytest.fixture
def sdk(served):
    emulator, base_url = served
    client = mailchimp_marketing.Client()
    client.set_config({"api_key": emulator.mailchimp.default_account.api_key.reveal()})
    client.api_client.host = f"{base_url}/3.0"
    return client


def test_the_official_sdk_adds_reads_and_tags_a_member(served, sdk):
    """mailchimp-marketing adds a member, reads it back, tags it and lists its tags."""
    emulator, _ = served
    list_id = emulator.mailchimp.default_audience_id
    assert sdk.ping.get() == {"health_status": "Everything's Chimpy!"}
    added = sdk.lists.set_list_member(
        list_id,
        EMAIL_HASH,
        {"email_address": EMAIL, "status_if_new": "subscribed", "merge_fields": {"FNAME": "Ada"}},
    )
    assert (added["id"], added["status"]) == (EMAIL_HASH, "subscribed")
    read = sdk.lists.get_list_member(list_id, EMAIL_HASH)
    assert read["merge_fields"]["FNAME"] == "Ada"
    sdk.lists.update_list_member_tags(
        list_id, EMAIL_HASH, {"tags": [{"name": "Founders", "status": "active"}]}
    )
    tags = sdk.lists.get_list_member_tags(list_id, EMAIL_HASH)
    assert [tag["name"] for tag in tags["tags"]] == ["Founders"]
    # The same state, seen from inside.
    assert emulator.mailchimp.get_member(list_id, EMAIL)["tags"][0]["name"] == "Founders"
    assert emulator.mailchimp.log.count("putListsIdMembersId") >= 1


def test_the_official_sdk_sees_mailchimp_errors(served, sdk):
    """A refusal reaches the SDK as its ApiClientError carrying the problem document as text
    (the SDK decodes only ``application/json``, and errors are ``application/problem+json``)."""
    emulator, _ = served
    list_id = emulator.mailchimp.default_audience_id
    with pytest.raises(ApiClientError) as refused:
        sdk.lists.add_list_member(
            list_id, {"email_address": "test@test.com", "status": "subscribed"}
        )
    assert refused.value.status_code == 400
    assert "looks fake or invalid" in json.loads(refused.value.text)["detail"]


def test_batch_results_are_served_over_http_too(served, sdk):
    """A finished batch's response_body_url points at the local server, which serves it."""
    emulator, base_url = served
    batch = sdk.batches.start({"operations": [{"method": "GET", "path": "/ping"}]})
    emulator.advance(10)
    finished = sdk.batches.status(batch["id"])
    assert finished["status"] == "finished"
    assert finished["response_body_url"].startswith(f"{base_url}/batch-results/")
