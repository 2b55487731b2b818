"""Loading a generated account into the emulator through its direct state API.

:func:`seed_emulator` builds the seeded schema on both sides (person fields,
pipelines and stages, merge fields, tags), streams :func:`generate_contacts` into
the emulator one contact at a time without emitting webhooks, then saves a few
filters and segments. Memory grows with the emulator's state only: the loader keeps
the schema's ids, counters, and the ids of a few recent persons.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import attrs
from attrs import frozen

from pdmc.clients.pipedrive.models import ContactPoint, PostalAddress
from pdmc.emulator._seed import (
    MERGE_FIELDS,
    PERSON_FIELDS,
    PIPELINES,
    TAGS,
    CompanyUser,
    ContactTrait,
    EarlierPerson,
    SeedContact,
    SeedMember,
    SeedPerson,
    SeedSpec,
    generate_contacts,
)

if TYPE_CHECKING:
    from pdmc.emulator._emulator import Emulator

__all__ = ["SeedSummary", "seed_emulator"]

_RECENT_PERSONS: Final = 64


@frozen(kw_only=True)
class SeedSummary:
    """What a seeding made: counts for demos and tests, and the ids to find things by.

    Attributes:
        contacts: contacts generated (a person, a member, or both).
        persons: Pipedrive persons created.
        members: Mailchimp members created, archived ones included.
        members_by_status: members per status (``archived`` included).
        deals: deals created.
        traits: contacts per data-quality case (see :class:`ContactTrait`).
        audience_id: the Mailchimp audience the members are in.
        person_fields: the custom person fields' keys (40-character hashes) by name.
        stages: stage ids by pipeline name, then stage name.
        filters: Pipedrive filter ids by name.
        tags: Mailchimp tag (static segment) ids by name.
        segments: Mailchimp saved segment ids by name.
    """

    contacts: int
    persons: int
    members: int
    members_by_status: Mapping[str, int]
    deals: int
    traits: Mapping[ContactTrait, int]
    audience_id: str
    person_fields: Mapping[str, str]
    stages: Mapping[str, Mapping[str, int]]
    filters: Mapping[str, int]
    tags: Mapping[str, int]
    segments: Mapping[str, int]


def seed_emulator(emulator: Emulator, spec: SeedSpec) -> SeedSummary:
    """Fill ``emulator``'s default Pipedrive company and Mailchimp audience from ``spec``.

    No webhook is emitted: seeding is the state before the story starts. Seed a
    fresh emulator; seeding one twice adds a second set of fields and contacts.

    Raises:
        ConfigurationError: the emulator refused a seeded value (a bug in the generator).
    """
    loader = _Loader(emulator)
    for contact in generate_contacts(spec):
        loader.load(contact)
    return loader.finish()


class _Loader:
    """Creates the schema, then loads contacts one by one, counting as it goes."""

    def __init__(self, emulator: Emulator) -> None:
        self._pipedrive = emulator.pipedrive
        self._mailchimp = emulator.mailchimp
        self._list_id = self._mailchimp.default_audience_id
        self._user_id = self._pipedrive.default_company.user_id
        self._fields = {
            f.name: self._pipedrive.add_person_field(
                f.name, f.field_type, options=list(f.options) or None
            )
            for f in PERSON_FIELDS
        }
        self._options = {
            f.name: self._pipedrive.person_field_options(self._fields[f.name])
            for f in PERSON_FIELDS
            if f.options
        }
        # Filters name fields by their numeric id, as Pipedrive's own filters do.
        self._field_ids = {
            name: str(self._pipedrive.person_field_id(code))
            for name, code in (*self._fields.items(), ("email", "email"))
        }
        self._stages = {
            name: self._add_stages(self._pipedrive.add_pipeline(name), stages)
            for name, stages in PIPELINES
        }
        audience = self._mailchimp.audiences[self._list_id]
        for merge in MERGE_FIELDS:
            if audience.merge_field(merge.tag) is None:  # Mailchimp's defaults exist already
                self._mailchimp.add_merge_field(
                    self._list_id,
                    tag=merge.tag,
                    name=merge.name,
                    type=merge.type,
                    options={"choices": list(merge.options)} if merge.options else None,
                )
        self._tags = {name: self._mailchimp.add_tag(self._list_id, name) for name in TAGS}
        self._recent: deque[int] = deque(maxlen=_RECENT_PERSONS)
        self._contacts = 0
        self._persons = 0
        self._deals = 0
        self._statuses: Counter[str] = Counter()
        self._traits: Counter[ContactTrait] = Counter()

    def _add_stages(self, pipeline_id: int, stages: tuple[str, ...]) -> Mapping[str, int]:
        return MappingProxyType(
            {name: self._pipedrive.add_stage(pipeline_id, name) for name in stages}
        )

    def load(self, contact: SeedContact) -> None:
        self._contacts += 1
        for trait in contact.traits:
            self._traits[trait] += 1
        if contact.person is not None:
            self._load_person(contact.person)
        if contact.member is not None:
            self._load_member(contact.member)

    def _load_person(self, person: SeedPerson) -> None:
        person_id = self._pipedrive.add_person(
            name=person.name,
            first_name=person.first_name,
            last_name=person.last_name,
            emails=[_point(p) for p in person.emails],
            phones=[_point(p) for p in person.phones],
            custom_fields=self._custom_fields(person.custom_fields),
            postal_address=_present(person.postal_address),
            birthday=person.birthday,
            job_title=person.job_title,
            notes=person.notes,
            marketing_status=person.marketing_status,
            notify=False,
        )
        self._persons += 1
        self._recent.append(person_id)
        for deal in person.deals:
            self._pipedrive.add_deal(
                title=deal.title,
                person_id=person_id,
                stage_id=self._stages[deal.pipeline][deal.stage],
                status=deal.status,
                value=deal.value,
                currency=deal.currency,
                notify=False,
            )
            self._deals += 1

    def _custom_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        for name, value in values.items():
            options = self._options.get(name)
            if isinstance(value, CompanyUser):
                wire[self._fields[name]] = self._user_id
            elif isinstance(value, EarlierPerson):
                if self._recent:  # the first persons have nobody to be referred by
                    wire[self._fields[name]] = self._recent[-min(value.back, len(self._recent))]
            elif options is None:
                wire[self._fields[name]] = value
            elif isinstance(value, str):
                wire[self._fields[name]] = options[value]
            else:
                wire[self._fields[name]] = [options[label] for label in value]
        return wire

    def _load_member(self, member: SeedMember) -> None:
        archived = member.status == "archived"
        self._mailchimp.add_member(
            self._list_id,
            member.email,
            status="subscribed" if archived else member.status,
            merge_fields=dict(member.merge_fields),
            tags=member.tags,
            notify=False,
        )
        if archived:
            self._mailchimp.archive(self._list_id, member.email)
        self._statuses[member.status] += 1

    def finish(self) -> SeedSummary:
        return SeedSummary(
            contacts=self._contacts,
            persons=self._persons,
            members=sum(self._statuses.values()),
            members_by_status=MappingProxyType(dict(self._statuses)),
            deals=self._deals,
            traits=MappingProxyType(dict(self._traits)),
            audience_id=self._list_id,
            person_fields=MappingProxyType(self._fields),
            stages=MappingProxyType(self._stages),
            filters=MappingProxyType(self._add_filters()),
            tags=MappingProxyType(self._tags),
            segments=MappingProxyType(self._add_segments()),
        )

    def _add_filters(self) -> dict[str, int]:
        industry, score = self._field_ids["Industry"], self._field_ids["Lead score"]
        software = self._options["Industry"]["Software"]
        healthcare = self._options["Industry"]["Healthcare"]
        return {
            "Software industry": self._pipedrive.add_filter(
                "Software industry", _conditions([_is(industry, "=", software)])
            ),
            "Hot leads with an email": self._pipedrive.add_filter(
                "Hot leads with an email",
                _conditions(
                    [_is(score, ">=", 70), _is(self._field_ids["email"], "IS NOT NULL", None)],
                    either=[_is(industry, "=", software), _is(industry, "=", healthcare)],
                ),
            ),
        }

    def _add_segments(self) -> dict[str, int]:
        def tagged(name: str) -> dict[str, Any]:
            return {
                "condition_type": "StaticSegment",
                "field": "static_segment",
                "op": "static_is",
                "value": self._tags[name],
            }

        def plan(name: str) -> dict[str, Any]:
            return {"condition_type": "SelectMerge", "field": "PLAN", "op": "is", "value": name}

        segments = {
            "VIP customers": {"match": "all", "conditions": [tagged("VIP"), tagged("Customer")]},
            "Paying plans": {"match": "any", "conditions": [plan("Pro"), plan("Enterprise")]},
        }
        return {
            name: self._mailchimp.add_saved_segment(self._list_id, name, conditions)
            for name, conditions in segments.items()
        }


def _point(point: ContactPoint) -> dict[str, Any]:
    return {"value": point.value, "primary": point.primary, "label": point.label}


def _present(address: PostalAddress | None) -> dict[str, Any] | None:
    """A postal address as the API takes it, without its unset (``None``) parts."""
    if address is None:
        return None
    return {k: v for k, v in attrs.asdict(address).items() if v is not None}


def _is(field_id: str, operator: str, value: Any) -> dict[str, Any]:
    return {
        "object": "person",
        "field_id": field_id,
        "operator": operator,
        "value": value,
        "extra_value": None,
    }


def _conditions(
    every: list[dict[str, Any]], either: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A filter's two groups, as Pipedrive's UI saves them: all of ``every``, and one of
    ``either`` (an empty ``or`` group when there is none)."""
    return {
        "glue": "and",
        "conditions": [
            {"glue": "and", "conditions": every},
            {"glue": "or", "conditions": either or []},
        ],
    }
