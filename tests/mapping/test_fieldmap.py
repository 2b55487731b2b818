"""FieldMap validation: each seed rule by name, pdmc's own rules, defaults and suggestions."""

from __future__ import annotations

import pytest

from pdmc.clients.mailchimp.models import MergeField
from pdmc.clients.pipedrive.models import PersonField
from pdmc.errors import ConfigurationError, FieldMapRuleError, InvalidFieldMapError
from pdmc.mapping import Direction, FieldCatalog, FieldMap, FieldPair
from pdmc.mapping._fieldmap import (
    RULE_CLEARED,
    RULE_NAME,
    RULE_NAME_TWICE,
    RULE_ONCE,
    RULE_OPT_IN,
    RULE_REQUIRED,
    RULE_TRUNCATE,
    RULE_UNKNOWN,
)

from .conftest import COMPANY, SCORE, SOURCE, TOPICS, merge_fields, person_fields

PD_TO_MC = Direction.PD_TO_MC
MC_TO_PD = Direction.MC_TO_PD
EMAIL = FieldPair("email", "EMAIL")
NAMES = (FieldPair("first_name", "FNAME"), FieldPair("last_name", "LNAME"))
PEOPLE = "9" * 40


def problems_of(info: pytest.ExceptionInfo[InvalidFieldMapError]) -> list[tuple[str, str]]:
    """The (field, reason) of every problem, checking that each carries both as notes."""
    found = []
    for problem in info.value.exceptions:
        assert isinstance(problem, FieldMapRuleError)
        assert f"field: {problem.field}" in problem.__notes__
        assert f"reason: {problem.reason}" in problem.__notes__
        found.append((problem.field, problem.reason))
    return found


def build(direction: Direction, pipedrive, mailchimp, *pairs: FieldPair) -> FieldMap:
    """A map of the email pair (and the names, Mailchimp → Pipedrive) plus ``pairs``."""
    base = (EMAIL,) if direction is PD_TO_MC else (EMAIL, *NAMES)
    return FieldMap(direction, pipedrive, mailchimp, (*base, *pairs))


def test_the_default_map_pairs_email_names_and_phone(pipedrive, mailchimp) -> None:
    """The default map holds email, first and last name and phone, in that order."""
    fieldmap = FieldMap.default(PD_TO_MC, pipedrive, mailchimp)
    assert [(p.pipedrive, p.mailchimp) for p in fieldmap] == [
        ("email", "EMAIL"), ("first_name", "FNAME"), ("last_name", "LNAME"), ("phone", "PHONE"),
    ]  # fmt: skip
    back = FieldMap.default(MC_TO_PD, pipedrive, mailchimp)
    assert len(back) == 4


def test_the_default_map_preselects_required_target_fields(pipedrive) -> None:
    """A required merge field is pre-selected from the best-named compatible source."""
    fields = [
        MergeField(merge_id=1, tag="COMPANY", name="Company name", type="text", required=True)
    ]
    fieldmap = FieldMap.default(PD_TO_MC, pipedrive, FieldCatalog.for_mailchimp(fields))
    assert FieldPair(COMPANY, "COMPANY") in fieldmap.pairs


def test_the_default_map_leaves_out_phone_when_one_side_has_none(pipedrive) -> None:
    """Phone is paired only where both sides have a compatible phone field."""
    fields = [merge for merge in merge_fields() if merge.tag != "PHONE"]
    fieldmap = FieldMap.default(PD_TO_MC, pipedrive, FieldCatalog.for_mailchimp(fields))
    assert all(p.pipedrive != "phone" for p in fieldmap)


def test_the_default_map_names_a_required_field_it_cannot_fill(pipedrive) -> None:
    """When no source fits a required target, default() says which field needs a choice."""
    fields = [MergeField(merge_id=1, tag="SHOE", name="Shoe size", type="number", required=True)]
    with pytest.raises(InvalidFieldMapError) as info:
        FieldMap.default(PD_TO_MC, pipedrive, FieldCatalog.for_mailchimp(fields))
    assert problems_of(info) == [("mailchimp:SHOE", RULE_REQUIRED)]


