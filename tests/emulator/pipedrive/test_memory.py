"""Memory: what a seeded person costs in the emulator's state."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from pdmc.emulator.pipedrive import PipedriveEmulator

BYTES_PER_PERSON_CEILING = 1_000
"""Measured at about 720 bytes (name, email, phone, custom fields on every other person)."""


def _bytes_per_person(count: int) -> float:
    pipedrive = PipedriveEmulator()
    source = pipedrive.add_person_field("Source", "varchar")
    tier = pipedrive.add_person_field("Tier", "enum", options=["Gold", "Silver"])
    gold = pipedrive.person_field_options(tier)["Gold"]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(count):
            pipedrive.add_person(
                name=f"Person Number{n}",
                emails=[f"person.number{n}@example.com"],
                phones=[f"+3725{n:07d}"],
                custom_fields={source: "Webinar", tier: gold} if n % 2 else None,
                notify=False,
            )
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert pipedrive.person_count() == count
    return (after - before) / count


@pytest.mark.parametrize(
    "count", [5_000, pytest.param(50_000, marks=pytest.mark.slow)], ids=["5k", "50k"]
)
def test_a_seeded_person_stays_under_a_kilobyte(count: int) -> None:
    """Persons added with notify=False cost under 1,000 bytes each, indexes included."""
    assert _bytes_per_person(count) < BYTES_PER_PERSON_CEILING
