"""What near-instant updates cost: k person changes handled as webhooks, then the next run.

Each size settles a Pipedrive-filter flow, registers its webhooks, changes k plain
persons in the app and delivers the events one after another; then the flow's
scheduled run comes.
"""

from __future__ import annotations

import pytest
from attrs import frozen

from tests.flows_cost.scenarios import Spent, near_instant


@frozen
class _Runs:
    changed: int
    events: Spent
    after: Spent


@pytest.fixture(
    scope="module",
    params=[pytest.param((1_000, 10), id="1k"), pytest.param((10_000, 100), id="10k")],
)
def runs(request: pytest.FixtureRequest) -> _Runs:
    """The deliveries of k changes and the scheduled run after them, priced."""
    persons, changed = request.param
    events, after = near_instant(persons, changed)
    return _Runs(changed, events, after)


def test_each_event_reads_its_person_with_one_get(runs: _Runs) -> None:
    """An event's person is read with a get (1 token), never a list call (10 tokens)."""
    assert runs.events.calls("getPerson") == runs.changed
    assert runs.events.calls("getPersons") == 0


def test_each_event_writes_its_member_once(runs: _Runs) -> None:
    """Every change reaches Mailchimp in one write: a batch upsert, or a move for an address."""
    moves = runs.changed // 10  # every tenth change is a new address, and nothing else
    assert runs.events.calls("postListsId") == runs.changed - moves
    assert runs.events.calls("patchListsIdMembersId") == moves


def test_events_cost_a_bounded_price_each(runs: _Runs) -> None:
    """Per event: at most 11 Pipedrive tokens (the field catalog's 10 and the get's 1)."""
    assert runs.events.tokens <= 11 * runs.changed


def test_the_run_after_the_events_finds_nothing_to_write(runs: _Runs) -> None:
    """Changes synced by webhook are not written again by the scheduled run."""
    assert runs.after.writes == {}
    assert runs.after.report is not None
    assert runs.after.report.counts["unchanged"] == runs.changed
