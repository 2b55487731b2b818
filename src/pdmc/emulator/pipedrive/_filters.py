"""Saved filters (v1): checking their condition trees, storing them, and evaluating them.

A filter is ``{"glue": "and", "conditions": [group, ...]}``, each group
``{"glue": "and"|"or", "conditions": [condition, ...]}``, at most 16 conditions in
all. A group with glue ``and`` holds when all its conditions hold, ``or`` when any
does; an empty group holds. Conditions compare a field of an object (``person``, or
``deal`` in deal filters) with the operators the contract lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from attrs import define, frozen

from pdmc.emulator.pipedrive._wire import bad_request, v1_time, valid_date

__all__ = [
    "Condition",
    "FILTER_TYPES",
    "FieldRef",
    "FilterRecord",
    "Group",
    "Lookup",
    "MAX_CONDITIONS",
    "OPERATORS",
    "evaluate",
    "holds",
    "parse_conditions",
]

OPERATORS: Final = (
    "=",
    "!=",
    "<",
    ">",
    "<=",
    ">=",
    "IS NULL",
    "IS NOT NULL",
    "LIKE '$%'",
    "LIKE '%$%'",
    "NOT LIKE '$%'",
)
MAX_CONDITIONS: Final = 16
FILTER_TYPES: Final = ("deals", "leads", "org", "people", "products", "activity", "projects")
_OBJECTS_BY_TYPE: Final = {"people": ("person",), "deals": ("deal", "person")}
_NO_VALUE: Final = frozenset({"IS NULL", "IS NOT NULL"})


@frozen
class FieldRef:
    """The field a condition names: its object, numeric id, code and type."""

    object: str
    id: int
    code: str
    kind: str


@frozen
class Condition:
    """One checked condition (``value`` kept as the string Pipedrive returns)."""

    field: FieldRef
    operator: str
    value: str | None

    def wire(self, *, with_code: bool) -> dict[str, Any]:
        """The condition as ``getFilter`` returns it."""
        item: dict[str, Any] = {
            "object": self.field.object,
            "field_id": str(self.field.id),
            "operator": self.operator,
            "value": self.value,
            "extra_value": None,
            "json_value_flag": False,
        }
        if with_code:
            item["field_code"] = self.field.code
        return item


@frozen
class Group:
    """Conditions joined by ``glue``."""

    glue: str
    conditions: tuple[Condition, ...]


Lookup = Callable[[str, str], FieldRef | None]
"""Finds the field of an object by numeric id or code."""


@define
class FilterRecord:
    """A saved filter."""

    id: int
    name: str
    type: str
    groups: tuple[Group, ...]
    user_id: int
    add_time: float
    update_time: float

    def wire(self, *, conditions: bool, with_code: bool = False) -> dict[str, Any]:
        """The filter as v1 sends it; ``conditions`` adds the condition tree."""
        item: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "filter_code": None,
            "is_editable": True,
            "active_flag": True,
            "type": self.type,
            "temporary_flag": None,
            "user_id": self.user_id,
            "add_time": v1_time(self.add_time),
            "update_time": v1_time(self.update_time),
            "visible_to": "7",
            "last_used_time": None,
            "custom_view_id": None,
        }
        if conditions:
            item["conditions"] = {
                "glue": "and",
                "conditions": [
                    {
                        "glue": group.glue,
                        "conditions": [c.wire(with_code=with_code) for c in group.conditions],
                    }
                    for group in self.groups
                ],
            }
        return item


def _value_text(raw: Any, where: str) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "1" if raw else "0"
    if isinstance(raw, int | float | str):
        return str(raw)
    raise bad_request(f"{where}.value must be a string or a number")


def _condition(raw: Any, where: str, objects: Sequence[str], lookup: Lookup) -> Condition:
    if not isinstance(raw, Mapping):
        raise bad_request(f"{where} must be a condition object")
    unknown = sorted(
        set(raw)
        - {
            "object",
            "field_id",
            "operator",
            "value",
            "extra_value",
            "json_value_flag",
            "field_code",
        }
    )
    if unknown:
        raise bad_request(f"{where} has unknown keys: {', '.join(unknown)}")
    obj = raw.get("object")
    if not isinstance(obj, str) or obj not in objects:
        raise bad_request(f"{where}.object must be one of {', '.join(objects)}, got {obj!r}")
    field_id = raw.get("field_id")
    found = lookup(obj, str(field_id)) if isinstance(field_id, int | str) else None
    if found is None:
        raise bad_request(f"{where}.field_id {field_id!r} is not a {obj} field")
    operator = raw.get("operator")
    if operator not in OPERATORS:
        raise bad_request(f"{where}.operator {operator!r} is not one of {', '.join(OPERATORS)}")
    if raw.get("extra_value") is not None:
        raise bad_request(
            f"{where}.extra_value: relative values (extra_value) are not emulated; use value"
        )
    value = _value_text(raw.get("value"), where)
    if operator not in _NO_VALUE:
        if value is None:
            raise bad_request(f"{where}.value is required with operator {operator}")
        if found.kind == "date" and not valid_date(value):
            raise bad_request(f"{where}.value must be a date as YYYY-MM-DD for {found.code}")
    return Condition(found, operator, value if operator not in _NO_VALUE else None)


def parse_conditions(raw: Any, filter_type: str, lookup: Lookup) -> tuple[Group, ...]:
    """Check a filter's condition tree.

    Raises:
        APIProblem: 400 naming the group or condition at fault: a top-level glue
            other than ``and``, more than two groups, a glue other than ``and``/``or``,
            more than 16 conditions, an unknown field, object or operator.
    """
    objects = _OBJECTS_BY_TYPE.get(filter_type, ())
    if not isinstance(raw, Mapping) or not isinstance(raw.get("conditions"), list):
        raise bad_request("conditions must be an object with glue and a list of groups")
    if raw.get("glue") != "and":
        raise bad_request(
            "conditions.glue must be 'and' (the only first-level glue Pipedrive supports)"
        )
    groups_raw = raw["conditions"]
    if len(groups_raw) > 2:  # noqa: PLR2004 - Pipedrive supports an "and" and an "or" group
        raise bad_request("conditions may hold at most two groups (one 'and', one 'or')")
    groups = []
    for index, group in enumerate(groups_raw):
        where = f"conditions.conditions[{index}]"
        if not isinstance(group, Mapping) or group.get("glue") not in {"and", "or"}:
            raise bad_request(f"{where} must be a group whose glue is 'and' or 'or'")
        items = group.get("conditions")
        if not isinstance(items, list):
            raise bad_request(f"{where}.conditions must be a list")
        if items and not objects:
            raise bad_request(f"conditions of {filter_type!r} filters are not emulated")
        conditions = tuple(
            _condition(item, f"{where}.conditions[{n}]", objects, lookup)
            for n, item in enumerate(items)
        )
        groups.append(Group(group["glue"], conditions))
    total = sum(len(group.conditions) for group in groups)
    if total > MAX_CONDITIONS:
        raise bad_request(f"a filter may have at most {MAX_CONDITIONS} conditions, got {total}")
    return tuple(groups)


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return left == right
    return str(left).lower() == str(right).lower()


def _order(left: Any, right: Any) -> tuple[Any, Any]:
    if isinstance(left, float) and isinstance(right, float):
        return left, right
    return str(left).lower(), str(right).lower()


def _target(value: str, numeric: bool) -> Any:
    if numeric:
        try:
            return float(value)
        except ValueError:
            return value
    return value


_COMPARE: Final[Mapping[str, Callable[[Any, Any], bool]]] = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _equal(values: Sequence[Any], target: Any) -> bool:
    return any(_same(value, target) for value in values)


def _starts(values: Sequence[Any], text: str) -> bool:
    return any(_plain(value).lower().startswith(text) for value in values)


def _ordered_test(
    compare: Callable[[Any, Any], bool],
) -> Callable[[Sequence[Any], Any, str], bool]:
    def test(values: Sequence[Any], target: Any, _: str) -> bool:
        return any(compare(*_order(value, target)) for value in values)

    return test


_TESTS: Final[Mapping[str, Callable[[Sequence[Any], Any, str], bool]]] = {
    "=": lambda values, target, _: _equal(values, target),
    "!=": lambda values, target, _: not _equal(values, target),
    **{operator: _ordered_test(compare) for operator, compare in _COMPARE.items()},
    "LIKE '$%'": lambda values, _, text: _starts(values, text),
    "NOT LIKE '$%'": lambda values, _, text: not _starts(values, text),
    "LIKE '%$%'": lambda values, _, text: any(text in _plain(v).lower() for v in values),
}


def holds(condition: Condition, values: Sequence[Any], *, numeric: bool) -> bool:
    """Whether one condition holds for a field's values (several for sets and emails).

    ``!=`` and ``NOT LIKE`` hold for an empty field; the other comparisons do not.
    """
    if condition.operator == "IS NULL":
        return not values
    if condition.operator == "IS NOT NULL":
        return bool(values)
    raw = condition.value or ""
    return _TESTS[condition.operator](values, _target(raw, numeric), raw.lower())


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def evaluate(
    groups: Sequence[Group],
    values: Callable[[FieldRef], Sequence[Any]],
    numeric: Callable[[FieldRef], bool],
) -> bool:
    """Whether an entity matches a filter: every group holds (``and`` at the top)."""
    for group in groups:
        results = (
            holds(condition, values(condition.field), numeric=numeric(condition.field))
            for condition in group.conditions
        )
        if group.conditions and not (all(results) if group.glue == "and" else any(results)):
            return False
    return True
