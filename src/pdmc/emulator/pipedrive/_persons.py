"""Persons: compact records, their indexes, writes, listing, search and wire shapes.

Memory is what limits a seeded emulator, so a person is one slotted record holding
wire values (tuples for emails and phones, a dict only when custom fields are set).
Indexes are a sorted array of ids, a dict from lower-cased email to ids, and an
append-only change log (update time, sequence, id) in arrays, which lets
``updated_since`` and ``sort_by=update_time`` start where they should instead of
scanning every person. Listing is keyset pagination: a cursor holds the sort key of
the last person sent, so inserts and deletes between pages never repeat or skip one.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, Literal

from attrs import frozen

from pdmc.emulator.pipedrive._fields import (
    FieldDef,
    FieldRegistry,
    Resolver,
    address_value,
    clean_value,
    labelled,
    typed_for_webhook,
)
from pdmc.emulator.pipedrive._wire import (
    bad_request,
    parse_rfc3339,
    rfc3339,
    v1_time,
    valid_date,
)

__all__ = [
    "EMAIL_LABELS",
    "MARKETING_STATUSES",
    "PersonBook",
    "PersonChanges",
    "PersonQuery",
    "PersonRecord",
    "Point",
    "Points",
    "RenderOptions",
    "VISIBILITY",
    "contact_points",
    "parse_person_input",
    "person_v1",
    "person_v2",
    "person_webhook",
    "visibility",
]

EMAIL_LABELS: Final = ("work", "home", "mobile", "other")
MARKETING_STATUSES: Final = ("no_consent", "unsubscribed", "subscribed", "archived")
VISIBILITY: Final = (1, 3, 5, 7)
_DEFAULT_VISIBILITY: Final = 3
_NOTES_LIMIT: Final = 10_000
_NAME_LIMIT: Final = 255
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LABEL_OBJECTS: Final = {label: label for label in EMAIL_LABELS}

Point = tuple[str, bool, str]
"""An email, phone or IM entry: value, primary flag, label."""

_WRITABLE: Final = frozenset(
    {
        "name",
        "owner_id",
        "org_id",
        "add_time",
        "emails",
        "phones",
        "visible_to",
        "label_ids",
        "postal_address",
        "notes",
        "im",
        "birthday",
        "job_title",
        "marketing_status",
        "custom_fields",
    }
)
_CONTACT_SYNC: Final = ("postal_address", "notes", "im", "birthday", "job_title")


Points = str | tuple[Point, ...]
"""Stored contact points: a bare string for the common single, primary, ``work`` entry."""


def _compact(points: tuple[Point, ...]) -> Points:
    if len(points) == 1 and points[0][1] and points[0][2] == "work":
        return points[0][0]
    return points


def _expand(points: Points) -> tuple[Point, ...]:
    return ((points, True, "work"),) if isinstance(points, str) else points


class PersonRecord:
    """One person as stored: wire values only, in slots (see the module docstring).

    Emails, phones and IMs are stored compactly (:data:`Points`); read and write them
    through the ``emails``, ``phones`` and ``im`` properties.
    """

    __slots__ = (
        "_emails", "_im", "_phones", "add_time", "birthday", "custom", "first_name", "id",
        "job_title", "label_ids", "last_name", "marketing_locked", "marketing_status", "name",
        "notes", "org_id", "owner_id", "postal_address", "seq", "update_time", "visible_to",
    )  # fmt: skip

    def __init__(self, person_id: int, owner_id: int, now: int) -> None:
        self.id = person_id
        self.name = ""
        self.first_name: str | None = None  # None: derived from name
        self.last_name: str | None = None
        self.owner_id = owner_id
        self.org_id: int | None = None
        self._emails: Points = ()
        self._phones: Points = ()
        self._im: Points = ()
        self.label_ids: tuple[int, ...] = ()
        self.visible_to = _DEFAULT_VISIBILITY
        self.postal_address: dict[str, str] | None = None
        self.birthday: str | None = None
        self.job_title: str | None = None
        self.notes: str | None = None
        self.marketing_status = "no_consent"
        self.marketing_locked = False
        self.custom: dict[str, Any] | None = None
        self.add_time = now
        self.update_time = now
        self.seq = 0

    @property
    def emails(self) -> tuple[Point, ...]:
        """Email addresses: value, primary flag, label."""
        return _expand(self._emails)

    @emails.setter
    def emails(self, points: tuple[Point, ...]) -> None:
        self._emails = _compact(points)

    @property
    def phones(self) -> tuple[Point, ...]:
        """Phone numbers: value, primary flag, label."""
        return _expand(self._phones)

    @phones.setter
    def phones(self, points: tuple[Point, ...]) -> None:
        self._phones = _compact(points)

    @property
    def im(self) -> tuple[Point, ...]:
        """Instant-messaging accounts: value, primary flag, label."""
        return _expand(self._im)

    @im.setter
    def im(self, points: tuple[Point, ...]) -> None:
        self._im = _compact(points)

    def names(self) -> tuple[str, str | None]:
        """First and last name: as given, else split from ``name`` at the first space."""
        if self.first_name is not None or self.last_name is not None:
            return self.first_name or "", self.last_name
        first, _, last = self.name.strip().partition(" ")
        return first, last.strip() or None

    def has_valid_email(self) -> bool:
        """Whether any email looks deliverable (what decides ``no_consent``)."""
        return any(_EMAIL.match(value) for value, _, _ in self.emails)


def _keep_names_whole(person: PersonRecord, values: dict[str, Any]) -> None:
    """Keep ``name`` and the first and last names one story, as the app shows them.

    Runs before ``values`` are applied. A new ``name`` alone (all the API can write)
    makes the first and last names its split again; a new first or last name alone
    (an edit in the app) keeps the other part and rebuilds ``name`` from both.
    """
    named = "name" in values
    parted = "first_name" in values or "last_name" in values
    if named and not parted:
        values.update(first_name=None, last_name=None)
    elif parted and not named:
        first, last = person.names()
        first = values.setdefault("first_name", first)
        last = values.setdefault("last_name", last)
        values["name"] = " ".join(part for part in (first, last) if part)


def contact_points(
    raw: Any, where: str, *, labels: Collection[str] | None, allow_strings: bool
) -> tuple[Point, ...]:
    """Normalise ``emails``/``phones``/``im``: one primary (the first marked, else the
    first), label ``work`` by default, blank values dropped.

    ``allow_strings`` (direct state only) takes plain strings as entries.
    Raises :class:`APIProblem` (400) naming the entry and the reason.
    """
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        raise bad_request(f"{where} must be a list")
    checked = (
        (item, False, "work")
        if allow_strings and isinstance(item, str)
        else _point(item, f"{where}[{index}]", labels)
        for index, item in enumerate(raw)
    )
    entries = [entry for entry in checked if entry[0].strip()]
    chosen = next((i for i, entry in enumerate(entries) if entry[1]), 0)
    return tuple((value, i == chosen, label) for i, (value, _, label) in enumerate(entries))


def _point(item: Any, spot: str, labels: Collection[str] | None) -> Point:
    if not isinstance(item, Mapping):
        raise bad_request(f"{spot} must be an object with value, primary and label")
    unknown = sorted(set(item) - {"value", "primary", "label"})
    if unknown:
        raise bad_request(f"{spot} has unknown keys: {', '.join(unknown)}")
    value, primary, label = item.get("value"), item.get("primary", False), item.get("label")
    if not isinstance(value, str):
        raise bad_request(f"{spot}.value must be a string")
    if not isinstance(primary, bool):
        raise bad_request(f"{spot}.primary must be true or false")
    label = "work" if label is None else label
    if not isinstance(label, str) or (labels is not None and label not in labels):
        allowed = f" (one of {', '.join(labels)})" if labels is not None else ""
        raise bad_request(f"{spot}.label {label!r} is not a valid label{allowed}")
    return value, primary, _LABEL_OBJECTS.get(label, label)


def _optional_text(raw: Any, where: str, limit: int) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise bad_request(f"{where} must be a string")
    if len(raw) > limit:
        raise bad_request(f"{where} is longer than {limit} characters")
    return raw or None


def _positive_int(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0:
        raise bad_request(f"{where} must be a positive integer")
    return raw


class PersonChanges:
    """Checked attribute values of one write, ready to apply (custom fields merged)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.custom: dict[str, Any] = {}
        self.marketing_status: str | None = None


