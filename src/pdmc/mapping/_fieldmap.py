"""FieldMap: the fields a flow syncs, checked against every mapping rule when built.

A FieldMap that exists is valid: construction reports every broken rule at once, as
an :class:`~pdmc.errors.InvalidFieldMapError` whose members each name the field and
the rule. Editing returns a new, again validated, map.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from attrs import field, frozen

from pdmc.errors import ConfigurationError, FieldMapRuleError, InvalidFieldMapError
from pdmc.mapping._catalog import Field, FieldCatalog, pair_verdict
from pdmc.mapping._convert import text_limit
from pdmc.mapping._html import html_table
from pdmc.mapping._kinds import MAILCHIMP_TYPES, PIPEDRIVE_TYPES, Direction, Kind, Side
from pdmc.mapping._matrix import unmappable_reason, verdict
from pdmc.mapping._pair import FieldPair
from pdmc.mapping._suggest import Suggestion, default_pairs, suggest_pairs

__all__ = [
    "RULE_CLEARED",
    "RULE_NAME",
    "RULE_NAME_TWICE",
    "RULE_ONCE",
    "RULE_OPT_IN",
    "RULE_REQUIRED",
    "RULE_TRUNCATE",
    "RULE_UNKNOWN",
    "FieldMap",
]

RULE_UNKNOWN: Final = "a field map names only fields that exist"
RULE_ONCE: Final = "each field is mapped at most once per flow"
RULE_REQUIRED: Final = "required fields are pre-selected and cannot be removed"
RULE_NAME: Final = "Pipedrive needs a name to create a person"
RULE_NAME_TWICE: Final = "a person's name comes from name, or from first and last name, not both"
RULE_TRUNCATE: Final = "truncate applies only to a target that holds limited text"
RULE_OPT_IN: Final = (
    "send_option_labels applies only to a Pipedrive option field sent to Mailchimp text"
)
RULE_CLEARED: Final = "the email address, the name and required fields are never cleared"

_NAME_PARTS: Final = frozenset({"first_name", "last_name"})
_LABEL_KINDS: Final = frozenset({Kind.OPTION, Kind.MULTI_OPTION})


def _as_pairs(pairs: Iterable[FieldPair]) -> tuple[FieldPair, ...]:
    return tuple(pairs)


@frozen
class FieldMap:
    """The pairs of fields one flow syncs, in one direction, between two catalogs.

    Building one checks every rule and raises
    :class:`~pdmc.errors.InvalidFieldMapError` listing every problem: a field that
    does not exist, a field mapped twice, a pair of incompatible or unsupported
    types (with the matrix's reason), a required target field left unmapped (the
    email address always; every Mailchimp field marked required when Mailchimp is
    the target; a name and every field marked required when Pipedrive is), or a
    pair option that does not apply. Start from :meth:`default`.
    """

    direction: Direction
    pipedrive: FieldCatalog = field(repr=False)
    mailchimp: FieldCatalog = field(repr=False)
    pairs: tuple[FieldPair, ...] = field(converter=_as_pairs)

    def __attrs_post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            count = f"{len(problems)} rule{'s' if len(problems) > 1 else ''}"
            raise InvalidFieldMapError(
                f"the {self.direction.arrow} field map breaks {count}", problems
            )

    @classmethod
    def default(
        cls, direction: Direction, pipedrive: FieldCatalog, mailchimp: FieldCatalog
    ) -> FieldMap:
        """The map a new flow starts from.

        It pairs the email addresses, first and last name and phone where both sides
        have compatible fields, and each required target field with its best-named
        compatible source. Raises :class:`~pdmc.errors.InvalidFieldMapError` when a
        required target field has no such source: the error names it, so the caller
        can pick one and build the map with it.
        """
        return cls(direction, pipedrive, mailchimp, default_pairs(direction, pipedrive, mailchimp))

    def with_pair(self, pair: FieldPair, *, replace: bool = False) -> FieldMap:
        """A copy with ``pair`` added.

        With ``replace=True``, pairs that already use either of its fields are
        dropped first (the way to change what feeds a required field). Raises
        :class:`~pdmc.errors.InvalidFieldMapError` when the result breaks a rule.
        """
        kept = (
            p
            for p in self.pairs
            if not replace or (p.pipedrive != pair.pipedrive and p.mailchimp != pair.mailchimp)
        )
        return FieldMap(self.direction, self.pipedrive, self.mailchimp, (*kept, pair))

    def without(self, key: str) -> FieldMap:
        """A copy without the pairs that use the field keyed ``key`` on either side.

        Raises :class:`~pdmc.errors.ConfigurationError` when no pair uses it, and
        :class:`~pdmc.errors.InvalidFieldMapError` when the field is required.
        """
        kept = tuple(p for p in self.pairs if key not in {p.pipedrive, p.mailchimp})
        if len(kept) == len(self.pairs):
            raise ConfigurationError(f"no pair of the field map uses a field keyed {key!r}")
        return FieldMap(self.direction, self.pipedrive, self.mailchimp, kept)

    def suggest(self) -> tuple[Suggestion, ...]:
        """Compatible pairs of still-unmapped fields with alike names, best first.

        Nothing is applied: add the ones the user confirms with :meth:`with_pair`.
        """
        return suggest_pairs(self.direction, self.pipedrive, self.mailchimp, self.pairs)

    def fields_of(self, pair: FieldPair) -> tuple[Field, Field]:
        """The ``(source, target)`` fields of one of this map's pairs."""
        pipedrive, mailchimp = self.pipedrive[pair.pipedrive], self.mailchimp[pair.mailchimp]
        if self.direction is Direction.PD_TO_MC:
            return pipedrive, mailchimp
        return mailchimp, pipedrive

    def __iter__(self) -> Iterator[FieldPair]:
        return iter(self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)

    def _repr_html_(self) -> str:
        required = _required_targets(self)
        rows = []
        for pair in self.pairs:
            source, target = self.fields_of(pair)
            decided = pair_verdict(
                self.pipedrive[pair.pipedrive],
                self.mailchimp[pair.mailchimp],
                self.direction,
                send_option_labels=pair.send_option_labels,
            )
            options = [
                name
                for name, chosen in (
                    ("truncate", pair.truncate),
                    ("clear when empty", pair.clear_when_empty),
                    ("send option labels", pair.send_option_labels),
                )
                if chosen
            ]
            rows.append(
                (
                    f"{source.label} ({source.key})",
                    f"{target.label} ({target.key})",
                    f"{source.kind.value} → {target.kind.value}",
                    "lossless" if decided.lossless else "lossy",
                    "required" if target.key in required else "",
                    ", ".join(options),
                )
            )
        return html_table(
            f"Field map, {self.direction.arrow} ({len(self.pairs)} pairs)",
            (self.direction.source.title, self.direction.target.title, "Kinds", "Values",
             "Required", "Options"),
            rows,
        )  # fmt: skip


