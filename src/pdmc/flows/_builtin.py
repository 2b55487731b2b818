"""The four triggers of Pipedrive's Mailchimp sync, each with the seed's semantics.

========================================  ======  =========  ==========================
Trigger                                   Way     Kind       Later updates of a contact
========================================  ======  =========  ==========================
:class:`MailchimpSegmentsTrigger`         MC→PD   scheduled  while it still matches
:class:`NewMailchimpContactTrigger`       MC→PD   event      not synced
:class:`PipedriveFiltersTrigger`          PD→MC   scheduled  while the person exists
:class:`DealStageTrigger`                 PD→MC   event      not synced
========================================  ======  =========  ==========================

Scheduled triggers also take the webhooks that make field updates near-instant, and
event triggers also poll, so a missed webhook is made up for on the next run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from pdmc.clients.mailchimp import MailchimpClient, Member
from pdmc.clients.pipedrive import Person, PipedriveClient
from pdmc.errors import BadRequestError, NotFoundError
from pdmc.flows._trigger import (
    Candidates,
    EventContext,
    ScanContext,
    Trigger,
    TriggerUpdates,
    WebhookNeeds,
)
from pdmc.flows._webhooks import MailchimpEvent, PipedriveEvent
from pdmc.mapping import Direction

__all__ = [
    "OVERLAP",
    "DealStageTrigger",
    "MailchimpSegmentsTrigger",
    "NewMailchimpContactTrigger",
    "PipedriveFiltersTrigger",
]

OVERLAP: Final = timedelta(minutes=5)
"""How far back an incremental pass looks before its cursor.

