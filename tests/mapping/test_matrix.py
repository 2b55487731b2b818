"""The kinds and the compatibility matrix: every cell decided, seed rules and silent cases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pdmc.mapping import (
    MAILCHIMP_TYPES,
    PIPEDRIVE_TYPES,
    Direction,
    Kind,
    Side,
    kind_of,
    matrix,
    render_matrix_markdown,
    verdict,
)

PD_TO_MC = Direction.PD_TO_MC
MC_TO_PD = Direction.MC_TO_PD
DOCS = Path(__file__).resolve().parents[2] / "docs" / "mapping.md"
SEED_PIPEDRIVE = ("enum", "set", "user", "org", "people")
SEED_MAILCHIMP = ("radio", "dropdown")


def test_every_listed_type_has_a_known_kind() -> None:
    """Each Pipedrive and Mailchimp type the contracts list falls into a known kind."""
    for field_type in PIPEDRIVE_TYPES:
        assert kind_of(Side.PIPEDRIVE, field_type) is not Kind.UNKNOWN, field_type
    for field_type in MAILCHIMP_TYPES:
        assert kind_of(Side.MAILCHIMP, field_type) is not Kind.UNKNOWN, field_type


def test_a_type_added_later_is_unknown_and_refused() -> None:
    """A type pdmc does not know is refused in both directions, with the type named."""
    assert kind_of(Side.PIPEDRIVE, "hologram") is Kind.UNKNOWN
    for direction in Direction:
        decided = verdict("hologram", "text", direction)
        assert not decided.allowed
        assert "'hologram'" in decided.reason
        assert not verdict("varchar", "hologram", direction).allowed


def test_direction_names_its_source_and_target() -> None:
    """PD_TO_MC reads Pipedrive and writes Mailchimp; MC_TO_PD the other way round."""
    assert (PD_TO_MC.source, PD_TO_MC.target) == (Side.PIPEDRIVE, Side.MAILCHIMP)
    assert (MC_TO_PD.source, MC_TO_PD.target) == (Side.MAILCHIMP, Side.PIPEDRIVE)
    assert PD_TO_MC.arrow == "Pipedrive → Mailchimp"


def test_the_matrix_decides_every_pair_in_both_directions() -> None:
    """The matrix has one cell per Pipedrive type, Mailchimp type and direction."""
    cells = matrix()
    assert len(cells) == len(PIPEDRIVE_TYPES) * len(MAILCHIMP_TYPES) * 2 == 864
    assert len({(c.pipedrive_type, c.mailchimp_type, c.direction) for c in cells}) == 864


def test_every_cell_has_a_reason_and_refused_cells_are_not_lossless() -> None:
    """Every verdict, allowed or refused, carries a sentence; a refused one is never lossless."""
    for cell in matrix():
        assert cell.verdict.reason.strip().endswith("."), cell
        if not cell.verdict.allowed:
            assert not cell.verdict.lossless, cell


def test_measured_counts_of_the_matrix() -> None:
    """The matrix allows 33 of 864 cells, 30 of them lossless (pinned so a change is seen)."""
    cells = matrix()
    assert sum(c.verdict.allowed for c in cells) == 33
    assert sum(c.verdict.lossless for c in cells) == 30


@pytest.mark.parametrize("pd_type", SEED_PIPEDRIVE)
@pytest.mark.parametrize("direction", list(Direction))
def test_seed_unsupported_pipedrive_types_are_refused_with_every_mailchimp_type(
    pd_type: str, direction: Direction
) -> None:
    """Seed rule: Pipedrive option, multi-option, user, organization, person fields never map."""
    for mc_type in MAILCHIMP_TYPES:
        decided = verdict(pd_type, mc_type, direction)
        assert not decided.allowed
        if mc_type not in SEED_MAILCHIMP or direction is PD_TO_MC:
            assert "Pipedrive" in decided.reason
            assert "cannot be mapped (a rule of the seed integration)" in decided.reason


@pytest.mark.parametrize("mc_type", SEED_MAILCHIMP)
@pytest.mark.parametrize("direction", list(Direction))
def test_seed_unsupported_mailchimp_types_are_refused_with_every_pipedrive_type(
    mc_type: str, direction: Direction
) -> None:
    """Seed rule: Mailchimp radio and dropdown fields never map, whatever the other side."""
    mappable = {c.pipedrive_type for c in matrix() if c.verdict.allowed}
    for pd_type in PIPEDRIVE_TYPES:
        decided = verdict(pd_type, mc_type, direction)
        assert not decided.allowed
        if pd_type in mappable or direction is MC_TO_PD:
            assert f"Mailchimp {mc_type} fields cannot be mapped" in decided.reason


@pytest.mark.parametrize("target", ["number", "date", "birthday"])
def test_seed_text_never_maps_to_a_number_or_a_date(target: str) -> None:
    """Seed rule: text to number or date is refused, with the seed named as the reason."""
    for text_type in ("varchar", "varchar_auto", "text"):
        decided = verdict(text_type, target, PD_TO_MC)
        assert not decided.allowed
        assert "Text never maps to a number or a date" in decided.reason
    assert not verdict("double", "text", MC_TO_PD).allowed
    assert not verdict("date", "text", MC_TO_PD).allowed


def test_seed_text_maps_to_text_both_ways() -> None:
    """Seed rule: a text field maps to a text field, losslessly, in both directions."""
    assert verdict("varchar", "text", PD_TO_MC).lossless
    assert verdict("varchar", "text", MC_TO_PD).lossless
    assert verdict("text", "text", MC_TO_PD).lossless


@pytest.mark.parametrize(
    ("pd_type", "mc_type", "direction", "lossless"),
    [
        ("phone", "text", PD_TO_MC, True),
        ("varchar", "phone", MC_TO_PD, True),
        ("varchar", "url", MC_TO_PD, True),
        ("text", "imageurl", MC_TO_PD, True),
        ("varchar", "zip", MC_TO_PD, True),
        ("monetary", "number", PD_TO_MC, False),
        ("date", "birthday", PD_TO_MC, False),
        ("address", "address", PD_TO_MC, False),
        ("address", "address", MC_TO_PD, True),
    ],
)
def test_where_the_seed_is_silent_these_pairs_are_allowed(
    pd_type: str, mc_type: str, direction: Direction, lossless: bool
) -> None:
    """Phone, url and zip go to text; money goes to a number and a date to a birthday, lossily."""
    decided = verdict(pd_type, mc_type, direction)
    assert decided.allowed
    assert decided.lossless is lossless


@pytest.mark.parametrize(
    ("pd_type", "mc_type", "direction", "words"),
    [
        ("date", "birthday", MC_TO_PD, "will not invent"),
        ("monetary", "number", MC_TO_PD, "needs one"),
        ("varchar", "zip", PD_TO_MC, "ZIP"),
        ("varchar", "url", PD_TO_MC, "web address"),
        ("varchar", "phone", PD_TO_MC, "phone number"),
        ("phone", "text", MC_TO_PD, "phone"),
        ("varchar", "email", PD_TO_MC, "identity"),
        ("email", "text", MC_TO_PD, "identity"),
        ("status", "text", PD_TO_MC, "consent"),
        ("boolean", "text", PD_TO_MC, "yes/no"),
        ("deal", "number", PD_TO_MC, "id of another Pipedrive record"),
    ],
)
def test_where_the_seed_is_silent_these_pairs_are_refused_with_a_reason(
    pd_type: str, mc_type: str, direction: Direction, words: str
) -> None:
    """A birthday never becomes a date, a number never money, and free text never a zip or url."""
    decided = verdict(pd_type, mc_type, direction)
    assert not decided.allowed
    assert words in decided.reason


def test_the_email_address_maps_only_to_the_email_address() -> None:
    """The email pseudo-type maps to its twin in both directions and to nothing else."""
    for direction in Direction:
        assert verdict("email", "email", direction).lossless
        others = [c for c in matrix() if c.direction is direction and c.verdict.allowed]
        for cell in others:
            assert (cell.pipedrive_type == "email") == (cell.mailchimp_type == "email")


def test_option_labels_are_opt_in_and_only_into_mailchimp_text() -> None:
    """Beyond the seed, option labels may go to Mailchimp text only when opted in, one way."""
    assert not verdict("enum", "text", PD_TO_MC).allowed
    assert "send_option_labels=True" in verdict("enum", "text", PD_TO_MC).reason
    opted = verdict("enum", "text", PD_TO_MC, send_option_labels=True)
    assert opted.allowed
    assert not opted.lossless
    assert verdict("set", "text", PD_TO_MC, send_option_labels=True).allowed
    assert not verdict("enum", "text", MC_TO_PD, send_option_labels=True).allowed
    assert not verdict("enum", "radio", PD_TO_MC, send_option_labels=True).allowed
    assert not verdict("enum", "number", PD_TO_MC, send_option_labels=True).allowed


def test_the_docs_table_is_the_code_matrix() -> None:
    """docs/mapping.md holds exactly render_matrix_markdown() between its markers."""
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(r"<!-- matrix:begin -->\n(.*)<!-- matrix:end -->", text, re.DOTALL)
    assert match is not None, "docs/mapping.md lacks the matrix markers"
    assert match[1] == render_matrix_markdown(), (
        "docs/mapping.md is stale: paste the output of "
        "`python -c 'from pdmc.mapping import render_matrix_markdown as r; print(r(), end=\"\")'`"
    )


def test_the_rendered_table_marks_every_cell() -> None:
    """Each grid row has a mark per Mailchimp type, and every reason number has a reason."""
    rendered = render_matrix_markdown()
    rows = [line for line in rendered.splitlines() if line.startswith("| `")]
    grid_rows = [row for row in rows if row.count("|") == len(MAILCHIMP_TYPES) + 2]
    assert len(grid_rows) == 2 * len(PIPEDRIVE_TYPES)
    numbers = {int(n) for n in re.findall(r"[✓≈✗] (\d+)", rendered)}
    listed = {int(n) for n in re.findall(r"^(\d+)\. ", rendered, re.MULTILINE)}
    assert numbers == listed
