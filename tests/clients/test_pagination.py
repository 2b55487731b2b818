"""Pagination: memory stays flat over 100,000 items, pages are walkable, loops are refused."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable, Iterable
from typing import Any

import httpx
import pytest

from pdmc.clients import MailchimpClient, Page, PageIterator, PipedriveClient, RetryPolicy
from pdmc.errors import PaginationError
from tests.cassettes.build_cassettes import LIST_ID, MAILCHIMP_KEY, PIPEDRIVE_TOKEN, member_json
from tests.clients._fakes import Script
from tests.clients.conftest import ContractTraffic
from tests.contracts import documented_example

TOTAL = 100_000
PIPEDRIVE_PAGE = 500
MAILCHIMP_PAGE = 1000
PEAK_MULTIPLE = 2
"""A walk over every page may peak at most this many times one page's footprint: the
page being read, plus the previous page's items until the next one replaces them."""

# Pages are spelled as JSON text on demand, so the fake service allocates little and
# the measurement is about the client. Items carry what a sync reads: ids, names,
# addresses and change times (the shapes of getPersons and List_Members).
_PERSON = (
    '{{"id":{n},"name":"Person {n}","first_name":"Person","last_name":"{n}","owner_id":1,'
    '"org_id":null,"update_time":"2024-01-01T00:00:00Z","is_deleted":false,'
    '"emails":[{{"value":"person{n}@example.com","primary":true,"label":"work"}}]}}'
)
_MEMBER = (
    '{{"id":"{n:032x}","email_address":"member{n}@example.com","status":"subscribed",'
    '"merge_fields":{{"FNAME":"Member","LNAME":"{n}"}},"last_changed":"2024-01-01T00:00:00+00:00",'
    '"list_id":"' + LIST_ID + '"}}'
)


def _json_page(items: str, tail: str) -> httpx.Response:
    return httpx.Response(
        200, content=f"{{{items}{tail}}}".encode(), headers={"content-type": "application/json"}
    )


def _pipedrive_pages(request: httpx.Request) -> httpx.Response:
    """Cursor pages of 500 generated persons, built only when asked for."""
    assert request.url.params["limit"] == str(PIPEDRIVE_PAGE)
    start = int(request.url.params.get("cursor", "0"))
    end = min(start + PIPEDRIVE_PAGE, TOTAL)
    persons = ",".join(_PERSON.format(n=n) for n in range(start + 1, end + 1))
    cursor = f'"{end}"' if end < TOTAL else "null"
    return _json_page(
        f'"success":true,"data":[{persons}]', f',"additional_data":{{"next_cursor":{cursor}}}'
    )


def _mailchimp_pages(request: httpx.Request) -> httpx.Response:
    """count/offset pages of 1000 generated members, built only when asked for."""
    count, offset = int(request.url.params["count"]), int(request.url.params["offset"])
    assert count == MAILCHIMP_PAGE
    members = ",".join(_MEMBER.format(n=n) for n in range(offset, min(offset + count, TOTAL)))
    return _json_page(f'"members":[{members}]', f',"list_id":"{LIST_ID}","total_items":{TOTAL}')


def _traced(work: Callable[[], object]) -> tuple[int, int]:
    """The peak bytes allocated while ``work`` ran, and the bytes still held after it."""
    gc.collect()
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        work()
        _, peak = tracemalloc.get_traced_memory()
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - baseline, held - baseline


def _count_items(pages: Iterable[Page[object]], *, collect: bool) -> int:
    """Count every item of every page; with ``collect``, run the cyclic GC between pages.

    httpx keeps each response in a reference cycle (response and bound stream), which
    only the cyclic collector frees, at times that depend on the whole process. A
    collection at each page boundary makes the peak measure what the client keeps
    reachable, which is the claim under test, rather than when the collector runs.
    """
    count = 0
    for page in pages:
        for _ in page.items:
            count += 1
        if collect:
            gc.collect()
    return count


def _assert_flat(
    one_page: Callable[[], object],
    listing: Callable[[], PageIterator[Any]],
    node: pytest.Item,
    name: str,
) -> None:
    # Untraced first: the contract check validates each request of the walk now, and
    # converters and caches get built, so the traced runs measure the client alone.
    assert _count_items(listing().pages(), collect=False) == TOTAL
    gc.freeze()  # the collections below then scan only what the walk allocates
    try:
        page_peak, _ = _traced(one_page)
        counted: list[int] = []
        walk_peak, walk_held = _traced(
            lambda: counted.append(_count_items(listing().pages(), collect=True))
        )
    finally:
        gc.unfreeze()
    # Kept on the test item, so a JUnit report (junit_family=xunit1) shows the figures.
    node.user_properties += [(f"{name}_one_page_peak_bytes", page_peak)]
    node.user_properties += [(f"{name}_all_items_peak_bytes", walk_peak)]
    node.user_properties += [(f"{name}_held_after_walk_bytes", walk_held)]
    assert counted == [TOTAL]
    assert walk_peak < PEAK_MULTIPLE * page_peak, (name, walk_peak, page_peak)
    # What stays is bounded caches (urllib's urlsplit remembers the last 128 URLs, about
    # 100 kB here), never the items: far less than one page.
    assert walk_held < page_peak // 4, (name, walk_held)