@frozen
class _Context:
    fields: FieldRegistry
    exists: Resolver
    direct: bool


def _name(raw: Any, where: str, _: _Context) -> str | None:
    text = _optional_text(raw, where, _NAME_LIMIT)
    if where == "name" and not (text and text.strip()):
        raise bad_request("name must not be empty")
    return text


def _owner(raw: Any, where: str, context: _Context) -> int:
    owner = _positive_int(raw, where)
    if not context.exists("user", owner):
        raise bad_request(f"{where}: no user with id {owner}")
    return owner


def _add_time(raw: Any, where: str, _: _Context) -> int:
    if not isinstance(raw, str):
        raise bad_request(f"{where} must be an RFC 3339 date-time string")
    return int(parse_rfc3339(raw, where))


def visibility(raw: Any, where: str) -> int:
    """A ``visible_to`` value (1, 3, 5 or 7); 400 otherwise."""
    if isinstance(raw, bool) or raw not in VISIBILITY:
        raise bad_request(f"{where} must be one of {', '.join(map(str, VISIBILITY))}")
    return int(raw)


def _birthday(raw: Any, where: str, _: _Context) -> str | None:
    if raw is not None and not valid_date(raw):
        raise bad_request(f"{where} must be a date as YYYY-MM-DD")
    return None if raw is None else str(raw)