@pytest.mark.parametrize("key", ["EMAIL", "email"])
def test_seed_rule_required_email_cannot_be_removed(pipedrive, mailchimp, key: str) -> None:
    """Seed rule: the email pair is pre-selected and removing it is refused."""
    fieldmap = FieldMap.default(PD_TO_MC, pipedrive, mailchimp)
    with pytest.raises(InvalidFieldMapError) as info:
        fieldmap.without(key)
    assert problems_of(info) == [("mailchimp:EMAIL", RULE_REQUIRED)]


def test_seed_rule_required_mailchimp_field_cannot_be_removed(pipedrive) -> None:
    """Seed rule: a required merge field stays mapped when Mailchimp is the target."""
    fields = [MergeField(merge_id=1, tag="COMPANY", name="Company", type="text", required=True)]
    fieldmap = FieldMap.default(PD_TO_MC, pipedrive, FieldCatalog.for_mailchimp(fields))
    with pytest.raises(InvalidFieldMapError) as info:
        fieldmap.without("COMPANY")
    assert problems_of(info) == [("mailchimp:COMPANY", RULE_REQUIRED)]
    assert "must stay mapped" in str(info.value.exceptions[0])


def test_seed_rule_required_pipedrive_field_must_be_mapped_when_pipedrive_is_target(
    mailchimp,
) -> None:
    """Seed rule: a field the Pipedrive account marks required is required of MC → PD maps."""
    fields = [*person_fields(), PersonField(
        field_code="7" * 40, field_name="Region", field_type="varchar", is_custom_field=True,
        required=True,
    )]  # fmt: skip
    pipedrive = FieldCatalog.for_pipedrive(fields)
    with pytest.raises(InvalidFieldMapError) as info:
        build(MC_TO_PD, pipedrive, mailchimp)
    assert problems_of(info) == [(f"pipedrive:{'7' * 40}", RULE_REQUIRED)]
    assert build(MC_TO_PD, pipedrive, mailchimp, FieldPair("7" * 40, "COMPANY"))


def test_a_required_field_that_nothing_can_fill_says_how_to_fix_it(pipedrive) -> None:
    """A required radio field can never be mapped, so the error says to make it optional."""
    fields = [
        MergeField(merge_id=1, tag="PLAN", name="Plan", type="radio", required=True),
    ]
    with pytest.raises(InvalidFieldMapError) as info:
        FieldMap.default(PD_TO_MC, pipedrive, FieldCatalog.for_mailchimp(fields))
    assert problems_of(info) == [("mailchimp:PLAN", RULE_REQUIRED)]
    message = str(info.value.exceptions[0])
    assert "Mailchimp radio fields cannot be mapped" in message
    assert "Make it optional in Mailchimp" in message


def test_a_required_source_field_need_not_be_mapped(pipedrive, mailchimp) -> None:
    """Required applies to the target: Pipedrive's required name is not needed PD → MC."""
    assert pipedrive["name"].required
    assert build(PD_TO_MC, pipedrive, mailchimp)


@pytest.mark.parametrize("direction", list(Direction))
def test_seed_rule_each_pipedrive_field_is_mapped_once_per_flow(
    pipedrive, mailchimp, direction: Direction
) -> None:
    """Seed rule: one Pipedrive field in two pairs is refused, naming the field."""
    with pytest.raises(InvalidFieldMapError) as info:
        build(
            direction,
            pipedrive,
            mailchimp,
            FieldPair(COMPANY, "COMPANY"),
            FieldPair(COMPANY, "SOURCE"),
        )
    assert (f"pipedrive:{COMPANY}", RULE_ONCE) in problems_of(info)


