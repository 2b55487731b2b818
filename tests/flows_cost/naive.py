"""The same sync jobs done the naive way: one upsert per contact, as hand-built flows do.

A Zapier or n8n flow between Pipedrive and Mailchimp is a trigger and one action per
contact. These classes do exactly that with pdmc's own typed clients and field maps,
so every difference in the figures is the method, not the plumbing:

* Pipedrive to Mailchimp: list the filter's persons (or, on later polls, the persons
  updated since the last poll), then one ``PUT`` member per person with an address.
* Mailchimp to Pipedrive: list the tag's members (or, on later polls, the members
  changed since the last poll that carry the tag), then per member one person search
  by email and one create or update.

They keep no state but the time of the last poll, so they never skip an unchanged
contact, never learn who exists already, and a changed address becomes a second
member. Rows a service refuses are counted in :attr:`failed` and skipped.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from datetime import datetime

from attrs import define

from pdmc.clients import MailchimpClient, PipedriveClient
from pdmc.clients.mailchimp import Member, MemberUpsert
from pdmc.clients.pipedrive import Person
from pdmc.emulator import Emulator
from pdmc.errors import APIError, QuotaExhaustedError
from pdmc.mapping import FieldMap, map_member_to_person_input, map_person_to_merge_fields

__all__ = ["NaiveMailchimpToPipedrive", "NaivePipedriveToMailchimp"]


@define
class _Naive(abc.ABC):
    """What both directions share: the clients, the field map and the last poll."""

    pipedrive: PipedriveClient
    mailchimp: MailchimpClient
    fieldmap: FieldMap
    audience_id: str
    now: Callable[[], datetime]
    wait: Callable[[float], object]
    """Lets the given seconds pass (the emulator's clock)."""
    last_poll: datetime | None = None
    written: int = 0
    failed: int = 0

    def _polled(self) -> datetime:
        """Note the start of this poll; return when the previous one started."""
        started = self.now()
        since, self.last_poll = self.last_poll, started
        return since or started

    def _write_each(self, contacts: Iterable[Person] | Iterable[Member]) -> None:
        for contact in contacts:
            self._write_one(contact)

    def _write_one(self, contact: Person | Member) -> None:
        while True:
            try:
                wrote = self._write(contact)
            except QuotaExhaustedError as spent:
                # A hand-built flow waits for the daily budget's reset, then goes on.
                self.wait(spent.retry_after or 60.0)
                continue
            except APIError:
                self.failed += 1
                return
            self.written += wrote
            return

    @abc.abstractmethod
    def _write(self, contact: Person | Member) -> int:
        """Write one contact to the other side; return 1, or 0 when there was nothing to write."""


@define
class NaivePipedriveToMailchimp(_Naive):
    """A Pipedrive filter copied to a Mailchimp audience, one ``PUT`` per person."""

    filter_id: int = 0

    @classmethod
    def on(
        cls, emulator: Emulator, fieldmap: FieldMap, audience_id: str, filter_id: int
    ) -> NaivePipedriveToMailchimp:
        """A naive flow on the emulator's default accounts, with fresh clients."""
        return cls(
            emulator.pipedrive_client(),
            emulator.mailchimp_client(),
            fieldmap,
            audience_id,
            emulator.clock.now,
            emulator.advance,
            filter_id=filter_id,
        )

    def initial(self) -> None:
        """Every person of the filter, each upserted."""
        self._polled()
        self._write_each(self.pipedrive.list_persons(filter_id=self.filter_id))

    def poll(self) -> None:
        """The persons updated since the last poll, each upserted."""
        since = self._polled()
        self._write_each(self.pipedrive.list_persons(updated_since=since))

    def _write(self, contact: Person | Member) -> int:
        assert isinstance(contact, Person)
        mapped = map_person_to_merge_fields(contact, self.fieldmap)
        if mapped.email is None:
            return 0
        self.mailchimp.upsert_member(
            self.audience_id,
            MemberUpsert(
                email_address=mapped.email,
                status_if_new="subscribed",
                merge_fields=dict(mapped.values),
            ),
        )
        return 1


@define
class NaiveMailchimpToPipedrive(_Naive):
    """A Mailchimp tag copied to Pipedrive: per member, a search, then a create or update."""

    segment_id: int = 0
    tag: str = ""

    @classmethod
    def on(
        cls, emulator: Emulator, fieldmap: FieldMap, audience_id: str, segment_id: int, tag: str
    ) -> NaiveMailchimpToPipedrive:
        """A naive flow on the emulator's default accounts, with fresh clients."""
        return cls(
            emulator.pipedrive_client(),
            emulator.mailchimp_client(),
            fieldmap,
            audience_id,
            emulator.clock.now,
            emulator.advance,
            segment_id=segment_id,
            tag=tag,
        )

    def initial(self) -> None:
        """Every member of the tag, each searched for and created or updated."""
        self._polled()
        self._write_each(self.mailchimp.list_segment_members(self.audience_id, self.segment_id))

    def poll(self) -> None:
        """The members changed since the last poll that carry the tag, each written."""
        since = self._polled()
        changed = self.mailchimp.list_members(self.audience_id, since_last_changed=since)
        self._write_each(m for m in changed if self.tag in m.tag_names)

    def _write(self, contact: Person | Member) -> int:
        assert isinstance(contact, Member)
        mapped = map_member_to_person_input(contact, self.fieldmap)
        hits = self.pipedrive.search_persons_by_email(contact.email_address)
        if hits:
            self.pipedrive.update_person(hits[0].id, mapped.input)
        else:
            self.pipedrive.create_person(mapped.input)
        return 1
