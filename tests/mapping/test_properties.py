"""Property tests: round trips of every lossless pair, refusals, and the validation rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from pdmc.errors import ConversionError, FieldMapRuleError, InvalidFieldMapError
from pdmc.mapping import (
    MAILCHIMP_TYPES,
    PIPEDRIVE_TYPES,
    Address,
    Direction,
    Field,
    FieldCatalog,
    FieldMap,
    FieldPair,
    Kind,
    MatrixCell,
    Side,
    convert_value,
    matrix,
    pair_verdict,
    verdict,
)
from pdmc.mapping._convert import read_value, text_limit, write_value
from pdmc.mapping._countries import COUNTRY_NAMES

LOSSLESS = [cell for cell in matrix() if cell.verdict.lossless]
REFUSED = [cell for cell in matrix() if not cell.verdict.allowed]
SEED_REFUSED = {"enum", "set", "user", "org", "people", "radio", "dropdown"}
TEXT_KINDS = {Kind.TEXT, Kind.LONG_TEXT}
DATE_FORMATS = {"date": ("MM/DD/YYYY", "DD/MM/YYYY", None), "birthday": ("MM/DD", "DD/MM")}
PAIR = FieldPair("p", "M")


def field_for(side: Side, field_type: str, field_format: str | None = None) -> Field:
    """A field of ``field_type``: custom on Pipedrive, the built-in one for the email address."""
    if field_type == "email":
        key = "email" if side is Side.PIPEDRIVE else "EMAIL"
        return Field(side, key, "Email", "email", read="primary_email", write="emails")
    key = "p" if side is Side.PIPEDRIVE else "M"
    return Field(side, key, key, field_type, custom=side is Side.PIPEDRIVE, format=field_format)


def fields_of(cell: MatrixCell, draw: st.DrawFn) -> tuple[Field, Field]:
    """The (source, target) fields of a matrix cell, Mailchimp formats drawn at random."""
    formats = DATE_FORMATS.get(cell.mailchimp_type, (None,))
    pipedrive = field_for(Side.PIPEDRIVE, cell.pipedrive_type)
    mailchimp = field_for(Side.MAILCHIMP, cell.mailchimp_type, draw(st.sampled_from(formats)))
    if cell.direction is Direction.PD_TO_MC:
        return pipedrive, mailchimp
    return mailchimp, pipedrive


def fits(text: str, field: Field) -> bool:
    """Whether ``text`` is within the field's text limit (and not blank)."""
    limit = text_limit(field)
    size = len(text.encode()) if limit and limit.unit == "bytes" else len(text)
    return bool(text.strip()) and (limit is None or size <= limit.size)


def canonical_values(source: Field, target: Field) -> st.SearchStrategy[object]:
    """Canonical values of the source's kind that both fields can hold."""
    kind = source.kind
    if kind is Kind.NUMBER:
        whole = "int" in {source.type, target.type}
        floats = st.floats(allow_nan=False, allow_infinity=False, min_value=-(2.0**53),
                           max_value=2.0**53)  # fmt: skip
        numbers = (
            st.integers(-(2**53), 2**53)
            if whole
            else st.one_of(st.integers(-(2**53), 2**53), floats)
        )
        return numbers.map(lambda n: Decimal(repr(n)) if isinstance(n, float) else Decimal(n))
    if kind is Kind.DATE:
        return st.dates()
    if kind is Kind.EMAIL:
        return st.emails()
    if kind is Kind.ADDRESS:
        part = st.text(min_size=1, max_size=30).map(str.strip).filter(bool)
        return st.builds(
            Address,
            addr1=part,
            addr2=st.none() | part,
            city=part,
            state=part,
            zip=part,
            country=st.none() | st.sampled_from(sorted(COUNTRY_NAMES)),
        )
    return st.text(min_size=1, max_size=300).filter(
        lambda text: fits(text, source) and fits(text, target)
    )


@pytest.mark.parametrize(
    "cell", LOSSLESS, ids=lambda c: f"{c.pipedrive_type}-{c.mailchimp_type}-{c.direction.value}"
)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_lossless_pair_round_trips_a_generated_value(cell: MatrixCell, data) -> None:
    """A value crosses a lossless pair unchanged, and comes back where the reverse pair maps."""
    source, target = fields_of(cell, data.draw)
    value = data.draw(canonical_values(source, target))
    sent = convert_value(write_value(source, value), source=source, target=target, pair=PAIR)
    assert not isinstance(sent, ConversionError), sent
    assert read_value(target, sent) == value
    back = verdict(cell.pipedrive_type, cell.mailchimp_type, _reverse(cell.direction))
    if back.allowed:
        returned = convert_value(sent, source=target, target=source, pair=PAIR)
        assert read_value(source, returned) == value
        event("came back")


