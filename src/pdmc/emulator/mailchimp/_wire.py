"""Reading request bodies and query strings the way the Mailchimp API does.

Every helper raises an :class:`~pdmc.emulator._service.APIProblem` naming the field
and the reason, so bad input gets a 400 problem document, never a crash.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from pdmc.emulator._service import APIProblem, EmulatedRequest
from pdmc.emulator.mailchimp import _problems
from pdmc.emulator.mailchimp._audience import MemberWrite
from pdmc.emulator.mailchimp._records import WRITABLE_STATUSES

__all__ = [
    "MAX_COUNT",
    "body_of",
    "boolean",
    "flag",
    "member_write",
    "page_of",
    "partial",
    "string",
    "time_window",
    "timestamp",
]

T = TypeVar("T")

MAX_COUNT: Final = 1000
_DEFAULT_COUNT: Final = 10
_TRUE: Final = frozenset({"true", "1", "yes"})
_SPACED_OFFSET: Final = re.compile(r" (\d{2}:?\d{2})$")


def body_of(request: EmulatedRequest) -> dict[str, Any]:
    """The request's JSON object body.

    Raises:
        APIProblem: the body is not JSON, or not an object.
    """
    try:
        body = request.json()
    except ValueError:
        raise APIProblem(
            400, "JSON Parse Error", "We encountered an unspecified JSON parsing error."
        ) from None
    if not isinstance(body, dict):
        raise _problems.invalid("body", "The request body must be a JSON object.")
    return body


def flag(request: EmulatedRequest, name: str) -> bool:
    """A boolean query parameter (``true``/``false``)."""
    return (request.arg(name) or "").lower() in _TRUE


def page_of(request: EmulatedRequest) -> tuple[int, int]:
    """``count`` (1 to 1000, 10 by default) and ``offset`` of a collection request."""
    try:
        count = int(request.arg("count") or _DEFAULT_COUNT)
        offset = int(request.arg("offset") or 0)
    except ValueError:
        raise _problems.invalid("count", "count and offset must be integers") from None
    if not 1 <= count <= MAX_COUNT:
        raise _problems.invalid("count", f"count must be between 1 and {MAX_COUNT}")
    if offset < 0:
        raise _problems.invalid("offset", "offset must not be negative")
    return count, offset


def timestamp(value: Any, name: str) -> float:
    """An ISO 8601 time (``Z``, an offset, or none for UTC) as POSIX seconds.

    An offset whose ``+`` arrived as a space (an unencoded query string) is read back.
    """
    text = _SPACED_OFFSET.sub(r"+\1", str(value).strip())
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _problems.invalid(name, f"{value!r} is not an ISO 8601 date and time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def time_window(
    request: EmulatedRequest, bounds: Iterable[tuple[str, Callable[[T], float], bool]]
) -> list[Callable[[T], bool]]:
    """Tests for ``since_*`` / ``before_*`` query parameters.

    Each bound is ``(parameter, read time of an item, is a since bound)``. Since is
    inclusive and before exclusive, so consecutive windows never overlap.
    """
    tests: list[Callable[[T], bool]] = []
    for name, read, since in bounds:
        if raw := request.arg(name):
            tests.append(
                _since(timestamp(raw, name), read) if since else _before(timestamp(raw, name), read)
            )
    return tests


def _since(bound: float, read: Callable[[T], float]) -> Callable[[T], bool]:
    return lambda item: read(item) >= bound


def _before(bound: float, read: Callable[[T], float]) -> Callable[[T], bool]:
    return lambda item: read(item) < bound


def string(body: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    """A string field of a body (``None`` when absent and not ``required``)."""
    value = body.get(name)
    if value is None:
        if required:
            raise _problems.invalid(name, "This value should not be blank.")
        return None
    if not isinstance(value, str):
        raise _problems.invalid(name, "This value should be a string.")
    return value


def boolean(body: Mapping[str, Any], name: str) -> bool | None:
    """A boolean field of a body (``None`` when absent)."""
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise _problems.invalid(name, "This value should be a boolean.")
    return value


def _status(body: Mapping[str, Any], name: str) -> str | None:
    value = string(body, name)
    if value is not None and value not in WRITABLE_STATUSES:
        raise _problems.invalid(name, f"Value must be one of: {', '.join(WRITABLE_STATUSES)}")
    return value


def member_write(
    body: Mapping[str, Any], *, skip_merge_validation: bool, with_tags: bool = False
) -> MemberWrite:
    """What a member body (PUT, POST, PATCH or a batch row) asks to change.

    ``with_tags`` accepts ``tags`` (a list of names), which POST and batch rows take.
    """
    merge_fields = body.get("merge_fields")
    if merge_fields is not None and not isinstance(merge_fields, dict):
        raise _problems.invalid("merge_fields", "This value should be an object.")
    tags = body.get("tags") if with_tags else None
    if tags is not None and (
        not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags)
    ):
        raise _problems.invalid("tags", "tags must be a list of tag names")
    stamps = {
        name: timestamp(body[name], name)
        for name in ("timestamp_signup", "timestamp_opt")
        if body.get(name)
    }
    return MemberWrite(
        status=_status(body, "status"),
        status_if_new=_status(body, "status_if_new"),
        merge_fields=merge_fields,
        tags=None if tags is None else tuple(tags),
        extras=_extras(body),
        timestamp_signup=stamps.get("timestamp_signup"),
        timestamp_opt=stamps.get("timestamp_opt"),
        skip_merge_validation=skip_merge_validation,
    )


def _extras(body: Mapping[str, Any]) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    email_type = string(body, "email_type")
    if email_type is not None:
        if email_type not in {"html", "text"}:
            raise _problems.invalid("email_type", "Value must be one of: html, text")
        extras["email_type"] = email_type
    for name in ("language", "ip_signup", "ip_opt"):
        if (text := string(body, name)) is not None:
            extras[name] = text
    if (vip := boolean(body, "vip")) is not None:
        extras["vip"] = vip
    interests = body.get("interests")
    if interests is not None:
        if not isinstance(interests, dict) or not all(
            isinstance(v, bool) for v in interests.values()
        ):
            raise _problems.invalid("interests", "interests map interest ids to booleans")
        extras["interests"] = dict(interests)
    location = body.get("location")
    if location is not None:
        if not isinstance(location, dict) or not all(
            isinstance(location.get(k, 0), int | float) for k in ("latitude", "longitude")
        ):
            raise _problems.invalid("location", "location holds numeric latitude and longitude")
        extras["location"] = {k: location[k] for k in ("latitude", "longitude") if k in location}
    return extras


def partial(payload: Any, fields: str | None, exclude: str | None) -> Any:
    """Apply ``fields`` / ``exclude_fields`` (comma-separated dotted paths) to a body."""
    if fields:
        payload = _keep(payload, [path.split(".") for path in fields.split(",") if path])
    if exclude:
        payload = _drop(payload, [path.split(".") for path in exclude.split(",") if path])
    return payload


def _keep(value: Any, paths: Sequence[Sequence[str]]) -> Any:
    if isinstance(value, list):
        return [_keep(item, paths) for item in value]
    if not isinstance(value, dict):
        return value
    kept = {}
    for key, inner in value.items():
        below = [path[1:] for path in paths if path[0] == key]
        if below:
            kept[key] = inner if any(not path for path in below) else _keep(inner, below)
    return kept


def _drop(value: Any, paths: Sequence[Sequence[str]]) -> Any:
    if isinstance(value, list):
        return [_drop(item, paths) for item in value]
    if not isinstance(value, dict):
        return value
    gone = {path[0] for path in paths if len(path) == 1}
    return {
        key: _drop(inner, [path[1:] for path in paths if len(path) > 1 and path[0] == key])
        for key, inner in value.items()
        if key not in gone
    }
