"""The engine's runs: leases, dry runs, retries, permanent refusals, broken mappings,
address changes, progress and reports, on the emulator."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pdmc.emulator import Emulator, FaultKind
from pdmc.errors import LeaseHeldError
from pdmc.flows import (
    DEFAULT_INTERVAL,
    Action,
    Flow,
    PipedriveFiltersTrigger,
    Progress,
    SyncEngine,
    SyncReport,
)
from pdmc.mapping import FieldPair
from pdmc.storage import Lease, SQLiteStore, StateStore
from tests.flows.conftest import Scene


@pytest.fixture
def buyers(scene: Scene) -> int:
    """A "job title is Buyer" filter over a few persons, some of them awkward."""
    scene.person("Ada Lovelace", "ada@lovelace-labs.io", job_title="Buyer")
    scene.person("Cleo Marsh", "cleo@marsh-trading.co.uk", job_title="Buyer")
    scene.person("Nobody Known", job_title="Buyer")  # no address
    scene.person("Quinn Ward", "quinn@ward-imports.ca", job_title="Buyer")
    scene.person("Bob Stone", "bob@stone-works.io", job_title="Engineer")
    scene.member("cleo@marsh-trading.co.uk", fname="C.")
    scene.member("quinn@ward-imports.ca", fname="Quinn", status="unsubscribed")
    return scene.job_filter("Buyer")


def _state(scene: Scene) -> tuple[Any, Any]:
    """Both services' contacts, to compare before and after."""
    return scene.persons(), scene.members()


# -- leases ------------------------------------------------------------------------------


def test_run_due_skips_a_flow_leased_by_another_holder(scene: Scene, buyers: int):
    """A due flow whose lease another worker holds is skipped, then runs once it is free."""
    flow = scene.filters_flow(buyers)
    lease = scene.store.acquire_lease(flow.id, "worker-elsewhere", timedelta(minutes=15))

    assert scene.tick() == {}
    with pytest.raises(LeaseHeldError):
        scene.engine.run_flow(flow.id)
    assert scene.members().keys() == {"cleo@marsh-trading.co.uk", "quinn@ward-imports.ca"}

    scene.store.release_lease(lease)
    assert flow.id in scene.tick()
    assert "ada@lovelace-labs.io" in scene.members()


def test_an_expired_lease_of_a_crashed_worker_is_taken_over(scene: Scene, buyers: int):
    """A lease left by a worker that died stops blocking the flow once its time is up."""
    flow = scene.filters_flow(buyers)
    scene.store.acquire_lease(flow.id, "worker-that-died", timedelta(minutes=15))
    assert scene.tick() == {}

    scene.later(timedelta(minutes=16))

    assert flow.id in scene.tick()


@pytest.fixture
def shared_file(tmp_path: Path) -> Path:
    return tmp_path / "shared.sqlite3"


def test_two_engines_sharing_a_sqlite_store_never_run_a_flow_at_once(
    emulator: Emulator, shared_file: Path
):
    """While one engine runs a flow, another engine on the same SQLite file cannot run it."""
    first = Scene(emulator, SQLiteStore(shared_file, clock=emulator.clock))
    second = first.new_engine(SQLiteStore(shared_file, clock=emulator.clock), holder="engine-b")
    first.person("Ada Lovelace", "ada@lovelace-labs.io", job_title="Buyer")
    flow = first.filters_flow(first.job_filter("Buyer"))
    seen_by_second: list[list[SyncReport]] = []
    refused: list[type[BaseException]] = []

    def meanwhile(progress: Progress) -> None:
        seen_by_second.append(second.run_due())
        try:
            second.run_flow(flow.id)
        except LeaseHeldError as error:
            refused.append(type(error))

    first.engine.progress = meanwhile
    reports = first.engine.run_due()

    assert [r.flow_id for r in reports] == [flow.id]
    assert seen_by_second
    assert all(runs == [] for runs in seen_by_second)
    assert refused == [LeaseHeldError] * len(seen_by_second)
    assert second.run_flow(flow.id).writes == 0  # free again afterwards


