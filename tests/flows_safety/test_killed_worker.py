"""No duplicates after SIGKILL: a worker killed mid-sync is resumed to the unbroken result.

The story's initial syncs run in a separate worker process (``crash_worker.py``)
against the emulator, which this process serves over HTTP, with the state in a
SQLite file. The worker is killed with SIGKILL at a chosen request, right after the
service acted on it and before the worker heard the answer: the worst moment, a
write made and not recorded. Then the sync resumes, in this process or in a fresh
worker, and the flows settle. Both services must hold what the unbroken story leaves.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Final

import pytest

from pdmc.emulator import EmulatorTransport
from tests.flows_safety import story
from tests.flows_safety.world import World, make_world

ROOT: Final = Path(__file__).resolve().parents[2]
WORKER: Final = "tests.flows_safety.crash_worker"
PAST_THE_DEAD_WORKERS_LEASE: Final = timedelta(minutes=20)


class _KillAt(EmulatorTransport):
    """Serves the emulator, and SIGKILLs the worker once a chosen request was acted on."""

    def __init__(self, world: World, operation: str, call: int) -> None:
        emulator = world.emulator
        super().__init__(
            [emulator.pipedrive, emulator.mailchimp],
            emulator.faults,
            advance=emulator.clock.advance,
            after_request=emulator.deliver_webhooks,
        )
        self.operation, self.call = operation, call
        self.seen = 0
        self.victim: subprocess.Popen[str] | None = None

    def handle_emulated(self, request):
        response = super().handle_emulated(request)
        service = self.service_for(request.host)
        found = service.match(request.method, request.path) if service else None
        if self.victim is not None and found and found[0].operation_id == self.operation:
            self.seen += 1
            if self.seen == self.call:
                os.kill(self.victim.pid, signal.SIGKILL)
        return response


def _run_worker(world: World, server_urls: dict[str, str], store: Path, killer: _KillAt | None):
    """Run the worker to its end (or its death); return its exit status and output."""
    environment = {
        **os.environ,
        "PDMC_SAFETY_PIPEDRIVE_URL": server_urls["pipedrive"],
        "PDMC_SAFETY_PIPEDRIVE_TOKEN": world.emulator.pipedrive.default_company.api_token.reveal(),
        "PDMC_SAFETY_MAILCHIMP_URL": server_urls["mailchimp"],
        "PDMC_SAFETY_MAILCHIMP_KEY": world.emulator.mailchimp.default_account.api_key.reveal(),
    }
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", WORKER, str(store), world.emulator.clock.now().isoformat()],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if killer is not None:
        killer.victim = worker
    output, errors = worker.communicate(timeout=120)
    if killer is not None:
        killer.victim = None
    return worker.returncode, output + errors


def _killed_sync(store: Path, phase: int, operation: str, call: int, resume: str) -> story.Sync:
    """A phase sync whose worker dies at ``operation``'s ``call``; then resume, then settle."""

    def sync(world: World, current: int) -> None:
        if current != phase:
            world.settle()
            return
        killer = _KillAt(world, operation, call)
        world.emulator.transport = killer
        with world.emulator.serve() as server:
            urls = {"pipedrive": server.url_of(world.emulator.pipedrive)}
            urls["mailchimp"] = server.url_of(world.emulator.mailchimp)
            status, output = _run_worker(world, urls, store, killer)
            assert status == -signal.SIGKILL, output
            world.emulator.advance(PAST_THE_DEAD_WORKERS_LEASE.total_seconds())
            if resume == "new worker":
                status, output = _run_worker(world, urls, store, None)
                assert status == 0, output
        world.settle()

    return sync


@pytest.mark.slow
@pytest.mark.parametrize(
    ("phase", "operation", "call", "resume"),
    [
        (1, "getListsIdSegmentsIdMembers", 1, "this process"),
        (1, "addPerson", 1, "new worker"),
        (1, "addPerson", 4, "this process"),
        (1, "updatePerson", 2, "new worker"),
        (2, "patchListsIdMembersId", 2, "this process"),
        (2, "postListsId", 1, "new worker"),
    ],
)
def test_a_worker_killed_mid_sync_resumes_to_the_unbroken_result(
    tmp_path, phase, operation, call, resume
):
    """A worker SIGKILLed right after a request was acted on resumes to the unbroken result."""
    store = tmp_path / "state.sqlite3"
    world = make_world(contacts=40, seed=5, sqlite=store)
    played = story.play(world=world, sync=_killed_sync(store, phase, operation, call, resume))
    assert story.outcome(played) == story.outcome(story.reference())
