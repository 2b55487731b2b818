"""Fixtures for the storage tests: the throw-away PostgreSQL server and store specs.

A spec names a store so that a child process can open it too (see store_workers.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.storage.pg_server import FAST, HOW_TO_ENABLE, PgServer, find_binaries

_schema_numbers = itertools.count(1)
_POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server for the whole session, or a skip saying how to get one."""
    bindir = find_binaries()
    if bindir is None:
        pytest.skip(HOW_TO_ENABLE)
    with PgServer(bindir, settings=FAST) as server:
        yield server


@pytest.fixture
def pg_schema(pg_server: PgServer) -> str:
    """A schema name no other test uses, so each test starts from an empty store."""
    return f"test_{next(_schema_numbers)}"


def _spec(kind: str, request: pytest.FixtureRequest, tmp_path) -> tuple[str, ...]:
    if kind == "memory":
        return ("memory",)
    if kind == "sqlite":
        return ("sqlite", str(tmp_path / "state.sqlite3"))
    server = request.getfixturevalue("pg_server")
    return ("postgres", server.conninfo, request.getfixturevalue("pg_schema"))


@pytest.fixture(params=["sqlite", _POSTGRES])
def database_spec(request, tmp_path) -> tuple[str, ...]:
    """The spec of an empty database store: SQLite, then PostgreSQL."""
    return _spec(request.param, request, tmp_path)


@pytest.fixture(params=["memory", "sqlite", _POSTGRES])
def store_spec(request, tmp_path) -> tuple[str, ...]:
    """The spec of an empty store of each kind pdmc ships."""
    return _spec(request.param, request, tmp_path)