def _reverse(direction: Direction) -> Direction:
    return Direction.MC_TO_PD if direction is Direction.PD_TO_MC else Direction.PD_TO_MC


@settings(max_examples=200, deadline=None)
@given(when=st.dates(), data=st.data())
def test_mailchimp_dates_are_read_in_the_fields_own_format(when: dt.date, data) -> None:
    """A date or birthday written in the field's display format reads back as that day."""
    field_type = data.draw(st.sampled_from(["date", "birthday"]))
    field_format = data.draw(st.sampled_from([f for f in DATE_FORMATS[field_type] if f]))
    shown = field_format.replace("YYYY", f"{when.year:04d}").replace("MM", f"{when.month:02d}")
    shown = shown.replace("DD", f"{when.day:02d}")
    value = read_value(Field(Side.MAILCHIMP, "D", "D", field_type, format=field_format), shown)
    if field_type == "date":
        assert value == when
    else:
        assert (value.month, value.day) == (when.month, when.day)


@settings(max_examples=200, deadline=None)
@given(text=st.text(min_size=1, max_size=400).filter(str.strip), truncate=st.booleans())
def test_long_text_is_reported_or_cut_on_a_character_boundary(text: str, truncate: bool) -> None:
    """Text over 255 bytes is an error, or with truncate the longest whole-character prefix."""
    source = Field(Side.PIPEDRIVE, "p", "P", "text", custom=True)
    target = Field(Side.MAILCHIMP, "M", "M", "text")
    sent = convert_value(
        text, source=source, target=target, pair=FieldPair("p", "M", truncate=truncate)
    )
    if len(text.encode()) <= 255:
        assert sent == text
    elif not truncate:
        assert isinstance(sent, ConversionError)
    else:
        assert isinstance(sent, str)
        assert text.startswith(sent)
        assert len(sent.encode()) <= 255 < len(text[: len(sent) + 1].encode())


@settings(max_examples=100, deadline=None)
@given(amount=st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10**9,
                          min_value=-(10**9)), currency=st.sampled_from(["EUR", "USD", None]),
       when=st.dates())  # fmt: skip
def test_lossy_pairs_drop_only_what_their_reason_says(amount, currency, when) -> None:
    """Money keeps its amount without the currency; a date keeps its month and day."""
    money = field_for(Side.PIPEDRIVE, "monetary")
    number = field_for(Side.MAILCHIMP, "number")
    sent = convert_value(
        {"value": str(amount), "currency": currency}, source=money, target=number, pair=PAIR
    )
    assert read_value(number, sent) == amount
    birthday = field_for(Side.MAILCHIMP, "birthday")
    sent = convert_value(
        when.isoformat(), source=field_for(Side.PIPEDRIVE, "date"), target=birthday, pair=PAIR
    )
    assert sent == f"{when.month:02d}/{when.day:02d}"


def _catalogs(pd_type: str, mc_type: str, pd_label: str, mc_label: str):
    """Catalogs holding the email and name fields plus one field of each given type."""
    email = field_for(Side.PIPEDRIVE, "email")
    name = Field(Side.PIPEDRIVE, "name", "Name", "varchar", read="name", write="name")
    pd_fields = [email, name]
    if pd_type != "email":
        pd_fields.append(Field(Side.PIPEDRIVE, "p", pd_label, pd_type, custom=True))
    mc_fields = [field_for(Side.MAILCHIMP, "email"), Field(Side.MAILCHIMP, "NAME", "Name", "text")]
    if mc_type != "email":
        mc_fields.append(Field(Side.MAILCHIMP, "M", mc_label, mc_type))
    return FieldCatalog(Side.PIPEDRIVE, tuple(pd_fields)), FieldCatalog(
        Side.MAILCHIMP, tuple(mc_fields)
    )


@settings(max_examples=300, deadline=None)
@given(cell=st.sampled_from(REFUSED), pd_label=st.text(max_size=20), mc_label=st.text(max_size=20))
def test_every_refused_pair_is_refused_with_its_reason(
    cell: MatrixCell, pd_label, mc_label
) -> None:
    """A FieldMap holding a refused pair fails, naming the source field and the matrix's reason."""
    pipedrive, mailchimp = _catalogs(cell.pipedrive_type, cell.mailchimp_type, pd_label, mc_label)
    pair = FieldPair(
        "email" if cell.pipedrive_type == "email" else "p",
        "EMAIL" if cell.mailchimp_type == "email" else "M",
    )
    base = [FieldPair("email", "EMAIL"), FieldPair("name", "NAME")]
    with pytest.raises(InvalidFieldMapError) as info:
        FieldMap(cell.direction, pipedrive, mailchimp, [*base, pair])
    source_side = cell.direction.source
    source_key = pair.pipedrive if source_side is Side.PIPEDRIVE else pair.mailchimp
    problems = {(p.field, p.reason) for p in info.value.exceptions}
    assert (f"{source_side.value}:{source_key}", cell.verdict.reason) in problems


