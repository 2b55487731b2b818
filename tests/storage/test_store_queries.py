"""The database stores read memberships by key, and end a pass, through the primary key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pdmc.storage import Batch, PostgresStore
from pdmc.storage.testing import ManualClock, person_key, save_flow, track
from tests.storage.store_workers import open_database


@pytest.fixture
def clock():
    """The clock of the store under test."""
    return ManualClock()


@pytest.fixture
def store(database_spec, clock):
    """A database store holding flow f1 with 20,000 tracked contacts, and flow f2 with one."""
    with open_database(database_spec, clock) as store:
        save_flow(store)
        save_flow(store, "f2")
        for first in range(0, 20_000, 500):
            track(store, *(person_key(n) for n in range(first, first + 500)))
        track(store, person_key(1), flow_id="f2")
        yield store


@pytest.fixture
def statements(store, monkeypatch):
    """Every statement the store runs from now on, with its parameters."""
    with store._read() as session:
        session_class = type(session)
    seen: list[tuple[str, tuple[object, ...]]] = []
    for name in ("rows", "run"):
        original = getattr(session_class, name)

        def record(self, sql, params=(), *, original=original):
            seen.append((sql, tuple(params)))
            return original(self, sql, params)

        monkeypatch.setattr(session_class, name, record)
    return seen


def _plan(store, sql, params):
    """The database's plan for a statement, as text (PostgreSQL told to avoid table scans)."""
    with store._write() as session:
        if isinstance(store, PostgresStore):
            session.run("SET LOCAL enable_seqscan = off")
            return "\n".join(row[0] for row in session.rows(f"EXPLAIN {sql}", params))
        return "\n".join(str(row[-1]) for row in session.rows(f"EXPLAIN QUERY PLAN {sql}", params))


def _uses_primary_key(plan, *columns):
    """Whether the plan searches the memberships' primary key on all of ``columns``."""
    if "pdmc_memberships_pkey" in plan:  # PostgreSQL
        (condition,) = [line for line in plan.splitlines() if "Index Cond" in line]
        return "Seq Scan" not in plan and all(column in condition for column in columns)
    return (  # SQLite
        "SEARCH pdmc_memberships USING INDEX sqlite_autoindex_pdmc_memberships_1" in plan
        and all(f"{column}=?" in plan for column in columns)
    )


def test_tracked_is_one_primary_key_query_per_thousand_keys(store, statements):
    """A lookup of 1,000 memberships is one query through the primary key; 1,001 take two."""
    assert len(store.tracked("f1", [person_key(n) for n in range(1000)])) == 1000
    [(sql, params)] = statements
    assert len(store.tracked("f1", [person_key(n) for n in range(1001)])) == 1001
    assert len(statements) == 3
    assert _uses_primary_key(_plan(store, sql, params), "flow_id", "contact_key")


def test_end_of_a_pass_reads_only_the_flow_through_the_primary_key(store, statements, clock):
    """Ending a pass is one statement that searches the flow's range of the primary key."""
    clock.advance(timedelta(minutes=1))
    batch = Batch("f1")
    batch.end_pass(clock.now())
    store.commit_batch(batch)
    [(sql, params)] = [(sql, params) for sql, params in statements if "pdmc_memberships" in sql]
    assert sql.startswith("UPDATE pdmc_memberships")
    assert _uses_primary_key(_plan(store, sql, params), "flow_id")
    assert set(store.tracked("f1", [person_key(n) for n in range(20_000)]).values()) == {False}
    assert store.tracked("f2", [person_key(1)]) == {person_key(1): True}


@pytest.mark.postgres
def test_postgres_store_analyzes_the_memberships_table_as_it_grows(pg_server, pg_schema):
    """After a fast first pass the memberships table has planner statistics, not autovacuum's."""
    with open_database(("postgres", pg_server.conninfo, pg_schema)) as store:
        save_flow(store)
        for first in range(0, 1500, 500):
            track(store, *(person_key(n) for n in range(first, first + 500)))
        with store._read() as session:
            ((tuples,),) = session.rows(
                "SELECT reltuples FROM pg_class WHERE oid = 'pdmc_memberships'::regclass"
            )
        assert tuples >= 1000
