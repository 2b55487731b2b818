"""A spent daily token budget: the run ends at once and the flow resumes after the reset.

Pipedrive refuses every call of a company whose daily token budget is spent, until
midnight UTC. pdmc must neither hammer the service nor block the caller's scheduler
until then: the run that meets the refusal records what it did, parks its remaining
rows in the retry list, ends with a ``QuotaExhaustedError`` in its report, and the
flow is next due at the reset. The story's initial syncs then finish after midnight
exactly as the unbroken story does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from pdmc.emulator import EmulatorClock
from tests.flows_safety import story
from tests.flows_safety.world import World, make_world
from tests.reliability.ledger import check_end

MAX_WAIT = timedelta(seconds=60)
"""The clients' default ``RetryPolicy.max_wait``: no run may wait longer than this."""


def _midnight_after(clock: EmulatorClock) -> datetime:
    now = clock.now()
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def _starved(phase: int, tokens_left: int, stops: list[str]):
    """A story sync whose ``phase`` starts with only ``tokens_left`` tokens of today's budget."""

    def sync(world: World, current: int) -> None:
        if current == phase:
            pipedrive, clock = world.emulator.pipedrive, world.emulator.clock
            pipedrive.spend_tokens(pipedrive.token_budget_left() - tokens_left)
            started = clock.now()
            reports = world.engine.run_due()
            assert clock.now() - started < MAX_WAIT, "the run waited for the budget's reset"
            stopped = {
                report.flow_id: error
                for report in reports
                for error in report.errors
                if error.startswith("QuotaExhaustedError")
            }
            assert stopped, f"no run met the spent budget: {[r.errors for r in reports]}"
            stops.extend(stopped.values())
            midnight = _midnight_after(clock)
            for flow_id in stopped:
                record = world.store.get_flow(flow_id)
                assert record is not None
                assert record.next_run_at is not None
                assert record.next_run_at >= midnight, "a stopped flow is due before the reset"
            refused = pipedrive.log.statuses().get(429, 0)
            assert refused <= len(stopped), "pdmc kept calling after the budget was spent"
        world.settle()

    return sync


@pytest.mark.parametrize(
    ("phase", "tokens_left"),
    [(1, 0), (1, 40), (2, 0), (2, 25)],
    ids=["tag-sync-none-left", "tag-sync-mid-run", "filter-sync-none-left", "filter-sync-mid-run"],
)
def test_a_spent_budget_ends_the_run_and_the_flow_finishes_after_the_reset(phase, tokens_left):
    """A run meeting a spent budget stops without waiting; after midnight it ends as unbroken."""
    stops: list[str] = []
    played = story.play(
        world=make_world(contacts=40, seed=5), sync=_starved(phase, tokens_left, stops)
    )
    reference = story.reference()
    check_end(
        f"token budget spent in phase {phase} with {tokens_left} tokens left",
        played.emulator,
        reference.emulator,
        reference.audience,
        faults=len(stops),
    )
