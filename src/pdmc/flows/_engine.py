"""SyncEngine: the object the caller hosts, ticks from a scheduler and feeds webhooks.

It holds the two clients and a state store, and offers three kinds of calls:

* flow lifecycle: create (checked against the live field catalogs), preview, edit,
  activate, pause, delete, list, history;
* runs: :meth:`SyncEngine.run_due` from the caller's scheduler, :meth:`SyncEngine.run_flow`
  for one flow now, :meth:`SyncEngine.dry_run` for the plan without writing;
* webhooks: :meth:`SyncEngine.handle_pipedrive_webhook`,
  :meth:`SyncEngine.handle_mailchimp_webhook` (or :meth:`SyncEngine.receive` for any
  framework), and :meth:`SyncEngine.ensure_webhooks` to register what active flows need.

Nothing here hosts a server or a scheduler; the caller does.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from attrs import evolve, frozen

from pdmc.clients import MailchimpClient, PipedriveClient, Usage
from pdmc.clients.mailchimp import Member
from pdmc.clients.pipedrive import Person
from pdmc.errors import (
    ConfigurationError,
    FieldMapRuleError,
    FlowError,
    FlowNotFoundError,
    InvalidFieldMapError,
    LeaseHeldError,
    LinkConflictError,
    PdmcError,
    QuotaExhaustedError,
    WebhookAuthError,
    WebhookPayloadError,
)
from pdmc.flows._flow import DEFINITION_VERSION, Flow
from pdmc.flows._indexing import Index
from pdmc.flows._report import Action, ContactOutcome, Progress, ProgressCallback, SyncReport
from pdmc.flows._results import FlowState, Preview, PreviewRow, WebhookResult, WebhookSetup
from pdmc.flows._sync import LAST_FULL_PASS, PASS_STARTED, BatchSync, member_key, person_key
from pdmc.flows._trigger import Candidates, EventContext, ScanContext, TriggerUpdates
from pdmc.flows._webhook_setup import ensure_webhooks
from pdmc.flows._webhooks import (
    MailchimpEvent,
    MailchimpWebhookAuth,
    PipedriveEvent,
    PipedriveWebhookAuth,
    parse_mailchimp_event,
    parse_pipedrive_event,
)
from pdmc.mapping import (
    Direction,
    FieldCatalog,
    FieldMap,
    FieldPair,
    map_member_to_person_input,
    map_person_to_merge_fields,
)
from pdmc.storage import (
    Batch,
    Clock,
    FlowRecord,
    Lease,
    Link,
    SQLiteStore,
    StateStore,
    SystemClock,
    normalise_email,
)

__all__ = ["SyncEngine"]

logger = logging.getLogger("pdmc.engine")

_WEBHOOK_NAME: Final = "pdmc"
_MAX_KEPT_OUTCOMES: Final = 1000
_ACTIVATED_IN_MAILCHIMP: Final = "activated_in_mailchimp"
"""The checkpoint holding a Mailchimp-to-Pipedrive flow's activation in Mailchimp's time."""


def _default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@frozen
class _Tally:
    """Counts a run's outcomes without keeping every one in memory."""

    counts: Counter[str]
    reasons: Counter[str]
    kept: list[ContactOutcome]

    @classmethod
    def new(cls) -> _Tally:
        return cls(Counter(), Counter(), [])

    def add(self, outcome: ContactOutcome) -> None:
        self.counts[outcome.action.value] += 1
        if outcome.action in {Action.SKIPPED, Action.FAILED, Action.RETRYING}:
            self.reasons[outcome.reason or outcome.action.value] += 1
        if outcome.action is not Action.UNCHANGED and len(self.kept) < _MAX_KEPT_OUTCOMES:
            self.kept.append(outcome)

    def report(
        self,
        *,
        flow_id: str,
        run_id: int | None,
        started_at: datetime,
        finished_at: datetime,
        pipedrive: Usage,
        mailchimp: Usage,
        deactivated: str | None,
        errors: tuple[str, ...],
        broken_mappings: tuple[FieldMapRuleError, ...],
        dry_run: bool,
    ) -> SyncReport:
        return SyncReport(
            flow_id=flow_id,
            run_id=run_id,
            started_at=started_at,
            finished_at=finished_at,
            counts={action.value: self.counts.get(action.value, 0) for action in Action},
            outcomes=tuple(self.kept),
            skipped_reasons=dict(self.reasons.most_common()),
            pipedrive=pipedrive,
            mailchimp=mailchimp,
            deactivated=deactivated,
            errors=errors,
            broken_mappings=broken_mappings,
            dry_run=dry_run,
        )


