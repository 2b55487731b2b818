"""A new-contact flow tells "before" from "after" activation by Mailchimp's clock.

The engine and its store run five minutes ahead of, or behind, the services (a host
whose clock drifted). Activation reads the audience once and keeps the time of
Mailchimp's answer, so webhook deliveries are judged against Mailchimp's own
timestamps: a sign-up a minute after activation is synced, and a member who was there
two minutes before it is not, whichever way the host's clock is off.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Final

import pytest

from pdmc.emulator import Emulator
from pdmc.flows import NewMailchimpContactTrigger, SyncEngine
from pdmc.storage import MemoryStore, SQLiteStore, StateStore
from tests.flows.conftest import MAILCHIMP_AUTH, PIPEDRIVE_AUTH, Scene
from tests.reliability.events_support import SkewedClock

SKEW: Final = timedelta(minutes=5)


@pytest.fixture(params=[SKEW, -SKEW], ids=["engine ahead", "engine behind"])
def offset(request: pytest.FixtureRequest) -> timedelta:
    """How far the engine's clock is off the services'."""
    return request.param


@pytest.fixture(params=["memory", "sqlite"])
def skewed_store(
    request: pytest.FixtureRequest, emulator: Emulator, offset: timedelta, tmp_path: Path
) -> Iterator[StateStore]:
    """An empty store on the skewed clock: a MemoryStore, then a SQLiteStore."""
    clock = SkewedClock(emulator.clock, offset)
    opened: StateStore = (
        MemoryStore(clock=clock)
        if request.param == "memory"
        else SQLiteStore(tmp_path / "state.sqlite3", clock=clock)
    )
    yield opened
    opened.close()


@pytest.fixture
def skewed(emulator: Emulator, skewed_store: StateStore, offset: timedelta) -> Scene:
    """A scene whose engine and store run ``offset`` off the services' clock."""
    scene = Scene(emulator, skewed_store)
    scene.engine = SyncEngine(
        emulator.pipedrive_client(),
        emulator.mailchimp_client(),
        skewed_store,
        clock=SkewedClock(emulator.clock, offset),
        pipedrive_webhook_auth=PIPEDRIVE_AUTH,
        mailchimp_webhook_auth=MAILCHIMP_AUTH,
    )
    return scene


def test_a_sign_up_a_minute_after_activation_is_synced_by_its_webhook(skewed: Scene):
    """A member who joins a minute after activation reaches Pipedrive, whatever the skew."""
    skewed.new_contact_flow()
    skewed.later()
    skewed.emulator.mailchimp.subscribe(
        skewed.audience, "lumi@uusi-tilaaja.fi", merge_fields={"FNAME": "Lumi"}
    )
    skewed.webhooks_now()

    assert sorted(skewed.persons()) == ["lumi@uusi-tilaaja.fi"]


def test_a_member_from_before_activation_opting_in_again_is_not_synced(skewed: Scene):
    """A member who joined two minutes before activation stays out when they re-subscribe."""
    skewed.member("veteran@old-list.se", fname="Vera")
    skewed.later(timedelta(minutes=2))
    skewed.new_contact_flow()
    skewed.later()
    skewed.emulator.mailchimp.unsubscribe(skewed.audience, "veteran@old-list.se")
    skewed.emulator.mailchimp.subscribe(skewed.audience, "veteran@old-list.se")
    skewed.webhooks_now()

    assert skewed.persons() == {}


def test_activation_reads_the_audience_once_and_an_active_flow_is_not_read_again(
    skewed: Scene,
):
    """Activating costs one Mailchimp read; activating an already active flow costs none."""
    flow = skewed.flow(NewMailchimpContactTrigger())
    skewed.engine.create_flow(flow)
    before = skewed.engine.mailchimp.usage
    skewed.engine.activate(flow.id)
    first = skewed.engine.mailchimp.usage - before
    skewed.engine.activate(flow.id)
    again = skewed.engine.mailchimp.usage - before - first

    assert (first.requests, list(first.by_operation)) == (1, ["getListsId"])
    assert again.requests == 0
