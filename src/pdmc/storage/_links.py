"""How links are matched and merged: the one upsert rule every store follows.

An upsert finds the stored link of the same contact by person id, else by member
id, else by email, all within one account pair and audience. The found link takes
every field of the new one that is not ``None`` (ids, member status, fingerprints)
and its email; with none found, the new link is added. An upsert whose keys point at
two different stored links (a person whose new email another person's link holds,
say) is refused with :class:`~pdmc.errors.LinkConflictError`: which link is right is
the engine's call. One such case has a single right answer: when the upsert names a
person, the person's stored link is found, and the other link holds no person (a
member alone, at the person's new address), the person's link absorbs it and takes
its member, status and Mailchimp fingerprint where the upsert names none.

:class:`LinkIndex` applies the rule to links held in memory. The memory store keeps
its links in one index per audience; the SQL stores load the few stored links that a
batch can touch into a throw-away index, apply the batch, and write the changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from attrs import evolve, frozen

from pdmc.errors import LinkConflictError
from pdmc.storage._journal import Journal
from pdmc.storage._records import Link

__all__ = ["LinkChange", "LinkIndex"]

_T = TypeVar("_T")
_K = TypeVar("_K")
_V = TypeVar("_V")


@frozen
class LinkChange:
    """One upsert's effect: the stored link it replaced (``None`` if new) and the result."""

    previous: Link | None
    current: Link
    absorbed: Link | None = None
    """A person-less link the upsert folded into ``current`` (see the module's rule)."""


class LinkIndex:
    """The links of one account pair and audience, by email, person id and member id."""

    def __init__(self, links: Iterable[Link] = ()) -> None:
        self.by_email: dict[str, Link] = {}
        self._email_by_person: dict[int, str] = {}
        self._email_by_member: dict[str, str] = {}
        for link in links:
            self._add(link, None)

    def __len__(self) -> int:
        return len(self.by_email)

    def by_person(self, person_id: int) -> Link | None:
        """Return the link of ``person_id``, if any."""
        email = self._email_by_person.get(person_id)
        return None if email is None else self.by_email[email]

    def by_member(self, member_id: str) -> Link | None:
        """Return the link of ``member_id``, if any."""
        email = self._email_by_member.get(member_id)
        return None if email is None else self.by_email[email]

    def upsert(self, link: Link, now: datetime, journal: Journal | None) -> LinkChange | None:
        """Apply the upsert rule to ``link``; return the change, or ``None`` if nothing changed.

        Changes go through ``journal`` so they can be undone; with ``None`` they are
        made directly (for an index that is thrown away if the batch fails).

        Raises:
            LinkConflictError: the link's keys belong to two different stored links.
        """
        matches = [
            (name, found)
            for name, found in (
                ("person_id", None if link.person_id is None else self.by_person(link.person_id)),
                ("member_id", None if link.member_id is None else self.by_member(link.member_id)),
                ("email", self.by_email.get(link.email)),
            )
            if found is not None
        ]
        if not matches:
            current = evolve(link, created_at=now, updated_at=now)
            self._add(current, journal)
            return LinkChange(None, current)
        target = matches[0][1]
        absorbed: Link | None = None
        for name, other in matches[1:]:
            if other.email in {target.email, getattr(absorbed, "email", None)}:
                continue
            if absorbed is None and _absorbs(link, target, other):
                absorbed = other
                continue
            raise LinkConflictError(
                f"the link of {link.email!r} (audience {link.audience_id!r} of "
                f"{link.account_pair!r}) cannot take {name} {getattr(link, name)!r}: "
                f"the link of {other.email!r} holds it",
                email=link.email,
                field=name,
            )
        member_side = target if absorbed is None else absorbed
        merged = (
            link.email,
            _newer(link.person_id, target.person_id),
            _newer(link.member_id, member_side.member_id),
            _newer(link.member_status, member_side.member_status),
            _newer(link.pipedrive_fingerprint, target.pipedrive_fingerprint),
            _newer(link.mailchimp_fingerprint, member_side.mailchimp_fingerprint),
        )
        if merged == _content(target):
            return None
        email, person_id, member_id, member_status, pipedrive, mailchimp = merged
        current = Link(
            account_pair=target.account_pair,
            audience_id=target.audience_id,
            email=email,
            person_id=person_id,
            member_id=member_id,
            member_status=member_status,
            pipedrive_fingerprint=pipedrive,
            mailchimp_fingerprint=mailchimp,
            created_at=target.created_at,
            updated_at=now,
        )
        if absorbed is not None:
            self._remove(absorbed, journal)
        self._remove(target, journal)
        self._add(current, journal)
        return LinkChange(target, current, absorbed)

    def _add(self, link: Link, journal: Journal | None) -> None:
        _set(journal, self.by_email, link.email, link)
        if link.person_id is not None:
            _set(journal, self._email_by_person, link.person_id, link.email)
        if link.member_id is not None:
            _set(journal, self._email_by_member, link.member_id, link.email)

    def _remove(self, link: Link, journal: Journal | None) -> None:
        _delete(journal, self.by_email, link.email)
        if link.person_id is not None:
            _delete(journal, self._email_by_person, link.person_id)
        if link.member_id is not None:
            _delete(journal, self._email_by_member, link.member_id)


def _absorbs(link: Link, target: Link, other: Link) -> bool:
    """Whether the upsert of ``link`` folds ``other`` into ``target``, the person's link."""
    return (
        link.person_id is not None
        and target.person_id == link.person_id
        and other.person_id is None
        and other.email == link.email
    )


def _set(journal: Journal | None, mapping: dict[_K, _V], key: _K, value: _V) -> None:
    if journal is None:
        mapping[key] = value
    else:
        journal.set(mapping, key, value)


def _delete(journal: Journal | None, mapping: dict[_K, _V], key: _K) -> None:
    if journal is None:
        mapping.pop(key, None)
    else:
        journal.delete(mapping, key)


def _content(
    link: Link,
) -> tuple[str, int | None, str | None, str | None, str | None, str | None]:
    """What an upsert may change in a link: its email, ids, member status and fingerprints."""
    return (
        link.email,
        link.person_id,
        link.member_id,
        link.member_status,
        link.pipedrive_fingerprint,
        link.mailchimp_fingerprint,
    )


def _newer(given: _T | None, stored: _T | None) -> _T | None:
    return stored if given is None else given
