"""Which addresses the emulated Mailchimp refuses as "fake or invalid".

Mailchimp does not publish its rule; it answers ``400 Invalid Resource`` with
"<address> looks fake or invalid, please enter a real email address." The emulator's
rule, documented in ``docs/emulator-mailchimp.md``, refuses three kinds of address:

1. broken syntax (not one ``@``, characters outside ASCII atoms, empty or dotted-wrong
   parts, a domain without a dot or with a TLD shorter than two letters, too long);
2. reserved names that can never receive mail (RFC 2606 and RFC 6761: ``example.com``,
   ``example.net``, ``example.org`` and their subdomains, and the ``.example``,
   ``.test``, ``.invalid`` and ``.localhost`` TLDs), plus ``test.com`` and ``fake.com``;
3. local parts people type when a form insists (``test``, ``asdf``, ``noemail``, ...).
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["FAKE_LOCAL_PARTS", "RESERVED_DOMAINS", "email_rejection_reason"]

_ATOM: Final = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL: Final = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*$")
_LABEL: Final = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_TLD: Final = re.compile(r"^[A-Za-z]{2,63}$")
_MAX_ADDRESS: Final = 254
_MAX_LOCAL: Final = 64

RESERVED_DOMAINS: Final = frozenset(
    {"example.com", "example.net", "example.org", "test.com", "fake.com"}
)
"""Domains (and their subdomains) that never receive mail, or that only fakes use."""

_RESERVED_TLDS: Final = frozenset({"example", "test", "invalid", "localhost"})

FAKE_LOCAL_PARTS: Final = frozenset(
    {
        "test", "testing", "tester", "asdf", "asdfasdf", "qwerty", "fake", "fakeemail",
        "noemail", "no-email", "nomail", "none", "null", "nobody", "abc", "abc123", "xxx",
        "xyz", "aaa", "dummy", "sample", "example", "123", "1234", "12345",
    }
)  # fmt: skip
"""Local parts (compared case-insensitively) that only a made-up address has."""


def email_rejection_reason(address: str) -> str | None:
    """Say why the emulated Mailchimp refuses ``address``, or ``None`` if it takes it.

    The reason is one of ``"syntax"``, ``"reserved domain"`` and ``"fake local part"``;
    the API answers all three with the same "looks fake or invalid" message.
    """
    if len(address) > _MAX_ADDRESS or address.count("@") != 1:
        return "syntax"
    local, domain = address.split("@")
    labels = domain.lower().split(".")
    if (
        len(local) > _MAX_LOCAL
        or not _LOCAL.match(local)
        or len(labels) < 2  # noqa: PLR2004 - a name and a TLD at least
        or not all(_LABEL.match(label) for label in labels)
        or not _TLD.match(labels[-1])
    ):
        return "syntax"
    if labels[-1] in _RESERVED_TLDS or any(
        ".".join(labels[i:]) in RESERVED_DOMAINS for i in range(len(labels) - 1)
    ):
        return "reserved domain"
    if local.lower() in FAKE_LOCAL_PARTS:
        return "fake local part"
    return None
