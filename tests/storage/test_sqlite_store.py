"""What is particular to SQLiteStore: the file, WAL, and how it fails."""

from __future__ import annotations

import sqlite3

import pytest

from pdmc.errors import ConfigurationError, StoreError
from pdmc.storage import SQLiteStore
from pdmc.storage.testing import commit_links, make_link, save_flow


def test_store_file_runs_in_wal_mode_with_foreign_keys(tmp_path):
    """The file is in WAL mode, so readers in other processes never wait for the writer."""
    path = tmp_path / "state.sqlite3"
    with SQLiteStore(path) as store:
        assert store.path == path
        assert repr(store) == f"SQLiteStore({str(path)!r})"
        with store._read() as session:
            assert session.rows("PRAGMA foreign_keys") == [(1,)]
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        raw.close()


def test_memory_path_is_refused(tmp_path):
    """':memory:' is refused with advice to use MemoryStore."""
    with pytest.raises(ConfigurationError, match="MemoryStore"):
        SQLiteStore(":memory:")


def test_unopenable_path_raises_store_error(tmp_path):
    """A file in a missing folder, or a file that is not a database, raises StoreError."""
    with pytest.raises(StoreError, match="missing"):
        SQLiteStore(tmp_path / "missing" / "state.sqlite3")
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="junk"):
        SQLiteStore(junk)


def test_a_reader_on_another_connection_sees_commits_while_a_writer_holds_the_file(tmp_path):
    """A reader is not blocked while another handle is in the middle of a write transaction."""
    path = tmp_path / "state.sqlite3"
    with SQLiteStore(path) as writer, SQLiteStore(path) as reader:
        save_flow(writer)
        commit_links(writer, make_link(1))
        with writer._write() as session:
            session.run("DELETE FROM pdmc_links")
            assert reader.count_links("pd-company-1/mc-account-1", "audience-1") == 1
        assert reader.count_links("pd-company-1/mc-account-1", "audience-1") == 0


def test_busy_writer_times_out_with_store_error(tmp_path):
    """A write that waits longer than `timeout` for another writer raises StoreError."""
    path = tmp_path / "state.sqlite3"
    with SQLiteStore(path) as holder, SQLiteStore(path, timeout=0.05) as waiter:
        save_flow(holder)
        with holder._write(), pytest.raises(StoreError, match="locked"):
            waiter.mark_event_processed("pipedrive", "e1")
        assert waiter.mark_event_processed("pipedrive", "e1") is True
