"""What a Pipedrive-filter flow costs: the initial run, idle re-runs and the daily full pass.

Each size runs one story: the initial run, the run after it, an idle run, and the
daily full pass a day later. ``1k`` checks the properties quickly; ``10k`` checks
the issue's bounds at N = 10,000.
"""

from __future__ import annotations

import math

import pytest
from attrs import frozen

from tests.flows_cost.accounts import SYNCABLE_PER_HUNDRED
from tests.flows_cost.scenarios import CONSTANT_CALLS, FilterStory, Spent, initial_bound

_DAY = 24 * 3600
_PAGED = ("getPersons", "postListsId", "getListsIdMembers")
_IDLE_CALLS = {
    "getFilter": 1,  # the filter still exists
    "getPersonFields": 1,  # the field catalogs
    "getListsIdMergeFields": 1,
    "getPersons": 2,  # the filter's persons changed since, then every person changed since
    "getListsIdMembers": 2,  # members changed since, archived members changed since
}
"""Every call of an incremental run that finds nothing changed."""


@frozen
class _Runs:
    persons: int
    initial: Spent
    after_initial: Spent
    idle: Spent
    full_pass: Spent


@pytest.fixture(
    scope="module", params=[pytest.param(1_000, id="1k"), pytest.param(10_000, id="10k")]
)
def runs(request: pytest.FixtureRequest) -> _Runs:
    """One filter flow's first runs, each priced by the emulators' request logs."""
    persons = request.param
    story = FilterStory.start(persons)
    initial = story.run("initial")
    story.later()
    after_initial = story.run("the run after the initial one")
    story.later()
    idle = story.run("idle")
    story.later(_DAY)
    full_pass = story.run("idle daily full pass")
    return _Runs(persons, initial, after_initial, idle, full_pass)


def test_initial_run_reads_and_writes_in_full_pages(runs: _Runs) -> None:
    """The initial run lists persons and writes members 500 a call, reads members 1000 a call."""
    pages = math.ceil(runs.persons / 500)
    assert runs.initial.calls("getPersons") <= pages
    assert runs.initial.calls("postListsId") <= pages
    # The member index reads the audience (never larger than N here), then archived members.
    assert runs.initial.calls("getListsIdMembers") <= math.ceil(runs.persons / 1000) + 1


def test_initial_run_beyond_its_pages_makes_only_the_constant_calls(runs: _Runs) -> None:
    """Besides its pages, the initial run makes each of the named constant calls at most once."""
    others = {**runs.initial.writes, **_reads(runs.initial)}
    for op in _PAGED:
        others.pop(op, None)
    assert set(others) <= set(CONSTANT_CALLS)
    assert all(n == 1 for n in others.values()), others
    assert runs.initial.calls_total <= initial_bound(runs.persons)


def test_initial_run_syncs_every_person_it_may(runs: _Runs) -> None:
    """The bound is not bought by skipping work: every person with a usable address is synced."""
    report = runs.initial.report
    assert report is not None
    synced = report.counts["created"] + report.counts["updated"] + report.counts["unchanged"]
    assert synced == runs.persons * SYNCABLE_PER_HUNDRED // 100


def test_initial_run_spends_ten_tokens_per_page_of_persons(runs: _Runs) -> None:
    """Pipedrive tokens of the initial run: 10 a page of 500 persons, plus the constant calls."""
    constant = sum(
        counts.tokens for op, counts in runs.initial.pipedrive.items() if op != "getPersons"
    )
    assert runs.initial.pipedrive["getPersons"].tokens == 10 * math.ceil(runs.persons / 500)
    assert constant <= 14  # the filter (2), the company (2), the person fields (10)


def test_report_prices_the_run_as_the_services_counted_it(runs: _Runs) -> None:
    """The SyncReport's calls and tokens equal what both emulators answered and charged."""
    for spent in (runs.initial, runs.after_initial, runs.idle, runs.full_pass):
        assert spent.report is not None
        assert spent.report.api_calls == spent.calls_total
        assert spent.report.tokens == spent.tokens


def test_idle_reruns_make_no_writes(runs: _Runs) -> None:
    """Runs that find nothing changed, incremental or full, send no write of any kind."""
    for spent in (runs.after_initial, runs.idle, runs.full_pass):
        assert spent.writes == {}, spent.scenario
        assert spent.report is not None
        assert spent.report.writes == 0


def test_idle_incremental_run_costs_a_constant(runs: _Runs) -> None:
    """An idle incremental run makes the same few calls whatever the number of persons."""
    assert {op: runs.idle.calls(op) for op in _reads(runs.idle)} == _IDLE_CALLS


def test_run_after_the_initial_one_reads_back_the_written_members_once(runs: _Runs) -> None:
    """The run after a writing run reads back the members it wrote, once, and nothing else more."""
    report = runs.initial.report
    assert report is not None
    written = report.writes
    assert runs.after_initial.calls("getListsIdMembers") <= math.ceil(written / 1000) + 1
    assert runs.after_initial.pipedrive_calls == sum(
        n for op, n in _IDLE_CALLS.items() if not op.startswith("getLists")
    )


def test_daily_full_pass_reads_every_page_and_writes_nothing(runs: _Runs) -> None:
    """The daily full pass walks the filter again and writes nothing when nothing changed."""
    assert runs.full_pass.calls("getPersons") == math.ceil(runs.persons / 500)
    # A person whose address another person holds costs one lookup of the holder.
    assert runs.full_pass.calls("getPerson") <= runs.persons // 100
    assert runs.full_pass.writes == {}


def _reads(spent: Spent) -> dict[str, int]:
    every = {**spent.pipedrive, **spent.mailchimp}
    return {op: c.requests for op, c in every.items() if op not in spent.writes}
