"""A batch commits whole or not at all, whichever of its parts fails."""

from __future__ import annotations

import pytest

from pdmc.storage.testing import full_batch, make_link, save_flow, snapshot
from tests.storage.store_workers import open_store

PARTS = ["_write_links", "_write_checkpoints", "_write_retries", "_write_outcomes", "_write_events"]


class PowerCutError(Exception):
    """Stands for anything that stops a commit half-way."""


@pytest.mark.parametrize("part", PARTS)
def test_failure_after_any_part_of_a_batch_leaves_no_trace(store_spec, part, monkeypatch):
    """A failure right after any part of a batch was written leaves the store as it was."""
    with open_store(store_spec) as store:
        save_flow(store)
        run = store.start_run("f1")
        store.commit_batch(full_batch("f1", run.run_id, make_link(1), make_link(2)))
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
        with pytest.raises(PowerCutError):
            store.commit_batch(batch)
        assert snapshot(store) == before

        monkeypatch.undo()
        store.commit_batch(batch)
        after = snapshot(store)
        assert after != before
        assert len(after["links"]) == 3
        assert after["checkpoints"]["cursor"] == "moved"
        assert after["events"] == [False, True, True]
