"""/batches: background operations on the emulator clock, results as a tar.gz."""

from __future__ import annotations

import io
import json
import tarfile

from pdmc.clients.mailchimp import BatchOperation, subscriber_hash

ADA = "ada@lovelace.dev"


def put_member(list_id: str, email: str, number: int) -> BatchOperation:
    return BatchOperation(
        method="PUT",
        path=f"/lists/{list_id}/members/{subscriber_hash(email)}",
        body={"email_address": email, "status_if_new": "subscribed"},
        operation_id=f"op-{number}",
    )


def test_a_batch_moves_from_pending_to_finished_on_the_clock(rig, client, list_id):
    """Status goes pending, preprocessing, started, finalizing, finished as emulated time passes;
    nothing runs before its time."""
    operations = [put_member(list_id, f"reader{n}@books.dev", n) for n in range(100)]
    batch = client.submit_batch(operations)
    seen = [batch.status]
    for _ in range(6):
        rig.advance(1)
        seen.append(client.get_batch(batch.id).status)
    assert seen == [
        "pending",
        "preprocessing",
        "started",
        "started",
        "finalizing",
        "finished",
        "finished",
    ]
    finished = client.get_batch(batch.id)
    assert (finished.total_operations, finished.finished_operations) == (100, 100)
    assert finished.completed_at is not None
    assert rig.mailchimp.member_count(list_id) == 100


def test_operations_run_progressively_while_started(rig, client, list_id):
    """Half-way through the started phase, half of the operations have run."""
    batch = client.submit_batch([put_member(list_id, f"r{n}@books.dev", n) for n in range(100)])
    rig.advance(3)  # 1 s pending, 1 s preprocessing, then half of 2 s of work
    assert client.get_batch(batch.id).finished_operations == 50
    assert rig.mailchimp.member_count(list_id) == 50


def test_results_are_a_tar_gz_of_json_strings(rig, client, http, list_id):
    """The results archive holds one entry per operation; each response is a JSON string,
    and failed operations count as errored."""
    operations = [
        put_member(list_id, ADA, 1),
        put_member(list_id, "test@test.com", 2),
        BatchOperation(method="GET", path=f"/lists/{list_id}/members/{subscriber_hash(ADA)}"),
    ]
    batch = client.submit_batch(operations)
    rig.advance(10)
    finished = client.get_batch(batch.id)
    assert finished.is_finished
    assert (finished.finished_operations, finished.errored_operations) == (3, 1)
    archive = http.get(finished.response_body_url).content
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        entries = [json.loads(tar.extractfile(m).read()) for m in tar if m.isfile()]
    rows = [row for entry in entries for row in entry]
    assert all(isinstance(row["response"], str) for row in rows)
    assert [row["status_code"] for row in rows] == [200, 400, 200]
    results = client.get_batch_results(finished)
    assert [r.operation_id for r in results] == ["op-1", "op-2", None]
    assert "looks fake or invalid" in results[1].response["detail"]


def test_results_are_served_by_the_emulator_host_without_credentials(rig, client, list_id):
    """response_body_url points at the emulator's own host and needs no API key."""
    batch = client.submit_batch([put_member(list_id, ADA, 1)])
    rig.advance(10)
    url = client.get_batch(batch.id).response_body_url
    assert url == f"https://us6.api.mailchimp.com/batch-results/{batch.id}.tar.gz"
    import httpx

    with httpx.Client(transport=rig.transport) as anonymous:
        assert anonymous.get(url).status_code == 200


def test_batches_are_listed_and_deleted(rig, http, client, list_id):
    """GET /batches lists the account's batches; DELETE stops and removes one."""
    batch = client.submit_batch([put_member(list_id, ADA, 1)])
    assert http.get("/batches").json()["total_items"] == 1
    assert http.delete(f"/batches/{batch.id}").status_code == 204
    rig.advance(10)
    assert http.get(f"/batches/{batch.id}").status_code == 404
    assert rig.mailchimp.get_member(list_id, ADA) is None


def test_malformed_operations_are_refused(http):
    """An operation without a method, or with a body that is not a JSON string, is a 400."""
    response = http.post("/batches", json={"operations": [{"path": "/lists"}]})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (400, "operations[0]")
    response = http.post(
        "/batches", json={"operations": [{"method": "POST", "path": "/lists", "body": {}}]}
    )
    assert response.status_code == 400