Changes that land on the cursor's second, and clocks that disagree by up to this much,
are read again instead of missed; fingerprints make the second read write nothing.
"""


def _stamp(moment: datetime) -> str:
    return moment.isoformat()


def _since(checkpoint: Mapping[str, Any], fallback: datetime | None) -> datetime | None:
    raw = checkpoint.get("since")
    if isinstance(raw, str):
        return datetime.fromisoformat(raw) - OVERLAP
    return fallback


class PipedriveFiltersTrigger(Trigger):
    """Persons matching one or more Pipedrive filters, synced to a Mailchimp audience.

    The first pass walks every filter's matches; later passes read only persons
    changed since the last one (``updated_since``), so their cost grows with changes,
    not with the filters' size. A person stays in Mailchimp when they stop matching,
    and their updates keep syncing (through the ``person.change`` webhook and the
    unfiltered incremental read); deleting them in Pipedrive deletes nothing and stops
    their updates. The flow deactivates itself when every chosen filter is deleted.
    """

    type_name = "pipedrive_filters"
    direction = Direction.PD_TO_MC
    updates = TriggerUpdates.ONCE_SYNCED

    def __init__(self, filter_ids: tuple[int, ...] | list[int]) -> None:
        if not filter_ids:
            raise ValueError("choose at least one Pipedrive filter")
        self.filter_ids = tuple(int(f) for f in filter_ids)

    def to_config(self) -> dict[str, Any]:
        return {"filter_ids": list(self.filter_ids)}

    def scan(self, context: ScanContext) -> Iterator[Candidates]:
        checkpoint = context.checkpoint
        if context.full_rescan or checkpoint.get("phase") != "incremental":
            yield from self._full_pass(context)
        else:
            yield from self._incremental_pass(context)

    def _full_pass(self, context: ScanContext) -> Iterator[Candidates]:
        checkpoint = dict(context.checkpoint) if context.checkpoint.get("phase") == "full" else {}
        started = checkpoint.get("started") or _stamp(context.now)
        first = int(checkpoint.get("filter", 0))
        for index in range(first, len(self.filter_ids)):
            resume = checkpoint.get("resume") if index == first else None
            listing = context.pipedrive.list_persons(filter_id=self.filter_ids[index])
            try:
                for page in listing.pages(resume=resume):
                    position = {"phase": "full", "started": started, "filter": index}
                    if page.resume is None:
                        position = {**position, "filter": index + 1}
                    else:
                        position["resume"] = dict(page.resume)
                    yield Candidates(persons=page.items, checkpoint=position)
            except (NotFoundError, BadRequestError):
                # A deleted filter (Pipedrive may answer 400 for its id); check_sources
                # deactivates the flow when all are gone. Any other refusal is raised.
                if _filter_exists(context.pipedrive, self.filter_ids[index]):
                    raise
        yield Candidates(checkpoint={"phase": "incremental", "since": started}, end_of_pass=True)

    def _incremental_pass(self, context: ScanContext) -> Iterator[Candidates]:
        since = _since(context.checkpoint, context.activated_at)
        # Each changed person is handed over once per pass, however many listings
        # hold them (only the changed ones are remembered, so memory stays O(changes)).
        seen: set[int] = set()
        for filter_id in self.filter_ids:
            try:
                for page in context.pipedrive.list_persons(
                    filter_id=filter_id, updated_since=since
                ).pages():
                    fresh = tuple(p for p in page.items if p.id not in seen)
                    seen.update(p.id for p in fresh)
                    yield Candidates(persons=fresh)
            except (NotFoundError, BadRequestError):
                if _filter_exists(context.pipedrive, filter_id):
                    raise
        # Persons that stopped matching but were synced before keep their updates.
        for page in context.pipedrive.list_persons(updated_since=since).pages():
            rest = tuple(p for p in page.items if p.id not in seen)
            yield Candidates(persons=rest, only_tracked=True)
        yield Candidates(checkpoint={"phase": "incremental", "since": _stamp(context.now)})

    def on_pipedrive_event(self, context: EventContext, event: PipedriveEvent) -> Candidates | None:
        del context
        if event.entity != "person" or event.action != "change":
            return None
        ids: tuple[int, ...] = (event.entity_id,)
        if event.merged_from_id is not None:
            ids = (event.entity_id, event.merged_from_id)
        return Candidates(person_ids=ids, only_tracked=True)

    def webhooks(self) -> WebhookNeeds:
        return WebhookNeeds(pipedrive=frozenset({("person", "change")}))

    def check_sources(
        self, pipedrive: PipedriveClient, mailchimp: MailchimpClient, audience_id: str
    ) -> str | None:
        del mailchimp, audience_id
        if any(_filter_exists(pipedrive, filter_id) for filter_id in self.filter_ids):
            return None
        return f"every chosen Pipedrive filter was deleted ({_ids(self.filter_ids)})"

    def describe(self) -> str:
        return f"Pipedrive filters {_ids(self.filter_ids)}"


class DealStageTrigger(Trigger):
    """The person of a deal that moves into a stage, synced to a Mailchimp audience.

    Event-driven (``deal.change`` and ``deal.create`` webhooks), with a polling
    fallback that reads deals in the stage whose ``stage_change_time`` is past the
    cursor. Only moves after activation count. Later updates of the person are not
    synced by this flow; moving the deal out of the stage changes nothing; deleting
    the deal or the person deletes nothing.
    """

    type_name = "deal_stage"
    direction = Direction.PD_TO_MC
    updates = TriggerUpdates.NEVER

    def __init__(self, pipeline_id: int, stage_id: int) -> None:
        self.pipeline_id = int(pipeline_id)
        self.stage_id = int(stage_id)

    def to_config(self) -> dict[str, Any]:
        return {"pipeline_id": self.pipeline_id, "stage_id": self.stage_id}

    def scan(self, context: ScanContext) -> Iterator[Candidates]:
        since = _since(context.checkpoint, context.activated_at)
        for page in context.pipedrive.list_deals(
            stage_id=self.stage_id, updated_since=since
        ).pages():
            moves = {
                deal.person_id: _move(deal.id, deal.stage_change_time)
                for deal in page.items
                if deal.person_id is not None
                and deal.stage_change_time is not None
                and (since is None or deal.stage_change_time >= since)
            }
            if moves:
                yield Candidates(person_ids=tuple(moves), occurrences=moves)
        yield Candidates(checkpoint={"since": _stamp(context.now)})

    def on_pipedrive_event(self, context: EventContext, event: PipedriveEvent) -> Candidates | None:
        del context
        if event.entity != "deal" or event.data is None:
            return None
        now_in = event.data.get("stage_id") == self.stage_id
        moved = event.action == "create" or (
            event.action == "change"
            and event.previous is not None
            and "stage_id" in event.previous
            and event.previous.get("stage_id") != self.stage_id
        )
        person_id = event.data.get("person_id")
        if now_in and moved and isinstance(person_id, int):
            changed = event.data.get("stage_change_time")
            when = datetime.fromisoformat(changed) if isinstance(changed, str) else None
            moves = {} if when is None else {person_id: _move(event.entity_id, when)}
            return Candidates(person_ids=(person_id,), occurrences=moves)
        return None

    def webhooks(self) -> WebhookNeeds:
        return WebhookNeeds(pipedrive=frozenset({("deal", "change"), ("deal", "create")}))

    def describe(self) -> str:
        return f"deal reaches stage {self.stage_id} of pipeline {self.pipeline_id}"


class MailchimpSegmentsTrigger(Trigger):
    """Members of one or more Mailchimp segments or tags, synced to Pipedrive.

    Each scheduled pass walks the segments' members (1000 a page) and syncs new
    matches and changes; field updates of synced members arrive near-instantly
    through the ``profile`` and ``upemail`` webhooks. A member that stops matching
    keeps its Pipedrive person but gets no updates until it matches again. Archiving
    or deleting in Mailchimp deletes nothing. The flow deactivates itself when every
    chosen segment or tag is deleted.
    """

    type_name = "mailchimp_segments"
    direction = Direction.MC_TO_PD
    updates = TriggerUpdates.WHILE_MATCHING

    def __init__(self, segment_ids: tuple[int, ...] | list[int]) -> None:
        if not segment_ids:
            raise ValueError("choose at least one Mailchimp segment or tag")
        self.segment_ids = tuple(int(s) for s in segment_ids)

    def to_config(self) -> dict[str, Any]:
        return {"segment_ids": list(self.segment_ids)}

    def scan(self, context: ScanContext) -> Iterator[Candidates]:
        checkpoint = context.checkpoint
        in_pass = checkpoint.get("phase") == "pass"
        first = int(checkpoint.get("segment", 0)) if in_pass else 0
        for index in range(first, len(self.segment_ids)):
            resume = checkpoint.get("resume") if in_pass and index == first else None
            listing = context.mailchimp.list_segment_members(
                context.audience_id, self.segment_ids[index]
            )
            try:
                for page in listing.pages(resume=resume):
                    position: dict[str, Any] = {"phase": "pass", "segment": index}
                    if page.resume is None:
                        position["segment"] = index + 1
                    else:
                        position["resume"] = dict(page.resume)
                    yield Candidates(members=page.items, checkpoint=position)
            except NotFoundError:
                continue
        yield Candidates(checkpoint={"phase": "done"}, end_of_pass=True)

    def on_mailchimp_event(self, context: EventContext, event: MailchimpEvent) -> Candidates | None:
        del context
        if event.type not in {"profile", "upemail"} or not event.email:
            return None
        return Candidates(emails=(event.email,), only_tracked=True)

    def webhooks(self) -> WebhookNeeds:
        return WebhookNeeds(mailchimp=frozenset({"profile", "upemail"}))

    def check_sources(
        self, pipedrive: PipedriveClient, mailchimp: MailchimpClient, audience_id: str
    ) -> str | None:
        del pipedrive
        for segment_id in self.segment_ids:
            try:
                mailchimp.get_segment(audience_id, segment_id)
            except NotFoundError:
                continue
            return None
        return f"every chosen Mailchimp segment or tag was deleted ({_ids(self.segment_ids)})"

    def describe(self) -> str:
        return f"Mailchimp segments or tags {_ids(self.segment_ids)}"


class NewMailchimpContactTrigger(Trigger):
    """Members added to the audience after the flow's activation, synced to Pipedrive.

    Event-driven (the ``subscribe`` webhook), with a polling fallback on
    ``since_timestamp_opt``. A member whose opt-in predates the activation is never
    synced, whichever way it is seen. The activation moment is Mailchimp's own time
    (the engine reads it when activating the flow), so a host clock minutes off
    neither loses sign-ups nor syncs older members. Later updates are not synced by
    this flow.
    """

    type_name = "new_mailchimp_contact"
    direction = Direction.MC_TO_PD
    updates = TriggerUpdates.NEVER

    def to_config(self) -> dict[str, Any]:
        return {}

    def scan(self, context: ScanContext) -> Iterator[Candidates]:
        since = _since(context.checkpoint, context.activated_at)
        if context.activated_at is not None and (since is None or since < context.activated_at):
            since = context.activated_at
        listing = context.mailchimp.list_members(context.audience_id, since_timestamp_opt=since)
        for page in listing.pages():
            yield Candidates(
                members=page.items, occurrences={m.email_address: _joined(m) for m in page.items}
            )
        yield Candidates(checkpoint={"since": _stamp(context.now)})

    def on_mailchimp_event(self, context: EventContext, event: MailchimpEvent) -> Candidates | None:
        del context
        if event.type != "subscribe" or not event.email:
            return None
        return Candidates(emails=(event.email,), occurrences={event.email: _joined(event.email)})

    def admits(self, contact: Person | Member, context: EventContext) -> str | None:
        if not isinstance(contact, Member) or context.activated_at is None:
            return None
        # The earliest stamp counts: a member who was there before and opts in again
        # (a re-subscribe moves timestamp_opt, never timestamp_signup) is not new.
        stamps = [t for t in (contact.timestamp_signup, contact.timestamp_opt) if t is not None]
        if stamps and min(stamps) < context.activated_at:
            return "the member joined the audience before the flow was activated"
        return None

    def webhooks(self) -> WebhookNeeds:
        return WebhookNeeds(mailchimp=frozenset({"subscribe"}))

    def describe(self) -> str:
        return "new contact in the Mailchimp audience"


def _filter_exists(pipedrive: PipedriveClient, filter_id: int) -> bool:
    try:
        pipedrive.get_filter(filter_id)
    except NotFoundError:
        return False
    return True


def _move(deal_id: int, when: datetime) -> str:
    """One move of a deal into the stage: the deal and its ``stage_change_time``."""
    moment = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return f"deal {deal_id} moved at {moment.astimezone(UTC).isoformat()}"


def _joined(member: Member | str) -> str:
    """A member's arrival in the audience: each address is new once."""
    email = member if isinstance(member, str) else member.email_address
    return f"joined {email.strip().lower()}"


def _ids(ids: tuple[int, ...]) -> str:
    return ", ".join(str(i) for i in ids)
