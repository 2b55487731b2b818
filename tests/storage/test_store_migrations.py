"""Schema versions: a database from the first version opens with today's code; newer is refused."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from attrs import evolve

from pdmc.errors import SchemaVersionError, StoreError
from pdmc.storage import Batch, Link, PostgresStore, SQLiteStore
from pdmc.storage._schema import MIGRATIONS
from pdmc.storage.testing import ManualClock, full_batch, make_link

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

# Rows in the layout of schema version 1, written as pdmc 0.1 wrote them. This list is
# frozen with that version: it must keep working, unchanged, as the schema grows.
V1_ROWS = [
    (
        (
            "INSERT INTO pdmc_flows (flow_id, name, definition, definition_version, status, "
            "status_reason, created_at, updated_at, activated_at, next_run_at, last_run_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        ("f1", "Old flow", json.dumps({"trigger": "old"}), 1, "active", None, T0, T0, T0, T0, None),
    ),
    (
        (
            "INSERT INTO pdmc_links (account_pair, audience_id, email, person_id, member_id, "
            "pipedrive_fingerprint, mailchimp_fingerprint, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        ("pd-company-1/mc-account-1", "audience-1", "old@example.com", 7, "m7", "pd", "mc", T0, T0),
    ),
    (
        "INSERT INTO pdmc_checkpoints (flow_id, name, value, updated_at) VALUES (?, ?, ?, ?)",
        ("f1", "persons", json.dumps({"cursor": "c-1"}), T0),
    ),
    (
        "INSERT INTO pdmc_events (source, event_id, processed_at) VALUES (?, ?, ?)",
        ("pipedrive", "e-1", T0),
    ),
    (
        (
            "INSERT INTO pdmc_retries (flow_id, row_key, payload, error, attempts, "
            "first_failed_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        ),
        ("f1", "person:8", json.dumps({"id": 8}), "timeout", 2, T0, T0),
    ),
    (
        (
            "INSERT INTO pdmc_runs (flow_id, status, started_at, finished_at, counts, error) "
            "VALUES (?, ?, ?, ?, ?, ?)"
        ),
        ("f1", "succeeded", T0, T0, json.dumps({"created": 1}), None),
    ),
    (
        (
            "INSERT INTO pdmc_outcomes (run_id, action, email, person_id, member_id, reason, "
            "recorded_at) VALUES ((SELECT MAX(run_id) FROM pdmc_runs), ?, ?, ?, ?, ?, ?)"
        ),
        ("created", "old@example.com", 7, "m7", None, T0),
    ),
    (
        (
            "INSERT INTO pdmc_leases (flow_id, holder, token, acquired_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)"
        ),
        ("f1", "old-worker", 3, T0, T0 + timedelta(minutes=5)),
    ),
]


# The SHA-256 of each released step's statements: a released step is never edited (a
# database that ran it would not see the edit); a change is a new step. Add the digest
# of each new step when it is released.
RELEASED_STEPS = (
    "bcdb4715cfc89e9f82143d14217967b3856aa45dc8f1adf13b411b2b876d237d",
    "91e9b07d0edf1cb628188e29bc5e3ccc994f98b93c55589b4cefb9463f11cb13",
)
V1_TABLES = (
    "pdmc_flows",
    "pdmc_links",
    "pdmc_checkpoints",
    "pdmc_events",
    "pdmc_retries",
    "pdmc_runs",
    "pdmc_outcomes",
    "pdmc_leases",
)
PAIR = "pd-company-1/mc-account-1"


def _store_class(spec):
    return SQLiteStore if spec[0] == "sqlite" else PostgresStore


def _open(cls, spec, clock=None):
    if spec[0] == "sqlite":
        return cls(spec[1], clock=clock)
    return cls(spec[1], schema=spec[2], clock=clock)


def _at_version(spec, steps):
    """A store class that knows only the first ``len(steps)`` schema steps (an older pdmc)."""
    return type("OlderStore", (_store_class(spec),), {"_MIGRATIONS": steps})


def _write_v1_database(spec):
    with _open(_at_version(spec, MIGRATIONS[:1]), spec) as old:
        assert old.schema_version() == 1
        with old._write() as session:
            for sql, params in V1_ROWS:
                encoded = [old._encode_time(v) if isinstance(v, datetime) else v for v in params]
                session.run(sql, encoded)


def test_database_of_the_first_schema_version_opens_with_current_code(database_spec):
    """A database written at schema version 1 upgrades on open, its data readable and writable."""
    _write_v1_database(database_spec)
    clock = ManualClock(T0 + timedelta(minutes=1))
    with _open(_store_class(database_spec), database_spec, clock) as store:
        assert store.schema_version() == len(MIGRATIONS)
        flow = store.get_flow("f1")
        assert flow is not None
        assert (flow.definition, flow.status, flow.activated_at) == (
            {"trigger": "old"},
            "active",
            T0,
        )
        assert [f.flow_id for f in store.flows_due()] == ["f1"]
        link = store.links_for_emails(
            "pd-company-1/mc-account-1", "audience-1", ["old@example.com"]
        )
        assert link["old@example.com"].person_id == 7
        assert link["old@example.com"].fingerprint("mailchimp") == "mc"
        assert store.get_checkpoints("f1") == {"persons": {"cursor": "c-1"}}
        assert store.is_event_processed("pipedrive", "e-1")
        (retry,) = store.due_retries("f1")
        assert (retry.row_key, retry.attempts, retry.payload) == ("person:8", 2, {"id": 8})
        (run,) = store.list_runs("f1")
        assert run.counts == {"created": 1}
        assert [o.email for o in store.iter_outcomes(run.run_id)] == ["old@example.com"]
        lease = store.get_lease("f1")
        assert lease is not None
        assert (lease.holder, lease.token) == ("old-worker", 3)

        new_run = store.start_run("f1")
        store.commit_batch(full_batch("f1", new_run.run_id, make_link(1)))
        assert store.count_links("pd-company-1/mc-account-1", "audience-1") == 2
        clock.advance(timedelta(minutes=10))
        assert store.acquire_lease("f1", "new-worker", timedelta(minutes=1)).token == 4


def _rows(store, table):
    with store._read() as session:
        return session.rows(f"SELECT * FROM {table} ORDER BY 1")  # noqa: S608 - our table names


def test_version_1_database_upgrades_to_version_2_keeping_every_row(database_spec):
    """The step to version 2 keeps every row; links gain an empty member status."""
    _write_v1_database(database_spec)
    with _open(_at_version(database_spec, MIGRATIONS[:1]), database_spec) as old:
        before = {table: _rows(old, table) for table in V1_TABLES}
    assert all(len(rows) == 1 for rows in before.values())
    with _open(_store_class(database_spec), database_spec) as store:
        assert store.schema_version() == 2
        after = {table: _rows(store, table) for table in V1_TABLES}
        (link,) = store.iter_links(PAIR, "audience-1")
    assert after.pop("pdmc_links") == [(*row, None) for row in before.pop("pdmc_links")]
    assert after == before
    assert link.member_status is None


def test_version_2_features_work_on_an_upgraded_version_1_database(database_spec):
    """Member status, memberships, the end of a pass and claims work on an upgraded database."""
    _write_v1_database(database_spec)
    clock = ManualClock(T0 + timedelta(minutes=1))
    with _open(_store_class(database_spec), database_spec, clock) as store:
        old_link = Link(account_pair=PAIR, audience_id="audience-1", email="old@example.com")
        batch = Batch("f1")
        batch.upsert_link(evolve(old_link, person_id=7, member_status="unsubscribed"))
        batch.track("person:7")
        batch.track("person:8")
        store.commit_batch(batch)
        clock.advance(timedelta(minutes=1))
        batch = Batch("f1")
        batch.upsert_link(evolve(old_link, mailchimp_fingerprint="mc-2"))
        batch.track("person:7")
        batch.end_pass(clock.now())
        store.commit_batch(batch)
        link = store.links_for_persons(PAIR, "audience-1", [7])[7]
        assert (link.member_id, link.member_status, link.mailchimp_fingerprint) == (
            "m7",
            "unsubscribed",
            "mc-2",
        )
        assert link.created_at == T0
        assert store.tracked("f1", ["person:7", "person:8"]) == {
            "person:7": True,
            "person:8": False,
        }
        claim = store.claim("create-person:x", "worker-a", timedelta(minutes=5))
        assert claim is not None
        assert store.claim("create-person:x", "worker-b", timedelta(minutes=5)) is None
        store.release_claim(claim)
        assert store.claim("create-person:x", "worker-b", timedelta(minutes=5)) is not None
        assert store.delete_flow("f1") is True
        assert store.tracked("f1", ["person:7"]) == {}


def test_released_steps_are_never_edited():
    """Each released migration step still has the statements it shipped with."""
    digests = [hashlib.sha256("\n".join(step).encode()).hexdigest() for step in MIGRATIONS]
    assert digests[: len(RELEASED_STEPS)] == list(RELEASED_STEPS)
    assert len(digests) == len(RELEASED_STEPS), "record the digest of the new step"


def test_pending_steps_run_in_order(database_spec):
    """Opening a database with a newer pdmc runs each missing step, in order, once."""
    _write_v1_database(database_spec)
    newer = (
        *MIGRATIONS,
        ("CREATE TABLE pdmc_test_extra (step INTEGER NOT NULL)",
         "INSERT INTO pdmc_test_extra (step) VALUES (1)"),
        ("INSERT INTO pdmc_test_extra (step) VALUES (2)",),
    )  # fmt: skip
    cls = _at_version(database_spec, newer)
    for _ in range(2):
        with _open(cls, database_spec) as store:
            assert store.schema_version() == len(newer)
            with store._read() as session:
                assert session.rows("SELECT step FROM pdmc_test_extra ORDER BY step") == [
                    (1,),
                    (2,),
                ]


def test_failing_step_leaves_the_database_at_its_version(database_spec):
    """A migration step that fails rolls the whole upgrade back; the old version stays usable."""
    _write_v1_database(database_spec)
    broken = (
        *MIGRATIONS,
        ("CREATE TABLE pdmc_test_half (x INTEGER)", "SELECT no_such_column FROM pdmc_flows"),
    )
    with pytest.raises(StoreError):
        _open(_at_version(database_spec, broken), database_spec)
    with _open(_store_class(database_spec), database_spec) as store:
        assert store.schema_version() == len(MIGRATIONS)
        assert store.get_flow("f1") is not None
        with pytest.raises(StoreError), store._read() as session:
            session.rows("SELECT x FROM pdmc_test_half")


def test_database_of_a_newer_pdmc_is_refused(database_spec):
    """A database whose schema is newer than this pdmc knows raises SchemaVersionError."""
    with _open(_store_class(database_spec), database_spec) as store, store._write() as session:
        session.run("UPDATE pdmc_schema SET version = ?", (len(MIGRATIONS) + 1,))
    with pytest.raises(SchemaVersionError, match="upgrade pdmc"):
        _open(_store_class(database_spec), database_spec)


def test_migrations_are_append_only_statement_lists():
    """Every migration step is a non-empty tuple of single SQL statements."""
    assert MIGRATIONS
    for step in MIGRATIONS:
        assert step
        assert all(isinstance(statement, str) for statement in step)
        assert all(";" not in statement for statement in step)
