"""The engine's memory does not grow with the number of contacts it syncs.

Measured by :func:`tests.flows_cost.scenarios.engine_peak`: tracemalloc's peak over one
initial run, in this process, with the emulator serving from another one (so its
growing state is not counted) and the state store on disk.
"""

from __future__ import annotations

import pytest

from tests.flows_cost.accounts import SYNCABLE_PER_HUNDRED
from tests.flows_cost.scenarios import engine_peak

SMALL, LARGE = 10_000, 100_000


@pytest.mark.slow
def test_engine_peak_memory_is_flat_in_the_number_of_persons() -> None:
    """Syncing ten times as many persons raises the engine's peak memory by less than half."""
    small, large = engine_peak(SMALL), engine_peak(LARGE)
    synced = (SMALL * SYNCABLE_PER_HUNDRED // 100, LARGE * SYNCABLE_PER_HUNDRED // 100)
    assert (small.synced, large.synced) == synced
    assert large.peak_bytes <= 1.5 * small.peak_bytes
