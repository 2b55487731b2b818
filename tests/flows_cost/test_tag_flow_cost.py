"""What a Mailchimp-tag flow to Pipedrive costs, and that it never searches nor duplicates.

Each size runs one story over a tag account (nearly a third of its addresses belong
to Pipedrive persons already, some held by two persons): the initial run, the run
after it, an idle run, then k members edit their profiles and k new members join the
tag (k = N/100), the run that syncs them, and one more run.
"""

from __future__ import annotations

import math

import pytest
from attrs import frozen

from tests.flows_cost.scenarios import Spent, TagStory


@frozen
class _Story:
    members: int
    changed: int
    runs: dict[str, Spent]
    persons_before: int
    persons_after: int
    held_more_than_once: frozenset[str]
    duplicated_before: frozenset[str]


@pytest.fixture(
    scope="module", params=[pytest.param(1_000, id="1k"), pytest.param(10_000, id="10k")]
)
def story(request: pytest.FixtureRequest) -> _Story:
    """A tag flow's runs, priced, with the Pipedrive persons counted before and after."""
    members = request.param
    changed = members // 100
    tag = TagStory.start(members)
    persons_before = sum(1 for _ in tag.emulator.pipedrive.iter_persons())
    runs = {"initial": tag.run("initial")}
    for name in ("after initial", "idle"):
        tag.later()
        runs[name] = tag.run(name)
    tag.change(changed)
    tag.later()
    runs["changed"] = tag.run("changed", changed=changed)
    tag.later()
    runs["settled"] = tag.run("settled")
    held = tag.persons_per_address()
    return _Story(
        members,
        changed,
        runs,
        persons_before,
        sum(1 for _ in tag.emulator.pipedrive.iter_persons()),
        frozenset(address for address, n in held.items() if n > 1),
        tag.account.duplicated_emails,
    )


def test_no_run_searches_pipedrive(story: _Story) -> None:
    """Neither the initial run nor any later one calls Pipedrive's person search."""
    for spent in story.runs.values():
        assert spent.calls("searchPersons") == 0, spent.scenario


def test_no_person_is_created_twice(story: _Story) -> None:
    """Only addresses that two persons held before any sync are held by two persons after."""
    assert story.held_more_than_once == story.duplicated_before
    created = sum(spent.report.counts["created"] for spent in story.runs.values() if spent.report)
    assert story.persons_after - story.persons_before == created


def test_idle_tag_runs_make_no_writes(story: _Story) -> None:
    """Runs that find nothing changed send no write of any kind to either service."""
    for name in ("after initial", "idle", "settled"):
        assert story.runs[name].writes == {}, name


def test_idle_tag_run_costs_pipedrive_a_constant(story: _Story) -> None:
    """An idle run asks Pipedrive only for its field catalog and the persons changed since."""
    idle = story.runs["idle"]
    assert {op: c.requests for op, c in idle.pipedrive.items()} == {
        "getPersonFields": 1,
        "getPersons": 1,
    }


def test_changed_members_cost_pipedrive_in_proportion(story: _Story) -> None:
    """k edited and k new members cost a create or a read and an update each, no more."""
    changed, k = story.runs["changed"], story.changed
    assert changed.report is not None
    assert changed.calls("addPerson") == changed.report.counts["created"] <= k
    assert changed.calls("updatePerson") == changed.report.counts["updated"] <= k
    assert changed.calls("getPerson") <= k  # the person's current values, before an update
    assert changed.pipedrive_calls <= 3 * k + 2


def test_each_run_reads_the_tag_in_pages_of_1000(story: _Story) -> None:
    """Mailchimp reads of a tag pass: one page per 1000 tagged members."""
    for spent in story.runs.values():
        pages = math.ceil((story.members + story.changed) / 1000)
        assert spent.calls("getListsIdSegmentsIdMembers") <= pages
