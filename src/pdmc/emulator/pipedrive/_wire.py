"""Pipedrive's wire conventions: timestamps, error bodies, cursors and query values.

Everything here is pure: it turns emulator state into the exact strings and bodies
Pipedrive sends, and turns request parameters into values, refusing bad ones with an
:class:`~pdmc.emulator._service.APIProblem` that names the parameter.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Final, TypeVar

from pdmc.emulator._service import APIProblem, EmulatedRequest, EmulatedResponse

__all__ = [
    "DEFAULT_LIMIT",
    "ERROR_INFO",
    "MAX_LIMIT",
    "bad_request",
    "day_of",
    "decode_cursor",
    "encode_cursor",
    "error_body",
    "json_body",
    "not_found",
    "ok",
    "page_of",
    "parse_rfc3339",
    "query_bool",
    "query_csv",
    "query_int",
    "query_limit",
    "query_v1_timestamp",
    "rfc3339",
    "rfc3339_ms",
    "v1_time",
    "valid_date",
]

T = TypeVar("T")

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 500
ERROR_INFO: Final = (
    "Please check developers.pipedrive.com for more information about Pipedrive API."
)


def rfc3339(seconds: float) -> str:
    """A v2 timestamp: ``2024-01-01T09:00:00Z`` (whole seconds, UTC)."""
    return datetime.fromtimestamp(math.floor(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_ms(moment: datetime) -> str:
    """A webhook ``meta.timestamp``: milliseconds and ``Z``."""
    stamp = moment.astimezone(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def v1_time(seconds: float) -> str:
    """A v1 timestamp: ``2024-01-01 09:00:00`` (UTC, no zone)."""
    return datetime.fromtimestamp(math.floor(seconds), UTC).strftime("%Y-%m-%d %H:%M:%S")


def day_of(seconds: float) -> str:
    """The UTC calendar day of a timestamp, ``YYYY-MM-DD`` (how filters compare times)."""
    return datetime.fromtimestamp(math.floor(seconds), UTC).date().isoformat()


def parse_rfc3339(raw: str, name: str) -> float:
    """Seconds since the epoch of an RFC 3339 value; 400 naming ``name`` otherwise."""
    text = raw.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise bad_request(f"{name} must be an RFC 3339 date-time, got {raw!r}") from None
    if "T" not in text.upper() or parsed.tzinfo is None:
        raise bad_request(f"{name} must be an RFC 3339 date-time with a zone, got {raw!r}")
    return parsed.timestamp()


def valid_date(raw: object) -> bool:
    """Whether ``raw`` is a ``YYYY-MM-DD`` string naming a real day."""
    if not isinstance(raw, str) or len(raw) != len("2024-01-01"):
        return False
    try:
        date.fromisoformat(raw)
    except ValueError:
        return False
    return True


def bad_request(message: str) -> APIProblem:
    """A 400 in Pipedrive's error format."""
    return APIProblem(400, message)


def not_found(what: str) -> APIProblem:
    """A 404 in Pipedrive's error format, e.g. ``Person not found``."""
    return APIProblem(404, f"{what} not found")


def error_body(status: int, error: str, info: str | None = None) -> dict[str, Any]:
    """Pipedrive's error body; 401s also carry ``errorCode`` as the contracts show."""
    body: dict[str, Any] = {
        "success": False,
        "error": error,
        "error_info": info or ERROR_INFO,
        "data": None,
        "additional_data": None,
    }
    if status == 401:  # noqa: PLR2004 - the documented 401 body adds errorCode
        body["errorCode"] = status
    return body


def ok(
    data: Any, additional_data: Mapping[str, Any] | None = None, *, status: int = 200
) -> EmulatedResponse:
    """``{"success": true, "data": ...}`` plus ``additional_data`` when given."""
    payload: dict[str, Any] = {"success": True, "data": data}
    if additional_data is not None:
        payload["additional_data"] = dict(additional_data)
    return EmulatedResponse.json(status, payload)


def json_body(request: EmulatedRequest) -> dict[str, Any]:
    """The request's JSON object body; 400 if it is not a JSON object."""
    try:
        body = request.json()
    except ValueError:
        raise bad_request("the request body is not valid JSON") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    return body


def query_int(request: EmulatedRequest, name: str) -> int | None:
    """An integer query parameter, or ``None`` when absent; 400 if not an integer."""
    raw = request.arg(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer, got {raw!r}") from None


def query_bool(request: EmulatedRequest, name: str) -> bool:
    """A boolean query parameter (``true``/``false``/``1``/``0``); absent is false."""
    raw = request.arg(name)
    if raw is None or raw == "":
        return False
    lowered = raw.lower()
    if lowered in {"true", "1"}:
        return True
    if lowered in {"false", "0"}:
        return False
    raise bad_request(f"{name} must be true or false, got {raw!r}")


def query_csv(request: EmulatedRequest, name: str) -> list[str]:
    """A comma-separated query parameter as a list of non-empty, stripped items."""
    raw = request.arg(name) or ""
    return [item.strip() for item in raw.split(",") if item.strip()]


def query_limit(request: EmulatedRequest) -> int:
    """``limit``: 100 when absent, at most 500; 400 outside 1..500."""
    limit = query_int(request, "limit")
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def query_v1_timestamp(request: EmulatedRequest, name: str) -> float:
    """A required v1 ``YYYY-MM-DD HH:MM:SS`` (UTC) query parameter."""
    raw = request.arg(name)
    if not raw:
        raise bad_request(f"{name} is required")
    try:
        parsed = datetime.strptime(raw.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        raise bad_request(f"{name} must look like YYYY-MM-DD HH:MM:SS, got {raw!r}") from None
    return parsed.timestamp()


def encode_cursor(kind: str, key: list[Any]) -> str:
    """An opaque cursor: the listing's kind and the sort key of the last item sent."""
    raw = json.dumps({"k": kind, "p": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(raw: str | None, kind: str) -> list[Any] | None:
    """The position a cursor holds, or ``None`` without one; 400 for a foreign cursor.

    A cursor only resumes the listing that made it (same sort field and direction).
    """
    if raw is None or raw == "":
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, binascii.Error):
        raise bad_request("cursor is not a cursor this listing issued") from None
    if not isinstance(decoded, dict) or decoded.get("k") != kind:
        raise bad_request("cursor belongs to another listing or sort order")
    position = decoded.get("p")
    if not isinstance(position, list):
        raise bad_request("cursor is not a cursor this listing issued")
    return position


def page_of(
    items: Iterable[T],
    key: Callable[[T], list[Any]],
    after: list[Any] | None,
    limit: int,
    *,
    descending: bool = False,
) -> tuple[list[T], list[Any] | None]:
    """Keyset pagination over a small collection: one page, and the key to resume after.

    The page starts after the item whose sort key is ``after``, so inserts and
    deletes between pages never repeat or skip an item.
    """
    ordered = sorted(items, key=key, reverse=descending)
    if after is not None:
        ordered = [i for i in ordered if (key(i) < after if descending else key(i) > after)]
    page = ordered[:limit]
    return page, (key(page[-1]) if len(ordered) > limit else None)
