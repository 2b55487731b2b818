"""Records, batches and clocks refuse bad input with errors that name the item and field."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pdmc import errors
from pdmc.storage import (
    Batch,
    Claim,
    Clock,
    FlowRecord,
    Lease,
    Link,
    MemoryStore,
    Outcome,
    SystemClock,
    normalise_email,
)
from pdmc.storage.testing import ManualClock

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def test_link_keeps_its_email_normalised():
    """A link's email is stripped and lower-cased, so every store matches it the same way."""
    link = Link(account_pair="p", audience_id="a", email="  Grace.Hopper@Navy.MIL ")
    assert link.email == "grace.hopper@navy.mil"
    assert normalise_email(" A@B.C ") == "a@b.c"
    assert Outcome(action="skipped", email="X@Y.Z").email == "x@y.z"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": ""}, "email"),
        ({"person_id": True}, "person_id"),
        ({"person_id": 0}, "person_id"),
        ({"member_id": ""}, "member_id"),
        ({"member_status": ""}, "member_status"),
        ({"member_status": 3}, "member_status"),
        ({"account_pair": None}, "account_pair"),
        ({"updated_at": datetime(2025, 1, 1)}, "updated_at"),  # noqa: DTZ001 - naive on purpose
    ],
)
def test_link_refuses_bad_fields(changes, field):
    """A link with a bad field raises ConfigurationError naming the field."""
    fields = {"account_pair": "p", "audience_id": "a", "email": "a@example.com", **changes}
    with pytest.raises(errors.ConfigurationError, match=f"field '{field}'"):
        Link(**fields)


def test_fingerprints_are_kept_per_side():
    """with_fingerprint sets one side's fingerprint and leaves the other alone."""
    link = Link(account_pair="p", audience_id="a", email="a@example.com")
    link = link.with_fingerprint("pipedrive", "pd-1").with_fingerprint("mailchimp", "mc-1")
    assert (link.fingerprint("pipedrive"), link.fingerprint("mailchimp")) == ("pd-1", "mc-1")
    with pytest.raises(errors.ConfigurationError, match="side"):
        link.with_fingerprint("hubspot", "x")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": "running"}, "field 'status'"),
        ({"definition": ["not", "a", "mapping"]}, "field 'definition'"),
        ({"definition_version": 0}, "field 'definition_version'"),
        ({"status": "deactivated"}, "needs a status_reason"),
        ({"flow_id": " "}, "field 'flow_id'"),
    ],
)
def test_flow_record_refuses_bad_fields(changes, message):
    """A flow record with a bad field raises ConfigurationError naming the flow and field."""
    fields = {"flow_id": "f1", "name": "F", "definition": {}, **changes}
    with pytest.raises(errors.ConfigurationError, match=message):
        FlowRecord(**fields)


