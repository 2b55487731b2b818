"""The built-in flows on a realistic seeded account: awkward data, both directions at once."""

from __future__ import annotations

import pytest

from pdmc.emulator import SeedSummary
from pdmc.flows import DEFAULT_INTERVAL, Action
from tests.flows.conftest import Scene, filter_conditions


@pytest.fixture
def seeded(scene: Scene) -> SeedSummary:
    """200 contacts: names in many scripts, shared and invalid addresses, opted-out members."""
    return scene.emulator.seed(contacts=200, seed=11)


def test_a_seeded_account_syncs_both_ways_keeps_every_status_and_settles(
    scene: Scene, seeded: SeedSummary
):
    """A filter flow and a tag flow sync a realistic account, change no status, then rest."""
    statuses = {email: m["status"] for email, m in scene.members().items()}
    with_email = scene.emulator.pipedrive.add_filter(
        "With an email",
        filter_conditions(scene.emulator.pipedrive.person_field_id("email"), "IS NOT NULL", None),
    )
    hot_leads = scene.filters_flow(
        with_email, seeded.filters["Software industry"], flow_id="hot-leads", tag="Hot lead"
    )
    customers = scene.segments_flow(
        seeded.tags["Customer"], seeded.tags["Newsletter"], flow_id="customers"
    )

    first = scene.tick()

    assert set(first) == {hot_leads.id, customers.id}
    for report in first.values():
        assert report.counts["failed"] == 0
        assert report.errors == ()
    written = [o for o in first[hot_leads.id].outcomes if o.action is Action.CREATED]
    assert written
    members = scene.members()
    for outcome in written:
        assert members[outcome.email or ""]["status"] == "subscribed"
        assert "Hot lead" in scene.tag_names(outcome.email or "")
    assert {e: m["status"] for e, m in members.items() if e in statuses} == statuses
    persons = scene.persons()
    for outcome in first[customers.id].outcomes:
        if outcome.action in {Action.CREATED, Action.UPDATED}:
            assert outcome.email in persons

    scene.later(DEFAULT_INTERVAL)
    second = scene.tick()
    assert {flow_id: report.writes for flow_id, report in second.items()} == {
        hot_leads.id: 0,
        customers.id: 0,
    }
