"""Schema drift: a mapped field deleted or renamed after a flow has synced.

Each scenario runs a flow's initial sync, changes the schema the way people do in
the apps, changes every synced contact's values, and lets the flows settle. A
mapping whose field is gone must fail loudly (a
:class:`~pdmc.errors.FieldMapRuleError` naming the field and the reason, in the
run's report and history) while every other field keeps syncing. The reference is
the same story in which the user removed the broken pair from the flow before
changing the schema: both services must end exactly as it does. A rename that keeps
the field's key (a Pipedrive field's name, a merge field's label) breaks nothing,
and the reference is the story without the rename.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import pytest

from pdmc.errors import FieldMapRuleError
from pdmc.flows import Flow, SyncReport
from pdmc.mapping import Direction, FieldPair
from tests.flows_safety.world import World, make_world
from tests.reliability.input_support import change_merge_field, delete_merge_field, settle
from tests.reliability.ledger import LEDGER, check_end

LINKEDIN = "LinkedIn profile"
"""The Pipedrive varchar custom field the flows map to the merge field COMPANY."""
COMPANY = "COMPANY"
RENAMED_TAG = "EMPLOYER"


class Drift(enum.Enum):
    """What people change in the schema while the flow runs."""

    PIPEDRIVE_FIELD_DELETED = "pipedrive field deleted"
    PIPEDRIVE_FIELD_RENAMED = "pipedrive field renamed"
    MERGE_FIELD_DELETED = "merge field deleted"
    MERGE_TAG_RENAMED = "merge tag renamed"
    MERGE_LABEL_RENAMED = "merge label renamed"

    @property
    def breaks(self) -> str | None:
        """The side whose field the mapping loses, or ``None`` when the key survives."""
        return {
            Drift.PIPEDRIVE_FIELD_DELETED: "pipedrive",
            Drift.MERGE_FIELD_DELETED: "mailchimp",
            Drift.MERGE_TAG_RENAMED: "mailchimp",
        }.get(self)


def _linkedin(world: World) -> str:
    return world.summary.person_fields[LINKEDIN]


def _pairs(world: World, direction: Direction) -> tuple[FieldPair, ...]:
    """The default pairs plus two custom ones: LinkedIn profile <-> COMPANY, score <-> SCORE."""
    return (
        *world.pairs(direction),
        FieldPair(_linkedin(world), COMPANY),
        FieldPair(world.score_field, "SCORE"),
    )


def _flow(world: World, direction: Direction) -> Flow:
    base = world.filter_flow() if direction is Direction.PD_TO_MC else world.tag_flow()
    return base.evolve(pairs=_pairs(world, direction))


def _drift(world: World, drift: Drift) -> None:
    """Change the schema as a person in the app would."""
    emulator, audience = world.emulator, world.audience
    if drift is Drift.PIPEDRIVE_FIELD_DELETED:
        emulator.pipedrive.delete_person_field(_linkedin(world))
    elif drift is Drift.PIPEDRIVE_FIELD_RENAMED:
        emulator.pipedrive.rename_person_field(_linkedin(world), "LinkedIn URL")
    elif drift is Drift.MERGE_FIELD_DELETED:
        delete_merge_field(emulator, audience, COMPANY)
    elif drift is Drift.MERGE_TAG_RENAMED:
        change_merge_field(emulator, audience, COMPANY, tag=RENAMED_TAG)
    else:
        change_merge_field(emulator, audience, COMPANY, name="Employer")


def _company_tag(drift: Drift | None) -> str | None:
    """Where the COMPANY values live after ``drift`` (``None``: nowhere)."""
    if drift is Drift.MERGE_FIELD_DELETED:
        return None
    return RENAMED_TAG if drift is Drift.MERGE_TAG_RENAMED else COMPANY


def _edit_people(world: World, direction: Direction, drift: Drift | None) -> dict[str, str]:
    """Change every synced contact's first name, score and company at its source.

    Returns the new first name of each changed contact, by lower-cased address.
    """
    pipedrive, mailchimp = world.emulator.pipedrive, world.emulator.mailchimp
    renamed: dict[str, str] = {}
    if direction is Direction.PD_TO_MC:
        linkedin_alive = drift is not Drift.PIPEDRIVE_FIELD_DELETED
        for number, person in enumerate(sorted(pipedrive.iter_persons(), key=lambda p: p["id"])):
            score = person["custom_fields"].get(world.score_field)
            if not person["emails"] or score is None or score < 70:
                continue
            custom = {world.score_field: score + 1}
            if linkedin_alive:
                custom[_linkedin(world)] = f"https://www.linkedin.com/in/changed-{number}"
            first = f"Renamed{number}"
            pipedrive.update_person(person["id"], {"first_name": first, "custom_fields": custom})
            renamed[str(person["emails"][0]["value"]).lower()] = first
        return renamed
    tag = _company_tag(drift)
    tagged = [
        m
        for m in mailchimp.iter_members(world.audience)
        if m["status"] == "subscribed" and any(t["name"] == "Customer" for t in m["tags"])
    ]
    for number, member in enumerate(sorted(tagged, key=lambda m: m["email_address"])):
        first = f"Renamed{number}"
        values: dict[str, object] = {"FNAME": first, "SCORE": 80 + number}
        if tag is not None:
            values[tag] = f"Employer {number}"
        mailchimp.update_profile(world.audience, member["email_address"], values)
        renamed[str(member["email_address"]).lower()] = first
    return renamed


def _first_names(world: World, direction: Direction) -> dict[str, str | None]:
    """The first name each contact holds on the flow's target side, by address."""
    if direction is Direction.PD_TO_MC:
        return {
            str(m["email_address"]).lower(): m["merge_fields"].get("FNAME")
            for m in world.emulator.mailchimp.iter_members(world.audience)
        }
    return {
        str(email["value"]).lower(): person["first_name"]
        for person in world.emulator.pipedrive.iter_persons()
        for email in person["emails"]
    }


