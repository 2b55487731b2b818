"""The lease rules every store follows: who may take, keep and use a flow's lease."""

from __future__ import annotations

from datetime import datetime, timedelta

from pdmc.errors import LeaseHeldError
from pdmc.storage._checks import require_text, require_ttl
from pdmc.storage._records import Lease

__all__ = [
    "check_holder",
    "check_ttl",
    "grant_lease",
    "is_current",
    "lease_being_taken",
    "lost_lease",
]


def check_ttl(ttl: object) -> timedelta:
    """Return ``ttl`` if it is a positive ``timedelta``."""
    return require_ttl("a lease's ttl", ttl)


def check_holder(holder: object) -> str:
    """Return ``holder`` if it is a non-empty ``str``."""
    return require_text("a lease's holder", holder)


def grant_lease(
    current: Lease | None, flow_id: str, holder: str, ttl: timedelta, now: datetime
) -> Lease:
    """Return the lease ``holder`` gets, given the ``current`` one (live or lapsed).

    The current holder asking again keeps its token and gets a later expiry; anyone
    else gets the lease only once the current one has expired, with the next token.

    Raises:
        LeaseHeldError: another holder's lease has not expired yet.
    """
    if current is not None and current.expires_at > now:
        if current.holder != holder:
            raise LeaseHeldError(
                f"flow {flow_id!r} is leased to {current.holder!r} "
                f"until {current.expires_at.isoformat()}"
            )
        return Lease(
            flow_id=flow_id,
            holder=holder,
            token=current.token,
            acquired_at=current.acquired_at,
            expires_at=now + ttl,
        )
    token = 1 if current is None else current.token + 1
    return Lease(flow_id=flow_id, holder=holder, token=token, acquired_at=now, expires_at=now + ttl)


def is_current(lease: Lease, holder: str, token: int) -> bool:
    """Whether ``lease`` is still the one stored (same holder and token), lapsed or not.

    A lapsed lease nobody took over is still safe to use: no one else can have
    written for the flow since.
    """
    return lease.holder == holder and lease.token == token


def lost_lease(lease: Lease) -> LeaseHeldError:
    """The error for a holder whose lease was taken over or released."""
    return LeaseHeldError(
        f"the lease of flow {lease.flow_id!r} held by {lease.holder!r} (token {lease.token}) "
        "was taken over or released"
    )


def lease_being_taken(flow_id: str) -> LeaseHeldError:
    """The error for a lease that another worker is taking at this very moment."""
    return LeaseHeldError(f"another worker is taking the lease of flow {flow_id!r} right now")