@pytest.mark.parametrize("direction", list(Direction))
def test_seed_rule_each_mailchimp_field_is_mapped_once_per_flow(
    pipedrive, mailchimp, direction: Direction
) -> None:
    """Seed rule: one Mailchimp field in two pairs is refused, naming the field."""
    with pytest.raises(InvalidFieldMapError) as info:
        build(
            direction,
            pipedrive,
            mailchimp,
            FieldPair(COMPANY, "COMPANY"),
            FieldPair("job_title", "COMPANY"),
        )
    assert ("mailchimp:COMPANY", RULE_ONCE) in problems_of(info)


def test_seed_rule_text_to_number_is_refused(pipedrive, mailchimp) -> None:
    """Seed rule: a Pipedrive text field cannot feed a Mailchimp number field."""
    with pytest.raises(InvalidFieldMapError) as info:
        build(PD_TO_MC, pipedrive, mailchimp, FieldPair("job_title", "SCORE"))
    [(field, reason)] = problems_of(info)
    assert field == "pipedrive:job_title"
    assert reason.startswith("Text never maps to a number or a date")


def test_seed_rule_text_to_date_is_refused(pipedrive, mailchimp) -> None:
    """Seed rule: Mailchimp text cannot feed a Pipedrive date field."""
    with pytest.raises(InvalidFieldMapError) as info:
        build(MC_TO_PD, pipedrive, mailchimp, FieldPair("birthday", "COMPANY"))
    assert problems_of(info)[0][0] == "mailchimp:COMPANY"


@pytest.fixture
def with_person_field(mailchimp) -> tuple[FieldCatalog, FieldCatalog]:
    """The catalogs, with a Pipedrive person-reference custom field added."""
    field = PersonField(
        field_code=PEOPLE, field_name="Referrer", field_type="people", is_custom_field=True
    )
    return FieldCatalog.for_pipedrive([*person_fields(), field]), mailchimp


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (SOURCE, "single-option"),
        (TOPICS, "multiple-option"),
        ("owner_id", "user"),
        ("org_id", "organization"),
        (PEOPLE, "person"),
    ],
)
@pytest.mark.parametrize("direction", list(Direction))
def test_seed_rule_unsupported_pipedrive_types_are_refused(
    with_person_field, key: str, words: str, direction: Direction
) -> None:
    """Seed rule: option, multiple options, user, organization and person fields never map."""
    pipedrive, mailchimp = with_person_field
    with pytest.raises(InvalidFieldMapError) as info:
        build(direction, pipedrive, mailchimp, FieldPair(key, "COMPANY"))
    [(_, reason)] = problems_of(info)
    assert reason.startswith(f"Pipedrive {words} fields cannot be mapped")


@pytest.mark.parametrize("tag", ["PLAN", "REGION"])
@pytest.mark.parametrize("direction", list(Direction))
def test_seed_rule_unsupported_mailchimp_types_are_refused(
    pipedrive, mailchimp, tag: str, direction: Direction
) -> None:
    """Seed rule: Mailchimp radio and dropdown fields never map, in either direction."""
    with pytest.raises(InvalidFieldMapError) as info:
        build(direction, pipedrive, mailchimp, FieldPair("job_title", tag))
    [(_, reason)] = problems_of(info)
    assert reason.startswith(f"Mailchimp {mailchimp[tag].type} fields cannot be mapped")


def test_every_problem_is_reported_at_once(pipedrive, mailchimp) -> None:
    """Validation lists every broken rule in one ExceptionGroup, each naming its field."""
    pairs = [
        FieldPair("first_name", "FNAME"),
        FieldPair("last_name", "FNAME"),
        FieldPair("job_title", "SCORE"),
        FieldPair("gone", "COMPANY"),
        FieldPair(SCORE, "SCORE", truncate=True),
    ]
    with pytest.raises(InvalidFieldMapError) as info:
        FieldMap(PD_TO_MC, pipedrive, mailchimp, pairs)
    found = problems_of(info)
    assert [reason for _, reason in found if not reason[0].isupper()] == [
        RULE_ONCE, RULE_UNKNOWN, RULE_ONCE, RULE_TRUNCATE, RULE_REQUIRED,
    ]  # fmt: skip
    assert ("pipedrive:job_title", found[1][1]) in found
    assert "breaks 6 rules" in str(info.value)