@pytest.mark.slow
@pytest.mark.responses_unchecked("100,000 generated persons; the requests are checked")
def test_pipedrive_walk_of_100000_persons_holds_one_page_at_a_time(
    contract_traffic: ContractTraffic, request: pytest.FixtureRequest
) -> None:
    """Walking 200 cursor pages peaks within a small multiple of one page's footprint."""
    contract_traffic.keep_requests = False
    client = PipedriveClient(
        PIPEDRIVE_TOKEN,
        transport=httpx.MockTransport(_pipedrive_pages),
        retry=RetryPolicy(attempts=1),
    )
    _assert_flat(
        lambda: next(iter(client.list_persons().pages())),
        client.list_persons,
        request.node,
        "pipedrive",
    )
    assert client.usage.by_operation["getPersons"].requests == 1 + 2 * TOTAL // PIPEDRIVE_PAGE


@pytest.mark.slow
@pytest.mark.responses_unchecked("100,000 generated members; the requests are checked")
def test_mailchimp_walk_of_100000_members_holds_one_page_at_a_time(
    contract_traffic: ContractTraffic, request: pytest.FixtureRequest
) -> None:
    """Walking 100 count/offset pages peaks within a small multiple of one page's footprint."""
    contract_traffic.keep_requests = False
    client = MailchimpClient(
        MAILCHIMP_KEY,
        transport=httpx.MockTransport(_mailchimp_pages),
        retry=RetryPolicy(attempts=1),
    )
    _assert_flat(
        lambda: next(iter(client.list_members(LIST_ID).pages())),
        lambda: client.list_members(LIST_ID),
        request.node,
        "mailchimp",
    )
    assert client.usage.requests == 1 + 2 * TOTAL // MAILCHIMP_PAGE


def test_a_repeated_cursor_raises_pagination_error() -> None:
    """A service that hands back a cursor it already gave stops the walk with an error."""

    def page(cursor: str | None, next_cursor: str) -> httpx.Response:
        body = documented_example("getPersons")
        body["additional_data"]["next_cursor"] = next_cursor
        return httpx.Response(200, json=body)

    script = Script([page(None, "a"), page("a", "b"), page("b", "a")])
    client = PipedriveClient(PIPEDRIVE_TOKEN, transport=script.transport)
    pages = client.list_persons().pages()
    assert [next(pages).number, next(pages).number] == [1, 2]
    with pytest.raises(PaginationError, match="twice"):
        next(pages)
    assert len(script.requests) == 3


def test_a_start_that_does_not_move_forward_raises_pagination_error() -> None:
    """A v1 listing whose next_start does not advance is refused instead of looping."""
    body = documented_example("getDealParticipants")
    body["additional_data"]["pagination"] = {
        "start": 0,
        "limit": 500,
        "more_items_in_collection": True,
        "next_start": 0,
    }
    script = Script([httpx.Response(200, json=body)])
    client = PipedriveClient(PIPEDRIVE_TOKEN, transport=script.transport)
    with pytest.raises(PaginationError, match="next_start=0"):
        list(client.list_deal_participants(1))


def test_list_valued_filters_can_be_walked() -> None:
    """Filters given as lists (ids, include_fields) are sent comma-separated, page by page."""
    body = documented_example("getPersons")
    body["additional_data"]["next_cursor"] = None
    script = Script([httpx.Response(200, json=body)])
    client = PipedriveClient(PIPEDRIVE_TOKEN, transport=script.transport)
    persons = list(client.list_persons(ids=[1, 2], include_fields=["marketing_status"]))
    assert [p.id for p in persons] == [1]
    params = script.requests[0].url.params
    assert (params["ids"], params["include_fields"]) == ("1,2", "marketing_status")


def test_each_iteration_starts_again_from_the_first_page() -> None:
    """Iterating a listing twice sends the first page's request twice."""
    body = documented_example("getPipelines")
    body["additional_data"]["next_cursor"] = None
    script = Script([httpx.Response(200, json=body)] * 2)
    listing = PipedriveClient(PIPEDRIVE_TOKEN, transport=script.transport).list_pipelines()
    assert [p.id for p in listing] == [p.id for p in listing] == [1]
    assert [str(r.url) for r in script.requests] == [
        "https://api.pipedrive.com/api/v2/pipelines?limit=500"
    ] * 2


def test_mailchimp_walk_stops_at_total_items_without_an_empty_page() -> None:
    """A count/offset walk ends when offset reaches total_items, with no extra request."""

    def page(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        emails = [f"m{n}@example.com" for n in range(offset, min(offset + 2, 4))]
        body = {"members": [member_json(e) for e in emails], "list_id": LIST_ID, "total_items": 4}
        return httpx.Response(200, json=body)

    script = Script([page, page])
    client = MailchimpClient(MAILCHIMP_KEY, transport=script.transport, page_size=2)
    assert len(list(client.list_members(LIST_ID))) == 4
    assert [r.url.params["offset"] for r in script.requests] == ["0", "2"]