_PD_TYPES = [t for t in PIPEDRIVE_TYPES if t != "email"]
_MC_TYPES = [t for t in MAILCHIMP_TYPES if t != "email"]


@st.composite
def random_maps(draw: st.DrawFn):
    """Random catalogs and a random list of pairs, often (not always) made of compatible ones."""
    direction = draw(st.sampled_from(list(Direction)))
    pd_fields = [
        field_for(Side.PIPEDRIVE, "email"),
        Field(Side.PIPEDRIVE, "first_name", "First", "varchar", read="first_name", write="name"),
    ]
    for number, field_type in enumerate(draw(st.lists(st.sampled_from(_PD_TYPES), max_size=6))):
        required = draw(st.integers(0, 7)) == 0
        pd_fields.append(Field(Side.PIPEDRIVE, f"p{number}", f"P{number}", field_type,
                               required=required, custom=True))  # fmt: skip
    mc_fields = [
        Field(Side.MAILCHIMP, "EMAIL", "Email", "email", required=True),
        Field(Side.MAILCHIMP, "NAME", "Name", "text"),
    ]
    for number, field_type in enumerate(draw(st.lists(st.sampled_from(_MC_TYPES), max_size=6))):
        required = draw(st.integers(0, 7)) == 0
        mc_fields.append(
            Field(Side.MAILCHIMP, f"M{number}", f"M{number}", field_type, required=required)
        )
    compatible = [
        FieldPair(pd.key, mc.key)
        for pd in pd_fields
        for mc in mc_fields
        if pair_verdict(pd, mc, direction).allowed
    ]
    any_pair = st.builds(
        FieldPair,
        st.sampled_from([f.key for f in pd_fields] + ["ghost"]),
        st.sampled_from([f.key for f in mc_fields] + ["GHOST"]),
        truncate=st.booleans(),
        clear_when_empty=st.booleans(),
        send_option_labels=st.booleans(),
    )
    # Mostly compatible pairs, so that a fair share of maps is valid and gets checked.
    some_pair = st.one_of(*[st.sampled_from(compatible)] * 3, any_pair)
    pairs = draw(st.lists(some_pair, max_size=8, unique=True))
    if draw(st.integers(0, 3)):
        pairs = [FieldPair("email", "EMAIL"), FieldPair("first_name", "NAME"), *pairs]
    return (
        direction,
        FieldCatalog(Side.PIPEDRIVE, tuple(pd_fields)),
        FieldCatalog(Side.MAILCHIMP, tuple(mc_fields)),
        pairs,
    )


@settings(max_examples=1000, deadline=None)
@given(random_maps())
def test_validation_never_accepts_a_map_that_breaks_a_seed_rule(case) -> None:
    """Any map that builds keeps every seed rule; any that fails names a field and a reason."""
    direction, pipedrive, mailchimp, pairs = case
    try:
        fieldmap = FieldMap(direction, pipedrive, mailchimp, pairs)
    except InvalidFieldMapError as error:
        event("refused")
        for problem in error.exceptions:
            assert isinstance(problem, FieldMapRuleError)
            assert problem.field
            assert problem.reason
            assert problem.__notes__ == [f"field: {problem.field}", f"reason: {problem.reason}"]
        return
    event("accepted")
    pd_keys = [p.pipedrive for p in fieldmap]
    mc_keys = [p.mailchimp for p in fieldmap]
    assert len(set(pd_keys)) == len(pd_keys)  # each field at most once per flow
    assert len(set(mc_keys)) == len(mc_keys)
    assert ("email", "EMAIL") in set(zip(pd_keys, mc_keys, strict=True))  # email to email
    target_keys = set(mc_keys if direction is Direction.PD_TO_MC else pd_keys)
    targets = mailchimp if direction is Direction.PD_TO_MC else pipedrive
    assert {f.key for f in targets if f.required} <= target_keys  # required stay mapped
    if direction is Direction.MC_TO_PD:
        assert "first_name" in target_keys  # Pipedrive needs a name
    for pair in fieldmap:
        source, target = fieldmap.fields_of(pair)
        pd, mc = pipedrive[pair.pipedrive], mailchimp[pair.mailchimp]
        assert not (source.kind in TEXT_KINDS and target.kind in {Kind.NUMBER, Kind.DATE})
        assert mc.type not in SEED_REFUSED  # radio and dropdown never map
        if pd.type in SEED_REFUSED:  # only the documented opt-in lets an option field through
            assert pair.send_option_labels
            assert (direction, mc.type) == (Direction.PD_TO_MC, "text")
        assert pair_verdict(pd, mc, direction, send_option_labels=pair.send_option_labels).allowed