def _problems(fieldmap: FieldMap) -> list[FieldMapRuleError]:
    """Every rule ``fieldmap`` breaks, in the order of its pairs, then the map-wide rules."""
    problems: list[FieldMapRuleError] = []
    first_use: dict[str, int] = {}
    for number, pair in enumerate(fieldmap.pairs, start=1):
        found = (
            _lookup(fieldmap.pipedrive, pair.pipedrive, problems),
            _lookup(fieldmap.mailchimp, pair.mailchimp, problems),
        )
        for known in found:
            if known is None:
                continue
            if known.ref in first_use:
                problems.append(
                    FieldMapRuleError(
                        f"{known.title} is mapped twice (pairs {first_use[known.ref]} and "
                        f"{number}); {RULE_ONCE}",
                        field=known.ref,
                        reason=RULE_ONCE,
                    )
                )
            first_use.setdefault(known.ref, number)
        pipedrive, mailchimp = found
        if pipedrive is not None and mailchimp is not None:
            problems += _pair_problems(fieldmap, pair, pipedrive, mailchimp)
    problems += _required_problems(fieldmap)
    return problems


def _lookup(catalog: FieldCatalog, key: str, problems: list[FieldMapRuleError]) -> Field | None:
    found = catalog.get(key)
    if found is None:
        problems.append(
            FieldMapRuleError(
                f"{catalog.side.title} has no field keyed {key!r}: it was deleted, renamed "
                "or never existed",
                field=f"{catalog.side.value}:{key}",
                reason=RULE_UNKNOWN,
            )
        )
    return found


