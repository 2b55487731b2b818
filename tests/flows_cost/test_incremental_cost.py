"""What an incremental run of a Pipedrive-filter flow costs when k persons changed.

The cost must follow k, not N: every run here comes after the flow settled, k plain
persons changed in the app (a new first name; every tenth a new address), and the
flow ran once more. ``quick`` checks the shape at N = 1,000 and 2,000; ``10k`` the
issue's k = 10, 100 and 1,000 over N = 10,000, and N = 20,000 at k = 100.
"""

from __future__ import annotations

import math

import pytest
from attrs import frozen

from tests.flows_cost.scenarios import Spent, incremental


@frozen
class _Sizes:
    persons: int
    changes: tuple[int, ...]
    fixed_change: int  # compared at persons and twice as many


@frozen
class _Runs:
    sizes: _Sizes
    by_change: dict[int, Spent]
    doubled: Spent


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(_Sizes(1_000, (1, 10, 100), 10), id="quick"),
        pytest.param(_Sizes(10_000, (10, 100, 1_000), 100), id="10k"),
    ],
)
def runs(request: pytest.FixtureRequest) -> _Runs:
    """Incremental runs after k changes, for each k, and at twice the persons for one k."""
    sizes: _Sizes = request.param
    by_change = {k: incremental(sizes.persons, k) for k in sizes.changes}
    return _Runs(sizes, by_change, incremental(2 * sizes.persons, sizes.fixed_change))


def test_incremental_run_writes_exactly_the_changed_persons(runs: _Runs) -> None:
    """After k changes the run updates k members and creates none."""
    for k, spent in runs.by_change.items():
        assert spent.report is not None
        assert spent.report.counts["updated"] == k
        assert spent.report.counts["created"] == 0


def test_incremental_calls_are_bounded_by_the_changes(runs: _Runs) -> None:
    """Per operation, an incremental run's calls are a function of k alone."""
    for k, spent in runs.by_change.items():
        pages = math.ceil(k / 500)
        assert spent.calls("getPersons") <= 2 * pages  # the filter's, then everyone's, since
        assert spent.calls("postListsId") <= pages
        assert spent.calls("patchListsIdMembersId") <= k // 10  # one per address moved
        assert spent.calls("getListsIdMembers") <= 2
        rest = spent.calls_total - sum(
            spent.calls(op)
            for op in ("getPersons", "postListsId", "patchListsIdMembersId", "getListsIdMembers")
        )
        assert rest <= 3  # the filter check and the two field catalogs


def test_incremental_calls_grow_with_the_changes(runs: _Runs) -> None:
    """More changed persons cost more calls: the run's price tracks k."""
    totals = [runs.by_change[k].calls_total for k in sorted(runs.by_change)]
    assert totals == sorted(totals)
    assert totals[0] < totals[-1]


def test_incremental_cost_does_not_grow_with_the_audience(runs: _Runs) -> None:
    """The same k changes cost the same calls and tokens over twice as many persons."""
    same_k = runs.by_change[runs.sizes.fixed_change]
    assert runs.doubled.contacts == 2 * same_k.contacts
    assert {op: c.requests for op, c in runs.doubled.pipedrive.items()} == {
        op: c.requests for op, c in same_k.pipedrive.items()
    }
    assert {op: c.requests for op, c in runs.doubled.mailchimp.items()} == {
        op: c.requests for op, c in same_k.mailchimp.items()
    }
    assert runs.doubled.tokens == same_k.tokens
