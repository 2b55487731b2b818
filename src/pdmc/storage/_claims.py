"""The claim rules every store follows: who may take a claim, and who may release it."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from attrs import evolve

from pdmc.errors import ConfigurationError
from pdmc.storage._checks import require_text, require_ttl
from pdmc.storage._records import Claim

__all__ = ["check_claim", "check_claim_request", "grant_claim", "holds"]


def check_claim_request(key: object, holder: object, ttl: object) -> tuple[str, str, timedelta]:
    """Return the arguments of ``claim`` once checked: non-empty key and holder, positive ttl."""
    return (
        require_text("a claim's key", key),
        require_text("a claim's holder", holder),
        require_ttl("a claim's ttl", ttl),
    )


def check_claim(claim: object, what: str) -> Claim:
    """Return ``claim`` if it is a :class:`Claim`; ``what`` names the caller in the error."""
    if not isinstance(claim, Claim):
        raise ConfigurationError(f"{what} takes a Claim, got {claim!r}")
    return claim


def grant_claim(
    current: Claim | None, key: str, holder: str, ttl: timedelta, now: datetime
) -> Claim | None:
    """Return the claim ``holder`` gets given the ``current`` one, or ``None`` if it is refused.

    A live claim of another holder refuses; the holder of a live claim keeps its
    token and gets a later expiry; a free or expired claim is taken with a new token,
    ``taken_over`` when the expired one belonged to another holder.
    """
    if current is not None and current.expires_at > now:
        if current.holder != holder:
            return None
        return evolve(current, expires_at=now + ttl, taken_over=False)
    return Claim(
        key=key,
        holder=holder,
        token=secrets.token_hex(16),
        acquired_at=now,
        expires_at=now + ttl,
        taken_over=current is not None and current.holder != holder,
    )


def holds(stored: Claim, claim: Claim) -> bool:
    """Whether ``claim`` is the ``stored`` one (same holder and token), expired or not.

    An expired claim that no one took over is still its holder's to release.
    """
    return stored.holder == claim.holder and stored.token == claim.token
