"""The compact records the emulated Mailchimp keeps: accounts, members, segments.

A member is a slotted object holding wire values only; what can be derived (its
``unique_email_id``, ``web_id``, rendered merge fields) is derived when it is
rendered, so that a million members fit in a few hundred megabytes.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from attrs import define, field

from pdmc._secret import Secret

__all__ = [
    "CANONICAL_STATUS",
    "STATUSES",
    "WRITABLE_STATUSES",
    "Account",
    "Member",
    "OAuthApp",
    "Segment",
    "stable_hex",
]

WRITABLE_STATUSES: Final = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional")
STATUSES: Final = (*WRITABLE_STATUSES, "archived")
# One canonical string object per status, so a million members share six strings.
CANONICAL_STATUS: Final = {status: status for status in STATUSES}


def stable_hex(*parts: object, length: int = 10) -> str:
    """A short, deterministic hex id made from ``parts`` (ids the service invents)."""
    digest = hashlib.md5(":".join(map(str, parts)).encode(), usedforsecurity=False)
    return digest.hexdigest()[:length]


@define(eq=False)
class Account:
    """A Mailchimp account: its data centre, API key and who logs in to it.

    ``api_key`` ends with ``-<data_center>``, as real keys do.
    """

    id: str
    name: str
    data_center: str
    api_key: Secret = field(repr=False)
    login_email: str
    login_id: str
    created: float

    @property
    def api_endpoint(self) -> str:
        """The base URL of the account's data centre."""
        return f"https://{self.data_center}.api.mailchimp.com"


class Member:
    """One audience member, in as few bytes as Python allows.

    ``tags`` holds ``(segment_id, added_at)`` pairs; ``extra`` holds the rarely set
    fields (language, VIP, email type, IPs, interests, location) only when set.
    Timestamps are POSIX seconds on the emulator clock.
    """

    __slots__ = (
        "changed",
        "email",
        "extra",
        "key",
        "merge",
        "opt",
        "prior",
        "serial",
        "signup",
        "status",
        "tags",
    )

    def __init__(self, key: str, email: str, status: str, serial: int, now: float) -> None:
        self.key = key
        self.email = email
        self.status = status
        #: the status a member had before it was archived
        self.prior: str | None = None
        self.merge: dict[str, Any] | None = None
        self.tags: tuple[tuple[int, float], ...] = ()
        self.signup = self.opt = self.changed = now
        self.serial = serial
        self.extra: dict[str, Any] | None = None

    def get_extra(self, name: str, default: Any = None) -> Any:
        """One of the rarely set fields, or ``default``."""
        return default if self.extra is None else self.extra.get(name, default)

    def set_extra(self, name: str, value: Any, default: Any) -> bool:
        """Set a rarely set field (dropping it at its default); return whether it changed."""
        if self.get_extra(name, default) == value:
            return False
        extra = dict(self.extra or {})
        if value == default:
            extra.pop(name, None)
        else:
            extra[name] = value
        self.extra = extra or None
        return True

    @property
    def tag_ids(self) -> frozenset[int]:
        """The ids of the static segments (tags) the member is in."""
        return frozenset(segment_id for segment_id, _ in self.tags)


@define(eq=False)
class Segment:
    """A segment: ``static`` (a tag, membership kept on members) or ``saved``."""

    id: int
    name: str
    type: str
    created: float
    updated: float
    options: dict[str, Any] | None = None


class OAuthApp:
    """A registered OAuth app: its client id, secret and redirect URI."""

    __slots__ = ("client_id", "client_secret", "redirect_uri")

    def __init__(self, client_id: str, client_secret: Secret, redirect_uri: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
