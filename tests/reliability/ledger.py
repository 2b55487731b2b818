"""The reliability suite's ledger: what each scenario injected and checked.

Every scenario ends with :func:`check_end`, which compares the final state of both
services with the uninterrupted reference run and records, in one ledger for the
session, the scenario's name, how many faults it injected and how many contacts it
checked. The suite's ``conftest.py`` prints the totals at the end of the run, and
writes them as JSON when ``PDMC_RELIABILITY_JSON`` names a file.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Final

from attrs import define, field

from pdmc.emulator import Emulator
from tests.flows_safety.world import emails_of_persons, members_state, persons_state

OPTED_OUT: Final = frozenset({"unsubscribed", "cleaned", "archived"})
"""Member statuses pdmc must never turn into "subscribed" or "pending"."""


@define
class Entry:
    """One scenario's figures."""

    scenario: str
    faults: int
    contacts: int


@define
class Ledger:
    """Every scenario of the session, in the order they finished."""

    entries: list[Entry] = field(factory=list)
    _lock: threading.Lock = field(factory=threading.Lock)

    def record(self, scenario: str, *, faults: int, contacts: int) -> None:
        """Add one scenario's figures."""
        with self._lock:
            self.entries.append(Entry(scenario, faults, contacts))

    def totals(self) -> dict[str, int]:
        """Scenarios, faults injected and contacts checked, summed over the session."""
        return {
            "scenarios": len(self.entries),
            "faults_injected": sum(e.faults for e in self.entries),
            "contacts_checked": sum(e.contacts for e in self.entries),
        }

    def as_json(self) -> dict[str, Any]:
        """The totals and every entry, ready for :func:`json.dumps`."""
        return {
            **self.totals(),
            "entries": [
                {"scenario": e.scenario, "faults": e.faults, "contacts": e.contacts}
                for e in self.entries
            ],
        }


LEDGER: Final = Ledger()


def statuses(emulator: Emulator, audience: str) -> dict[str, str]:
    """Every member's status by lower-cased address."""
    return {
        str(member["email_address"]).lower(): str(member["status"])
        for member in emulator.mailchimp.iter_members(audience)
    }


def check_end(
    scenario: str,
    world: Emulator,
    reference: Emulator,
    audience: str,
    *,
    faults: int,
    statuses_before: Mapping[str, str] | None = None,
) -> None:
    """Assert the run ended as the reference did, with no duplicate and no consent broken.

    ``world`` is the emulator of the run under test, ``reference`` the emulator of the
    same story played without faults. Checks, in order: no two live persons hold one
    address (beyond what the reference holds, for stories that share addresses on
    purpose); no address is two members (:func:`members_state` asserts it); every
    person and every member equals the reference's (none lost, none extra, no value
    different); every member of ``statuses_before`` that was opted out is still opted
    out, and no member's status differs from the reference's. Records the scenario in
    :data:`LEDGER` with the number of contacts compared.

    Raises:
        AssertionError: naming the first difference.
    """
    assert faults > 0, f"{scenario}: the scenario injected no fault"
    shared = emails_of_persons(world)
    allowed = emails_of_persons(reference)
    doubled = {e: n for e, n in shared.items() if n > max(1, allowed.get(e, 0))}
    assert not doubled, f"{scenario}: addresses on more persons than in the reference: {doubled}"
    persons, members = persons_state(world), members_state(world, audience)
    assert persons == persons_state(reference), f"{scenario}: persons differ from the reference"
    assert members == members_state(reference, audience), (
        f"{scenario}: members differ from the reference"
    )
    after = statuses(world, audience)
    for email, status in (statuses_before or {}).items():
        if status in OPTED_OUT:
            assert after.get(email, status) in OPTED_OUT, (
                f"{scenario}: {email} was {status} and is now {after[email]}"
            )
    LEDGER.record(scenario, faults=faults, contacts=persons.total() + len(members))