def _points_of(labels: Collection[str] | None) -> Callable[[Any, str, _Context], Any]:
    def check(raw: Any, where: str, context: _Context) -> tuple[Point, ...]:
        return contact_points(raw, where, labels=labels, allow_strings=context.direct)

    return check


_PERSON_CHECKS: Final[Mapping[str, Callable[[Any, str, _Context], Any]]] = {
    "name": _name,
    "first_name": _name,
    "last_name": _name,
    "owner_id": _owner,
    "org_id": lambda raw, where, _: None if raw is None else _positive_int(raw, where),
    "add_time": _add_time,
    "emails": _points_of(EMAIL_LABELS),
    "phones": _points_of(EMAIL_LABELS),
    "im": _points_of(None),
    "visible_to": lambda raw, where, _: visibility(raw, where),
    "label_ids": lambda raw, _, context: _label_ids(raw, context.fields.labels),
    "postal_address": lambda raw, where, _: None if raw is None else address_value(raw, where),
    "notes": lambda raw, where, _: _optional_text(raw, where, _NOTES_LIMIT),
    "job_title": lambda raw, where, _: _optional_text(raw, where, _NAME_LIMIT),
    "birthday": _birthday,
}


def parse_person_input(
    body: Mapping[str, Any],
    *,
    creating: bool,
    fields: FieldRegistry,
    exists: Resolver,
    direct: bool = False,
) -> PersonChanges:
    """Check a create or update body (the v2 ``addPerson``/``updatePerson`` shape).

    ``direct`` also accepts what the direct-state API takes: ``first_name``,
    ``last_name`` and plain strings as emails and phones. Raises
    :class:`APIProblem` (400) naming the field and the reason.
    """
    allowed = _WRITABLE | ({"first_name", "last_name"} if direct else set())
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise bad_request(f"unknown person fields: {', '.join(unknown)}")
    if not creating and "add_time" in body:
        raise bad_request("add_time can only be set when the person is created")
    context = _Context(fields, exists, direct)
    changes = PersonChanges()
    for key, raw in body.items():
        if key == "custom_fields":
            changes.custom = _custom_values(raw, fields, exists)
        elif key == "marketing_status":
            if raw not in MARKETING_STATUSES:
                raise bad_request(
                    f"marketing_status must be one of {', '.join(MARKETING_STATUSES)}"
                )
            changes.marketing_status = raw
        else:
            changes.values[key] = _PERSON_CHECKS[key](raw, key, context)
    if creating and not changes.values.get("name"):
        parts = (changes.values.get("first_name"), changes.values.get("last_name"))
        joined = " ".join(part for part in parts if part)
        if not joined:
            raise bad_request("name is required")
        changes.values["name"] = joined
    return changes


