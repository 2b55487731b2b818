"""One batch of contacts, from candidates to writes and a committed store batch.

:class:`BatchSync` is the engine's inner loop for both directions. It reads what the
store remembers about the batch in one query per kind, decides per contact (create,
update, unchanged, skip with a reason), writes Mailchimp in bulk and Pipedrive one
person at a time, and records links, fingerprints, memberships, outcomes, retry rows
and the checkpoint in one transaction. In a dry run it decides the same way and
writes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import attrs
from attrs import define, evolve, field, frozen

from pdmc._types import UNSET
from pdmc.clients.mailchimp import (
    MailchimpClient,
    Member,
    MemberUpsert,
    subscriber_hash,
    typed_batch_errors,
)
from pdmc.clients.pipedrive import Person, PipedriveClient
from pdmc.errors import (
    APIError,
    ComplianceStateError,
    ForgottenEmailError,
    InvalidEmailError,
    MemberError,
    MemberExistsError,
    NotFoundError,
    QuotaExhaustedError,
    RateLimitError,
    RetryableError,
    RowError,
)
from pdmc.flows._flow import Flow
from pdmc.flows._report import Action, ContactOutcome
from pdmc.flows._trigger import Candidates, EventContext, Trigger, TriggerUpdates
from pdmc.mapping import (
    FieldMap,
    fingerprint_member,
    fingerprint_person,
    map_member_to_person_input,
    map_person_to_merge_fields,
)
from pdmc.storage import Batch, Link, Outcome, StateStore, normalise_email

__all__ = [
    "BLOCKED_STATUSES",
    "LAST_FULL_PASS",
    "BatchSync",
    "member_key",
    "person_key",
    "stable_member_id",
]

logger = logging.getLogger("pdmc.sync")

BLOCKED_STATUSES: Final = frozenset({"unsubscribed", "cleaned", "archived", "forgotten"})
"""Member statuses pdmc never writes to: it never (re)subscribes an opted-out contact."""

_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_RETRY_AFTER: Final = timedelta(minutes=15)
_CLAIM_TTL: Final = timedelta(minutes=10)
_GETS_PER_LIST: Final = 10
"""A Pipedrive list call costs 10 tokens, a get 1: fewer persons than this are got one by one."""

LAST_FULL_PASS: Final = "last_full_pass"  # noqa: S105 - a checkpoint name, no secret
"""The checkpoint holding when the flow's last complete full pass started."""

_CONFLICT: Final = object()
"""A person whose row must not be written (its address conflicts or could not move)."""


@frozen
class _Row:
    """One planned member write and what to record once Mailchimp accepts it."""

    person: Person
    upsert: MemberUpsert
    link: Link | None
    fingerprint_mc: str
    fingerprint_pd: str
    field_errors: tuple[str, ...] = ()


_REFUSALS: Final[Mapping[type[MemberError], str]] = {
    ComplianceStateError: "the member is unsubscribed or cleaned; pdmc never subscribes it again",
    ForgottenEmailError: "the address was permanently deleted from the audience",
    InvalidEmailError: "Mailchimp refuses the address as fake or invalid",
}
_REFUSED_STATUS: Final[Mapping[type[MemberError], str]] = {
    ComplianceStateError: "unsubscribed",
    ForgottenEmailError: "forgotten",
}


PASS_STARTED: Final = "pass_started"  # noqa: S105 - a checkpoint name, not a secret
"""The checkpoint holding when the current scheduled pass began."""


def person_key(person_id: int) -> str:
    """The membership key of a Pipedrive person within a flow."""
    return f"person:{person_id}"


def member_key(email: str) -> str:
    """The membership key of a Mailchimp member within a flow."""
    return f"member:{normalise_email(email)}"


def stable_member_id(member: Member) -> str:
    """The id links key a member by: its ``unique_email_id``, which an address change keeps.

    The member's ``id`` is the hash of its address, so it changes with the address;
    it stands in only when the service sent no ``unique_email_id``.
    """
    return member.unique_email_id or member.id or subscriber_hash(member.email_address)


def _outcome(outcome: ContactOutcome) -> Outcome:
    # The stored reason carries the fields left out too, so history keeps them.
    reason = "; ".join(part for part in (outcome.reason, *outcome.field_errors) if part)
    return Outcome(
        action=outcome.action.value,
        email=outcome.email,
        person_id=outcome.person_id,
        member_id=outcome.member_id,
        reason=reason or None,
    )


