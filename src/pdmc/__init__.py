"""pdmc: keep contacts in sync between Pipedrive and Mailchimp."""

from __future__ import annotations

from pdmc._secret import Secret
from pdmc._types import UNSET, UnsetType

__all__ = [
    "Secret",
    "UNSET",
    "UnsetType",
    "__version__",
]


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415 - read once, on demand

        return version("pdmc")
    raise AttributeError(f"module 'pdmc' has no attribute {name!r}")
