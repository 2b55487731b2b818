"""A sync worker SIGKILLed at any request of an initial or incremental sync resumes to the
unbroken result.

The sync under test runs in a worker process of its own (``crash_worker.py`` of the
safety proofs) against the emulator served over HTTP, with its state in a SQLite file.
An uninterrupted worker run first records the sync's requests in order; each scenario
then kills a fresh run's worker with SIGKILL at one of them, right after the service
acted on it and before the worker heard the answer (a write made and not recorded).
The sync resumes in this process or in a fresh worker, the flows settle, and
``check_end`` compares both services with the unbroken story. The default run kills at
the first call of each write operation and of the first read of each service; the
slow sweep kills at every request, resuming both ways.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.flows_safety.story import outcome as story_outcome
from tests.flows_safety.test_killed_worker import _KillAt, _killed_sync, _run_worker
from tests.flows_safety.world import World, make_world
from tests.reliability import faults_support
from tests.reliability.faults_support import STORIES
from tests.reliability.ledger import check_end, statuses

SYNCS: tuple[tuple[str, int], ...] = (
    ("initial", 1),  # a Mailchimp-tag flow's initial sync: creates and updates persons
    ("initial", 2),  # a Pipedrive-filter flow's initial sync: moves and subscribes members
    ("incremental-unhooked", 1),  # both flows' next run after people changed contacts
)
RESUMES = ("this process", "new worker")


class _Recorder(_KillAt):
    """Serves the emulator to the worker and notes each request's operation, killing none."""

    def __init__(self, world: World) -> None:
        super().__init__(world, operation="", call=0)
        self.operations: list[str] = []

    def handle_emulated(self, request):
        service = self.service_for(request.host)
        found = service.match(request.method, request.path) if service else None
        self.operations.append(found[0].operation_id if found else "unknown")
        return super().handle_emulated(request)


def _recording_sync(store: Path, phase: int, operations: list[str]):
    """A phase sync run by one unbroken worker whose requests land in ``operations``."""

    def sync(world: World, current: int) -> None:
        if current == phase:
            recorder = _Recorder(world)
            world.emulator.transport = recorder
            with world.emulator.serve() as server:
                urls = {
                    "pipedrive": server.url_of(world.emulator.pipedrive),
                    "mailchimp": server.url_of(world.emulator.mailchimp),
                }
                status, output = _run_worker(world, urls, store, None)
                assert status == 0, output
            operations.extend(recorder.operations)
        world.settle()

    return sync


_REQUESTS: dict[tuple[str, int], list[tuple[str, int]]] = {}


def _requests(story: str, phase: int, tmp_path: Path) -> list[tuple[str, int]]:
    """Every request of the phase's sync by an unbroken worker, as (operation, call number).

    The unbroken worker run is itself checked against the unbroken in-process story.
    """
    if (story, phase) not in _REQUESTS:
        operations: list[str] = []
        store = tmp_path / "recording.sqlite3"
        world = STORIES[story](
            sync=_recording_sync(store, phase, operations),
            world=make_world(contacts=40, seed=5, sqlite=store),
        )
        _same_as_reference(world, story)
        seen: Counter[str] = Counter()
        points = []
        for operation in operations:
            seen[operation] += 1
            points.append((operation, seen[operation]))
        _REQUESTS[story, phase] = points
    return _REQUESTS[story, phase]


def _same_as_reference(world: World, story: str) -> None:
    reference = faults_support.reference(story)
    assert story_outcome(world) == story_outcome(reference), story


def _kill(story: str, phase: int, point: tuple[str, int], resume: str, store: Path) -> None:
    """Play ``story`` with its phase's worker killed at ``point``, then check its end."""
    operation, call = point
    before: dict[str, str] = {}
    killed = _killed_sync(store, phase, operation, call, resume)

    def sync(world: World, current: int) -> None:
        if current == phase:
            before.update(statuses(world.emulator, world.audience))
        killed(world, current)

    world = STORIES[story](sync=sync, world=make_world(contacts=40, seed=5, sqlite=store))
    check_end(
        f"{story} sync {phase}: SIGKILL at {operation} #{call}, resumed in {resume}",
        world.emulator,
        faults_support.reference(story).emulator,
        world.audience,
        faults=1,
        statuses_before=before,
    )


def _representative(points: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The first call of each write, and of the first read of each service."""
    firsts = [point for point in points if point[1] == 1]
    writes = [point for point in firsts if not point[0].startswith("get")]
    pipedrive_read = next(p for p in firsts if p[0] in {"getPersons", "getPerson", "getFilter"})
    mailchimp_read = next(p for p in firsts if p[0].startswith("getLists"))
    return [pipedrive_read, mailchimp_read, *writes]


@pytest.mark.parametrize(("story", "phase"), SYNCS, ids=[f"{s}-{p}" for s, p in SYNCS])
def test_a_worker_killed_at_each_write_resumes_to_the_unbroken_result(tmp_path, story, phase):
    """Killed at the first call of each write (and a read per service), a sync resumes intact."""
    points = _representative(_requests(story, phase, tmp_path))
    assert len(points) > 2, f"the {story} sync {phase} writes nothing: no write to kill at"
    for number, point in enumerate(points):
        resume = RESUMES[number % len(RESUMES)]
        _kill(story, phase, point, resume, tmp_path / f"kill-{number}.sqlite3")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("story", "phase", "resume"),
    [(s, p, r) for s, p in SYNCS for r in RESUMES],
    ids=[f"{s}-{p}-{r.replace(' ', '_')}" for s, p in SYNCS for r in RESUMES],
)
def test_a_worker_killed_at_every_request_resumes_to_the_unbroken_result(
    tmp_path, story, phase, resume
):
    """Killed at any request of its sync, a worker's sync resumes to the unbroken end."""
    for number, point in enumerate(_requests(story, phase, tmp_path)):
        _kill(story, phase, point, resume, tmp_path / f"kill-{number}.sqlite3")
