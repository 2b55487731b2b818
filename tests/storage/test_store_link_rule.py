"""The link upsert rule: every store applies it alike, and it never breaks uniqueness."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pdmc.errors import LinkConflictError
from pdmc.storage import Batch, Link, MemoryStore
from pdmc.storage.testing import AUDIENCE, save_flow
from tests.storage.store_workers import open_store

# A small key space, so upserts often meet, merge, move and collide.
contacts = st.fixed_dictionaries(
    {
        "email": st.sampled_from(["a@x.io", "b@x.io", "c@x.io", "C@X.IO"]),
        "person_id": st.none() | st.integers(1, 3),
        "member_id": st.none() | st.sampled_from(["ma", "mb", "mc"]),
        "member_status": st.none() | st.sampled_from(["subscribed", "unsubscribed"]),
        "pipedrive_fingerprint": st.none() | st.sampled_from(["p1", "p2"]),
        "mailchimp_fingerprint": st.none() | st.sampled_from(["m1", "m2"]),
    }
)
plans = st.lists(st.lists(contacts, min_size=1, max_size=4), min_size=1, max_size=6)
_pairs = itertools.count(1)


@pytest.fixture(scope="module")
def database(request, tmp_path_factory):
    """One database store per kind for all examples; each example uses its own account pair."""
    kind = request.param
    if kind == "sqlite":
        spec = ("sqlite", str(tmp_path_factory.mktemp("rule") / "state.sqlite3"))
    else:
        spec = ("postgres", request.getfixturevalue("pg_server").conninfo, "link_rule")
    with open_store(spec) as store:
        save_flow(store)
        yield store


def _apply(store, pair, plan):
    """Commit each batch of the plan for ``pair``; return which batches were refused, and why."""
    refused = []
    for number, contacts_of_batch in enumerate(plan):
        batch = Batch("f1")
        for fields in contacts_of_batch:
            batch.upsert_link(Link(account_pair=pair, audience_id=AUDIENCE, **fields))
        try:
            store.commit_batch(batch)
        except LinkConflictError as exc:
            refused.append((number, exc.field))
    return refused


def _content(links):
    return [
        (link.email, link.person_id, link.member_id, link.member_status,
         link.pipedrive_fingerprint, link.mailchimp_fingerprint)
        for link in links
    ]  # fmt: skip


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=plans)
def test_database_stores_apply_the_rule_like_the_memory_store(database, plan):
    """A database store accepts and refuses the same batches as MemoryStore, ending alike."""
    pair = f"pair-{next(_pairs)}"
    memory = MemoryStore()
    save_flow(memory)
    assert _apply(database, pair, plan) == _apply(memory, pair, plan)
    stored = _content(database.iter_links(pair, AUDIENCE))
    assert stored == _content(memory.iter_links(pair, AUDIENCE))
    for position in range(3):  # email, person id, member id: each unique
        keys = [row[position] for row in stored if row[position] is not None]
        assert len(keys) == len(set(keys))