def test_batch_encodes_json_when_values_are_added():
    """A batch keeps JSON text of what it was given; later changes to the value do not leak in."""
    batch = Batch("f1")
    cursor = {"ids": [1]}
    batch.set_checkpoint("cursor", cursor)
    cursor["ids"].append(2)
    assert batch.checkpoints == {"cursor": '{"ids":[1]}'}
    with pytest.raises(errors.ConfigurationError, match="checkpoint 'since' of flow 'f1'"):
        batch.set_checkpoint("since", datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(errors.ConfigurationError, match="payload of retry 'r'"):
        batch.retry_later("r", payload=float("nan"), error="", next_attempt_at=NOW)


def test_batch_refuses_bad_parts():
    """Bad batch parts raise ConfigurationError at the line that adds them."""
    batch = Batch("f1")
    with pytest.raises(errors.ConfigurationError, match="no run_id"):
        batch.record_outcome(Outcome(action="created"))
    with pytest.raises(errors.ConfigurationError, match="next_attempt_at of retry 'r'"):
        batch.retry_later("r", payload=None, error="", next_attempt_at=datetime(2025, 1, 1))  # noqa: DTZ001
    with pytest.raises(errors.ConfigurationError, match="takes a Link"):
        batch.upsert_link({"email": "a@example.com"})  # type: ignore[arg-type]
    with pytest.raises(errors.ConfigurationError, match="event id"):
        batch.mark_event("pipedrive", "")
    with pytest.raises(errors.ConfigurationError, match="run_id"):
        Batch("f1", run_id="7")  # type: ignore[arg-type]
    lease = Lease(flow_id="f2", holder="w", token=1, acquired_at=NOW, expires_at=NOW)
    with pytest.raises(errors.ConfigurationError, match="lease of flow 'f2'"):
        Batch("f1", lease=lease)
    with pytest.raises(errors.ConfigurationError, match="membership key"):
        batch.track("")
    with pytest.raises(errors.ConfigurationError, match="matching of membership 'person:1'"):
        batch.track("person:1", matching="yes")  # type: ignore[arg-type]
    with pytest.raises(errors.ConfigurationError, match="started_at of end_pass"):
        batch.end_pass(datetime(2025, 1, 1))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(errors.ConfigurationError, match=r"Batch\.release_claim takes a Claim"):
        batch.release_claim("create-person:x")  # type: ignore[arg-type]
    assert (batch.memberships, batch.pass_started, batch.released_claims) == ({}, None, ())


def test_batch_keeps_the_last_word_per_key_and_shows_a_short_repr():
    """A batch keeps the last word per retry, membership and pass end; the repr counts."""
    batch = Batch("f1", run_id=3)
    batch.retry_later("r", payload=1, error="x", next_attempt_at=NOW)
    batch.retry_done("r")
    for n in range(3):
        batch.upsert_link(Link(account_pair="p", audience_id="a", email=f"c{n}@example.com"))
    batch.mark_event("pipedrive", "e")
    batch.mark_event("pipedrive", "e")
    batch.track("person:1")
    batch.track("person:1", matching=False)
    batch.track("person:2")
    batch.end_pass(NOW - timedelta(hours=1))
    batch.end_pass(NOW)
    claim = Claim(key="k", holder="w", token="t", acquired_at=NOW, expires_at=NOW)
    batch.release_claim(claim)
    batch.release_claim(claim)
    assert batch.retries == {"r": None}
    assert batch.events == (("pipedrive", "e"),)
    assert batch.memberships == {"person:1": False, "person:2": True}
    assert batch.pass_started == NOW
    assert batch.released_claims == (claim,)
    assert repr(batch) == (
        "Batch(flow_id='f1', run_id=3, links=3, checkpoints=[], retries=1, outcomes=0, "
        "events=1, memberships=2, end_pass='2025-01-01T00:00:00+00:00', claims=1)"
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"key": ""}, "Claim 'w': field 'key'"),
        ({"holder": None}, "Claim 'k': field 'holder'"),
        ({"token": ""}, "Claim 'k': field 'token'"),
        ({"expires_at": datetime(2025, 1, 1)}, "field 'expires_at'"),  # noqa: DTZ001 - naive
        ({"taken_over": 1}, "Claim 'k': field 'taken_over' must be a bool"),
    ],
)
def test_claim_refuses_bad_fields(changes, message):
    """A claim with a bad field raises ConfigurationError naming the claim and the field."""
    fields = {"key": "k", "holder": "w", "token": "t", "acquired_at": NOW, "expires_at": NOW}
    with pytest.raises(errors.ConfigurationError, match=message):
        Claim(**{**fields, **changes})


def test_clocks():
    """SystemClock gives aware UTC time; ManualClock stands still until advanced."""
    assert isinstance(SystemClock(), Clock)
    assert SystemClock().now().tzinfo is UTC
    clock = ManualClock(datetime(2025, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))))
    assert clock.now() == NOW
    assert clock.advance(timedelta(seconds=5)) == NOW + timedelta(seconds=5)
    with pytest.raises(errors.ConfigurationError, match="timezone-aware"):
        ManualClock(datetime(2025, 1, 1))  # noqa: DTZ001 - naive on purpose


def test_a_store_refuses_a_clock_that_is_not_one():
    """A store refuses a clock without now(), and one whose now() is naive."""

    class NaiveClock:
        def now(self):
            return datetime(2025, 1, 1)  # noqa: DTZ001 - naive on purpose

    with pytest.raises(errors.ConfigurationError, match="clock"):
        MemoryStore(clock=object())  # type: ignore[arg-type]
    store = MemoryStore(clock=NaiveClock())
    with pytest.raises(errors.ConfigurationError, match="timezone-aware"):
        store.mark_event_processed("pipedrive", "e")


def test_link_conflict_error_is_a_row_error_of_the_store():
    """LinkConflictError tells the engine to skip the row, and names the email and key."""
    error = errors.LinkConflictError("x", email="a@example.com", field="email")
    assert isinstance(error, errors.StoreError)
    assert isinstance(error, errors.RowError)
    assert (error.email, error.field) == ("a@example.com", "email")


def test_pdmc_storage_imports_without_psycopg():
    """pdmc.storage imports without psycopg; asking for PostgresStore says how to install it."""
    script = (
        "import sys\n"
        "sys.modules['psycopg'] = None\n"
        "import pdmc.storage as storage\n"
        "storage.MemoryStore()\n"
        "try:\n"
        "    storage.PostgresStore\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "pip install 'pdmc[postgres]'" in result.stdout