def _play(
    direction: Direction,
    drift: Drift,
    *,
    before_drift: Callable[[World, Flow], None] | None = None,
    apply_drift: bool = True,
) -> tuple[World, Flow, dict[str, str], list[SyncReport]]:
    world = make_world(contacts=24, seed=5)
    flow = _flow(world, direction)
    world.start(flow)
    settle(world)
    if before_drift is not None:
        before_drift(world, flow)
    if apply_drift:
        _drift(world, drift)
    renamed = _edit_people(world, direction, drift if apply_drift else None)
    return world, flow, renamed, settle(world)


def _drop_company_pair(world: World, flow: Flow) -> None:
    """What a careful user does first: remove the pair from the flow."""
    kept = tuple(p for p in flow.pairs if p.mailchimp != COMPANY)
    world.engine.edit_flow(flow.evolve(pairs=kept), confirm_subscribed=True)


@pytest.mark.parametrize(
    "direction", [Direction.PD_TO_MC, Direction.MC_TO_PD], ids=lambda d: d.value
)
@pytest.mark.parametrize("drift", list(Drift), ids=lambda d: d.value.replace(" ", "-"))
def test_a_broken_mapping_fails_loudly_and_the_other_fields_keep_syncing(
    direction: Direction, drift: Drift
) -> None:
    """A deleted or re-tagged field's pair is reported by name on every run; the rest syncs."""
    world, flow, renamed, reports = _play(direction, drift)

    assert renamed, "the story changed no contact"
    arrived = _first_names(world, direction)
    assert {email: arrived.get(email) for email in renamed} == renamed
    side = drift.breaks
    if side is None:
        assert all(not r.errors and not r.broken_mappings for r in reports)
        reference, *_ = _play(direction, drift, apply_drift=False)
    else:
        key = _linkedin(world) if side == "pipedrive" else COMPANY
        for report in reports:
            assert report.counts["failed"] == 0
            (broken,) = report.broken_mappings
            assert isinstance(broken, FieldMapRuleError)
            assert broken.field == f"{side}:{key}"
            assert broken.reason
            assert key in str(broken)
            assert report.errors == (str(broken),)
            assert key in report._repr_html_()  # a notebook shows it too
        history = world.engine.history(flow.id, limit=100)
        after_drift = [run for run in history if run.error is not None]
        assert after_drift, "no run recorded the broken mapping"
        assert all(key in (run.error or "") and run.status == "succeeded" for run in after_drift)
        reference, *_ = _play(direction, drift, before_drift=_drop_company_pair)
    check_end(
        f"schema drift: {drift.value}, {direction}",
        world.emulator,
        reference.emulator,
        world.audience,
        faults=1,
    )


def test_a_deleted_field_in_a_dry_run_is_named_in_the_plan() -> None:
    """A dry run after a merge field was deleted plans the other fields and names the broken one."""
    world = make_world(contacts=24, seed=5, auto_deliver=False)
    flow = _flow(world, Direction.PD_TO_MC)
    world.start(flow)
    settle(world)
    delete_merge_field(world.emulator, world.audience, COMPANY)
    renamed = _edit_people(world, Direction.PD_TO_MC, Drift.MERGE_FIELD_DELETED)

    plan = world.engine.dry_run(flow.id)

    (broken,) = plan.broken_mappings
    assert broken.field == f"mailchimp:{COMPANY}"
    assert plan.dry_run
    planned = {o.email for o in plan.outcomes if o.action.value == "updated"}
    assert set(renamed) <= planned
    LEDGER.record("schema drift: dry run names the broken field", faults=1, contacts=len(renamed))
