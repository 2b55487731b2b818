"""A batch commits whole or not at all, whichever of its parts fails."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pdmc.storage.testing import (
    CLAIM_KEY,
    ManualClock,
    full_batch,
    make_link,
    person_key,
    save_flow,
    snapshot,
)
from tests.storage.store_workers import open_store

PARTS = [
    "_write_links",
    "_write_checkpoints",
    "_write_retries",
    "_write_outcomes",
    "_write_events",
    "_write_memberships",
    "_release_claims",
]
MINUTE = timedelta(minutes=1)


class PowerCutError(Exception):
    """Stands for anything that stops a commit half-way."""


@pytest.mark.parametrize("part", PARTS)
def test_failure_after_any_part_of_a_batch_leaves_no_trace(store_spec, part, monkeypatch):
    """A failure right after any part of a batch was written leaves the store as it was."""
    clock = ManualClock()
    with open_store(store_spec, clock) as store:
        save_flow(store)
        run = store.start_run("f1")
        store.commit_batch(full_batch("f1", run.run_id, make_link(1), make_link(2)))
        clock.advance(MINUTE)
        claim = store.claim(CLAIM_KEY, "worker-a", 10 * MINUTE)
        assert claim is not None
        before = snapshot(store)
        write_part = getattr(type(store), part)

        def write_then_fail(self, *args):
            write_part(self, *args)
            raise PowerCutError(part)

        monkeypatch.setattr(type(store), part, write_then_fail)
        batch = full_batch(
            "f1", run.run_id, make_link(1, mailchimp_fingerprint="mc-new"), make_link(3)
        )
        batch.set_checkpoint("cursor", "moved")
        batch.mark_event("pipedrive", "2")
        batch.end_pass(clock.now())
        batch.release_claim(claim)
        with pytest.raises(PowerCutError):
            store.commit_batch(batch)
        assert snapshot(store) == before
        assert store.claim(CLAIM_KEY, "worker-b", MINUTE) is None

        monkeypatch.undo()
        store.commit_batch(batch)
        after = snapshot(store)
        assert after != before
        assert len(after["links"]) == 3
        assert after["checkpoints"]["cursor"] == "moved"
        assert after["events"] == [False, True, True]
        assert after["memberships"] == {
            person_key(1): True,
            person_key(2): False,
            person_key(3): True,
        }
        taken = store.claim(CLAIM_KEY, "worker-b", MINUTE)
        assert taken is not None
        assert taken.taken_over is False
