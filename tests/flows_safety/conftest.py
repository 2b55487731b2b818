"""Fixtures for the safety proofs: fresh account pairs on the emulator (see ``world.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.flows_safety.world import World, make_world


@pytest.fixture
def world() -> World:
    """A fresh world: forty seeded contacts, an in-memory store, webhooks wired."""
    return make_world(contacts=40, seed=5)


@pytest.fixture
def sqlite_world(tmp_path: Path) -> World:
    """A fresh world whose state lives in a SQLite file, as deployments keep it."""
    return make_world(sqlite=tmp_path / "state.sqlite3")
