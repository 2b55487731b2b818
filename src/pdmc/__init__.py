"""pdmc: keep contacts in sync between Pipedrive and Mailchimp.

The names here are the everyday surface; each layer has its own package with the
rest: :mod:`pdmc.clients`, :mod:`pdmc.mapping`, :mod:`pdmc.storage`,
:mod:`pdmc.emulator` and :mod:`pdmc.errors`.
"""

from __future__ import annotations

import logging

from pdmc._secret import Secret
from pdmc._types import UNSET, UnsetType
from pdmc.clients import (
    AsyncMailchimpClient,
    AsyncPipedriveClient,
    MailchimpClient,
    PipedriveClient,
    RetryPolicy,
    Usage,
)
from pdmc.errors import PdmcError
from pdmc.mapping import Direction, FieldCatalog, FieldMap, FieldPair

__all__ = [
    "AsyncMailchimpClient",
    "AsyncPipedriveClient",
    "Direction",
    "FieldCatalog",
    "FieldMap",
    "FieldPair",
    "MailchimpClient",
    "PdmcError",
    "PipedriveClient",
    "RetryPolicy",
    "Secret",
    "UNSET",
    "UnsetType",
    "Usage",
    "__version__",
]


# A library logs and lets the application decide where records go: without this,
# Python's last-resort handler would print pdmc's warnings to stderr.
logging.getLogger("pdmc").addHandler(logging.NullHandler())


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415 - read once, on demand

        return version("pdmc")
    raise AttributeError(f"module 'pdmc' has no attribute {name!r}")
