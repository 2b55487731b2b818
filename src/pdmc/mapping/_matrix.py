"""The compatibility matrix: may a field of one type feed a field of another, and why.

One function, :func:`verdict`, decides every pair of Pipedrive type and Mailchimp type
in both directions. Every verdict carries a reason, refused or not, and
:func:`render_matrix_markdown` turns the whole matrix into the table in
``docs/mapping.md`` (a test keeps the two identical).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from attrs import frozen

from pdmc.mapping._kinds import (
    MAILCHIMP_TYPES,
    PIPEDRIVE_TYPES,
    Direction,
    Kind,
    Side,
    kind_of,
)

__all__ = [
    "MatrixCell",
    "Verdict",
    "matrix",
    "render_matrix_markdown",
    "unmappable_reason",
    "verdict",
]


@frozen(kw_only=True)
class Verdict:
    """Whether a source field may feed a target field, and why.

    ``lossless`` is true when every value the target accepts comes back unchanged
    (values it cannot hold are reported one by one, never silently altered); it is
    false for refused pairs and for pairs that drop part of a value by design.
    """

    allowed: bool
    reason: str
    lossless: bool = False

    @classmethod
    def allow(cls, reason: str, *, lossless: bool) -> Verdict:
        """An allowed pair, and whether its values come back unchanged."""
        return cls(allowed=True, reason=reason, lossless=lossless)

    @classmethod
    def refuse(cls, reason: str) -> Verdict:
        """A refused pair and the reason."""
        return cls(allowed=False, reason=reason)


@frozen
class MatrixCell:
    """One decided cell: a Pipedrive type, a Mailchimp type and a direction."""

    pipedrive_type: str
    mailchimp_type: str
    direction: Direction
    verdict: Verdict


_SEED = "a rule of the seed integration"
_SEED_PIPEDRIVE_NAMES: Final = MappingProxyType(
    {
        "enum": "single-option",
        "set": "multiple-option",
        "user": "user",
        "org": "organization",
        "people": "person",
    }
)
_LABEL_KINDS: Final = frozenset({Kind.OPTION, Kind.MULTI_OPTION})
_TEXT_KINDS: Final = frozenset({Kind.TEXT, Kind.LONG_TEXT})
_TEXT_LIKE_KINDS: Final = frozenset({Kind.PHONE, Kind.URL, Kind.IMAGE_URL, Kind.ZIP})
_TYPED_KINDS: Final = frozenset({Kind.NUMBER, Kind.MONETARY, Kind.DATE, Kind.BIRTHDAY})
_CHECKED_KINDS: Final = frozenset({Kind.PHONE, Kind.URL, Kind.IMAGE_URL, Kind.ZIP, Kind.ADDRESS})

_TEXT_LIMIT = (
    "A value longer than the target holds (Mailchimp text: 255 bytes) is reported, "
    "or cut on a character boundary when the pair allows it."
)
_ALLOWED: Final = MappingProxyType(
    {
        (Kind.TEXT, Kind.TEXT): Verdict.allow(f"Text to text. {_TEXT_LIMIT}", lossless=True),
        (Kind.LONG_TEXT, Kind.TEXT): Verdict.allow(
            f"Long text to text. {_TEXT_LIMIT}", lossless=True
        ),
        (Kind.TEXT, Kind.LONG_TEXT): Verdict.allow("Text to long text.", lossless=True),
        (Kind.NUMBER, Kind.NUMBER): Verdict.allow(
            "Number to number, read and written without locale: a dot before decimals, "
            "no thousands separators; a value that would be rounded is reported.",
            lossless=True,
        ),
        (Kind.MONETARY, Kind.NUMBER): Verdict.allow(
            "Only the amount is sent; the currency is dropped.", lossless=False
        ),
        (Kind.DATE, Kind.DATE): Verdict.allow(
            "Date to date: Mailchimp dates are read in the field's date format and "
            "written as YYYY-MM-DD, Pipedrive's format.",
            lossless=True,
        ),
        (Kind.DATE, Kind.BIRTHDAY): Verdict.allow(
            "Month and day are sent as MM/DD; the year is dropped, as a Mailchimp "
            "birthday holds none.",
            lossless=False,
        ),
        (Kind.PHONE, Kind.PHONE): Verdict.allow(
            "Phone to phone, kept as written; a number that does not fit a Mailchimp "
            "field set to the US format is reported.",
            lossless=True,
        ),
        (Kind.EMAIL, Kind.EMAIL): Verdict.allow(
            "The email address is the contact's identity and always maps to the email "
            "address on the other side.",
            lossless=True,
        ),
    }
)
_TEXT_LIKE_TO_TEXT = "{source} is text on both sides and is kept exactly as written."
_ADDRESS_TO_MAILCHIMP = Verdict.allow(
    "Street number and street join into addr1, subpremise becomes addr2, locality "
    "city, admin area level 1 state, postal code zip, and the country's name its "
    "two-letter code; county and neighbourhood are not carried. An address without "
    "addr1, city, state or zip is reported, never dropped.",
    lossless=False,
)
_ADDRESS_TO_PIPEDRIVE = Verdict.allow(
    "addr1 becomes the street, addr2 the subpremise, city the locality, state admin "
    "area level 1, zip the postal code and the country code the country's name; the "
    "formatted address is built from them.",
    lossless=True,
)


def verdict(
    pipedrive_type: str,
    mailchimp_type: str,
    direction: Direction,
    *,
    send_option_labels: bool = False,
) -> Verdict:
    """Decide whether a field of one type may feed a field of the other in ``direction``.

    ``send_option_labels`` is the opt-in beyond the seed integration: a Pipedrive
    single- or multiple-option field may then send its option labels into a
    Mailchimp text field (``Pipedrive → Mailchimp`` only). Never raises: an unknown
    type is refused with a reason.
    """
    pd_kind = kind_of(Side.PIPEDRIVE, pipedrive_type)
    mc_kind = kind_of(Side.MAILCHIMP, mailchimp_type)
    labels_to_text = (
        direction is Direction.PD_TO_MC and pd_kind in _LABEL_KINDS and mc_kind is Kind.TEXT
    )
    if labels_to_text and send_option_labels:
        return Verdict.allow(
            "Opted in beyond the seed integration: the option's label is sent as text "
            "(several labels joined by a comma); the text cannot come back as options.",
            lossless=False,
        )
    sides = [(Side.PIPEDRIVE, pipedrive_type), (Side.MAILCHIMP, mailchimp_type)]
    if direction is Direction.MC_TO_PD:
        sides.reverse()  # the source's own refusal is named first
    for side, field_type in sides:
        reason = unmappable_reason(side, field_type)
        if reason is not None:
            if labels_to_text:
                reason += (
                    " Opt in with send_option_labels=True to send the option's label "
                    "to this Mailchimp text field."
                )
            return Verdict.refuse(reason)
    if direction is Direction.PD_TO_MC:
        return _kind_verdict(pd_kind, mc_kind, direction)
    return _kind_verdict(mc_kind, pd_kind, direction)


def unmappable_reason(side: Side, field_type: str) -> str | None:
    """The reason a field of this type can never be mapped, whatever the other side.

    ``None`` when the type maps to something; the other side's type then decides.
    """
    kind = kind_of(side, field_type)
    if kind is Kind.UNKNOWN:
        return (
            f"pdmc does not know the {side.title} field type {field_type!r} and does not "
            "map what it cannot check."
        )
    if side is Side.MAILCHIMP:
        if kind is Kind.OPTION:
            return f"Mailchimp {field_type} fields cannot be mapped ({_SEED})."
        return None
    if field_type in _SEED_PIPEDRIVE_NAMES:
        return f"Pipedrive {_SEED_PIPEDRIVE_NAMES[field_type]} fields cannot be mapped ({_SEED})."
    return _PIPEDRIVE_ONLY_KINDS.get(kind)


_NO_COUNTERPART = "Mailchimp has no yes/no, time or range field type to hold this value."
_PIPEDRIVE_ONLY_KINDS: Final = MappingProxyType(
    {
        Kind.OPTION: (
            "Pipedrive fields restricted to a preset list (text-with-options, billing "
            f"frequency) are option fields, which cannot be mapped ({_SEED})."
        ),
        Kind.REFERENCE: (
            "Pipedrive fields that hold the id of another Pipedrive record (deal, lead, "
            "project, stage, activity, picture, pipeline, product, price list) mean "
            "nothing in Mailchimp."
        ),
        Kind.BOOLEAN: _NO_COUNTERPART,
        Kind.TIME: _NO_COUNTERPART,
        Kind.DATE_RANGE: _NO_COUNTERPART,
        Kind.TIME_RANGE: _NO_COUNTERPART,
        Kind.CONSENT: (
            "Pipedrive status fields carry marketing consent, which pdmc keeps by its "
            "consent rules and never maps as a field."
        ),
        Kind.SETTING: (
            "Pipedrive visible_to is a setting of the record (who may see it), not contact data."
        ),
        Kind.STRUCTURED: (
            "Pipedrive json fields hold structured data that no Mailchimp field type holds."
        ),
    }
)


def _kind_verdict(source: Kind, target: Kind, direction: Direction) -> Verdict:
    """The verdict for two mappable kinds."""
    allowed = _allowed(source, target, direction)
    return allowed if allowed is not None else Verdict.refuse(_refusal(source, target, direction))


def _allowed(source: Kind, target: Kind, direction: Direction) -> Verdict | None:
    """The verdict of an allowed pair of kinds, or ``None`` when the pair is refused."""
    if (source, target) == (Kind.ADDRESS, Kind.ADDRESS):
        return _ADDRESS_TO_MAILCHIMP if direction is Direction.PD_TO_MC else _ADDRESS_TO_PIPEDRIVE
    if source in _TEXT_LIKE_KINDS and target in _TEXT_KINDS:
        return Verdict.allow(
            _TEXT_LIKE_TO_TEXT.format(source=_sentence(source.description)),
            lossless=True,
        )
    return _ALLOWED.get((source, target))


def _refusal(source: Kind, target: Kind, direction: Direction) -> str:  # noqa: PLR0911 - a rule a return
    """The reason two mappable kinds do not map."""
    if Kind.EMAIL in (source, target):
        return (
            "The email address is the contact's identity and maps only to the email "
            "address on the other side."
        )
    if source in _TEXT_KINDS and target in _TYPED_KINDS:
        return f"Text never maps to a number or a date ({_SEED}): free text may hold anything."
    if source in _TEXT_KINDS and target in _CHECKED_KINDS:
        return (
            f"Free text is not known to be {target.description}, and the target refuses "
            f"values that are not; only text maps to text, never text to {target.value}."
        )
    if (source, target) == (Kind.BIRTHDAY, Kind.DATE):
        return "A birthday has no year, and pdmc will not invent one."
    if (source, target) == (Kind.NUMBER, Kind.MONETARY):
        return "A number has no currency, and a monetary value needs one."
    if source in _TYPED_KINDS and target in _TEXT_KINDS:
        return (
            f"{_sentence(source.description)} would become text that can no longer be "
            f"sorted, compared or segmented as {source.description}."
        )
    fits = [
        kind.value
        for kind in Kind
        if kind in _kinds_on(direction.target) and _allowed(source, kind, direction)
    ]
    if not fits:
        return (
            f"{_sentence(source.description)} has no compatible {direction.target.title} "
            "field type."
        )
    return (
        f"{_sentence(source.description)} maps only to {_either(fits)} field in "
        f"{direction.target.title}: only compatible types map."
    )


def _sentence(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]


def _either(kinds: list[str]) -> str:
    """``a number``, ``a text or phone``, ``a text, long text or phone``."""
    words = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} or {kinds[-1]}"
    return f"{'an' if words[0] in 'aeiou' else 'a'} {words}"


def _kinds_on(side: Side) -> frozenset[Kind]:
    types = PIPEDRIVE_TYPES if side is Side.PIPEDRIVE else MAILCHIMP_TYPES
    return frozenset(kind_of(side, field_type) for field_type in types)


def matrix(*, send_option_labels: bool = False) -> tuple[MatrixCell, ...]:
    """Every cell of the matrix: each Pipedrive type, Mailchimp type and direction."""
    return tuple(
        MatrixCell(
            pd, mc, direction, verdict(pd, mc, direction, send_option_labels=send_option_labels)
        )
        for direction in Direction
        for pd in PIPEDRIVE_TYPES
        for mc in MAILCHIMP_TYPES
    )


def render_matrix_markdown() -> str:
    """The whole matrix as Markdown: one grid per direction, then the numbered reasons.

    A cell reads ``✓ n`` (allowed, lossless), ``≈ n`` (allowed, drops part of the
    value by design) or ``✗ n`` (refused), where ``n`` numbers the reason.
    """
    cells = matrix()
    reasons: dict[str, int] = {}
    for cell in cells:
        reasons.setdefault(cell.verdict.reason, len(reasons) + 1)
    by_key = {(c.direction, c.pipedrive_type, c.mailchimp_type): c.verdict for c in cells}
    allowed = sum(c.verdict.allowed for c in cells)
    lossless = sum(c.verdict.lossless for c in cells)
    lines = [
        (
            f"{len(PIPEDRIVE_TYPES)} Pipedrive types by {len(MAILCHIMP_TYPES)} Mailchimp types "
            f"in 2 directions make {len(cells)} cells: {allowed} allowed ({lossless} lossless, "
            f"{allowed - lossless} lossy by design) and {len(cells) - allowed} refused."
        ),
        "",
        (
            "Legend: `✓` allowed and lossless, `≈` allowed but drops part of the value by "
            "design, `✗` refused; the number points to the reason below."
        ),
    ]
    for direction in Direction:
        lines += [
            "",
            f"### {direction.arrow}",
            "",
            "| Pipedrive type / Mailchimp type | "
            + " | ".join(f"`{mc}`" for mc in MAILCHIMP_TYPES)
            + " |",
            "|---|" + "---|" * len(MAILCHIMP_TYPES),
        ]
        for pd in PIPEDRIVE_TYPES:
            marks = (
                _mark(by_key[direction, pd, mc], reasons[by_key[direction, pd, mc].reason])
                for mc in MAILCHIMP_TYPES
            )
            lines.append(f"| `{pd}` | " + " | ".join(marks) + " |")
    lines += ["", "### Reasons", ""]
    lines += [f"{number}. {reason}" for reason, number in reasons.items()]
    opted = [
        cell
        for cell in matrix(send_option_labels=True)
        if cell.verdict != by_key[cell.direction, cell.pipedrive_type, cell.mailchimp_type]
    ]
    lines += [
        "",
        "### Opt-in: `send_option_labels=True`",
        "",
        "| Pipedrive type | Mailchimp type | Direction | Verdict |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{c.pipedrive_type}` | `{c.mailchimp_type}` | {c.direction.arrow} | "
        f"{_mark(c.verdict)} {c.verdict.reason} |"
        for c in opted
    ]
    return "\n".join(lines) + "\n"


def _mark(decided: Verdict, number: int | None = None) -> str:
    symbol = "✗" if not decided.allowed else "✓" if decided.lossless else "≈"
    return symbol if number is None else f"{symbol} {number}"
