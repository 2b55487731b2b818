"""The StateStore conformance suite, run against every store pdmc ships."""

from __future__ import annotations

import pytest

from pdmc.storage import MemoryStore, PostgresStore, SQLiteStore
from pdmc.storage.testing import StateStoreContract


class TestMemoryStore(StateStoreContract):
    """MemoryStore follows every rule of the protocol."""

    @pytest.fixture
    def open_store(self, clock):
        store = MemoryStore(clock=clock)
        return lambda: store


class TestSQLiteStore(StateStoreContract):
    """SQLiteStore follows every rule of the protocol, each handle on its own connection."""

    @pytest.fixture
    def open_store(self, clock, tmp_path):
        return lambda: SQLiteStore(tmp_path / "state.sqlite3", clock=clock)


@pytest.mark.postgres
class TestPostgresStore(StateStoreContract):
    """PostgresStore follows every rule of the protocol, on a real PostgreSQL server."""

    @pytest.fixture
    def open_store(self, clock, pg_server, pg_schema):
        return lambda: PostgresStore(pg_server.conninfo, schema=pg_schema, clock=clock)
