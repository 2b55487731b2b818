"""No duplicates after a failure at any write: re-runs settle on the unbroken result.

The story (see ``story.py``) is two initial syncs over the same contacts. Each write
operation of the story fails once, at its first or second call, in the three ways a
write can fail without a clean answer: the service acted and the client timed out,
the service acted and the body arrived cut in half, or the connection broke before
the request was read. The flows then run until they settle, and both services must
hold exactly what the unbroken story leaves: no person or member twice, none lost,
no value different.
"""

from __future__ import annotations

from typing import Any

import pytest

from pdmc.emulator import FaultKind
from tests.flows_safety import story
from tests.flows_safety.world import FaultOnCall

WRITES = ("addPerson", "updatePerson", "postListsId", "patchListsIdMembersId")
FAILURES = (FaultKind.TIMEOUT_AFTER_COMMIT, FaultKind.TRUNCATED_JSON, FaultKind.CONNECTION_RESET)


def test_the_story_makes_every_write_the_failures_aim_at():
    """The unbroken story calls each aimed-at write twice or more, the batch subscribe once."""
    calls = story.reference_writes()
    assert {op: calls.get(op, 0) for op in WRITES} == {
        "addPerson": len(story.NEW_MEMBERS),
        "updatePerson": 3,
        "postListsId": 1,
        "patchListsIdMembersId": 3,
    }


def _cases() -> list[Any]:
    """Every write of the story failing each way, at its first and (if any) second call."""
    return [
        pytest.param(operation, kind, call, id=f"{operation}-{kind.value}-call{call}")
        for operation in WRITES
        for kind in FAILURES
        for call in ((1,) if operation == "postListsId" else (1, 2))
    ]


@pytest.mark.parametrize(("operation", "kind", "call"), _cases())
def test_a_failed_write_ends_as_the_unbroken_run(operation, kind, call):
    """A write failing without a clean answer ends, after re-runs, exactly as the unbroken run."""
    plan = FaultOnCall(kind, operation, call)
    world = story.play(faults=plan)
    assert plan.injected[kind] == 1
    assert story.outcome(world) == story.outcome(story.reference())
