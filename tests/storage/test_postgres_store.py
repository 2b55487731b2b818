"""What is particular to PostgresStore: secrets, schemas, connections and how it fails."""

from __future__ import annotations

import psycopg
import pytest

from pdmc import Secret
from pdmc.errors import ConfigurationError, StoreError
from pdmc.storage import PostgresStore
from pdmc.storage.testing import commit_links, make_link, save_flow

pytestmark = pytest.mark.postgres

CANARY = "canary-pw-7f3a"


def test_password_never_shows(pg_server, pg_schema):
    """A password in the connection string appears in no repr and no error message."""
    conninfo = Secret(f"{pg_server.conninfo} password={CANARY}")
    store = PostgresStore(conninfo, schema=pg_schema)
    assert CANARY not in repr(store)
    assert "schema=" in repr(store)
    store.close()
    with pytest.raises(StoreError) as info:
        store.get_flow("f1")
    assert CANARY not in str(info.value)
    with pytest.raises(ConfigurationError) as bad:
        PostgresStore(f"host=/nowhere password={CANARY} =broken")
    assert CANARY not in str(bad.value)
    assert bad.value.__cause__ is None


def test_unreachable_server_raises_store_error(tmp_path):
    """A server that cannot be reached raises StoreError."""
    with pytest.raises(StoreError, match="connection"):
        PostgresStore(f"host={tmp_path} port=5999 user=postgres dbname=postgres")


def test_schema_name_is_checked():
    """A schema name that is not a plain lower-case identifier is refused."""
    with pytest.raises(ConfigurationError, match="schema"):
        PostgresStore("host=/nowhere", schema='pdmc"; DROP TABLE x; --')


def test_schemas_keep_stores_apart(pg_server, pg_schema):
    """Two schemas in one database are two independent stores."""
    with (
        PostgresStore(pg_server.conninfo, schema=pg_schema) as one,
        PostgresStore(pg_server.conninfo, schema=f"{pg_schema}_other") as other,
    ):
        save_flow(one)
        assert one.schema == pg_schema
        assert other.get_flow("f1") is None


def test_store_reconnects_after_losing_its_connection(pg_server, pg_schema):
    """A dropped connection fails the call in progress; the next call reconnects."""
    with PostgresStore(pg_server.conninfo, schema=pg_schema) as store:
        save_flow(store)
        commit_links(store, make_link(1))
        assert store._connection is not None
        pid = store._connection.info.backend_pid
        with psycopg.connect(pg_server.conninfo, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(StoreError):
            store.get_flow("f1")
        assert store.get_flow("f1") is not None
        assert store.count_links("pd-company-1/mc-account-1", "audience-1") == 1


def test_store_analyzes_the_links_table_as_it_grows(pg_server, pg_schema):
    """After a fast first sync the links table has planner statistics, not autovacuum's wait."""
    with PostgresStore(pg_server.conninfo, schema=pg_schema) as store:
        save_flow(store)
        for first in range(1, 1501, 500):
            commit_links(store, *(make_link(n) for n in range(first, first + 500)))
        with store._read() as session:
            ((tuples,),) = session.rows(
                "SELECT reltuples FROM pg_class WHERE oid = 'pdmc_links'::regclass"
            )
        assert tuples >= 1000