class SyncEngine:
    """The sync engine; build one per account pair and keep it for the process's life.

    Args:
        pipedrive: a Pipedrive client for the company.
        mailchimp: a Mailchimp client for the account.
        store: where state lives (default: ``SQLiteStore("pdmc-state.sqlite3")``).
        account_pair: a stable name for this Pipedrive company and Mailchimp account
            (default: read once from both APIs as ``pipedrive:<company>/mailchimp:<account>``).
        clock: the time source (the store's clock by default).
        holder: this worker's name in leases and claims (unique per process).
        lease_ttl: how long a run may hold its flow before another worker takes over.
        full_rescan_every: how often a scheduled flow walks its whole source again
            (between, passes are incremental).
        pipedrive_webhook_auth: the Basic-auth pair Pipedrive webhooks are registered
            with and checked against.
        mailchimp_webhook_auth: how Mailchimp deliveries are authenticated.
        progress: called after each batch a run writes.
    """

    def __init__(
        self,
        pipedrive: PipedriveClient,
        mailchimp: MailchimpClient,
        store: StateStore | None = None,
        *,
        account_pair: str | None = None,
        clock: Clock | None = None,
        holder: str | None = None,
        lease_ttl: timedelta = timedelta(minutes=15),
        full_rescan_every: timedelta = timedelta(days=1),
        pipedrive_webhook_auth: PipedriveWebhookAuth | None = None,
        mailchimp_webhook_auth: MailchimpWebhookAuth | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.pipedrive = pipedrive
        self.mailchimp = mailchimp
        self.store = store if store is not None else SQLiteStore("pdmc-state.sqlite3")
        self.clock: Clock = clock or getattr(self.store, "clock", None) or SystemClock()
        self.holder = holder or _default_holder()
        self.lease_ttl = lease_ttl
        self.full_rescan_every = full_rescan_every
        self.pipedrive_webhook_auth = pipedrive_webhook_auth
        self.mailchimp_webhook_auth = mailchimp_webhook_auth
        self.progress = progress
        self._account_pair = account_pair

    def __repr__(self) -> str:
        return f"SyncEngine(store={self.store!r}, holder={self.holder!r})"

    def now(self) -> datetime:
        """The engine's current time (UTC)."""
        return self.clock.now().astimezone(UTC)

    @property
    def account_pair(self) -> str:
        """The name under which links of this company and account are kept."""
        if self._account_pair is None:
            company = self.pipedrive.get_current_user().company_id
            account = self.mailchimp.ping().account_id
            self._account_pair = f"pipedrive:{company}/mailchimp:{account}"
        return self._account_pair

    # -- catalogs and field maps ---------------------------------------------------

    def field_catalogs(self, audience_id: str) -> tuple[FieldCatalog, FieldCatalog]:
        """The live Pipedrive person fields and the audience's merge fields, as catalogs."""
        pipedrive = FieldCatalog.for_pipedrive(self.pipedrive.list_person_fields())
        mailchimp = FieldCatalog.for_mailchimp(self.mailchimp.list_merge_fields(audience_id))
        return pipedrive, mailchimp

    def field_map(self, flow: Flow) -> FieldMap:
        """The flow's field map checked against the live catalogs.

        Raises:
            InvalidFieldMapError: every rule the flow's pairs break, at once.
        """
        pipedrive, mailchimp = self.field_catalogs(flow.audience_id)
        return FieldMap(flow.direction, pipedrive, mailchimp, flow.pairs)

    def default_pairs(self, direction: Direction, audience_id: str) -> tuple[FieldPair, ...]:
        """The pairs a new flow starts from (email, names, phone, required fields)."""
        pipedrive, mailchimp = self.field_catalogs(audience_id)
        return FieldMap.default(direction, pipedrive, mailchimp).pairs

    def _live_field_map(self, flow: Flow) -> tuple[FieldMap, tuple[FieldMapRuleError, ...]]:
        """The field map for a run: pairs whose fields broke are dropped, loudly.

        Each dropped pair comes back as a :class:`FieldMapRuleError` naming the field
        that broke (deleted or renamed since the flow was saved) and the reason.
        """
        pipedrive, mailchimp = self.field_catalogs(flow.audience_id)
        pairs = list(flow.pairs)
        errors: list[FieldMapRuleError] = []
        for _ in range(len(pairs) + 1):
            try:
                return FieldMap(flow.direction, pipedrive, mailchimp, pairs), tuple(errors)
            except InvalidFieldMapError as invalid:
                broken = _broken_fields(invalid)
                kept = [p for p in pairs if p.pipedrive not in broken and p.mailchimp not in broken]
                if len(kept) == len(pairs):
                    raise
                errors.extend(_broken_pair(pair, broken) for pair in pairs if pair not in kept)
                pairs = kept
        raise ConfigurationError("the field map could not be repaired")  # pragma: no cover

    # -- flow lifecycle --------------------------------------------------------------

    def create_flow(self, flow: Flow, *, confirm_subscribed: bool = False) -> FlowState:
        """Check a new flow against the live services and save it, paused.

        Raises:
            InvalidFieldMapError: the pairs break mapping rules (all are listed).
            ConfigurationError: the id is taken, or new members would be subscribed
                without ``confirm_subscribed=True``.
        """
        if self.store.get_flow(flow.id) is not None:
            raise ConfigurationError(f"a flow with id {flow.id!r} exists; edit it instead")
        self._check(flow, confirm_subscribed=confirm_subscribed)
        record = FlowRecord(
            flow_id=flow.id,
            name=flow.name,
            definition=flow.to_definition(),
            definition_version=DEFINITION_VERSION,
        )
        return self._state(self.store.save_flow(record))

    def edit_flow(self, flow: Flow, *, confirm_subscribed: bool = False) -> FlowState:
        """Replace a saved flow's definition; its status, links and history stay."""
        record = self._record(flow.id)
        self._check(flow, confirm_subscribed=confirm_subscribed)
        saved = self.store.save_flow(
            FlowRecord(
                flow_id=flow.id,
                name=flow.name,
                definition=flow.to_definition(),
                definition_version=DEFINITION_VERSION,
                status=record.status,
                status_reason=record.status_reason,
                next_run_at=record.next_run_at,
                last_run_at=record.last_run_at,
            )
        )
        return self._state(saved)

    def _check(self, flow: Flow, *, confirm_subscribed: bool) -> None:
        self.mailchimp.get_audience(flow.audience_id)
        self.field_map(flow)
        if (
            flow.direction is Direction.PD_TO_MC
            and flow.new_member_status == "subscribed"
            and not confirm_subscribed
        ):
            raise ConfigurationError(
                "new Mailchimp members of this flow would be 'subscribed': confirm that "
                "these contacts agreed to receive email (confirm_subscribed=True), or use "
                "new_member_status='pending' to send the audience's opt-in email"
            )

    def get_flow(self, flow_id: str) -> FlowState:
        """A saved flow with its status. Raises FlowNotFoundError."""
        return self._state(self._record(flow_id))

    def list_flows(self) -> list[FlowState]:
        """Every saved flow, oldest first."""
        return [self._state(record) for record in self.store.list_flows()]

    def activate(self, flow_id: str) -> FlowState:
        """Activate a flow; it is due at once, so the next tick starts its initial sync.

        A Mailchimp-to-Pipedrive flow that was not active also notes the moment in
        Mailchimp's own time (one read of its audience), so its trigger compares
        members' timestamps with Mailchimp's clock, however far this host's is off.

        Raises:
            FlowNotFoundError: no flow has this id.
            PdmcError: the audience could not be read (the flow stays as it was).
        """
        record = self._record(flow_id)
        if record.status != "active":
            self._note_activation(self._flow(record))
        self.store.set_flow_status(flow_id, "active")
        return self._state(self.store.set_flow_schedule(flow_id, next_run_at=self.now()))

    def _note_activation(self, flow: Flow) -> None:
        """Store the activation moment in Mailchimp's time for a flow that reads Mailchimp."""
        if flow.direction is not Direction.MC_TO_PD:
            return
        self.mailchimp.get_audience(flow.audience_id)
        moment = self.mailchimp.server_time
        batch = Batch(flow_id=flow.id, lease=None)
        # Without a Date header the store's activation stamp (this host's time) stands in.
        batch.set_checkpoint(_ACTIVATED_IN_MAILCHIMP, moment.isoformat() if moment else None)
        self.store.commit_batch(batch)

    def _activated_at(self, record: FlowRecord, checkpoints: Mapping[str, Any]) -> datetime | None:
        """When the flow was last activated: in Mailchimp's time if noted, else the store's."""
        noted = checkpoints.get(_ACTIVATED_IN_MAILCHIMP)
        return datetime.fromisoformat(noted) if isinstance(noted, str) else record.activated_at

    def pause(self, flow_id: str) -> FlowState:
        """Pause a flow: no runs and no webhook handling until it is activated again."""
        self._record(flow_id)
        self.store.set_flow_schedule(flow_id, next_run_at=None)
        return self._state(self.store.set_flow_status(flow_id, "paused"))

    def delete_flow(self, flow_id: str, *, public_url: str | None = None) -> None:
        """Delete a flow and its history; links stay (other flows share them).

        With ``public_url``, webhooks that no remaining active flow needs are removed.
        """
        self._record(flow_id)
        self.store.delete_flow(flow_id)
        if public_url is not None:
            self.ensure_webhooks(public_url)

    def history(self, flow_id: str, *, limit: int = 20) -> list[Any]:
        """The flow's latest runs, newest first."""
        self._record(flow_id)
        return list(self.store.list_runs(flow_id, limit=limit))

    def preview(self, flow: Flow, *, limit: int = 20) -> Preview:
        """The first contacts a flow would sync and what it would write, before saving it.

        Event triggers have nothing to preview until their event happens.
        """
        fieldmap = self.field_map(flow)
        context = ScanContext(
            pipedrive=self.pipedrive,
            mailchimp=self.mailchimp,
            audience_id=flow.audience_id,
            checkpoint={},
            activated_at=self.now(),
            now=self.now(),
            full_rescan=True,
        )
        rows: list[PreviewRow] = []
        scan = flow.trigger.scan(context) if flow.trigger.is_scheduled else iter(())
        try:
            for candidates in scan:
                contacts: list[Person | Member] = [*candidates.persons, *candidates.members]
                for contact in contacts:
                    rows.append(_preview_row(contact, fieldmap))
                    if len(rows) >= limit:
                        break
                if len(rows) >= limit:
                    break
        finally:
            close = getattr(scan, "close", None)
            if close is not None:
                close()
        return Preview(flow_id=flow.id, rows=tuple(rows), trigger=flow.trigger.describe())

    def _record(self, flow_id: str) -> FlowRecord:
        record = self.store.get_flow(flow_id)
        if record is None:
            raise FlowNotFoundError(f"no flow has the id {flow_id!r}")
        return record

    def _flow(self, record: FlowRecord) -> Flow:
        return Flow.from_definition(
            record.flow_id, record.name, record.definition, record.definition_version
        )

    def _state(self, record: FlowRecord) -> FlowState:
        return FlowState(flow=self._flow(record), record=record)

    # -- runs --------------------------------------------------------------------------

    def run_due(self, now: datetime | None = None) -> list[SyncReport]:
        """Run every active flow that is due; skip those another worker is running."""
        reports = []
        for record in self.store.flows_due(now or self.now()):
            try:
                reports.append(self._run(record, dry_run=False))
            except LeaseHeldError:
                logger.info("flow %s is running elsewhere; skipped", record.flow_id)
        return reports

    def run_flow(self, flow_id: str) -> SyncReport:
        """Run one flow now, whatever its schedule.

        Raises:
            LeaseHeldError: another worker is running it.
        """
        return self._run(self._record(flow_id), dry_run=False)

    def dry_run(self, flow_id: str) -> SyncReport:
        """The run's plan: every create, update, skip and refusal with its reason; no writes."""
        return self._run(self._record(flow_id), dry_run=True)

    def _run(self, record: FlowRecord, *, dry_run: bool) -> SyncReport:
        flow = self._flow(record)
        started = self.now()
        # Each run leases as itself (a holder asking again would get its lease extended),
        # so two threads sharing one engine never run the same flow at once either.
        holder = f"{self.holder}/{uuid.uuid4().hex[:8]}"
        lease = None if dry_run else self.store.acquire_lease(flow.id, holder, self.lease_ttl)
        pd_before, mc_before = self.pipedrive.usage, self.mailchimp.usage
        run = None if dry_run else self.store.start_run(flow.id)
        tally = _Tally.new()
        deactivated: str | None = None
        broken: tuple[FieldMapRuleError, ...] = ()
        failure: str | None = None
        try:
            deactivated = flow.trigger.check_sources(
                self.pipedrive, self.mailchimp, flow.audience_id
            )
            if deactivated is not None:
                if not dry_run:
                    self.store.set_flow_status(flow.id, "deactivated", reason=deactivated)
                    self.store.set_flow_schedule(flow.id, next_run_at=None, last_run_at=started)
            else:
                fieldmap, broken = self._live_field_map(flow)
                checkpoints = self.store.get_checkpoints(flow.id)
                sync = self._batch_sync(
                    flow,
                    record,
                    fieldmap,
                    checkpoints,
                    run_id=run.run_id if run else None,
                    lease=lease,
                    dry_run=dry_run,
                    emit=tally.add,
                )
                self._sync_scheduled(flow, sync, checkpoints, dry_run=dry_run)
                if not dry_run:
                    self.store.set_flow_schedule(
                        flow.id, next_run_at=self.now() + flow.interval, last_run_at=started
                    )
        except (FlowError, PdmcError) as error:
            failure = f"{type(error).__name__}: {error}"
            logger.warning("flow %s failed: %s", flow.id, failure)
            if dry_run:
                raise
            if isinstance(error, QuotaExhaustedError) and error.retry_after:
                # The service takes calls again after the reset; the flow resumes then.
                resume = self.now() + timedelta(seconds=error.retry_after)
                self.store.set_flow_schedule(flow.id, next_run_at=resume, last_run_at=started)
        finally:
            if lease is not None:
                self.store.release_lease(lease)
        report = tally.report(
            flow_id=flow.id,
            run_id=run.run_id if run else None,
            started_at=started,
            finished_at=self.now(),
            pipedrive=self.pipedrive.usage - pd_before,
            mailchimp=self.mailchimp.usage - mc_before,
            deactivated=deactivated,
            errors=(*map(str, broken), *((failure,) if failure else ())),
            broken_mappings=broken,
            dry_run=dry_run,
        )
        if run is not None:
            counts = {**report.counts, "api_calls": report.api_calls, "tokens": report.tokens}
            self.store.finish_run(
                run.run_id,
                status="failed" if failure else "succeeded",
                counts=counts,
                error=failure or _history_note(broken),
            )
        return report

    def _batch_sync(
        self,
        flow: Flow,
        record: FlowRecord,
        fieldmap: FieldMap,
        checkpoints: Mapping[str, Any],
        *,
        run_id: int | None,
        lease: Lease | None,
        dry_run: bool,
        emit: Callable[[ContactOutcome], None],
    ) -> BatchSync:
        """The batch logic of one run of ``record``'s flow on this engine's clients."""
        return BatchSync(
            flow=flow,
            fieldmap=fieldmap,
            pipedrive=self.pipedrive,
            mailchimp=self.mailchimp,
            store=self.store,
            account_pair=self.account_pair,
            holder=self.holder,
            now=self.now,
            run_id=run_id,
            lease=lease,
            dry_run=dry_run,
            emit=emit,
            activated_at=self._activated_at(record, checkpoints),
        )

    def _sync_scheduled(
        self, flow: Flow, sync: BatchSync, checkpoints: Mapping[str, Any], *, dry_run: bool
    ) -> None:
        self._learn_other_side(flow, sync, checkpoints, dry_run=dry_run)
        done = self._retry_due(flow, sync)
        if not flow.trigger.is_scheduled:
            return
        last_full = checkpoints.get(LAST_FULL_PASS)
        full = (
            last_full is None
            or self.now() - datetime.fromisoformat(last_full) >= self.full_rescan_every
        )
        context = ScanContext(
            pipedrive=self.pipedrive,
            mailchimp=self.mailchimp,
            audience_id=flow.audience_id,
            checkpoint=checkpoints.get("scan") or {},
            activated_at=sync.activated_at,
            now=self.now(),
            full_rescan=full
            and (checkpoints.get("scan") or {}).get("phase") not in {"full", "pass"},
        )
        resumed = checkpoints.get(PASS_STARTED)
        pass_started = datetime.fromisoformat(resumed) if resumed else self.now()
        for candidates in flow.trigger.scan(context):
            done += sync.sync(candidates, pass_started=pass_started)
            if sync.lease is not None and not dry_run:
                sync.lease = self.store.renew_lease(sync.lease, self.lease_ttl)
            if self.progress is not None:
                self.progress(Progress(flow_id=flow.id, done=done))

    def _learn_other_side(
        self, flow: Flow, sync: BatchSync, checkpoints: Mapping[str, Any], *, dry_run: bool
    ) -> None:
        """Bring the store's index of the target side up to date before writing to it.

        Scheduled runs and webhook events both need it: without it, an event could
        create a Pipedrive person for an address a person got since the last run.
        """
        index = Index(self.store, self.pipedrive, self.mailchimp, self.account_pair, self.now)
        if flow.direction is Direction.PD_TO_MC:
            index.members(sync.fieldmap, flow, sync.lease, checkpoints, dry_run=dry_run)
        else:
            index.persons(sync.fieldmap, flow, sync.lease, checkpoints, dry_run=dry_run)
        sync.learned = index.learned

    def _retry_due(self, flow: Flow, sync: BatchSync) -> int:
        rows = self.store.due_retries(flow.id)
        person_ids = tuple(
            int(r.payload["person_id"]) for r in rows if "person_id" in (r.payload or {})
        )
        emails = tuple(
            str(r.payload["email"])
            for r in rows
            if "person_id" not in (r.payload or {}) and "email" in (r.payload or {})
        )
        done = 0
        if person_ids:
            done += sync.sync(Candidates(person_ids=person_ids), retrying=True)
        if emails:
            done += sync.sync(Candidates(emails=emails))
        return done

    # -- webhooks ------------------------------------------------------------------------

    def receive(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> WebhookResult:
        """Answer a webhook delivery for any framework: route by the URL's last segment.

        ``.../pipedrive`` goes to :meth:`handle_pipedrive_webhook`, ``.../mailchimp`` to
        :meth:`handle_mailchimp_webhook` (a GET there is Mailchimp's URL check and gets
        200). Authentication failures answer 401 and malformed bodies 400; both are
        refused before anything is written.
        """
        parts = urlsplit(url)
        target = parts.path.rstrip("/").rsplit("/", 1)[-1]
        try:
            if target == "pipedrive" and method.upper() == "POST":
                return self.handle_pipedrive_webhook(body, headers)
            if target == "mailchimp":
                if method.upper() in {"GET", "HEAD"}:
                    return WebhookResult(status=200, note="Mailchimp URL check")
                secret = parse_qs(parts.query).get("secret", [None])[0]
                return self.handle_mailchimp_webhook(body, headers, query_secret=secret)
        except WebhookAuthError as error:
            return WebhookResult(status=401, note=str(error))
        except WebhookPayloadError as error:
            return WebhookResult(status=400, note=str(error))
        return WebhookResult(status=404, note=f"no webhook endpoint at {parts.path}")

    def handle_pipedrive_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookResult:
        """Verify a Pipedrive delivery, then sync what it concerns.

        Raises:
            WebhookAuthError: the Basic auth does not match (checked before parsing).
            WebhookPayloadError: the body is not a v2 event.
        """
        if self.pipedrive_webhook_auth is None:
            raise WebhookAuthError("no Pipedrive webhook credentials are configured")
        self.pipedrive_webhook_auth.verify(headers)
        event = parse_pipedrive_event(body)
        if self.store.is_event_processed("pipedrive", event.id):
            return WebhookResult(status=200, duplicate=True)
        self._follow_merge(event)
        synced = 0
        for record, flow in self._active(Direction.PD_TO_MC):
            candidates = flow.trigger.on_pipedrive_event(self._event_context(flow, record), event)
            if candidates:
                synced += self._sync_event(flow, record, candidates)
        self._mark("pipedrive", event.id)
        return WebhookResult(status=200, synced=synced)

    def handle_mailchimp_webhook(
        self, body: bytes, headers: Mapping[str, str], *, query_secret: str | None
    ) -> WebhookResult:
        """Verify a Mailchimp delivery, then sync what it concerns.

        Raises:
            WebhookAuthError: the URL secret or signature does not match.
            WebhookPayloadError: the body is not an audience event.
        """
        if self.mailchimp_webhook_auth is None:
            raise WebhookAuthError("no Mailchimp webhook secret is configured")
        self.mailchimp_webhook_auth.verify(
            query_secret=query_secret, headers=headers, body=body, now=self.now
        )
        event = parse_mailchimp_event(body)
        if self.store.is_event_processed("mailchimp", event.key):
            return WebhookResult(status=200, duplicate=True)
        self._follow_new_address(event)
        synced = 0
        for record, flow in self._active(Direction.MC_TO_PD):
            if flow.audience_id != event.list_id:
                continue
            candidates = flow.trigger.on_mailchimp_event(self._event_context(flow, record), event)
            if candidates:
                synced += self._sync_event(flow, record, candidates)
        self._mark("mailchimp", event.key)
        return WebhookResult(status=200, synced=synced)

    def _mark(self, source: str, event_id: str) -> None:
        self.store.mark_event_processed(source, event_id)

    def _follow_new_address(self, event: MailchimpEvent) -> None:
        """An ``upemail``: the member's link, and the flows' tracking of it, move along.

        A sync would find the link again by the member's stable id, but the flows'
        tracking of the member is keyed by its address: both move here, at once, so the
        member keeps its person and its place in the flows under the new address.
        """
        if event.type != "upemail" or not event.old_email or not event.email:
            return
        old, new = normalise_email(event.old_email), normalise_email(event.email)
        link = self.store.links_for_emails(self.account_pair, event.list_id, [old]).get(old)
        if link is None or link.person_id is None or old == new:
            return
        moved = Link(
            account_pair=self.account_pair,
            audience_id=event.list_id,
            email=new,
            person_id=link.person_id,
            member_id=event.member_id,
        )
        flows = [
            record.flow_id
            for record, flow in self._active(Direction.MC_TO_PD)
            if flow.audience_id == event.list_id
        ]
        for index, flow_id in enumerate(flows):
            batch = Batch(flow_id=flow_id, lease=None)
            if index == 0:
                batch.upsert_link(moved)
            matching = self.store.tracked(flow_id, [member_key(old)]).get(member_key(old))
            if matching is not None:
                batch.track(member_key(new), matching=matching)
            try:
                self.store.commit_batch(batch)
            except LinkConflictError as error:
                # Another contact's link holds the new address: which is right is not
                # pdmc's guess; the flows' next syncs report the conflict.
                logger.warning("the new address of %s stays unlinked: %s", old, error)
                return

    def _follow_merge(self, event: PipedriveEvent) -> None:
        """A merge in Pipedrive: a survivor with no link takes over the merged person's.

        The merged person's member is the human's member; without this, a flow would
        create a second member at the survivor's address, and the first would stay
        linked to a person that no longer exists. The flows' tracking of the merged
        person moves along, so the survivor's sync, which moves the member to its
        address, runs now. A survivor with a link of its own keeps it.
        """
        merge = _merge_of(event)
        if merge is None:
            return
        merged, survivor = merge
        audiences: set[str] = set()
        for record, flow in self._active(Direction.PD_TO_MC, Direction.MC_TO_PD):
            batch = Batch(flow_id=record.flow_id, lease=None)
            if flow.audience_id not in audiences:
                audiences.add(flow.audience_id)
                links = self.store.links_for_persons(
                    self.account_pair, flow.audience_id, [merged, survivor]
                )
                if (left := links.get(merged)) is not None and survivor not in links:
                    batch.upsert_link(evolve(left, person_id=survivor))
            keys = self.store.tracked(record.flow_id, [person_key(merged), person_key(survivor)])
            if person_key(merged) in keys and person_key(survivor) not in keys:
                batch.track(person_key(survivor), matching=keys[person_key(merged)])
            if not (batch.links or batch.memberships):
                continue
            try:
                self.store.commit_batch(batch)
            except LinkConflictError as error:
                logger.warning("person %s keeps no link after its merge: %s", survivor, error)

    def _active(self, *directions: Direction) -> Iterator[tuple[FlowRecord, Flow]]:
        for record in self.store.list_flows(status="active"):
            flow = self._flow(record)
            if flow.direction in directions:
                yield record, flow

    def _event_context(self, flow: Flow, record: FlowRecord) -> EventContext:
        return EventContext(
            pipedrive=self.pipedrive,
            mailchimp=self.mailchimp,
            audience_id=flow.audience_id,
            activated_at=self._activated_at(record, self.store.get_checkpoints(flow.id)),
            now=self.now(),
        )

    def _tracks_any(self, flow: Flow, candidates: Candidates) -> bool:
        keys = [person_key(p) for p in candidates.person_ids] + [
            member_key(email) for email in candidates.emails
        ]
        tracked = self.store.tracked(flow.id, keys)
        if flow.trigger.updates is TriggerUpdates.WHILE_MATCHING:
            return any(tracked.values())
        return bool(tracked)

    def _sync_event(self, flow: Flow, record: FlowRecord, candidates: Candidates) -> int:
        """Sync an event's candidates now, re-reading their current state first."""
        if candidates.only_tracked and not self._tracks_any(flow, candidates):
            return 0  # an update of contacts this flow does not sync: no run, no reads
        run = self.store.start_run(flow.id)
        try:
            fieldmap, broken = self._live_field_map(flow)
        except PdmcError as error:
            # As when the sync itself fails below: the run is recorded as failed and the
            # scheduled pass syncs the change; the delivery is not answered with a crash.
            reason = f"{type(error).__name__}: {error}"
            logger.warning("flow %s could not sync a webhook event: %s", flow.id, reason)
            self.store.finish_run(run.run_id, status="failed", counts={}, error=reason)
            return 0
        pd_before, mc_before = self.pipedrive.usage, self.mailchimp.usage
        tally = _Tally.new()
        checkpoints = self.store.get_checkpoints(flow.id)
        sync = self._batch_sync(
            flow,
            record,
            fieldmap,
            checkpoints,
            run_id=run.run_id,
            lease=None,
            dry_run=False,
            emit=tally.add,
        )
        refetch = Candidates(
            person_ids=(*candidates.person_ids, *(p.id for p in candidates.persons)),
            emails=(*candidates.emails, *(m.email_address for m in candidates.members)),
            only_tracked=candidates.only_tracked,
            occurrences=candidates.occurrences,
        )
        failure = None
        try:
            self._learn_other_side(flow, sync, checkpoints, dry_run=False)
            done = sync.sync(refetch)
        except PdmcError as error:
            failure = f"{type(error).__name__}: {error}"
            done = 0
        self.store.finish_run(
            run.run_id,
            status="failed" if failure else "succeeded",
            counts={
                **tally.counts,
                "api_calls": (self.pipedrive.usage - pd_before).requests
                + (self.mailchimp.usage - mc_before).requests,
                "tokens": (self.pipedrive.usage - pd_before).tokens,
            },
            error=failure or _history_note(broken),
        )
        return done

    def ensure_webhooks(self, public_url: str) -> WebhookSetup:
        """Register exactly the webhooks the active flows need, and remove pdmc's others.

        Pipedrive webhooks go to ``<public_url>/pipedrive`` with the configured Basic
        auth and v2 payloads; Mailchimp webhooks to ``<public_url>/mailchimp`` with the
        URL secret, for user and admin changes only (never pdmc's own API writes).
        Idempotent: a second call creates and deletes nothing.

        Raises:
            ConfigurationError: a flow needs webhooks whose credentials are not configured.
        """
        flows = [self._flow(record) for record in self.store.list_flows(status="active")]
        # Every audience of the account, so the webhooks of a deleted flow, or of one
        # moved to another audience, are found and removed too.
        audiences = {audience.id for audience in self.mailchimp.list_audiences()}
        return ensure_webhooks(
            public_url,
            flows=flows,
            audiences=audiences,
            pipedrive=self.pipedrive,
            mailchimp=self.mailchimp,
            pipedrive_auth=self.pipedrive_webhook_auth,
            mailchimp_auth=self.mailchimp_webhook_auth,
        )


def _merge_of(event: PipedriveEvent) -> tuple[int, int] | None:
    """The merged and the surviving person of a merge event, or ``None`` for other events.

    Pipedrive announces a merge twice: the merged person's delete names the survivor
    (``merged_to_id``) and the survivor's change names the merged person
    (``merged_from_id``); either one is enough.
    """
    if event.entity != "person":
        return None
    if event.merged_from_id is not None:
        return event.merged_from_id, event.entity_id
    if event.merged_to_id is not None:
        return event.entity_id, event.merged_to_id
    return None


def _broken_pair(pair: FieldPair, broken: Mapping[str, list[str]]) -> FieldMapRuleError:
    reasons = "; ".join(broken.get(pair.pipedrive, []) + broken.get(pair.mailchimp, []))
    field = (
        f"pipedrive:{pair.pipedrive}" if pair.pipedrive in broken else f"mailchimp:{pair.mailchimp}"
    )
    return FieldMapRuleError(
        f"the mapping {pair.pipedrive} -> {pair.mailchimp} no longer works ({reasons}); "
        "the other fields keep syncing",
        field=field,
        reason=reasons,
    )


def _history_note(broken: tuple[FieldMapRuleError, ...]) -> str | None:
    """What a run's history records about mappings it dropped (``None``: none dropped)."""
    return "; ".join(str(error) for error in broken) or None


def _broken_fields(invalid: InvalidFieldMapError) -> dict[str, list[str]]:
    broken: dict[str, list[str]] = {}
    for problem in invalid.exceptions:
        if isinstance(problem, FieldMapRuleError):
            key = problem.field.split(":")[-1].strip()
            broken.setdefault(key, []).append(problem.reason)
    return broken


def _preview_row(contact: Person | Member, fieldmap: FieldMap) -> PreviewRow:
    if isinstance(contact, Person):
        mapped = map_person_to_merge_fields(contact, fieldmap)
        return PreviewRow(
            email=mapped.email,
            name=contact.name,
            values=dict(mapped.values),
            problems=tuple(f"{e.field}: {e.reason}" for e in mapped.errors),
        )
    person = map_member_to_person_input(contact, fieldmap)
    return PreviewRow(
        email=contact.email_address,
        name=" ".join(
            str(v)
            for v in (contact.merge_fields.get("FNAME"), contact.merge_fields.get("LNAME"))
            if v
        ),
        values=dict(person.values),
        problems=tuple(f"{e.field}: {e.reason}" for e in person.errors),
    )
