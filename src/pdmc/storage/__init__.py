"""What pdmc remembers between runs: flows, links, checkpoints, runs, memberships, leases, claims.

A sync reads and writes its state through a :class:`StateStore`. Three stores ship:

* :class:`SQLiteStore`, the default: one file, nothing to set up, safe for several
  processes on one machine.
* :class:`PostgresStore`, for many workers on many machines (needs the ``postgres``
  extra: ``pip install 'pdmc[postgres]'``).
* :class:`MemoryStore`, for notebooks and tests.

Write your own by implementing the :class:`StateStore` protocol and check it with the
conformance suite in :mod:`pdmc.storage.testing`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pdmc.storage._batch import Batch, PendingRetry
from pdmc.storage._clock import Clock, SystemClock
from pdmc.storage._memory import MemoryStore
from pdmc.storage._protocol import StateStore
from pdmc.storage._records import (
    Claim,
    FlowRecord,
    FlowStatus,
    Lease,
    Link,
    Outcome,
    RetryRow,
    Run,
    RunStatus,
    Side,
    normalise_email,
)
from pdmc.storage._sqlite import SQLiteStore

if TYPE_CHECKING:
    from pdmc.storage._postgres import PostgresStore

__all__ = [
    "Batch",
    "Claim",
    "Clock",
    "FlowRecord",
    "FlowStatus",
    "Lease",
    "Link",
    "MemoryStore",
    "Outcome",
    "PendingRetry",
    "PostgresStore",
    "RetryRow",
    "Run",
    "RunStatus",
    "SQLiteStore",
    "Side",
    "StateStore",
    "SystemClock",
    "normalise_email",
]


def __getattr__(name: str) -> object:
    # PostgresStore is loaded on first use, so pdmc works without psycopg installed.
    if name == "PostgresStore":
        try:
            from pdmc.storage._postgres import PostgresStore  # noqa: PLC0415 - see above
        except ImportError as exc:
            raise ImportError(
                "PostgresStore needs psycopg 3: pip install 'pdmc[postgres]'"
            ) from exc
        return PostgresStore
    raise AttributeError(f"module 'pdmc.storage' has no attribute {name!r}")
