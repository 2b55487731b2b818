"""The cassettes themselves: up to date with their build script, free of secrets, complete,
and the contract check that watches every request the client tests send."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest
import vcr
from vcr.serialize import deserialize
from vcr.serializers import yamlserializer

from pdmc import Secret
from pdmc.clients import PipedriveClient, RetryPolicy
from pdmc.clients import mailchimp as mc
from pdmc.clients import pipedrive as pd
from tests.cassettes.build_cassettes import (
    CANARIES,
    CASSETTE_DIR,
    CASSETTES,
    MAILCHIMP_KEY,
    PIPEDRIVE_TOKEN,
    WEBHOOK_PASSWORD,
    build,
    cassette_vcr,
)
from tests.clients.conftest import ContractTraffic
from tests.contracts import documented_example, operation_id_for

ON_DISK = sorted(CASSETTE_DIR.glob("*.yaml"))
SECRET_VALUES = (
    *CANARIES,
    base64.b64encode(f"pdmc:{MAILCHIMP_KEY}".encode()).decode(),
    base64.b64encode(PIPEDRIVE_TOKEN.encode()).decode(),
)


def _recorded_requests(path: Path) -> list[httpx.Request]:
    requests, _ = deserialize(path.read_text(), yamlserializer)
    return [httpx.Request(r.method, r.uri) for r in requests]


def test_cassettes_on_disk_equal_a_fresh_build(tmp_path: Path) -> None:
    """Rebuilding every cassette from the contracts gives exactly the files committed."""
    built = build(tmp_path)
    assert [p.name for p in built] == [p.name for p in ON_DISK]
    stale = [p.name for p in built if p.read_bytes() != (CASSETTE_DIR / p.name).read_bytes()]
    assert not stale, f"run `python -m tests.cassettes.build_cassettes`: {stale} drifted"


@pytest.mark.parametrize("path", ON_DISK, ids=[p.stem for p in ON_DISK])
def test_no_cassette_holds_a_secret_or_a_credential_header(path: Path) -> None:
    """No cassette holds a canary secret, its Basic-auth form, or a credential header."""
    text = path.read_text()
    for secret in SECRET_VALUES:
        assert secret not in text
    recorded, _ = deserialize(text, yamlserializer)
    for request in recorded:
        assert {name.lower() for name in request.headers} <= {"content-type"}


def test_cassettes_cover_every_client_operation() -> None:
    """Every operation either client can call is replayed by at least one cassette."""
    replayed = {
        operation_id_for(request) for path in ON_DISK for request in _recorded_requests(path)
    }
    assert set(pd.OPERATIONS) | set(mc.OPERATIONS) <= replayed
    assert len(ON_DISK) == len(CASSETTES)


def _record_a_webhook(recorder: vcr.VCR, path: Path) -> str:
    with (
        recorder.use_cassette(path.name),
        PipedriveClient(
            PIPEDRIVE_TOKEN,
            transport=httpx.MockTransport(
                lambda _: httpx.Response(201, json=documented_example("addWebhook", "201"))
            ),
            retry=RetryPolicy(attempts=1),
        ) as client,
    ):
        client.delete_webhook(7)
        client.create_webhook(
            subscription_url="https://sync.example.com/hooks/pipedrive",
            event_action="*",
            event_object="person",
            name="pdmc",
            http_auth_user="pdmc",
            http_auth_password=Secret(WEBHOOK_PASSWORD),
        )
    return path.read_text()


@pytest.mark.responses_unchecked("one stub body answers both calls; the recording is under test")
def test_recording_filters_drop_credentials_that_were_sent(
    tmp_path: Path, contract_traffic: ContractTraffic
) -> None:
    """Recording real client traffic keeps the token header and webhook password out."""
    text = _record_a_webhook(cassette_vcr(tmp_path, record_mode="all"), tmp_path / "live.yaml")
    assert all(r.headers["x-api-token"] == PIPEDRIVE_TOKEN for r in contract_traffic.sent)
    assert WEBHOOK_PASSWORD.encode() in contract_traffic.sent[1].content
    assert PIPEDRIVE_TOKEN not in text
    assert WEBHOOK_PASSWORD not in text
    assert "x-api-token" not in text


@pytest.mark.responses_unchecked("one stub body answers both calls; the recording is under test")
def test_an_unfiltered_recording_would_leak(tmp_path: Path) -> None:
    """Control: vcrpy without the filters writes the token, so the scan above can fail."""
    plain = vcr.VCR(cassette_library_dir=str(tmp_path), record_mode="all")
    text = _record_a_webhook(plain, tmp_path / "plain.yaml")
    assert PIPEDRIVE_TOKEN in text
    assert WEBHOOK_PASSWORD in text


def test_contract_traffic_checks_every_request_after_auth(
    pipedrive: PipedriveClient, contract_traffic: ContractTraffic
) -> None:
    """The autouse watcher sees each request with its credentials and validates it."""
    with cassette_vcr().use_cassette("pipedrive_list_persons.yaml"):
        list(pipedrive.list_persons())
    assert contract_traffic.checked == 2
    assert [r.headers["x-api-token"] for r in contract_traffic.sent] == [PIPEDRIVE_TOKEN] * 2


def test_contract_traffic_reports_a_request_the_contract_refuses() -> None:
    """A request that breaks its contract is recorded as a violation, naming the problem."""
    traffic = ContractTraffic(check_responses=True)
    renamed_only = httpx.Request(
        "PUT",
        "https://api.pipedrive.com/v1/filters/1",
        json={"name": "renamed"},
        headers={"x-api-token": "t"},
    )
    traffic.observe(renamed_only, None)
    (violation,) = traffic.violations
    assert "'conditions' is a required property" in violation


def test_contract_traffic_reports_a_response_the_contract_refuses() -> None:
    """A success whose body breaks the response schema is a violation unless unchecked."""
    request = httpx.Request(
        "GET", "https://api.pipedrive.com/api/v2/persons/1", headers={"x-api-token": "t"}
    )
    response = httpx.Response(200, json={"success": True, "data": {"id": "one"}})
    checked, unchecked = (
        ContractTraffic(check_responses=True),
        ContractTraffic(check_responses=False),
    )
    checked.observe(request, response)
    unchecked.observe(request, response)
    assert len(checked.violations) == 1
    assert unchecked.violations == []
