"""The clients' operation tables agree with the contracts: ids, methods, paths, token costs."""

from __future__ import annotations

import re

import httpx
import pytest

from pdmc.clients import mailchimp as mc
from pdmc.clients import pipedrive as pd
from pdmc.clients._core import Operation
from tests.contracts import operation_id_for, pipedrive_token_costs, token_cost_for

_SAMPLE_PATH_VALUES = {
    "id": "1",
    "list_id": "8e1b7a6c2d",
    "subscriber_hash": "3e3417d7ef77d5932a6734b916515ed5",
    "segment_id": "4242",
    "webhook_id": "3a1f5b2c9d",
    "batch_id": "b7c2d9e1f0",
}


def _sample_request(base: str, operation: Operation) -> httpx.Request:
    path = re.sub(r"\{(\w+)\}", lambda m: _SAMPLE_PATH_VALUES[m.group(1)], operation.path)
    return httpx.Request(operation.method, base + path)


def test_every_pipedrive_operation_costs_what_its_contract_says() -> None:
    """Each entry's token cost equals the contract's x-token-cost for its method and path."""
    costs = pipedrive_token_costs()
    mismatches = {
        op.id: (op.cost, costs.get((op.method, op.path)))
        for op in pd.OPERATIONS.values()
        if costs.get((op.method, op.path)) != op.cost
    }
    assert mismatches == {}


@pytest.mark.parametrize("operation", pd.OPERATIONS.values(), ids=list(pd.OPERATIONS))
def test_pipedrive_operation_ids_match_the_contract(operation: Operation) -> None:
    """A request on an entry's path is the contract's operation of that id and cost."""
    request = _sample_request("https://api.pipedrive.com", operation)
    assert operation_id_for(request) == operation.id
    assert token_cost_for(request) == operation.cost


@pytest.mark.parametrize("operation", mc.OPERATIONS.values(), ids=list(mc.OPERATIONS))
def test_mailchimp_operation_ids_match_the_contract(operation: Operation) -> None:
    """A request on an entry's path is the contract's operation of that id, without tokens."""
    request = _sample_request("https://us6.api.mailchimp.com", operation)
    assert operation_id_for(request) == operation.id
    assert token_cost_for(request) is None
    assert operation.cost == 0


def test_only_posts_that_repeat_harmlessly_are_retried_after_an_unknown_outcome() -> None:
    """POSTs are idempotent only where repeating cannot create twice (tags, batch subscribe)."""
    retried_posts = {
        op.id
        for ops in (pd.OPERATIONS, mc.OPERATIONS)
        for op in ops.values()
        if op.method == "POST" and op.idempotent
    }
    assert retried_posts == {"postListsId", "postListMemberTags", "postListsIdSegmentsId"}
    assert all(
        op.idempotent
        for ops in (pd.OPERATIONS, mc.OPERATIONS)
        for op in ops.values()
        if op.method != "POST"
    )
