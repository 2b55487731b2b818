"""One audience: its members and the rules every write to them follows.

Every way of changing a member (PUT, POST, PATCH, batch subscribe, the direct state
API) goes through :meth:`Audience.add_or_update` or :meth:`Audience.update`, so the
consent rules hold everywhere:

* ``status`` changes only when it is sent; ``status_if_new`` applies to new members
  (and to archived ones being added back);
* through the API or by an admin, an unsubscribed or cleaned member cannot be made
  ``subscribed`` (nor a cleaned one ``pending``): "Member In Compliance State";
* a permanently deleted address cannot be added back, except by the person
  subscribing again: "Forgotten Email Not Subscribed";
* an address the emulator's rule calls fake is refused (``_emails``).

Every write checks everything first and changes nothing when it refuses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from attrs import field, frozen

from pdmc.clients.mailchimp import subscriber_hash
from pdmc.emulator._service import APIProblem
from pdmc.emulator.mailchimp import _problems
from pdmc.emulator.mailchimp._emails import email_rejection_reason
from pdmc.emulator.mailchimp._events import Webhook
from pdmc.emulator.mailchimp._merge import MergeFieldDefinition, MergeValueError, normalize_value
from pdmc.emulator.mailchimp._records import CANONICAL_STATUS, Member, Segment, stable_hex

__all__ = ["EXTRA_DEFAULTS", "Audience", "MemberWrite", "WriteOutcome", "iso"]

EXTRA_DEFAULTS: Final[Mapping[str, Any]] = {
    "email_type": "html",
    "language": "",
    "vip": False,
    "ip_signup": "",
    "ip_opt": "",
    "interests": {},
    "location": None,
}
"""The rarely set member fields and the value a member has when they are not set."""

_LOCATION: Final = {
    "latitude": 0,
    "longitude": 0,
    "gmtoff": 0,
    "dstoff": 0,
    "country_code": "",
    "timezone": "",
}
_CACHED_LISTINGS: Final = 16
_STATUS_EVENTS: Final = {
    "subscribed": "subscribe",
    "unsubscribed": "unsubscribe",
    "cleaned": "cleaned",
}


def iso(timestamp: float) -> str:
    """A POSIX timestamp as Mailchimp writes times (``2026-01-05T09:00:00+00:00``)."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


@frozen(kw_only=True)
class MemberWrite:
    """What a request asks to change on one member; ``None`` means "not sent"."""

    status: str | None = None
    status_if_new: str | None = None
    merge_fields: Mapping[str, Any] | None = None
    new_email: str | None = None
    tags: tuple[str, ...] | None = None
    extras: Mapping[str, Any] = field(factory=dict)
    timestamp_signup: float | None = None
    timestamp_opt: float | None = None
    skip_merge_validation: bool = False


@frozen
class WriteOutcome:
    """What a write did: the member, whether it is new, the webhook events it causes."""

    member: Member
    created: bool
    events: tuple[str, ...]
    old_email: str | None = None