def _pair_problems(
    fieldmap: FieldMap, pair: FieldPair, pipedrive: Field, mailchimp: Field
) -> list[FieldMapRuleError]:
    direction = fieldmap.direction
    source, target = fieldmap.fields_of(pair)
    decided = pair_verdict(
        pipedrive, mailchimp, direction, send_option_labels=pair.send_option_labels
    )
    if not decided.allowed:
        return [
            FieldMapRuleError(
                f"{source.title} cannot map to {target.title}: {decided.reason}",
                field=source.ref,
                reason=decided.reason,
            )
        ]
    problems = []
    if pair.truncate and text_limit(target) is None:
        problems.append(
            FieldMapRuleError(
                f"truncate=True on {source.title} → {target.title} has nothing to cut: "
                f"{RULE_TRUNCATE}",
                field=target.ref,
                reason=RULE_TRUNCATE,
            )
        )
    opted_in = (
        direction is Direction.PD_TO_MC
        and pipedrive.kind in _LABEL_KINDS
        and mailchimp.kind is Kind.TEXT
    )
    if pair.send_option_labels and not opted_in:
        problems.append(
            FieldMapRuleError(
                f"send_option_labels=True on {source.title} → {target.title} changes "
                f"nothing: {RULE_OPT_IN}",
                field=source.ref,
                reason=RULE_OPT_IN,
            )
        )
    never_cleared = (
        target.kind is Kind.EMAIL
        or target.required
        or (target.side is Side.PIPEDRIVE and target.key in {"name", *_NAME_PARTS})
    )
    if pair.clear_when_empty and never_cleared:
        problems.append(
            FieldMapRuleError(
                f"clear_when_empty=True on {source.title} → {target.title} would clear a "
                f"value the target needs: {RULE_CLEARED}",
                field=target.ref,
                reason=RULE_CLEARED,
            )
        )
    return problems


def _required_targets(fieldmap: FieldMap) -> set[str]:
    """Keys of the target fields every map must fill (the name is checked on its own)."""
    if fieldmap.direction is Direction.PD_TO_MC:
        catalog = fieldmap.mailchimp
        required = {f.key for f in catalog if f.required}
    else:
        catalog = fieldmap.pipedrive
        required = {f.key for f in catalog if f.required and f.key != "name"}
    return required | {catalog.email.key}


def _unfeedable(target: Field, direction: Direction) -> str:
    """Why no source field of any type can fill ``target``, or ``""`` when one can."""
    source_types = MAILCHIMP_TYPES if direction.source is Side.MAILCHIMP else PIPEDRIVE_TYPES
    pairs = (
        (target.type, source) if target.side is Side.PIPEDRIVE else (source, target.type)
        for source in source_types
    )
    if any(verdict(*pair, direction).allowed for pair in pairs):
        return ""
    why = unmappable_reason(target.side, target.type) or (
        f"nothing maps to {target.kind.description}."
    )
    return (
        f". No {direction.source.title} field can fill it: {why} Make it optional in "
        f"{target.side.title} to sync {direction.arrow}."
    )


def _required_problems(fieldmap: FieldMap) -> list[FieldMapRuleError]:
    to_mailchimp = fieldmap.direction is Direction.PD_TO_MC
    mapped = {p.mailchimp if to_mailchimp else p.pipedrive for p in fieldmap.pairs}
    catalog = fieldmap.mailchimp if to_mailchimp else fieldmap.pipedrive
    problems = [
        FieldMapRuleError(
            f"{catalog[key].title} is required by {catalog.side.title} and must stay "
            f"mapped; {RULE_REQUIRED}{_unfeedable(catalog[key], fieldmap.direction)}",
            field=catalog[key].ref,
            reason=RULE_REQUIRED,
        )
        for key in sorted(_required_targets(fieldmap) - mapped)
    ]
    if to_mailchimp:
        return problems
    if not mapped & {"name", *_NAME_PARTS}:
        problems.append(
            FieldMapRuleError(
                "Pipedrive needs a name to create a person: map a Mailchimp text field to "
                f"name, or to first_name and last_name; {RULE_REQUIRED}",
                field="pipedrive:name",
                reason=RULE_NAME,
            )
        )
    elif "name" in mapped and mapped & _NAME_PARTS:
        problems.append(
            FieldMapRuleError(
                "name and first_name/last_name would both write the person's name: map "
                "either name, or first and last name",
                field="pipedrive:name",
                reason=RULE_NAME_TWICE,
            )
        )
    return problems
