"""JSON documents as the store keeps them: encoded once, early, and decoded fresh on read."""

from __future__ import annotations

import json
from typing import Any

from pdmc.errors import ConfigurationError

__all__ = ["decode_json", "encode_json"]


def encode_json(value: Any, *, what: str) -> str:
    """Encode ``value`` as compact JSON text.

    Raises:
        ConfigurationError: ``value`` is not JSON (a set, a datetime, NaN, ...);
            ``what`` names it in the message.
    """
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{what} is not a JSON document: {exc}") from exc


def decode_json(text: str) -> Any:
    """Decode JSON text that :func:`encode_json` produced."""
    return json.loads(text)
