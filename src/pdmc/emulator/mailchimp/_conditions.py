"""Saved-segment conditions: checked when a segment is saved, evaluated per member.

The emulated condition types are those a contact sync filters on (condition schemas
in the Mailchimp contract, ``Conditions.conditions[].x-oneOf``): ``StaticSegment``
(tags), ``TextMerge``, ``SelectMerge``, ``EmailAddress``, ``DateMerge``,
``BirthdayMerge``, ``AddressMerge``, ``Date`` (``timestamp_opt``, ``info_changed``),
``Language`` and ``VIP``. Text comparisons ignore case, as Mailchimp's do. Other
condition types are refused when the segment is saved, naming the type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from pdmc.emulator.mailchimp._merge import MergeFieldDefinition, MergeValueError, normalize_value
from pdmc.emulator.mailchimp._records import Member

__all__ = ["ConditionError", "MemberTest", "compile_conditions"]

MemberTest = Callable[[Member], bool]
FieldLookup = Callable[[str], MergeFieldDefinition | None]

_TEXT_OPS: Final = frozenset(
    {
        "is",
        "not",
        "contains",
        "notcontain",
        "starts",
        "ends",
        "greater",
        "less",
        "blank",
        "blank_not",
    }
)
_MERGE_TYPES_BY_CONDITION: Final = {
    "TextMerge": frozenset({"text", "number", "phone", "url", "imageurl", "zip"}),
    "SelectMerge": frozenset({"radio", "dropdown"}),
    "DateMerge": frozenset({"date"}),
    "BirthdayMerge": frozenset({"birthday"}),
    "AddressMerge": frozenset({"address"}),
}
_OPS_BY_CONDITION: Final = {
    "TextMerge": _TEXT_OPS,
    "SelectMerge": frozenset({"is", "not", "blank", "blank_not", "contains", "notcontain"}),
    "DateMerge": frozenset({"is", "not", "less", "greater", "blank", "blank_not"}),
    "BirthdayMerge": frozenset({"is", "not", "blank", "blank_not"}),
    "AddressMerge": frozenset({"contains", "notcontain", "blank", "blank_not"}),
    "EmailAddress": _TEXT_OPS - {"blank", "blank_not"},
}


class ConditionError(ValueError):
    """A segment condition the emulator cannot evaluate; the message names it."""


def compile_conditions(
    options: Mapping[str, Any], lookup: FieldLookup, tag_exists: Callable[[int], bool]
) -> MemberTest:
    """Return the test a member must pass to be in a saved segment with ``options``.

    Raises:
        ConditionError: an unknown match, condition type, operator, field or tag.
    """
    match = options.get("match", "all")
    conditions = options.get("conditions")
    if match not in {"any", "all"}:
        raise ConditionError("options.match must be 'any' or 'all'")
    if not isinstance(conditions, list) or not conditions:
        raise ConditionError("options.conditions must be a non-empty list")
    tests = [_compile_one(i, c, lookup, tag_exists) for i, c in enumerate(conditions)]
    if match == "any":
        return lambda member: any(test(member) for test in tests)
    return lambda member: all(test(member) for test in tests)


def _compile_one(
    index: int, condition: Any, lookup: FieldLookup, tag_exists: Callable[[int], bool]
) -> MemberTest:
    if not isinstance(condition, Mapping):
        raise ConditionError(f"conditions[{index}] must be an object")
    kind = condition.get("condition_type")
    op = condition.get("op")
    value = condition.get("value")
    where = f"conditions[{index}] ({kind})"
    if kind == "StaticSegment":
        return _static_segment(where, op, value, tag_exists)
    if kind == "EmailAddress":
        _check_op(where, kind, op)
        return _text_test(str(op), value, lambda member: member.email)
    if kind in _MERGE_TYPES_BY_CONDITION:
        return _merge_condition(where, str(kind), condition, lookup)
    if kind == "Date":
        return _date_condition(where, condition)
    if kind == "Language" and op in {"is", "not"}:
        wanted = str(value).lower()
        return lambda member: (member.get_extra("language", "") == wanted) == (op == "is")
    if kind == "VIP" and op in {"member", "notmember"}:
        return lambda member: bool(member.get_extra("vip", default=False)) == (op == "member")
    raise ConditionError(f"{where}: condition type {kind!r} with op {op!r} is not emulated")


def _check_op(where: str, kind: str, op: Any) -> None:
    if op not in _OPS_BY_CONDITION[kind]:
        allowed = ", ".join(sorted(_OPS_BY_CONDITION[kind]))
        raise ConditionError(f"{where}: op {op!r} is not one of {allowed}")


def _static_segment(
    where: str, op: Any, value: Any, tag_exists: Callable[[int], bool]
) -> MemberTest:
    if op not in {"static_is", "static_not"}:
        raise ConditionError(f"{where}: op must be static_is or static_not")
    try:
        segment_id = int(value)
    except (TypeError, ValueError):
        raise ConditionError(f"{where}: value must be a tag's segment id") from None
    if not tag_exists(segment_id):
        raise ConditionError(f"{where}: no tag with id {segment_id} in this audience")
    present = op == "static_is"
    return lambda member: any(sid == segment_id for sid, _ in member.tags) == present


def _merge_condition(
    where: str, kind: str, condition: Mapping[str, Any], lookup: FieldLookup
) -> MemberTest:
    _check_op(where, kind, condition.get("op"))
    op = str(condition["op"])
    definition = lookup(str(condition.get("field", "")))
    if definition is None or definition.type not in _MERGE_TYPES_BY_CONDITION[kind]:
        raise ConditionError(f"{where}: field {condition.get('field')!r} is no {kind} field")
    tag = definition.tag

    def stored(member: Member) -> Any:
        return None if member.merge is None else member.merge.get(tag)

    if kind == "AddressMerge":
        return _text_test(
            op, condition.get("value"), lambda m: " ".join((stored(m) or {}).values())
        )
    if kind == "DateMerge" and op not in {"blank", "blank_not"}:
        try:
            wanted = normalize_value(definition, condition.get("value"))
        except MergeValueError as error:
            raise ConditionError(f"{where}: {error.message}") from None
        return _ordered_test(op, wanted, stored)
    if definition.type == "number" and op in {"greater", "less", "is", "not"}:
        try:
            number = float(condition.get("value"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ConditionError(f"{where}: value must be a number") from None
        return _ordered_test(op, number, stored)
    return _text_test(op, condition.get("value"), lambda m: _as_text(stored(m)))


def _date_condition(where: str, condition: Mapping[str, Any]) -> MemberTest:
    op = condition.get("op")
    field = condition.get("field")
    if field not in {"timestamp_opt", "info_changed"} or op not in {"greater", "less", "is", "not"}:
        raise ConditionError(
            f"{where}: only timestamp_opt and info_changed with greater, less, is, not"
        )
    raw = (
        condition.get("extra")
        if condition.get("value") == "specific_date"
        else condition.get("value")
    )
    try:
        day = datetime.fromisoformat(str(raw)).date()
    except ValueError:
        raise ConditionError(f"{where}: value must be a date (YYYY-MM-DD)") from None

    def member_day(member: Member) -> Any:
        stamp = member.opt if field == "timestamp_opt" else member.changed
        return datetime.fromtimestamp(stamp, UTC).date()

    return _ordered_test(str(op), day, member_day)


def _ordered_test(op: str, wanted: Any, read: Callable[[Member], Any]) -> MemberTest:
    def test(member: Member) -> bool:
        value = read(member)
        if op in {"blank", "blank_not"}:
            return (value is None) == (op == "blank")
        if value is None:
            return op == "not"
        if op == "greater":
            return bool(value > wanted)
        if op == "less":
            return bool(value < wanted)
        return bool(value == wanted) == (op == "is")

    return test


def _text_test(op: str, wanted: Any, read: Callable[[Member], str]) -> MemberTest:
    needle = "" if wanted is None else str(wanted).lower()
    checks: dict[str, Callable[[str], bool]] = {
        "is": lambda text: text == needle,
        "not": lambda text: text != needle,
        "contains": lambda text: needle in text,
        "notcontain": lambda text: needle not in text,
        "starts": lambda text: text.startswith(needle),
        "ends": lambda text: text.endswith(needle),
        "greater": lambda text: text > needle,
        "less": lambda text: text < needle,
        "blank": lambda text: not text,
        "blank_not": bool,
    }
    check = checks[op]
    return lambda member: check(read(member).lower())


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