def test_mailchimp_to_pipedrive_needs_a_name(pipedrive, mailchimp) -> None:
    """Pipedrive needs a name to create a person, from name or first and last name."""
    with pytest.raises(InvalidFieldMapError) as info:
        FieldMap(MC_TO_PD, pipedrive, mailchimp, [EMAIL])
    assert problems_of(info) == [("pipedrive:name", RULE_NAME)]
    assert FieldMap(MC_TO_PD, pipedrive, mailchimp, [EMAIL, FieldPair("name", "FNAME")])
    assert FieldMap(MC_TO_PD, pipedrive, mailchimp, [EMAIL, FieldPair("last_name", "LNAME")])


def test_name_and_first_name_cannot_both_write_the_name(pipedrive, mailchimp) -> None:
    """name and first/last name both set the person's name, so only one way is allowed."""
    with pytest.raises(InvalidFieldMapError) as info:
        build(MC_TO_PD, pipedrive, mailchimp, FieldPair("name", "COMPANY"))
    assert problems_of(info) == [("pipedrive:name", RULE_NAME_TWICE)]


def test_truncate_only_where_the_target_holds_limited_text(pipedrive, mailchimp) -> None:
    """truncate=True is accepted on Mailchimp text and refused on a number target."""
    assert build(PD_TO_MC, pipedrive, mailchimp, FieldPair("notes", "COMPANY", truncate=True))
    with pytest.raises(InvalidFieldMapError) as info:
        build(PD_TO_MC, pipedrive, mailchimp, FieldPair(SCORE, "SCORE", truncate=True))
    assert problems_of(info) == [("mailchimp:SCORE", RULE_TRUNCATE)]


def test_option_labels_are_opt_in_per_pair(pipedrive, mailchimp) -> None:
    """An option field maps to Mailchimp text only with send_option_labels=True."""
    with pytest.raises(InvalidFieldMapError):
        build(PD_TO_MC, pipedrive, mailchimp, FieldPair(SOURCE, "SOURCE"))
    assert build(
        PD_TO_MC, pipedrive, mailchimp, FieldPair(SOURCE, "SOURCE", send_option_labels=True)
    )
    with pytest.raises(InvalidFieldMapError):
        build(MC_TO_PD, pipedrive, mailchimp, FieldPair(SOURCE, "SOURCE", send_option_labels=True))


def test_opting_in_where_it_changes_nothing_is_refused(pipedrive, mailchimp) -> None:
    """send_option_labels on a pair that is no option field is a mistake, so it is reported."""
    with pytest.raises(InvalidFieldMapError) as info:
        build(
            PD_TO_MC, pipedrive, mailchimp, FieldPair(COMPANY, "COMPANY", send_option_labels=True)
        )
    assert problems_of(info) == [(f"pipedrive:{COMPANY}", RULE_OPT_IN)]


def test_the_email_name_and_required_fields_are_never_cleared(pipedrive, mailchimp) -> None:
    """clear_when_empty is refused on the email pair and the name, accepted elsewhere."""
    with pytest.raises(InvalidFieldMapError) as info:
        FieldMap(
            PD_TO_MC, pipedrive, mailchimp, [FieldPair("email", "EMAIL", clear_when_empty=True)]
        )
    assert problems_of(info) == [("mailchimp:EMAIL", RULE_CLEARED)]
    with pytest.raises(InvalidFieldMapError) as info:
        FieldMap(
            MC_TO_PD,
            pipedrive,
            mailchimp,
            [EMAIL, FieldPair("name", "FNAME", clear_when_empty=True)],
        )
    assert problems_of(info) == [("pipedrive:name", RULE_CLEARED)]
    assert build(
        PD_TO_MC, pipedrive, mailchimp, FieldPair(COMPANY, "COMPANY", clear_when_empty=True)
    )