class Audience:
    """An audience (a "list" in the API) and everything in it.

    Members are kept in a dict keyed by subscriber hash, in the order they were
    added. Filtered listings are computed once per state version and reused while
    nothing changes, so walking pages costs one pass, then O(page) per page.
    """

    def __init__(
        self,
        *,
        list_id: str,
        account_id: str,
        name: str,
        double_optin: bool,
        created: float,
        segment_ids: Iterator[int],
        details: dict[str, Any],
    ) -> None:
        self.id = list_id
        self.account_id = account_id
        self.name = name
        self.double_optin = double_optin
        self.created = created
        self.details = details
        self.members: dict[str, Member] = {}
        self.forgotten: set[str] = set()
        self.merge_fields: dict[str, MergeFieldDefinition] = {}
        self.segments: dict[int, Segment] = {}
        self.webhooks: dict[str, Webhook] = {}
        self.counts: Counter[str] = Counter()
        self.last_subscribed: float | None = None
        self.last_unsubscribed: float | None = None
        self.version = 0
        self._segment_ids = segment_ids
        self._serials = 0
        self._next_merge_id = 1
        self._listings: dict[Hashable, list[Member]] = {}
        self._listings_version = 0

    # ----------------------------------------------------------------- lookups

    def find(self, email_or_hash: str) -> Member | None:
        """The member with this address or subscriber hash (archived ones included)."""
        key = subscriber_hash(email_or_hash) if "@" in email_or_hash else email_or_hash.lower()
        return self.members.get(key)

    def merge_field(self, tag_or_id: str) -> MergeFieldDefinition | None:
        """A merge field by tag (any case), ``merge<N>`` or its ``merge_id``."""
        wanted = tag_or_id.upper()
        if wanted in self.merge_fields:
            return self.merge_fields[wanted]
        number = wanted.removeprefix("MERGE")
        return next((f for f in self.merge_fields.values() if str(f.merge_id) == number), None)

    def tag_named(self, name: str) -> Segment | None:
        """The tag (static segment) with this name, compared without case."""
        wanted = name.strip().lower()
        return next(
            (s for s in self.segments.values() if s.type == "static" and s.name.lower() == wanted),
            None,
        )

    def matching(
        self,
        key: Hashable,
        test: Callable[[Member], bool],
        order: Callable[[Member], Any] | None = None,
        *,
        reverse: bool = False,
    ) -> list[Member]:
        """The members passing ``test`` (in ``order``), reused until the audience changes."""
        if self._listings_version != self.version:
            self._listings.clear()
            self._listings_version = self.version
        found = self._listings.get(key)
        if found is None:
            found = [member for member in self.members.values() if test(member)]
            if order is not None:
                found.sort(key=order, reverse=reverse)
            if len(self._listings) >= _CACHED_LISTINGS:
                self._listings.pop(next(iter(self._listings)))
            self._listings[key] = found
        return found

    def touch(self) -> None:
        """Mark the audience changed (cached listings are recomputed)."""
        self.version += 1

    # ------------------------------------------------------------ member writes

    def add_or_update(
        self, email: str, change: MemberWrite, *, may_update: bool, actor: str, now: float
    ) -> WriteOutcome:
        """Add ``email``, or update it when it exists and ``may_update``.

        Raises:
            APIProblem: fake address, forgotten address, existing member when not
                ``may_update``, compliance state, invalid merge fields, no status.
        """
        email = email.strip()
        key = subscriber_hash(email)
        if email_rejection_reason(email) is not None:
            raise _problems.fake_email(email)
        if key in self.forgotten and not (actor == "user" and change.status == "subscribed"):
            raise _problems.forgotten_email(email)
        member = self.members.get(key)
        if member is None:
            return self._create(email, key, change, now)
        archived = member.status == "archived"
        if not archived and not may_update:
            raise _problems.member_exists(email)
        comeback = change.status_if_new if archived else None
        return self.update(member, change, actor=actor, now=now, comeback_status=comeback)

    def update(
        self,
        member: Member,
        change: MemberWrite,
        *,
        actor: str,
        now: float,
        comeback_status: str | None = None,
    ) -> WriteOutcome:
        """Apply ``change`` to an existing member.

        ``comeback_status`` is the status an archived member gets back when the
        request sends none (PUT's ``status_if_new``). Raises :class:`APIProblem` as
        :meth:`add_or_update` does.
        """
        archived = member.status == "archived"
        target = change.status or (comeback_status if archived else None)
        moves = target is not None and target != member.status
        if moves:
            before = member.prior if archived and member.prior else member.status
            self._check_consent(member.email, before, str(target), actor)
        merge = self._merged(
            member.merge,
            change.merge_fields,
            creating=False,
            skip_required=change.skip_merge_validation,
        )
        new_key, new_email = self._new_address(member, change.new_email)
        events: list[str] = []
        changed = False
        if moves and target is not None:
            self._set_status(member, target, now)
            changed = True
            if event := _STATUS_EVENTS.get(target):
                events.append(event)
        if merge != member.merge:
            member.merge = merge
            changed = True
            if "subscribe" not in events:
                events.append("profile")
        for name, value in change.extras.items():
            changed |= member.set_extra(name, value, EXTRA_DEFAULTS[name])
        old_email = None
        if new_email is not None and new_email != member.email:
            old_email = member.email
            changed = True
            self._move(member, new_key, new_email)
            events.append("upemail" if new_key != subscriber_hash(old_email) else "profile")
        # Tags are not part of the member's information: they never move last_changed.
        self._apply_tags(member, change.tags or (), (), now)
        if changed:
            member.changed = now
            self.touch()
        return WriteOutcome(
            member, created=False, events=tuple(dict.fromkeys(events)), old_email=old_email
        )

    def _create(self, email: str, key: str, change: MemberWrite, now: float) -> WriteOutcome:
        status = change.status or change.status_if_new
        if status is None:
            raise _problems.invalid("status_if_new", "This value should not be blank.")
        merge = self._merged(
            None, change.merge_fields, creating=True, skip_required=change.skip_merge_validation
        )
        self._serials += 1
        member = Member(key, email, CANONICAL_STATUS[status], self._serials, now)
        member.merge = merge
        member.signup = change.timestamp_signup or now
        member.opt = change.timestamp_opt or now
        for name, value in change.extras.items():
            member.set_extra(name, value, EXTRA_DEFAULTS[name])
        self.members[key] = member
        self.forgotten.discard(key)
        self.counts[member.status] += 1
        if status == "subscribed":
            self.last_subscribed = now
        self._apply_tags(member, change.tags or (), (), now)
        self.touch()
        events = ("subscribe",) if status == "subscribed" else ()
        return WriteOutcome(member, created=True, events=events)

    @staticmethod
    def _check_consent(email: str, before: str, target: str, actor: str) -> None:
        # The person may resubscribe themselves; the API and admins may not do it for them.
        if actor == "user":
            return
        if (target == "subscribed" and before in {"unsubscribed", "cleaned"}) or (
            target == "pending" and before == "cleaned"
        ):
            raise _problems.compliance_state(email)

    def _new_address(self, member: Member, new_email: str | None) -> tuple[str, str | None]:
        if new_email is None:
            return member.key, None
        new_email = new_email.strip()
        new_key = subscriber_hash(new_email)
        if new_key == member.key:
            return new_key, new_email
        if email_rejection_reason(new_email) is not None:
            raise _problems.fake_email(new_email)
        if new_key in self.forgotten:
            raise _problems.forgotten_email(new_email)
        if new_key in self.members:
            raise _problems.member_exists(new_email)
        return new_key, new_email

    def _move(self, member: Member, new_key: str, new_email: str) -> None:
        if new_key != member.key:
            del self.members[member.key]
            self.members[new_key] = member
            member.key = new_key
        member.email = new_email

    def _set_status(self, member: Member, status: str, now: float) -> None:
        self.counts[member.status] -= 1
        member.prior = member.status if status == "archived" else None
        member.status = CANONICAL_STATUS[status]
        self.counts[member.status] += 1
        if status == "subscribed":
            member.opt = now
            self.last_subscribed = now
        elif status == "unsubscribed":
            self.last_unsubscribed = now

    def _merged(
        self,
        current: dict[str, Any] | None,
        given: Mapping[str, Any] | None,
        *,
        creating: bool,
        skip_required: bool,
    ) -> dict[str, Any] | None:
        """The member's merge values after ``given``; raise with every bad field at once."""
        result = dict(current or {})
        errors: dict[str, str] = {}
        sent: set[str] = set()
        for raw_tag, value in (given or {}).items():
            definition = self.merge_fields.get(str(raw_tag).upper())
            if definition is None:
                continue  # Mailchimp ignores tags the audience does not have
            sent.add(definition.tag)
            try:
                stored = normalize_value(definition, value)
            except MergeValueError as error:
                errors[definition.tag] = error.message
                continue
            if stored is None:
                result.pop(definition.tag, None)
            else:
                result[definition.tag] = stored  # the field's own tag object: shared by all
        if not skip_required:
            for definition in self.merge_fields.values():
                missing = definition.required and definition.tag not in result
                if missing and (creating or definition.tag in sent):
                    errors.setdefault(definition.tag, "Please enter a value")
        if errors:
            raise _problems.merge_fields_invalid(
                [{"field": tag, "message": message} for tag, message in errors.items()]
            )
        return result or None

    def archive(self, member: Member, now: float) -> bool:
        """Archive a member; ``False`` when it already was."""
        if member.status == "archived":
            return False
        self._set_status(member, "archived", now)
        member.changed = now
        self.touch()
        return True

    def forget(self, member: Member) -> None:
        """Delete a member permanently; the address can never be added back by the API."""
        del self.members[member.key]
        self.counts[member.status] -= 1
        self.forgotten.add(member.key)
        self.touch()

    # ---------------------------------------------------------------- tags

    def create_segment(
        self, name: str, kind: str, now: float, options: dict[str, Any] | None = None
    ) -> Segment:
        """Create a tag (``static``) or a saved segment.

        Raises:
            APIProblem: a segment with that name exists.
        """
        name = name.strip()
        if not name:
            raise _problems.invalid("name", "This value should not be blank.")
        if any(s.name.lower() == name.lower() for s in self.segments.values()):
            raise APIProblem(400, "Bad Request", f"Sorry, a segment named {name!r} already exists.")
        segment = Segment(next(self._segment_ids), name, kind, now, now, options)
        self.segments[segment.id] = segment
        self.touch()
        return segment

    def tag_for(self, name: str, now: float) -> Segment:
        """The tag named ``name``, created when it does not exist yet."""
        return self.tag_named(name) or self.create_segment(name, "static", now)

    def _apply_tags(
        self, member: Member, active: Iterable[str], inactive: Iterable[str], now: float
    ) -> bool:
        current = dict(member.tags)
        for name in active:
            current.setdefault(self.tag_for(name, now).id, now)
        for name in inactive:
            if (tag := self.tag_named(name)) is not None:
                current.pop(tag.id, None)
        return self._set_tags(member, current)

    def set_tags(
        self,
        member: Member,
        *,
        active: Iterable[str] = (),
        inactive: Iterable[str] = (),
        exactly: Iterable[str] | None = None,
        now: float,
    ) -> bool:
        """Add ``active`` and remove ``inactive`` tags, or make them ``exactly`` those."""
        if exactly is not None:
            wanted = {self.tag_for(name, now).id for name in exactly}
            current = {sid: added for sid, added in member.tags if sid in wanted}
            current |= {sid: now for sid in wanted if sid not in current}
            return self._set_tags(member, current)
        return self._apply_tags(member, active, inactive, now)

    def put_in_tag(self, member: Member, segment: Segment, *, present: bool, now: float) -> bool:
        """Add a member to a tag or take it out; ``False`` when nothing changed."""
        current = dict(member.tags)
        if present:
            current.setdefault(segment.id, now)
        else:
            current.pop(segment.id, None)
        return self._set_tags(member, current)

    def _set_tags(self, member: Member, tags: dict[int, float]) -> bool:
        updated = tuple(tags.items())
        if updated == member.tags:
            return False
        member.tags = updated
        self.touch()
        return True

    def delete_segment(self, segment: Segment) -> None:
        """Delete a segment; deleting a tag takes it off every member."""
        del self.segments[segment.id]
        if segment.type == "static":
            for member in self.members.values():
                if any(sid == segment.id for sid, _ in member.tags):
                    member.tags = tuple(pair for pair in member.tags if pair[0] != segment.id)
        self.touch()

    # --------------------------------------------------------------- merge fields

    def add_merge_field(self, definition: MergeFieldDefinition) -> MergeFieldDefinition:
        """Store a new merge field, giving it the next ``merge_id`` (and ``MMERGE<N>`` tag)."""
        definition.merge_id = self._next_merge_id
        definition.tag = definition.tag or f"MMERGE{definition.merge_id}"
        definition.display_order = definition.display_order or definition.merge_id + 1
        self._next_merge_id += 1
        self.merge_fields[definition.tag] = definition
        self.touch()
        return definition

    def rename_merge_tag(self, definition: MergeFieldDefinition, tag: str) -> None:
        """Change a field's tag, carrying every member's value over to it."""
        old = definition.tag
        del self.merge_fields[old]
        definition.tag = tag
        self.merge_fields[tag] = definition
        for member in self.members.values():
            if member.merge and old in member.merge:
                member.merge[tag] = member.merge.pop(old)
        self.touch()

    def delete_merge_field(self, definition: MergeFieldDefinition) -> None:
        """Delete a merge field and its values."""
        del self.merge_fields[definition.tag]
        for member in self.members.values():
            if member.merge and definition.tag in member.merge:
                del member.merge[definition.tag]
                member.merge = member.merge or None
        self.touch()

    # ---------------------------------------------------------------- rendering

    def unique_email_id(self, member: Member) -> str:
        """The member's ``unique_email_id`` (stable across address changes)."""
        return stable_hex(self.id, member.serial)

    def wire_merges(self, member: Member) -> dict[str, Any]:
        """Every merge field of the audience, with the member's value or ``""``."""
        values = member.merge or {}
        return {tag: values.get(tag, "") for tag in self.merge_fields}

    def wire_member(self, member: Member) -> dict[str, Any]:
        """The member as the API shows it."""
        merges = self.wire_merges(member)
        names = [merges.get("FNAME"), merges.get("LNAME")]
        wire: dict[str, Any] = {
            "id": member.key,
            "email_address": member.email,
            "unique_email_id": self.unique_email_id(member),
            "contact_id": stable_hex(self.id, "contact", member.serial, length=32),
            "full_name": " ".join(str(n) for n in names if n),
            "web_id": int(stable_hex(self.id, "web", member.serial, length=7), 16),
            "email_type": member.get_extra("email_type", "html"),
            "status": member.status,
            "consents_to_one_to_one_messaging": True,
            "merge_fields": merges,
            "stats": {"avg_open_rate": 0, "avg_click_rate": 0},
            "ip_signup": member.get_extra("ip_signup", ""),
            "timestamp_signup": iso(member.signup),
            "ip_opt": member.get_extra("ip_opt", ""),
            "timestamp_opt": iso(member.opt),
            "member_rating": 2,
            "last_changed": iso(member.changed),
            "language": member.get_extra("language", ""),
            "vip": member.get_extra("vip", default=False),
            "email_client": "",
            "location": {**_LOCATION, **(member.get_extra("location") or {})},
            "source": "API - Generic",
            "tags_count": len(member.tags),
            "tags": [{"id": sid, "name": self.segments[sid].name} for sid, _ in member.tags],
            "list_id": self.id,
        }
        if interests := member.get_extra("interests"):
            wire["interests"] = dict(interests)
        return wire

    def event_data(
        self, member: Member, event: str, old_email: str | None
    ) -> list[tuple[str, Any]]:
        """The ``data[...]`` fields of a webhook event about ``member``."""
        if event == "upemail":
            return [
                ("list_id", self.id),
                ("new_id", self.unique_email_id(member)),
                ("new_email", member.email),
                ("old_email", old_email or member.email),
            ]
        if event == "cleaned":
            return [
                ("list_id", self.id),
                ("campaign_id", ""),
                ("reason", "hard"),
                ("email", member.email),
            ]
        data: list[tuple[str, Any]] = []
        if event == "unsubscribe":
            action = "delete" if member.status == "archived" else "unsub"
            data += [("action", action), ("reason", "manual")]
        data += [
            ("id", self.unique_email_id(member)),
            ("list_id", self.id),
            ("email", member.email),
            ("email_type", member.get_extra("email_type", "html")),
            ("ip_opt", member.get_extra("ip_opt", "")),
        ]
        if event == "subscribe":
            data.append(("ip_signup", member.get_extra("ip_signup", "")))
        data.append(("merges", {"EMAIL": member.email, **self.wire_merges(member)}))
        return data
