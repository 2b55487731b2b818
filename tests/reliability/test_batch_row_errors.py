"""Batch subscribe answering 200 with per-row errors: transient rows retried, permanent ones
reported once.

A Pipedrive-filter flow's sync meets rows Mailchimp refuses inside a 200: two fake
addresses and an address forgotten from the audience (permanent refusals), and rows
that fail with Mailchimp's generic "try again later" error a scripted number of times
(transient). The first run's report names each permanent row with its reason; later
runs neither report nor send them again. Transient rows wait in the retry list and are
sent again on each later run until they go through. The sync is an initial one (the
flow's first pass) or an incremental one (people change persons after the flow
settled). Both services must end as the same story played without transient errors.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from attrs import define

from pdmc.flows import Action, SyncReport
from tests.flows_safety.world import World, make_world
from tests.reliability.ledger import check_end, statuses

FAKE = ("test@example.com", "qwerty@fake.com")
FORGOTTEN = "former.customer@lindqvist-trading.se"
TRANSIENT = {"hanna.berg@lindqvist-trading.se": 1, "piotr.zielinski@wawel-systems.pl": 3}
"""Addresses whose batch-subscribe rows fail, and how many times in a row."""
ROUND = timedelta(hours=5)
"""Past the retry delay and the flow's interval: each round runs the flow and its retries."""

REASONS = {
    **dict.fromkeys(FAKE, "Mailchimp refuses the address as fake or invalid"),
    FORGOTTEN: "the address was permanently deleted from the audience",
}


class _SentRows:
    """Records the addresses of every batch-subscribe row the engine sends."""

    def __init__(self, world: World) -> None:
        self.rows: Counter[str] = Counter()
        mailchimp = world.engine.mailchimp
        send = mailchimp.batch_subscribe

        def recording(list_id: str, members: Any, **kwargs: Any) -> Any:
            self.rows.update(str(m.email_address).lower() for m in members)
            return send(list_id, members, **kwargs)

        mailchimp.batch_subscribe = recording  # type: ignore[method-assign]


def _persons(world: World, emails: tuple[str, ...], score: int) -> list[int]:
    """Add persons people created in Pipedrive, with a lead score."""
    return [
        world.emulator.pipedrive.add_person(
            name=email.split("@")[0].replace(".", " ").title(),
            emails=[email],
            custom_fields={world.score_field: score},
        )
        for email in emails
    ]


@define
class _Played:
    world: World
    reports: list[SyncReport]
    sent: _SentRows
    statuses_before: dict[str, str]


def _play(*, transient: bool, incremental: bool) -> _Played:
    """The story: bad and flaky rows, in the flow's first pass or in a later run."""
    world = make_world(contacts=40, seed=5)
    mailchimp = world.emulator.mailchimp
    mailchimp.add_member(world.audience, FORGOTTEN)
    mailchimp.forget(world.audience, FORGOTTEN)
    rows = (*FAKE, FORGOTTEN, *TRANSIENT)
    ids = _persons(world, rows, score=95 if not incremental else 10)
    sent = _SentRows(world)
    world.start(world.filter_flow(tag="from-pipedrive"))
    if incremental:
        world.settle()
        for person_id in ids:
            world.emulator.pipedrive.update_person(
                person_id, {"custom_fields": {world.score_field: 95}}
            )
        sent.rows.clear()
    if transient:
        for email, times in TRANSIENT.items():
            mailchimp.fail_batch_rows(world.audience, email, times=times)
    before = statuses(world.emulator, world.audience)
    reports = []
    for _ in range(max(TRANSIENT.values()) + 2):
        world.emulator.advance(ROUND.total_seconds())
        reports.extend(world.engine.run_due())
    world.settle()
    return _Played(world, reports, sent, before)


_REFERENCES: dict[bool, World] = {}


def _reference(*, incremental: bool) -> World:
    if incremental not in _REFERENCES:
        _REFERENCES[incremental] = _play(transient=False, incremental=incremental).world
    return _REFERENCES[incremental]


def _named(report: SyncReport, emails: Any) -> dict[str, Any]:
    """The report's outcomes of ``emails``, by address."""
    wanted = set(emails)
    return {o.email: o for o in report.outcomes if o.email in wanted}


@pytest.mark.parametrize("incremental", [False, True], ids=["initial", "incremental"])
def test_row_errors_are_retried_or_reported_once(incremental):
    """Transient rows are sent each run until written; permanent rows are reported once."""
    played = _play(transient=True, incremental=incremental)
    world, reports, sent = played.world, played.reports, played.sent
    first, later = reports[0], reports[1:]
    # The first run names each permanent row once, with its reason, and retries none.
    permanent = _named(first, REASONS)
    assert {e: (o.action, o.permanent, o.reason) for e, o in permanent.items()} == {
        e: (Action.SKIPPED, True, reason) for e, reason in REASONS.items()
    }
    for report in later:
        assert not _named(report, REASONS), "a permanent row was reported again"
    assert all(sent.rows[email] == 1 for email in REASONS), sent.rows
    # A transient row is sent once per run until it goes through, then left alone.
    for email, times in TRANSIENT.items():
        assert sent.rows[email] == times + 1, (email, sent.rows[email])
        actions = [o.action for r in reports for o in r.outcomes if o.email == email]
        assert actions == [Action.RETRYING] * times + [Action.CREATED], (email, actions)
        member = world.emulator.mailchimp.get_member(world.audience, email)
        assert member is not None
        assert member["status"] == "subscribed"
    assert not world.store.due_retries("filter")
    check_end(
        f"{'incremental' if incremental else 'initial'} sync: batch rows refused in a 200 "
        f"({len(REASONS)} permanent, {sum(TRANSIENT.values())} transient)",
        world.emulator,
        _reference(incremental=incremental).emulator,
        world.audience,
        faults=len(REASONS) + sum(TRANSIENT.values()),
        statuses_before=played.statuses_before,
    )
