"""The flow bookkeeping every store follows: which timestamps a save or a status change sets."""

from __future__ import annotations

from datetime import datetime

from attrs import evolve

from pdmc.errors import FlowNotFoundError
from pdmc.storage._records import FlowRecord

__all__ = ["flow_not_found", "stamp_flow"]


def stamp_flow(flow: FlowRecord, stored: FlowRecord | None, now: datetime) -> FlowRecord:
    """Return ``flow`` as it is saved over ``stored``, with the store's timestamps set.

    ``created_at`` is kept from the stored flow; ``updated_at`` is ``now``;
    ``activated_at`` becomes ``now`` when the flow turns active and is kept otherwise.
    """
    was_active = stored is not None and stored.status == "active"
    activated_at = stored.activated_at if stored is not None else None
    return evolve(
        flow,
        created_at=now if stored is None else stored.created_at,
        updated_at=now,
        activated_at=now if flow.status == "active" and not was_active else activated_at,
    )


def flow_not_found(flow_id: str) -> FlowNotFoundError:
    """The error for an operation on a flow the store does not hold."""
    return FlowNotFoundError(f"no flow has the id {flow_id!r}")