class _LeaseWatch:
    """A store that counts, per flow, how many runs hold its lease at the same moment."""

    def __init__(self, store: StateStore, counts: Counter[str], lock: threading.Lock) -> None:
        self._store = store
        self._counts = counts
        self._lock = lock
        self.overlaps = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def acquire_lease(self, flow_id: str, holder: str, ttl: timedelta) -> Lease:
        lease = self._store.acquire_lease(flow_id, holder, ttl)
        with self._lock:
            self._counts[flow_id] += 1
            if self._counts[flow_id] > 1:
                self.overlaps += 1
        return lease

    def release_lease(self, lease: Lease) -> None:
        with self._lock:
            self._counts[lease.flow_id] -= 1
        self._store.release_lease(lease)


@pytest.fixture
def threads_scene(emulator: Emulator, shared_file: Path) -> Iterator[Scene]:
    scene = Scene(emulator, SQLiteStore(shared_file, clock=emulator.clock))
    yield scene
    scene.store.close()


def test_threads_of_two_engines_on_one_sqlite_file_take_turns_on_a_flow(
    threads_scene: Scene, shared_file: Path
):
    """Two engines, each driven by two threads, never hold one flow's lease at the same time."""
    scene = threads_scene
    for n in range(20):
        scene.person(f"Buyer {n}", f"buyer{n}@bulk-buyers.com", job_title="Buyer")
    flow = scene.filters_flow(scene.job_filter("Buyer"))
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    watches = [
        _LeaseWatch(SQLiteStore(shared_file, clock=scene.emulator.clock), counts, lock)
        for _ in range(2)
    ]
    engines = [scene.new_engine(watch, holder=f"engine-{n}") for n, watch in enumerate(watches)]
    runs: list[SyncReport] = []
    start = threading.Barrier(4)

    def worker(engine: SyncEngine) -> None:
        start.wait()
        for _ in range(5):
            try:
                runs.append(engine.run_flow(flow.id))
            except LeaseHeldError:
                continue

    threads = [threading.Thread(target=worker, args=(e,)) for e in (*engines, *engines)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert runs
    assert sum(w.overlaps for w in watches) == 0
    assert len(scene.members()) == 20


# -- dry runs ------------------------------------------------------------------------------


def test_dry_run_returns_the_plan_and_writes_nothing(scene: Scene, buyers: int):
    """A dry run plans every create, update and skip with its reason, and writes nowhere."""
    flow = scene.filters_flow(buyers)
    before = _state(scene)

    plan = scene.engine.dry_run(flow.id)

    assert plan.dry_run
    assert plan.run_id is None
    assert _state(scene) == before
    assert scene.store.count_links(scene.engine.account_pair, scene.audience) == 0
    assert scene.store.get_checkpoints(flow.id) == {}
    assert scene.engine.history(flow.id) == []
    planned = {(o.email or str(o.person_id), o.action) for o in plan.outcomes}
    report = scene.tick()[flow.id]
    done = {(o.email or str(o.person_id), o.action) for o in report.outcomes}
    assert planned == done
    assert ("ada@lovelace-labs.io", Action.CREATED) in planned
    assert ("cleo@marsh-trading.co.uk", Action.UPDATED) in planned
    assert plan.skipped_reasons == report.skipped_reasons
    assert any("no email" in reason for reason in plan.skipped_reasons)
    assert any("unsubscribed" in reason for reason in plan.skipped_reasons)


# -- retries and refusals ---------------------------------------------------------------------


def test_transient_row_failures_go_to_the_retry_list_and_succeed_on_a_later_run(
    scene: Scene, buyers: int
):
    """Rows a transient failure stopped are kept for a retry, and a later run writes them."""
    flow = scene.filters_flow(buyers)
    scene.emulator.faults.script(  # more failures than the client's retries
        FaultKind.SERVER_ERROR, service="mailchimp", operation="postListsId", times=5
    )

    first = scene.tick()[flow.id]

    assert first.counts["retrying"] == 2
    assert scene.store.count_retries(flow.id) == 2
    assert "ada@lovelace-labs.io" not in scene.members()
    scene.later(DEFAULT_INTERVAL)
    second = scene.tick()[flow.id]
    assert scene.store.count_retries(flow.id) == 0
    assert scene.mc("ada@lovelace-labs.io")["status"] == "subscribed"
    assert scene.mc("cleo@marsh-trading.co.uk")["merge_fields"]["FNAME"] == "Cleo"
    assert second.counts["retrying"] == 0


def test_a_transient_failure_creating_a_person_is_retried_later(scene: Scene):
    """A Pipedrive person whose creation failed transiently is created by a later run."""
    scene.member("dora@prospect-mail.de", fname="Dora")
    flow = scene.segments_flow(scene.tag("Prospects", ["dora@prospect-mail.de"]))
    scene.emulator.faults.script(
        FaultKind.CONNECTION_RESET, service="pipedrive", operation="addPerson", times=10
    )

    first = scene.tick()[flow.id]
    assert first.counts["retrying"] == 1
    assert scene.persons() == {}
    scene.emulator.faults.clear()
    scene.later(DEFAULT_INTERVAL)
    scene.tick()

    assert scene.persons()["dora@prospect-mail.de"]["first_name"] == "Dora"
    assert scene.store.count_retries(flow.id) == 0
    assert scene.emulator.pipedrive.person_count() == 1


def test_permanent_refusals_are_reported_once_and_never_retried(scene: Scene, buyers: int):
    """A refused row is reported once with its reason, and neither retried nor reported again."""
    fake = scene.person("Asdf Asdf", "asdf@mail-host.net", job_title="Buyer")
    flow = scene.filters_flow(buyers)

    first = scene.tick()[flow.id]
    refused = [o for o in first.outcomes if o.person_id == fake]
    assert [(o.action, o.permanent) for o in refused] == [(Action.SKIPPED, True)]
    assert "fake or invalid" in (refused[0].reason or "")
    assert scene.store.count_retries(flow.id) == 0

    scene.update_person(fake, first_name="Asdfgh")  # the same refusal comes back
    scene.later(DEFAULT_INTERVAL)
    second = scene.tick()[flow.id]
    scene.later(DEFAULT_INTERVAL)
    third = scene.tick()[flow.id]

    assert second.counts["skipped"] == third.counts["skipped"] == 0
    assert not [o for o in (*second.outcomes, *third.outcomes) if o.person_id == fake]
    assert scene.store.count_retries(flow.id) == 0


# -- fields, addresses, progress, reports ----------------------------------------------------


def _delete_merge_field(scene: Scene, tag: str) -> None:
    """An admin deletes a merge field (through the API: the state API has no such call)."""
    merge_id = next(
        f.merge_id for f in scene.mailchimp.list_merge_fields(scene.audience) if f.tag == tag
    )
    key = scene.emulator.mailchimp.default_account.api_key.reveal()
    with httpx.Client(transport=scene.emulator.transport, auth=("pdmc", key)) as http:
        answer = http.delete(
            f"https://us6.api.mailchimp.com/3.0/lists/{scene.audience}/merge-fields/{merge_id}"
        )
    assert answer.status_code == 204


def test_a_deleted_mapped_field_is_reported_broken_and_the_other_fields_keep_syncing(
    scene: Scene, buyers: int
):
    """A mapped merge field deleted mid-life names its mapping in the report; others sync on."""
    scene.emulator.mailchimp.add_merge_field(scene.audience, tag="JOB", name="Job", type="text")
    flow = scene.flow(PipedriveFiltersTrigger([buyers]))
    flow = scene.start(flow.evolve(pairs=(*flow.pairs, FieldPair("job_title", "JOB"))))
    scene.tick()
    assert scene.mc("ada@lovelace-labs.io")["merge_fields"]["JOB"] == "Buyer"
    ada = scene.persons()["ada@lovelace-labs.io"]["id"]

    _delete_merge_field(scene, "JOB")
    scene.later()
    scene.update_person(ada, first_name="Augusta")
    scene.webhooks_now()
    scene.later(DEFAULT_INTERVAL)
    scene.update_person(ada, last_name="King")
    report = scene.tick()[flow.id]

    assert [e for e in report.errors if "job_title -> JOB" in e]
    assert scene.mc("ada@lovelace-labs.io")["merge_fields"]["FNAME"] == "Augusta"
    assert scene.mc("ada@lovelace-labs.io")["merge_fields"]["LNAME"] == "King"
    assert report.counts["updated"] >= 1


def test_an_email_change_in_pipedrive_moves_the_linked_members_address(scene: Scene, buyers: int):
    """A changed address moves the member: one member, the new address, the same history."""
    scene.filters_flow(buyers)
    scene.tick()
    ada = scene.persons()["ada@lovelace-labs.io"]["id"]
    scene.later()
    before = scene.mc("ada@lovelace-labs.io")
    count = scene.emulator.mailchimp.member_count(scene.audience)

    scene.update_person(
        ada, emails=[{"value": "ada.king@analytical-engines.co.uk", "primary": True}]
    )
    scene.webhooks_now()

    after = scene.mc("ada.king@analytical-engines.co.uk")
    assert scene.mc("ada@lovelace-labs.io") is None
    assert after is not None
    assert scene.emulator.mailchimp.member_count(scene.audience) == count
    for kept in ("unique_email_id", "status", "timestamp_opt", "timestamp_signup"):
        assert after[kept] == before[kept]
    links = scene.store.links_for_persons(scene.engine.account_pair, scene.audience, [ada])
    assert links[ada].email == "ada.king@analytical-engines.co.uk"


def test_the_progress_callback_is_called_after_each_batch(scene: Scene, buyers: int):
    """The progress callback hears of every batch, with the count of contacts seen so far."""
    engineers = scene.job_filter("Engineer")
    calls: list[Progress] = []
    scene.engine.progress = calls.append
    flow = scene.filters_flow(buyers, engineers)

    scene.tick()

    # One batch per filter page, then the end of the pass.
    assert [(c.flow_id, c.done) for c in calls] == [(flow.id, 4), (flow.id, 5), (flow.id, 5)]


def test_a_sync_report_renders_as_an_html_table(scene: Scene, buyers: int):
    """In a notebook a report shows its counts, cost, reasons and contacts as escaped HTML."""
    scene.person("Tom <b>Bold</b>", "tom@bold-type.org", job_title="Buyer")
    flow = scene.filters_flow(buyers)

    report = scene.tick()[flow.id]
    html = report._repr_html_()

    assert html.startswith(f"<h4>SyncReport of flow {flow.id}</h4><table>")
    assert f"<tr><th>created</th><td>{report.counts['created']}</td></tr>" in html
    assert f"<tr><th>API calls</th><td>{report.api_calls}</td></tr>" in html
    assert "the person has no email address" in html
    assert "tom@bold-type.org" in html
    assert "<b>Bold</b>" not in html
    assert report.summary().startswith(f"flow {flow.id}: ")
    assert report.tokens > 0


def test_a_flow_reads_no_more_than_it_needs_on_an_idle_run(scene: Scene, buyers: int):
    """A run with nothing new writes nothing on either side."""
    flow: Flow = scene.filters_flow(buyers)
    scene.tick()
    scene.later(DEFAULT_INTERVAL)
    before = _state(scene)

    report = scene.tick()[flow.id]

    assert report.writes == 0
    assert _state(scene) == before
    writes = {"postListsId", "putListsIdMembersId", "patchListsIdMembersId"}
    assert not writes & set(report.mailchimp.by_operation)