def test_replacing_the_pair_that_feeds_a_required_field(pipedrive) -> None:
    """with_pair(replace=True) swaps the source of a required field in one step."""
    fields = [MergeField(merge_id=1, tag="COMPANY", name="Company", type="text", required=True)]
    fieldmap = FieldMap.default(PD_TO_MC, pipedrive, FieldCatalog.for_mailchimp(fields))
    with pytest.raises(InvalidFieldMapError):
        fieldmap.with_pair(FieldPair("job_title", "COMPANY"))
    swapped = fieldmap.with_pair(FieldPair("job_title", "COMPANY"), replace=True)
    assert FieldPair("job_title", "COMPANY") in swapped.pairs
    assert FieldPair(COMPANY, "COMPANY") not in swapped.pairs


def test_removing_a_field_no_pair_uses_is_a_configuration_error(pipedrive, mailchimp) -> None:
    """without() on a field the map does not use says so instead of doing nothing."""
    fieldmap = FieldMap.default(PD_TO_MC, pipedrive, mailchimp)
    with pytest.raises(ConfigurationError, match="ZIPCODE"):
        fieldmap.without("ZIPCODE")
    assert len(fieldmap.without("PHONE")) == 3


def test_suggest_proposes_compatible_unmapped_pairs_by_name(pipedrive, mailchimp) -> None:
    """Suggestions pair alike names of compatible kinds, each field once, best first."""
    fieldmap = FieldMap.default(PD_TO_MC, pipedrive, mailchimp)
    suggestions = fieldmap.suggest()
    pairs = {(s.pair.pipedrive, s.pair.mailchimp) for s in suggestions}
    assert pairs >= {
        ("postal_address", "ADDRESS"), ("birthday", "BIRTHDAY"), (SCORE, "SCORE"),
        (COMPANY, "COMPANY"), ("job_title", "JOBTITLE"),
    }  # fmt: skip
    assert (SOURCE, "SOURCE") not in pairs  # an option field: refused without opting in
    assert all(s.pair.mailchimp not in {"EMAIL", "FNAME"} for s in suggestions)
    assert [s.score for s in suggestions] == sorted((s.score for s in suggestions), reverse=True)
    confirmed = fieldmap
    for suggestion in suggestions:
        confirmed = confirmed.with_pair(suggestion.pair)
    assert len(confirmed) == len(fieldmap) + len(suggestions)


def test_fields_of_returns_source_then_target(pipedrive, mailchimp) -> None:
    """fields_of follows the direction: the source side comes first."""
    pair = FieldPair("first_name", "FNAME")
    there = FieldMap.default(PD_TO_MC, pipedrive, mailchimp)
    back = FieldMap.default(MC_TO_PD, pipedrive, mailchimp)
    assert [f.ref for f in there.fields_of(pair)] == ["pipedrive:first_name", "mailchimp:FNAME"]
    assert [f.ref for f in back.fields_of(pair)] == ["mailchimp:FNAME", "pipedrive:first_name"]


def test_field_map_displays_as_an_html_table(pipedrive, mailchimp) -> None:
    """In a notebook a map is a table of its pairs, with required and lossy pairs marked."""
    fieldmap = FieldMap.default(PD_TO_MC, pipedrive, mailchimp).with_pair(
        FieldPair("birthday", "BIRTHDAY", clear_when_empty=True)
    )
    html = fieldmap._repr_html_()
    assert "Pipedrive → Mailchimp (5 pairs)" in html
    assert html.count("<tr>") == 6
    assert "required" in html
    assert "lossy" in html
    assert "clear when empty" in html