def _label_ids(raw: Any, labels: FieldDef) -> tuple[int, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        raise bad_request("label_ids must be a list of label ids")
    for item in raw:
        if labels.option(item) is None:
            raise bad_request(f"label_ids: {item!r} is not a person label id")
    return tuple(dict.fromkeys(raw))


def _custom_values(raw: Any, fields: FieldRegistry, exists: Resolver) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise bad_request("custom_fields must be an object keyed by field codes")
    cleaned = {}
    for code, value in raw.items():
        definition = fields.custom(code)
        if definition is None:
            raise bad_request(f"custom_fields.{code}: no custom person field has this key")
        cleaned[code] = clean_value(definition, value, exists)
    return cleaned


@frozen(kw_only=True)
class PersonQuery:
    """What ``getPersons`` asks for, parsed."""

    sort_by: Literal["id", "update_time", "add_time"] = "id"
    descending: bool = False
    after: list[Any] | None = None
    limit: int = 100
    ids: frozenset[int] | None = None
    owner_id: int | None = None
    org_id: int | None = None
    updated_since: float | None = None
    updated_until: float | None = None
    matches: Callable[[PersonRecord], bool] | None = None

    def accepts(self, person: PersonRecord) -> bool:
        """Whether a person passes every condition but the sort position."""
        return (
            (self.ids is None or person.id in self.ids)
            and (self.owner_id is None or person.owner_id == self.owner_id)
            and (self.org_id is None or person.org_id == self.org_id)
            and (self.updated_since is None or person.update_time >= self.updated_since)
            and (self.updated_until is None or person.update_time < self.updated_until)
            and (self.matches is None or self.matches(person))
        )


class PersonBook:
    """The persons of one company, with their indexes."""

    def __init__(self) -> None:
        self.people: dict[int, PersonRecord] = {}
        self._ids: array[int] = array("q")
        self._emails: dict[str, int | tuple[int, ...]] = {}
        self._log_seq: array[int] = array("q")
        self._log_time: array[int] = array("q")
        self._log_id: array[int] = array("q")
        self._seq = 0
        self._next_id = 1
        self._add_time_in_id_order = True
        self._last_add_time = 0
        self.deleted: dict[int, tuple[int, PersonRecord]] = {}

    def __len__(self) -> int:
        return len(self.people)

    def get(self, person_id: int) -> PersonRecord | None:
        """A live person by id."""
        return self.people.get(person_id)

    # writes ---------------------------------------------------------------------------

    def create(self, changes: PersonChanges, *, owner_id: int, now: int) -> PersonRecord:
        """Store a new person from checked changes; returns the record."""
        person = PersonRecord(self._next_id, owner_id, now)
        self._next_id += 1
        self._apply(person, changes, api=False)
        if person.add_time < self._last_add_time:
            self._add_time_in_id_order = False
        self._last_add_time = max(self._last_add_time, person.add_time)
        if changes.marketing_status is not None and person.has_valid_email():
            person.marketing_status = changes.marketing_status
        self.people[person.id] = person
        self._ids.append(person.id)
        self._index_emails(person, add=True)
        self._log(person, now)
        return person

    def update(
        self,
        person: PersonRecord,
        changes: PersonChanges,
        *,
        now: int,
        api: bool,
        force: bool = False,
    ) -> bool:
        """Apply checked changes; bump ``update_time`` and return True if anything
        changed (always with ``force``).

        Through the API (``api``) the marketing status changes at most once per
        person, and ``archived`` only from ``subscribed``; other attempts leave it.
        """
        before = _snapshot(person)
        self._index_emails(person, add=False)
        self._apply(person, changes, api=api)
        self._index_emails(person, add=True)
        if _snapshot(person) == before and not force:
            return False
        self._log(person, now)
        return True

    def _apply(self, person: PersonRecord, changes: PersonChanges, *, api: bool) -> None:
        _keep_names_whole(person, changes.values)
        for key, value in changes.values.items():
            setattr(person, key, value)
        if changes.custom:
            custom = dict(person.custom or {})
            for code, value in changes.custom.items():
                if value is None:
                    custom.pop(code, None)
                else:
                    custom[code] = value
            person.custom = custom or None
        wanted = changes.marketing_status
        if wanted is None or wanted == person.marketing_status or person.seq == 0:
            return
        if api and (
            person.marketing_locked
            or (wanted == "archived" and person.marketing_status != "subscribed")
        ):
            return
        person.marketing_status = wanted
        person.marketing_locked = person.marketing_locked or api

    def delete(self, person: PersonRecord, now: int) -> None:
        """Remove a person (kept as a tombstone for ``/recents``)."""
        self._index_emails(person, add=False)
        del self.people[person.id]
        position = bisect_left(self._ids, person.id)
        del self._ids[position]
        self.deleted[person.id] = (now, person)

    def _log(self, person: PersonRecord, now: int) -> None:
        person.update_time = now
        self._seq += 1
        person.seq = self._seq
        self._log_seq.append(self._seq)
        self._log_time.append(now)
        self._log_id.append(person.id)
        if len(self._log_seq) > 2 * len(self.people) + 4096:
            self._compact()

    def _compact(self) -> None:
        keep = [i for i in range(len(self._log_seq)) if self._live(i)]
        self._log_seq = array("q", (self._log_seq[i] for i in keep))
        self._log_time = array("q", (self._log_time[i] for i in keep))
        self._log_id = array("q", (self._log_id[i] for i in keep))

    def _live(self, index: int) -> bool:
        person = self.people.get(self._log_id[index])
        return person is not None and person.seq == self._log_seq[index]

    def _index_emails(self, person: PersonRecord, *, add: bool) -> None:
        for value, _, _ in person.emails:
            lowered = value.strip().lower()
            key = value if lowered == value else lowered  # share the string when possible
            held = self._emails.get(key)
            ids = () if held is None else (held,) if isinstance(held, int) else held
            ids = (*ids, person.id) if add else tuple(i for i in ids if i != person.id)
            if not ids:
                self._emails.pop(key, None)
            else:
                self._emails[key] = ids[0] if len(ids) == 1 else tuple(dict.fromkeys(ids))

    def with_email(self, email: str) -> list[PersonRecord]:
        """Persons with this email, compared without case (the search index)."""
        held = self._emails.get(email.strip().lower())
        ids = () if held is None else (held,) if isinstance(held, int) else held
        return [self.people[i] for i in ids]

    # listing --------------------------------------------------------------------------

    def page(self, query: PersonQuery) -> tuple[list[PersonRecord], list[Any] | None]:
        """One page of persons and the sort key to resume after, if more remain."""
        found: list[PersonRecord] = []
        last: list[Any] = []
        for key, person in self._ordered(query):
            if not query.accepts(person):
                continue
            if len(found) == query.limit:
                return found, last
            found.append(person)
            last = key
        return found, None

    def _ordered(self, query: PersonQuery) -> Iterator[tuple[list[Any], PersonRecord]]:
        if query.sort_by == "update_time":
            return self._by_update(query)
        if query.sort_by == "add_time" and not self._add_time_in_id_order:
            return self._by_add_time(query)
        after = query.after[-1] if query.after else None
        if query.ids is not None:
            chosen: Iterable[int] = sorted(query.ids, reverse=query.descending)
        else:
            chosen = self._recent_ids(query) or self._id_walk(query.descending)
        keyed = (
            (([p.add_time, p.id] if query.sort_by == "add_time" else [p.id]), p)
            for i in chosen
            if (p := self.people.get(i)) is not None
        )
        if after is None:
            return keyed
        return (
            (key, p) for key, p in keyed if (p.id < after if query.descending else p.id > after)
        )

    def _id_walk(self, descending: bool) -> Iterator[int]:
        ids = self._ids
        if descending:
            yield from reversed(ids)
        else:
            yield from ids

    def _recent_ids(self, query: PersonQuery) -> list[int] | None:
        """Ids changed since ``updated_since``, sorted, when they are few enough to gather."""
        if query.updated_since is None:
            return None
        start = bisect_left(self._log_time, query.updated_since)
        if len(self._log_time) - start > max(2048, len(self.people) // 8):
            return None
        ids = {self._log_id[i] for i in range(start, len(self._log_id)) if self._live(i)}
        return sorted(ids, reverse=query.descending)

    def _by_update(self, query: PersonQuery) -> Iterator[tuple[list[Any], PersonRecord]]:
        seqs, times = self._log_seq, self._log_time
        # The window bounds are positions in the log, which is in update order.
        low = 0 if query.updated_since is None else bisect_left(times, query.updated_since)
        high = len(seqs) if query.updated_until is None else bisect_left(times, query.updated_until)
        if not query.descending:
            if query.after is not None:
                low = max(low, bisect_right(seqs, query.after[-1]))
            indexes: Iterable[int] = range(low, high)
        else:
            if query.after is not None:
                high = min(high, bisect_left(seqs, query.after[-1]))
            indexes = range(high - 1, low - 1, -1)
        for index in indexes:
            if self._live(index):
                yield [times[index], seqs[index]], self.people[self._log_id[index]]

    def _by_add_time(self, query: PersonQuery) -> Iterator[tuple[list[Any], PersonRecord]]:
        # Explicit add_time values broke id order: sort on demand (documented cost).
        ordered = sorted(
            self.people.values(), key=lambda p: (p.add_time, p.id), reverse=query.descending
        )
        after = tuple(query.after) if query.after else None
        for person in ordered:
            key = (person.add_time, person.id)
            if after is None or (key < after if query.descending else key > after):
                yield list(key), person

    def changed_since(self, since: float) -> Iterator[tuple[int, PersonRecord, bool]]:
        """``(time, person, deleted)`` of persons changed or deleted at or after ``since``."""
        start = bisect_left(self._log_time, since)
        for index in range(start, len(self._log_seq)):
            if self._live(index):
                yield self._log_time[index], self.people[self._log_id[index]], False
        for when, person in self.deleted.values():
            if when >= since:
                yield when, person, True

    # search ---------------------------------------------------------------------------

    def search(
        self,
        term: str,
        fields: Collection[str],
        *,
        exact: bool,
        org_id: int | None,
        custom: Mapping[str, FieldDef],
    ) -> list[tuple[float, PersonRecord, list[str]]]:
        """Persons matching ``term`` in ``fields``: score, person, matched custom values.

        Exact email search uses the email index; everything else scans.
        """
        needle = term.strip().lower()
        if exact and set(fields) == {"email"}:
            candidates: Iterable[PersonRecord] = self.with_email(needle)
        else:
            candidates = self.people.values()
        hits = []
        for person in candidates:
            if org_id is not None and person.org_id != org_id:
                continue
            scored = _score(person, needle, fields, exact=exact, custom=custom)
            if scored is not None:
                hits.append((scored[0], person, scored[1]))
        hits.sort(key=lambda hit: (-hit[0], hit[1].id))
        return hits


def _snapshot(person: PersonRecord) -> tuple[Any, ...]:
    return tuple(getattr(person, slot) for slot in PersonRecord.__slots__ if slot != "seq")


def _match(value: str, needle: str, *, exact: bool) -> float | None:
    lowered = value.strip().lower()
    if lowered == needle:
        return 1.0
    if exact:
        return None
    if lowered.startswith(needle):
        return 0.75
    return 0.5 if needle in lowered else None


def _score(
    person: PersonRecord,
    needle: str,
    fields: Collection[str],
    *,
    exact: bool,
    custom: Mapping[str, FieldDef],
) -> tuple[float, list[str]] | None:
    texts: list[str] = []
    if "name" in fields:
        texts.append(person.name)
    if "email" in fields:
        texts.extend(value for value, _, _ in person.emails)
    if "phone" in fields:
        texts.extend(value for value, _, _ in person.phones)
    if "notes" in fields and person.notes:
        texts.append(person.notes)
    scores = [s for text in texts if (s := _match(text, needle, exact=exact)) is not None]
    matched_custom = []
    if "custom_fields" in fields and person.custom:
        for code, value in person.custom.items():
            definition = custom.get(code)
            if definition is None:
                continue
            text = str(value["value"] if isinstance(value, Mapping) else value)
            if (s := _match(text, needle, exact=exact)) is not None:
                scores.append(s)
                matched_custom.append(text)
    return (max(scores), matched_custom) if scores else None


# wire shapes -------------------------------------------------------------------------


@frozen(kw_only=True)
class RenderOptions:
    """What a v2 read asks to include."""

    marketing_status: bool = False
    custom_fields: frozenset[str] | None = None
    option_labels: bool = False
    labels: bool = False


def _points(points: Sequence[Point]) -> list[dict[str, Any]]:
    return [{"value": v, "primary": primary, "label": label} for v, primary, label in points]


def person_v2(
    person: PersonRecord, fields: FieldRegistry, options: RenderOptions = RenderOptions()
) -> dict[str, Any]:
    """A person exactly as the v2 API sends it.

    Unset contact-sync fields (``postal_address``, ``notes``, ``im``, ``birthday``,
    ``job_title``) and an absent ``last_name`` are left out, since the contract
    declares them non-nullable.
    """
    first, last = person.names()
    custom = person.custom or {}
    wire: dict[str, Any] = {
        "id": person.id,
        "name": person.name,
        "first_name": first,
        "last_name": last,
        "owner_id": person.owner_id,
        "org_id": person.org_id,
        "add_time": rfc3339(person.add_time),
        "update_time": rfc3339(person.update_time),
        "emails": _points(person.emails),
        "phones": _points(person.phones),
        "is_deleted": False,
        "visible_to": person.visible_to,
        "label_ids": list(person.label_ids),
        "picture_id": None,
        "custom_fields": {
            definition.code: _custom_wire(definition, custom.get(definition.code), options)
            for definition in fields
            if definition.custom
            and (options.custom_fields is None or definition.code in options.custom_fields)
        },
        "postal_address": person.postal_address,
        "notes": person.notes,
        "im": _points(person.im) or None,
        "birthday": person.birthday,
        "job_title": person.job_title,
    }
    for key in ("last_name", *_CONTACT_SYNC):
        if wire[key] is None:
            del wire[key]
    if options.marketing_status:
        wire["marketing_status"] = person.marketing_status
    if options.labels:
        labels = fields.labels
        wire["labels"] = [
            {"id": label_id, "label": option.label}
            for label_id in person.label_ids
            if (option := labels.option(label_id)) is not None
        ]
    return wire


def _custom_wire(definition: FieldDef, value: Any, options: RenderOptions) -> Any:
    if value is None or not options.option_labels:
        return value
    return labelled(definition, value)


def person_webhook(person: PersonRecord, fields: FieldRegistry) -> dict[str, Any]:
    """The slim person of a webhooks v2 payload (typed custom fields, string visibility)."""
    first, last = person.names()
    return {
        "add_time": rfc3339(person.add_time),
        "custom_fields": {
            code: typed_for_webhook(definition.type, value)
            for code, value in (person.custom or {}).items()
            if (definition := fields.custom(code)) is not None
        },
        "emails": _points(person.emails),
        "first_name": first,
        "id": person.id,
        "label": person.label_ids[0] if person.label_ids else None,
        "last_name": last,
        "name": person.name,
        "org_id": person.org_id,
        "owner_id": person.owner_id,
        "phones": _points(person.phones),
        "update_time": rfc3339(person.update_time),
        "visible_to": str(person.visible_to),
    }


def _v1_custom(fields: FieldRegistry, custom: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for definition in fields:
        if not definition.custom:
            continue
        code, value = definition.code, custom.get(definition.code)
        if value is None:
            flat[code] = None
        elif definition.type == "enum":
            flat[code] = str(value)
        elif definition.type == "set":
            flat[code] = ",".join(map(str, value))
        elif definition.type in {"monetary", "address"}:
            flat[code] = value["value"]
            flat.update({f"{code}_{k}": v for k, v in value.items() if k != "value"})
        elif definition.type in {"daterange", "timerange"}:
            flat[code], flat[f"{code}_until"] = value["start"], value["end"]
        else:
            flat[code] = value
    return flat


def person_v1(
    person: PersonRecord,
    fields: FieldRegistry,
    *,
    company_id: int,
    owner: Mapping[str, Any],
    expanded: bool = False,
) -> dict[str, Any]:
    """A person in the v1 shape (``/recents``, merges, deal participants).

    ``owner`` describes the owning user (``id``, ``name``, ``email``). ``expanded``
    gives ``owner_id`` and ``org_id`` as objects, as the participants list does.
    """
    first, last = person.names()
    wire: dict[str, Any] = {
        "id": person.id,
        "company_id": company_id,
        "name": person.name,
        "first_name": first,
        "last_name": last,
        "active_flag": True,
        "phone": _points(person.phones),
        "email": _points(person.emails),
        "first_char": (person.name[:1] or " ").lower(),
        "add_time": v1_time(person.add_time),
        "update_time": v1_time(person.update_time),
        "visible_to": str(person.visible_to),
        "picture_id": None,
        "label": person.label_ids[0] if person.label_ids else None,
        "label_ids": list(person.label_ids),
        "org_name": None if person.org_id is None else f"Organization {person.org_id}",
        "owner_name": owner["name"],
        "cc_email": None,
        **_v1_custom(fields, person.custom or {}),
    }
    if expanded:
        wire["owner_id"] = {
            "id": owner["id"],
            "name": owner["name"],
            "email": owner["email"],
            "has_pic": 0,
            "pic_hash": None,
            "active_flag": True,
            "value": owner["id"],
        }
        wire["org_id"] = (
            None
            if person.org_id is None
            else {
                "name": wire["org_name"],
                "people_count": 1,
                "owner_id": owner["id"],
                "address": None,
                "active_flag": True,
                "cc_email": None,
                "value": person.org_id,
            }
        )
    else:
        wire["owner_id"] = person.owner_id
        if person.org_id is not None:
            wire["org_id"] = person.org_id
    return wire
