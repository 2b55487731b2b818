"""What the engine learns before it writes: who is already on the other side.

Before a Pipedrive to Mailchimp run, the audience's members and their statuses (the
statuses are what keeps an opted-out member from ever being written to). Before a
Mailchimp to Pipedrive run, which addresses already belong to Pipedrive persons (so
no person is created twice, and no search runs on the hot path). Both read
everything on the first run and only what changed since on later ones, and record
the current values' fingerprints of contacts not yet paired with the other side, so
a contact that already holds the values a run would write is left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen

from pdmc.clients import MailchimpClient, PipedriveClient
from pdmc.clients.mailchimp import Member
from pdmc.clients.pipedrive import Person
from pdmc.flows._builtin import OVERLAP
from pdmc.flows._flow import Flow
from pdmc.flows._sync import stable_member_id
from pdmc.mapping import FieldMap, fingerprint_member, fingerprint_person
from pdmc.storage import Batch, Lease, Link, StateStore, normalise_email

__all__ = ["Index"]


def _since(checkpoints: Mapping[str, Any], name: str) -> datetime | None:
    raw = checkpoints.get(name)
    return datetime.fromisoformat(raw) - OVERLAP if isinstance(raw, str) else None


def _written_since(link: Link, changed: datetime | None) -> bool:
    """Whether pdmc wrote this link's fingerprint at or after the contact last changed.

    Then the fingerprint describes what pdmc wrote, which may name fields the contact
    holds but the write left alone; replacing it with the contact's full values would
    make the next run write again for nothing.
    """
    return changed is not None and link.updated_at is not None and changed <= link.updated_at


def _paired(link: Link, *, person_id: int | None = None, member_id: str | None = None) -> bool:
    """Whether the link already pairs this person (or member) with the other side's contact.

    Its fingerprints then describe the values pdmc last reconciled between the two, and
    the flow of the other direction compares the contact against them to find what it
    still has to send; recording what a read finds there instead would hide an edit
    that flow has not sent yet (in a two-way setup, one side's edit would be lost).
    """
    if person_id is not None:
        return link.person_id == person_id and link.member_id is not None
    return link.member_id == member_id and link.person_id is not None


@frozen
class Index:
    """Keeps the store's view of the other side current, one page per batch.

    A dry run stores nothing: what it learns is kept in :attr:`learned` instead (by
    normalised email), so its plan sees the other side as a real run would.
    """

    store: StateStore
    pipedrive: PipedriveClient
    mailchimp: MailchimpClient
    account_pair: str
    now: Callable[[], datetime]
    learned: dict[str, Link] = field(factory=dict)

    def members(
        self,
        fieldmap: FieldMap,
        flow: Flow,
        lease: Lease | None,
        checkpoints: Mapping[str, Any],
        *,
        dry_run: bool,
    ) -> None:
        """Record the audience's members, their statuses and current values."""
        since = _since(checkpoints, "members_since")
        started = self.now()
        for status in (None, "archived"):
            listing = self.mailchimp.list_members(
                flow.audience_id, status=status, since_last_changed=since
            )
            for page in listing.pages():
                self._commit(
                    flow, lease, self._member_links(fieldmap, flow, page.items), dry_run=dry_run
                )
        self._commit(flow, lease, (), dry_run=dry_run, checkpoint=("members_since", started))

    def _member_links(
        self, fieldmap: FieldMap, flow: Flow, members: Iterable[Member]
    ) -> list[Link]:
        members = list(members)
        known = self.store.links_for_emails(
            self.account_pair, flow.audience_id, [m.email_address for m in members]
        )
        links = []
        for member in members:
            email = normalise_email(member.email_address)
            link = known.get(email)
            current = fingerprint_member(member, fieldmap)
            if link is not None and (
                _written_since(link, member.last_changed)
                or _paired(link, member_id=stable_member_id(member))
            ):
                current = link.mailchimp_fingerprint or current
            if link is not None and (
                link.member_status,
                link.member_id,
                link.mailchimp_fingerprint,
            ) == (member.status, stable_member_id(member), current):
                continue
            links.append(
                Link(
                    account_pair=self.account_pair,
                    audience_id=flow.audience_id,
                    email=email,
                    member_id=stable_member_id(member),
                    member_status=member.status,
                    mailchimp_fingerprint=current,
                )
            )
        return links

    def persons(
        self,
        fieldmap: FieldMap,
        flow: Flow,
        lease: Lease | None,
        checkpoints: Mapping[str, Any],
        *,
        dry_run: bool,
    ) -> None:
        """Record which addresses belong to Pipedrive persons, with their current values."""
        since = _since(checkpoints, "persons_since")
        started = self.now()
        for page in self.pipedrive.list_persons(updated_since=since).pages():
            self._commit(
                flow, lease, self._person_links(fieldmap, flow, page.items), dry_run=dry_run
            )
        self._commit(flow, lease, (), dry_run=dry_run, checkpoint=("persons_since", started))

    def _person_links(
        self, fieldmap: FieldMap, flow: Flow, persons: Iterable[Person]
    ) -> list[Link]:
        usable = [p for p in persons if p.primary_email and not p.is_deleted]
        emails = [normalise_email(p.primary_email or "") for p in usable]
        by_email = self.store.links_for_emails(self.account_pair, flow.audience_id, emails)
        by_person = self.store.links_for_persons(
            self.account_pair, flow.audience_id, [p.id for p in usable]
        )
        links: dict[str, Link] = {}
        for person, email in zip(usable, emails, strict=True):
            existing = by_email.get(email)
            if existing is not None and existing.person_id not in {None, person.id}:
                continue  # the address belongs to another person already: the first keeps it
            if (
                (old := by_person.get(person.id)) is not None
                and old.email != email
                and (existing is None or existing.person_id is not None)
            ):
                continue  # an email change: the next sync of this person moves its member
            # (When a member alone holds the new address, the person's link takes it.)
            current = fingerprint_person(person, fieldmap)
            if existing is not None and existing.person_id == person.id:
                if _written_since(existing, person.update_time) or _paired(
                    existing, person_id=person.id
                ):
                    continue
                if existing.pipedrive_fingerprint == current:
                    continue
            links.setdefault(
                email,
                Link(
                    account_pair=self.account_pair,
                    audience_id=flow.audience_id,
                    email=email,
                    person_id=person.id,
                    pipedrive_fingerprint=current,
                ),
            )
        return list(links.values())

    def _commit(
        self,
        flow: Flow,
        lease: Lease | None,
        links: Iterable[Link],
        *,
        dry_run: bool,
        checkpoint: tuple[str, datetime] | None = None,
    ) -> None:
        if dry_run:
            self.learned.update((link.email, link) for link in links)
            return
        batch = Batch(flow_id=flow.id, lease=lease)
        for link in links:
            batch.upsert_link(link)
        if checkpoint is not None:
            batch.set_checkpoint(checkpoint[0], checkpoint[1].isoformat())
        self.store.commit_batch(batch)