@define
class BatchSync:
    """Syncs batches of one flow's candidates; one instance serves a whole run.

    Args:
        flow: the flow.
        fieldmap: the flow's pairs, checked against the live catalogs.
        pipedrive, mailchimp: the clients.
        store: the state store.
        account_pair: the name of the Pipedrive company and Mailchimp account pair.
        holder: this worker's name (for claims).
        now: the engine's clock.
        run_id: the store's run (``None`` in a dry run).
        lease: the flow's lease, carried by every committed batch.
        dry_run: decide, but write nothing.
        emit: receives every outcome.
        learned: in a dry run, the links its index learned but did not store.
    """

    flow: Flow
    fieldmap: FieldMap
    pipedrive: PipedriveClient
    mailchimp: MailchimpClient
    store: StateStore
    account_pair: str
    holder: str
    now: Callable[[], datetime]
    run_id: int | None
    lease: Any
    dry_run: bool
    emit: Callable[[ContactOutcome], None]
    activated_at: datetime | None = None
    learned: Mapping[str, Link] = field(factory=dict)
    _context: EventContext | None = field(default=None, init=False)
    _quota: QuotaExhaustedError | None = field(default=None, init=False)

    @property
    def trigger(self) -> Trigger:
        return self.flow.trigger

    @property
    def audience(self) -> str:
        return self.flow.audience_id

    def context(self) -> EventContext:
        """The context handed to the trigger's ``admits``."""
        return EventContext(
            pipedrive=self.pipedrive,
            mailchimp=self.mailchimp,
            audience_id=self.audience,
            activated_at=self.activated_at,
            now=self.now(),
        )

    # -- entry point -------------------------------------------------------------

    def sync(
        self,
        candidates: Candidates,
        *,
        pass_started: datetime | None = None,
        retrying: bool = False,
    ) -> int:
        """Sync one batch of candidates and commit what it leaves; return contacts seen.

        ``retrying`` says the candidates are rows whose last write failed: their members
        are written again even when their values are in place (the failed write may
        have been the one carrying the flow's tag).
        """
        batch = self._new_batch()
        if candidates.person_ids or candidates.persons:
            persons = list(candidates.persons) + self._fetch_persons(candidates.person_ids, batch)
            seen = self._persons_to_members(persons, candidates, batch, retrying=retrying)
        else:
            members = list(candidates.members) + self._fetch_members(candidates.emails, batch)
            seen = self._members_to_persons(members, candidates, batch)
        if candidates.checkpoint is not None:
            batch.set_checkpoint("scan", dict(candidates.checkpoint))
            if pass_started is not None:
                # A pass interrupted here resumes with its own start, not the next run's.
                batch.set_checkpoint(PASS_STARTED, pass_started.isoformat())
        if candidates.end_of_pass and pass_started is not None:
            batch.end_pass(pass_started)
            batch.set_checkpoint(LAST_FULL_PASS, pass_started.isoformat())
            batch.set_checkpoint(PASS_STARTED, None)
        self._commit(batch)
        if self._quota is not None:
            # The service takes no more calls for now: what the batch did is recorded,
            # its remaining rows wait in the retry list, and the run ends here.
            raise self._quota
        return seen

    def _link(
        self,
        *,
        email: str,
        person_id: int | None = None,
        member_id: str | None = None,
        member_status: str | None = None,
        pipedrive_fingerprint: str | None = None,
        mailchimp_fingerprint: str | None = None,
    ) -> Link:
        """A link of this flow's account pair and audience (``None`` keeps what is stored)."""
        return Link(
            account_pair=self.account_pair,
            audience_id=self.audience,
            email=email,
            person_id=person_id,
            member_id=member_id,
            member_status=member_status,
            pipedrive_fingerprint=pipedrive_fingerprint,
            mailchimp_fingerprint=mailchimp_fingerprint,
        )

    def _new_batch(self) -> Batch:
        return Batch(flow_id=self.flow.id, run_id=self.run_id, lease=self.lease)

    def _commit(self, batch: Batch) -> None:
        if not self.dry_run:
            self.store.commit_batch(batch)

    def _report(self, batch: Batch, outcome: ContactOutcome) -> None:
        if outcome.permanent and self._reported_before(batch, outcome):
            self.emit(evolve(outcome, action=Action.UNCHANGED))
            return
        self.emit(outcome)
        if self.run_id is not None:
            batch.record_outcome(_outcome(outcome))

    def _report_final(
        self,
        batch: Batch,
        reason: str,
        *,
        email: str | None,
        person_id: int | None = None,
        member_id: str | None = None,
        action: Action = Action.SKIPPED,
    ) -> None:
        """Report, once, a contact that no later run retries: why nothing was written."""
        outcome = ContactOutcome(
            action=action,
            email=email,
            person_id=person_id,
            member_id=member_id,
            reason=reason,
            permanent=True,
        )
        self._report(batch, outcome)

    def _reported_before(self, batch: Batch, outcome: ContactOutcome) -> bool:
        """Whether this permanent skip was reported already; remember it if not.

        A permanent skip is reported once per contact and reason; the same skip on a
        later pass counts as unchanged instead of filling every report again.
        """
        contact = outcome.person_id or outcome.email or outcome.member_id
        digest = hashlib.sha256(f"{contact}|{outcome.reason}".encode()).hexdigest()[:24]
        key = f"reported:{digest}"
        if self.store.tracked(self.flow.id, [key]):
            return True
        if not self.dry_run:
            batch.track(key, matching=False)
        return False

    # -- reading current state -----------------------------------------------------

    def _fetch_persons(self, ids: Sequence[int], batch: Batch) -> list[Person]:
        found: list[Person] = []
        for start in range(0, len(ids), 100):
            chunk = list(dict.fromkeys(ids[start : start + 100]))
            try:
                if len(chunk) < _GETS_PER_LIST:
                    found.extend(self._get_each(chunk))
                else:
                    found.extend(self.pipedrive.list_persons(ids=chunk))
            except RetryableError as error:
                for person_id in chunk:
                    self._retry(batch, person_key(person_id), {"person_id": person_id}, error)
        return [p for p in found if not p.is_deleted]

    def _get_each(self, ids: Sequence[int]) -> list[Person]:
        """The persons of ``ids`` that exist, one get (1 token) each."""
        persons = []
        for person_id in ids:
            try:
                persons.append(self.pipedrive.get_person(person_id))
            except NotFoundError:
                continue  # deleted since: nothing to sync
        return persons

    def _fetch_members(self, emails: Sequence[str], batch: Batch) -> list[Member]:
        found: list[Member] = []
        for email in dict.fromkeys(emails):
            try:
                found.append(self.mailchimp.get_member(self.audience, email))
            except NotFoundError:
                continue
            except RetryableError as error:
                self._retry(batch, member_key(email), {"email": email}, error)
        return found

    def _retry(
        self, batch: Batch, key: str, payload: Mapping[str, Any], error: BaseException
    ) -> None:
        if isinstance(error, QuotaExhaustedError) and self._quota is None:
            self._quota = error
        self._report(
            batch,
            ContactOutcome(
                action=Action.RETRYING,
                email=payload.get("email"),
                person_id=payload.get("person_id"),
                reason=f"transient failure, retried later: {type(error).__name__}",
            ),
        )
        if not self.dry_run:
            batch.retry_later(
                key,
                payload=dict(payload),
                error=str(error),
                next_attempt_at=self.now() + _RETRY_AFTER,
            )

    def _tracked(self, keys: Iterable[str]) -> dict[str, bool]:
        return self.store.tracked(self.flow.id, keys)

    def _links_for_emails(self, emails: Sequence[str]) -> dict[str, Link]:
        """The stored links of ``emails``, with what a dry run's index learned on top."""
        links = self.store.links_for_emails(self.account_pair, self.audience, emails)
        for email in emails:
            if (learned := self.learned.get(email)) is not None:
                stored = links.get(email)
                links[email] = learned if stored is None else _overlaid(stored, learned)
        return links

    def _synced_before(
        self, candidates: Candidates, contacts: Iterable[int | str], batch: Batch
    ) -> set[int | str]:
        """The contacts whose occurrence the flow synced already; the others' are recorded.

        The record commits with the batch that syncs the contact, so an occurrence seen
        by webhook and again by the scheduled fallback is synced once.
        """
        given = {
            normalise_email(k) if isinstance(k, str) else k: v
            for k, v in candidates.occurrences.items()
        }
        keys = {c: f"occurrence:{given[c]}" for c in contacts if c in given}
        if not keys:
            return set()
        done = self._tracked(keys.values())
        for key in keys.values():
            if key not in done:
                batch.track(key, matching=False)
        return {contact for contact, key in keys.items() if key in done}

    def _allowed_by_membership(
        self, key: str, candidates: Candidates, tracked: Mapping[str, bool]
    ) -> bool:
        """Whether an update-only candidate is one this flow still syncs."""
        if not candidates.only_tracked:
            return True
        updates = self.trigger.updates
        if updates is TriggerUpdates.ONCE_SYNCED:
            return key in tracked
        if updates is TriggerUpdates.WHILE_MATCHING:
            return tracked.get(key, False)
        return False

    # -- Pipedrive to Mailchimp ----------------------------------------------------

    def _persons_to_members(
        self, persons: list[Person], candidates: Candidates, batch: Batch, *, retrying: bool
    ) -> int:
        tracked = self._tracked(person_key(p.id) for p in persons)
        persons = [
            p for p in persons if self._allowed_by_membership(person_key(p.id), candidates, tracked)
        ]
        synced = self._synced_before(candidates, [p.id for p in persons], batch)
        persons = [p for p in persons if p.id not in synced]
        emails = [normalise_email(p.primary_email) for p in persons if p.primary_email]
        by_person = self.store.links_for_persons(
            self.account_pair, self.audience, [p.id for p in persons]
        )
        # A person with no link may hold, at another address, the link a merge left.
        emails += [
            normalise_email(e.value)
            for p in persons
            if p.id not in by_person
            for e in p.emails
            if e.value.strip()
        ]
        by_email = self._links_for_emails(list(dict.fromkeys(emails)))
        rows: dict[str, _Row] = {}
        context = self.context()
        for person in persons:
            if (skip := self.trigger.admits(person, context)) is not None:
                outcome = ContactOutcome(action=Action.SKIPPED, person_id=person.id, reason=skip)
                self._report(batch, outcome)
                continue
            # A contact new to a tagging flow, or whose last write failed, is written even
            # when its values are in place, so it carries the flow's tag.
            tagging = self.flow.tag is not None and (
                retrying or person_key(person.id) not in tracked
            )
            row = self._plan_member(person, by_person, by_email, batch, tagging=tagging)
            if row is not None:
                rows.setdefault(row.upsert.email_address, row)
            if self.trigger.updates is not TriggerUpdates.NEVER and not candidates.only_tracked:
                batch.track(person_key(person.id), matching=True)
        self._write_members(list(rows.values()), batch)
        return len(persons)

    def _plan_member(
        self,
        person: Person,
        by_person: Mapping[int, Link],
        by_email: Mapping[str, Link],
        batch: Batch,
        *,
        tagging: bool = False,
    ) -> _Row | None:
        """Decide one person's write: ``None`` when there is nothing to send.

        With ``tagging``, a person whose member already holds its values is written all
        the same (for the flow's tag).
        """
        mapped = map_person_to_merge_fields(person, self.fieldmap)
        # An address that did not convert is reported as the person's, and as invalid.
        email = self._usable_email(person, mapped.email or person.primary_email, batch)
        if email is None:
            return None
        found = self._resolve_link(person, email, by_person, by_email, batch)
        if found is _CONFLICT:
            return None
        link = found if isinstance(found, Link) else None
        fingerprint_pd = fingerprint_person(person, self.fieldmap)
        status = link.member_status if link is not None else None
        if status in BLOCKED_STATUSES:
            self._skip_blocked(
                person, email, link, status, mapped.fingerprint, fingerprint_pd, batch
            )
            return None
        if (
            not tagging
            and link is not None
            and link.person_id == person.id
            and link.mailchimp_fingerprint == mapped.fingerprint
        ):
            # A member just moved to the person's new address was updated by the move.
            before = by_person.get(person.id)
            moved = before is not None and before.email != link.email
            outcome = ContactOutcome(
                action=Action.UPDATED if moved else Action.UNCHANGED,
                email=email,
                person_id=person.id,
                member_id=link.member_id,
            )
            self._report(batch, outcome)
            return None
        upsert = MemberUpsert(
            email_address=email,
            status_if_new=self.flow.new_member_status,
            merge_fields=dict(mapped.values),
            tags=(self.flow.tag,) if self.flow.tag else UNSET,
        )
        # Fields that did not convert are left out of the write, and named in its outcome.
        field_errors = tuple(f"{e.field}: {e.reason}" for e in mapped.errors)
        return _Row(person, upsert, link, mapped.fingerprint, fingerprint_pd, field_errors)

    def _usable_email(self, person: Person, email: str | None, batch: Batch) -> str | None:
        """The person's normalised address, or ``None`` after reporting why there is none."""
        if email is None:
            reason = "the person has no email address"
        elif not _EMAIL.match(normalise_email(email)):
            reason = "the email address is not valid"
        else:
            return normalise_email(email)
        self._report_final(batch, reason, email=email, person_id=person.id)
        return None

    def _resolve_link(
        self,
        person: Person,
        email: str,
        by_person: Mapping[int, Link],
        by_email: Mapping[str, Link],
        batch: Batch,
    ) -> Link | object | None:
        """The person's link (moving its member if the address changed), or _CONFLICT."""
        link = by_person.get(person.id) or self._left_by_merge(person, email, by_email)
        other = by_email.get(email)
        reason = None
        if (
            link is None
            and other is not None
            and other.person_id not in {None, person.id}
            and self._person_exists(other.person_id)
        ):
            reason = f"the address belongs to person {other.person_id} already"
        elif link is not None and other is not None and other.email != link.email:
            if other.person_id is None:
                # A member alone already holds the new address (moved by a write whose
                # answer was lost, or there before): the person's link takes it over, with
                # its status, and the member at the old address, if any, stays unlinked.
                return self._record_now(
                    self._link(
                        email=email,
                        person_id=person.id,
                        member_id=other.member_id,
                        member_status=other.member_status,
                        mailchimp_fingerprint=other.mailchimp_fingerprint,
                    )
                )
            # Another person's link holds the new address: no link can hold both, so
            # the person keeps their link and the row is reported.
            held = f" ({other.member_status})" if other.member_status else ""
            reason = f"the new address is already another member{held}; {link.email} keeps its link"
        if reason is not None:
            self._report_final(batch, reason, email=email, person_id=person.id)
            return _CONFLICT
        link = link or other
        if link is not None and link.email != email and link.member_id is not None:
            moved = self._move_address(person, link, email, batch)
            return _CONFLICT if moved is None else moved
        return link

    def _skip_blocked(  # noqa: PLR0917 - one contact's facts, named at the call
        self,
        person: Person,
        email: str,
        link: Link | None,
        status: str | None,
        fingerprint_mc: str,
        fingerprint_pd: str,
        batch: Batch,
    ) -> None:
        """Report an opted-out member once per change of the person's values."""
        if link is None or link.pipedrive_fingerprint == fingerprint_pd:
            return
        reason = f"the member is {status}; pdmc never subscribes it again"
        self._report_final(
            batch, reason, email=email, person_id=person.id, member_id=link.member_id
        )
        batch.upsert_link(_linked(link, person.id, email, fingerprint_mc, fingerprint_pd))

    def _left_by_merge(
        self, person: Person, email: str, by_email: Mapping[str, Link]
    ) -> Link | None:
        """The link a merge left at another of the person's addresses, now the person's.

        A synced person merged in Pipedrive into one with no link leaves its link at
        an address the survivor holds besides its primary one, naming a person that is
        gone (the merge's webhook, which hands the link over at once, never came). The
        survivor takes it over, and its member then moves to the primary address like
        any email change. A link whose person still exists stays that person's.
        """
        for point in person.emails:
            left = by_email.get(normalise_email(point.value))
            if (
                left is not None
                and left.email != email
                and left.person_id not in {None, person.id}
                and not self._person_exists(left.person_id)
            ):
                return self._record_now(evolve(left, person_id=person.id))
        return None

    def _person_exists(self, person_id: int | None) -> bool:
        if person_id is None:
            return False
        try:
            return not self.pipedrive.get_person(person_id).is_deleted
        except NotFoundError:
            return False

    def _move_address(self, person: Person, link: Link, email: str, batch: Batch) -> Link | None:
        """Change the linked member's address in place: an email change is no new member."""
        if self.dry_run:
            return link
        try:
            member = self.mailchimp.update_member(self.audience, link.email, new_email=email)
        except NotFoundError:
            return self._link(
                email=email,
                person_id=person.id,
            )
        except MemberExistsError:
            reason = f"the new address is already another member; {link.email} keeps its member"
            self._report_final(batch, reason, email=email, person_id=person.id)
            return None
        except (RowError, RetryableError) as error:
            self._retry(batch, person_key(person.id), {"person_id": person.id}, error)
            return None
        # Recorded at once, not with the batch: the member has moved already, and a
        # crash before the batch commits must not leave the link at the old address.
        # With the values both contacts hold now, so a move that was the whole change
        # is followed by no write of the same values, on either side.
        return self._record_now(
            self._link(
                email=email,
                person_id=person.id,
                member_id=stable_member_id(member),
                member_status=member.status,
                pipedrive_fingerprint=fingerprint_person(person, self.fieldmap),
                mailchimp_fingerprint=fingerprint_member(member, self.fieldmap),
            )
        )

    def _record_now(self, link: Link) -> Link:
        """Commit ``link`` on its own, ahead of the batch (not in a dry run); return it."""
        if self.dry_run:
            return link
        recorded = self._new_batch()
        recorded.upsert_link(link)
        self._commit(recorded)
        return link

    def _write_members(self, rows: list[_Row], batch: Batch) -> None:  # noqa: C901 - one bulk call's outcomes
        """Send the planned rows in one batch subscribe and record what Mailchimp did."""
        if not rows:
            return
        pending: dict[str, _Row | None] = {row.upsert.email_address: row for row in rows}
        if self.dry_run:
            for email, row in ((r.upsert.email_address, r) for r in rows):
                known = row.link is not None and row.link.member_id is not None
                action = Action.UPDATED if known else Action.CREATED
                self._report(
                    batch,
                    ContactOutcome(
                        action=action,
                        email=email,
                        person_id=row.person.id,
                        field_errors=row.field_errors,
                    ),
                )
            return
        try:
            result = self.mailchimp.batch_subscribe(self.audience, [row.upsert for row in rows])
        except (APIError, RetryableError) as failure:
            for planned in rows:
                self._retry_row(batch, planned, failure)
            return
        for members, action in (
            (result.new_members, Action.CREATED),
            (result.updated_members, Action.UPDATED),
        ):
            for member in members:
                if (
                    written := pending.pop(normalise_email(member.email_address), None)
                ) is not None:
                    self._written(batch, written, member, action)
        for refusal in typed_batch_errors(result):
            if (refused := pending.pop(normalise_email(refusal.email or ""), None)) is not None:
                self._refused(batch, refused, refusal)
        for unanswered in pending.values():
            if unanswered is not None:  # a row Mailchimp did not mention is tried again later
                self._retry_row(batch, unanswered, RuntimeError("Mailchimp did not answer for it"))

    def _retry_row(self, batch: Batch, row: _Row, failure: BaseException) -> None:
        payload = {"person_id": row.person.id, "email": row.upsert.email_address}
        self._retry(batch, person_key(row.person.id), payload, failure)

    def _written(self, batch: Batch, row: _Row, member: Member, action: Action) -> None:
        email = row.upsert.email_address
        batch.upsert_link(
            self._link(
                email=email,
                person_id=row.person.id,
                member_id=stable_member_id(member),
                member_status=member.status,
                mailchimp_fingerprint=row.fingerprint_mc,
                pipedrive_fingerprint=row.fingerprint_pd,
            )
        )
        batch.retry_done(person_key(row.person.id))
        outcome = ContactOutcome(
            action=action,
            email=email,
            person_id=row.person.id,
            member_id=member.id,
            field_errors=row.field_errors,
        )
        self._report(batch, outcome)

    def _refused(self, batch: Batch, row: _Row, refusal: MemberError) -> None:
        """Report a refused row once (permanent) or keep it for a retry (unknown cause)."""
        if type(refusal) is MemberError:
            self._retry_row(batch, row, refusal)
            return
        email = row.upsert.email_address
        reason = _REFUSALS.get(type(refusal), f"Mailchimp refused the member: {refusal}")
        self._report_final(batch, reason, email=email, person_id=row.person.id)
        batch.retry_done(person_key(row.person.id))
        batch.upsert_link(
            self._link(
                email=email,
                person_id=row.person.id,
                member_status=_REFUSED_STATUS.get(type(refusal)),
                mailchimp_fingerprint=row.fingerprint_mc,
                pipedrive_fingerprint=row.fingerprint_pd,
            )
        )

    # -- Mailchimp to Pipedrive ----------------------------------------------------

    def _members_to_persons(
        self, members: list[Member], candidates: Candidates, batch: Batch
    ) -> int:
        tracked = self._tracked(member_key(m.email_address) for m in members)
        members = [
            m
            for m in members
            if self._allowed_by_membership(member_key(m.email_address), candidates, tracked)
        ]
        synced = self._synced_before(
            candidates, [normalise_email(m.email_address) for m in members], batch
        )
        members = [m for m in members if normalise_email(m.email_address) not in synced]
        emails = [normalise_email(m.email_address) for m in members]
        links = self._links_for_emails(emails)
        earlier = self._linked_elsewhere(members, links)
        context = self.context()
        for member in members:
            email = normalise_email(member.email_address)
            if (skip := self.trigger.admits(member, context)) is not None:
                self._report(
                    batch,
                    ContactOutcome(
                        action=Action.SKIPPED, email=email, member_id=member.id, reason=skip
                    ),
                )
                continue
            if self.trigger.updates is not TriggerUpdates.NEVER and not candidates.only_tracked:
                batch.track(member_key(email), matching=True)
            link = links.get(email)
            if (link is None or link.person_id is None) and (
                old := earlier.get(stable_member_id(member))
            ) is not None:
                # The member's person, linked under its older address: the link moves here.
                link = self._record_now(
                    self._link(
                        email=email,
                        person_id=old.person_id,
                        member_id=stable_member_id(member),
                        member_status=member.status,
                    )
                )
            if link is not None and link.person_id is not None:
                self._update_person(member, link, batch)
            else:
                self._create_person(member, batch)
        return len(members)

    def _linked_elsewhere(
        self, members: Sequence[Member], links: Mapping[str, Link]
    ) -> dict[str, Link]:
        """Links of a person that hold one of these members under another address.

        A member's stable id outlives an address change in Mailchimp; when that change's
        webhook never came, the member's link still sits at the old address, and only
        the id finds it. One store read for the whole page, for the members whose
        address no person's link holds.
        """
        unlinked = [
            stable_member_id(member)
            for member in members
            if (link := links.get(normalise_email(member.email_address))) is None
            or link.person_id is None
        ]
        if not unlinked:
            return {}
        found = self.store.links_for_members(self.account_pair, self.audience, unlinked)
        return {member_id: link for member_id, link in found.items() if link.person_id is not None}

    def _update_person(self, member: Member, link: Link, batch: Batch) -> None:
        assert link.person_id is not None  # noqa: S101 - the caller checked
        email = normalise_email(member.email_address)
        mapped = map_member_to_person_input(member, self.fieldmap)
        fp_mc = fingerprint_member(member, self.fieldmap)
        if link.pipedrive_fingerprint == mapped.fingerprint:
            self._report(
                batch,
                ContactOutcome(
                    action=Action.UNCHANGED,
                    email=email,
                    person_id=link.person_id,
                    member_id=member.id,
                ),
            )
            batch.upsert_link(_member_seen(link, member, fp_mc))
            return
        if self.dry_run:
            self._report(
                batch, ContactOutcome(action=Action.UPDATED, email=email, person_id=link.person_id)
            )
            return
        try:
            current = self.pipedrive.get_person(link.person_id)
            mapped = map_member_to_person_input(member, self.fieldmap, current=current)
            self.pipedrive.update_person(link.person_id, mapped.input)
        except NotFoundError:
            reason = "the linked Pipedrive person was deleted; pdmc does not recreate it"
            self._report_final(batch, reason, email=email, person_id=link.person_id)
            return
        except RetryableError as error:
            self._retry(batch, member_key(email), {"email": email}, error)
            return
        except APIError as error:
            self._report_final(
                batch, str(error), email=email, person_id=link.person_id, action=Action.FAILED
            )
            return
        batch.upsert_link(
            self._link(
                email=email,
                person_id=link.person_id,
                member_id=stable_member_id(member),
                member_status=member.status,
                pipedrive_fingerprint=mapped.fingerprint,
                mailchimp_fingerprint=fp_mc,
            )
        )
        batch.retry_done(member_key(email))
        self._report(
            batch,
            ContactOutcome(
                action=Action.UPDATED,
                email=email,
                person_id=link.person_id,
                member_id=member.id,
                field_errors=tuple(f"{e.field}: {e.reason}" for e in mapped.errors),
            ),
        )

    def _create_person(self, member: Member, batch: Batch) -> None:
        email = normalise_email(member.email_address)
        mapped = map_member_to_person_input(member, self.fieldmap)
        if self.dry_run:
            self._report(
                batch, ContactOutcome(action=Action.CREATED, email=email, member_id=member.id)
            )
            return
        # Each attempt claims as itself: threads of one worker exclude each other too,
        # and an attempt that finds an expired claim (its own timed-out one included)
        # takes it over and looks the address up before creating anything.
        claim = self.store.claim(
            f"create-person:{self.account_pair}:{email}",
            f"{self.holder}/{secrets.token_hex(4)}",
            _CLAIM_TTL,
        )
        if claim is None:
            self._retry(
                batch,
                member_key(email),
                {"email": email},
                RuntimeError("another worker is creating this person"),
            )
            return
        # Read the link again under the claim: a creator that finished between this
        # batch's first read and the claim has let the claim go and left its link.
        fresh = self.store.links_for_emails(self.account_pair, self.audience, [email]).get(email)
        if fresh is not None and fresh.person_id is not None:
            self.store.release_claim(claim)
            self._update_person(member, fresh, batch)
            return
        try:
            person_id = self._existing_person(email) if claim.taken_over else None
            action = Action.UPDATED
            if person_id is None:
                person = self.pipedrive.create_person(mapped.input)
                person_id, action = person.id, Action.CREATED
            else:
                self.pipedrive.update_person(person_id, mapped.input)
        except RetryableError as error:
            # The person may exist now; the claim stays until it expires, and the next
            # worker that takes it over looks the address up before creating anything.
            # A 429 says surely not, so its claim goes at once.
            if isinstance(error, RateLimitError):
                self.store.release_claim(claim)
            self._retry(batch, member_key(email), {"email": email}, error)
            return
        except APIError as error:
            self.store.release_claim(claim)
            self._report_final(
                batch, str(error), email=email, member_id=member.id, action=Action.FAILED
            )
            return
        batch.upsert_link(
            self._link(
                email=email,
                person_id=person_id,
                member_id=stable_member_id(member),
                member_status=member.status,
                pipedrive_fingerprint=mapped.fingerprint,
                mailchimp_fingerprint=fingerprint_member(member, self.fieldmap),
            )
        )
        batch.retry_done(member_key(email))
        batch.release_claim(claim)
        self._report(
            batch,
            ContactOutcome(
                action=action,
                email=email,
                person_id=person_id,
                member_id=member.id,
                field_errors=tuple(f"{e.field}: {e.reason}" for e in mapped.errors),
            ),
        )

    def _existing_person(self, email: str) -> int | None:
        """Recovery after a crashed creator: look the address up before creating."""
        hits = self.pipedrive.search_persons_by_email(email)
        matches = [hit.id for hit in hits if any(normalise_email(e) == email for e in hit.emails)]
        return min(matches) if matches else None


def _overlaid(stored: Link, learned: Link) -> Link:
    """``stored`` with ``learned``'s values, as upserting ``learned`` would leave it."""
    known = {k: v for k, v in attrs.asdict(learned, recurse=False).items() if v is not None}
    return attrs.evolve(stored, **known)


def _linked(link: Link, person_id: int, email: str, fp_mc: str, fp_pd: str) -> Link:
    return Link(
        account_pair=link.account_pair,
        audience_id=link.audience_id,
        email=email,
        person_id=person_id,
        member_id=link.member_id,
        member_status=link.member_status,
        mailchimp_fingerprint=fp_mc,
        pipedrive_fingerprint=fp_pd,
    )


def _member_seen(link: Link, member: Member, fp_mc: str) -> Link:
    return Link(
        account_pair=link.account_pair,
        audience_id=link.audience_id,
        email=link.email,
        person_id=link.person_id,
        member_id=stable_member_id(member),
        member_status=member.status,
        mailchimp_fingerprint=fp_mc,
    )
