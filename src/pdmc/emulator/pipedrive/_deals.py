"""Pipelines, stages, deals and deal participants, and their wire shapes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from attrs import define, field

from pdmc.emulator.pipedrive._filters import FieldRef
from pdmc.emulator.pipedrive._persons import visibility
from pdmc.emulator.pipedrive._wire import bad_request, day_of, rfc3339, v1_time, valid_date

__all__ = [
    "DEAL_FIELDS",
    "DEAL_STATUSES",
    "DEFAULT_STAGES",
    "DealRecord",
    "Participant",
    "PipelineRecord",
    "StageRecord",
    "apply_deal",
    "deal_v1",
    "deal_v2",
    "deal_values",
    "deal_webhook",
    "parse_deal_input",
]

DEAL_STATUSES: Final = ("open", "won", "lost")
DEFAULT_STAGES: Final = (
    "Qualified",
    "Contact Made",
    "Demo Scheduled",
    "Proposal Made",
    "Negotiations Started",
)
_DEAL_WRITABLE: Final = frozenset(
    {
        "title",
        "owner_id",
        "person_id",
        "org_id",
        "pipeline_id",
        "stage_id",
        "value",
        "currency",
        "status",
        "probability",
        "lost_reason",
        "visible_to",
        "expected_close_date",
    }
)

_DEAL_FIELD_TYPES: Final = (
    ("title", "varchar"),
    ("value", "monetary"),
    ("currency", "varchar"),
    ("status", "status"),
    ("stage_id", "stage"),
    ("pipeline_id", "pipeline"),
    ("person_id", "people"),
    ("org_id", "org"),
    ("owner_id", "user"),
    ("add_time", "date"),
    ("update_time", "date"),
    ("expected_close_date", "date"),
)
DEAL_FIELDS: Final = {
    code: FieldRef("deal", 12_001 + index, code, kind)
    for index, (code, kind) in enumerate(_DEAL_FIELD_TYPES)
}
"""The deal fields deal filters can name (by code, or by these numeric ids)."""


@define
class PipelineRecord:
    """A pipeline."""

    id: int
    name: str
    order_nr: int
    add_time: float
    update_time: float

    def v2(self) -> dict[str, Any]:
        """As ``getPipelines`` sends it."""
        return {
            "id": self.id,
            "name": self.name,
            "order_nr": self.order_nr,
            "is_deleted": False,
            "is_deal_probability_enabled": False,
            "add_time": rfc3339(self.add_time),
            "update_time": rfc3339(self.update_time),
        }

    def v1(self) -> dict[str, Any]:
        """As ``/v1/recents`` sends it."""
        return {
            "id": self.id,
            "name": self.name,
            "url_title": self.name.lower().replace(" ", "-"),
            "order_nr": self.order_nr,
            "active": True,
            "deal_probability": False,
            "add_time": v1_time(self.add_time),
            "update_time": v1_time(self.update_time),
        }


@define
class StageRecord:
    """A stage of a pipeline."""

    id: int
    pipeline_id: int
    name: str
    order_nr: int
    add_time: float
    update_time: float

    def v2(self) -> dict[str, Any]:
        """As ``getStages`` sends it."""
        return {
            "id": self.id,
            "order_nr": self.order_nr,
            "name": self.name,
            "is_deleted": False,
            "deal_probability": 100,
            "pipeline_id": self.pipeline_id,
            "is_deal_rot_enabled": False,
            "days_to_rotten": None,
            "add_time": rfc3339(self.add_time),
            "update_time": rfc3339(self.update_time),
        }

    def v1(self) -> dict[str, Any]:
        """As ``/v1/recents`` sends it."""
        return {
            "id": self.id,
            "order_nr": self.order_nr,
            "name": self.name,
            "active_flag": True,
            "deal_probability": 100,
            "pipeline_id": self.pipeline_id,
            "rotten_flag": False,
            "rotten_days": 0,
            "add_time": v1_time(self.add_time),
            "update_time": v1_time(self.update_time),
        }


@define
class Participant:
    """A person taking part in a deal."""

    id: int
    person_id: int
    add_time: float


@define
class DealRecord:
    """A deal as stored."""

    id: int
    title: str
    owner_id: int
    pipeline_id: int
    stage_id: int
    add_time: float
    update_time: float
    person_id: int | None = None
    org_id: int | None = None
    status: str = "open"
    value: float = 0
    currency: str = "EUR"
    stage_change_time: float | None = None
    won_time: float | None = None
    lost_time: float | None = None
    close_time: float | None = None
    probability: float | None = None
    lost_reason: str | None = None
    visible_to: int = 3
    expected_close_date: str | None = None
    origin: str = "ManuallyCreated"
    deleted: bool = False
    participants: list[Participant] = field(factory=list)

    def snapshot(self) -> tuple[Any, ...]:
        """Every wire value, to tell whether an update changed anything."""
        return (
            self.title,
            self.owner_id,
            self.pipeline_id,
            self.stage_id,
            self.person_id,
            self.org_id,
            self.status,
            self.value,
            self.currency,
            self.probability,
            self.lost_reason,
            self.visible_to,
            self.expected_close_date,
            self.deleted,
        )


def _number(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise bad_request(f"{where} must be a number")
    return raw


def _title(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise bad_request(f"{where} is required and must be a non-empty string")
    return raw


def _currency(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or len(raw) != 3 or not raw.isalpha():  # noqa: PLR2004
        raise bad_request(f"{where} must be a 3-letter code")
    return raw.upper()


def _status(raw: Any, where: str) -> str:
    if raw not in DEAL_STATUSES:
        raise bad_request(f"{where} must be one of {', '.join(DEAL_STATUSES)}")
    return str(raw)


def _nullable(check: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    return lambda raw, where: None if raw is None else check(raw, where)


def _text(raw: Any, where: str) -> str:
    if not isinstance(raw, str):
        raise bad_request(f"{where} must be a string")
    return raw


def _date(raw: Any, where: str) -> str:
    if not valid_date(raw):
        raise bad_request(f"{where} must be a date as YYYY-MM-DD")
    return str(raw)


_DEAL_CHECKS: Final[Mapping[str, Callable[[Any, str], Any]]] = {
    "title": _title,
    "value": _number,
    "currency": _currency,
    "status": _status,
    "probability": _nullable(_number),
    "lost_reason": _nullable(_text),
    "visible_to": visibility,
    "expected_close_date": _nullable(_date),
}
_DEAL_REFERENCES: Final = {"owner_id": "user", "person_id": "people", "org_id": "org"}


def _stage(
    body: Mapping[str, Any],
    *,
    creating: bool,
    stage_of: Callable[[int], StageRecord | None],
    first_stage: Callable[[int | None], StageRecord | None],
) -> StageRecord | None:
    """The stage a write puts the deal in: the given stage, else the pipeline's first."""
    if body.get("stage_id") is not None:
        stage = stage_of(body["stage_id"]) if isinstance(body["stage_id"], int) else None
        if stage is None:
            raise bad_request(f"stage_id: no stage with id {body['stage_id']!r}")
        if body.get("pipeline_id") not in {None, stage.pipeline_id}:
            raise bad_request(f"stage {stage.id} is not in pipeline {body['pipeline_id']}")
        return stage
    if body.get("pipeline_id") is None and not creating:
        return None
    stage = first_stage(body.get("pipeline_id"))
    if stage is None:
        raise bad_request(f"pipeline_id: no pipeline with stages {body.get('pipeline_id')!r}")
    return stage


def parse_deal_input(
    body: Mapping[str, Any],
    *,
    creating: bool,
    exists: Callable[[str, int], bool],
    stage_of: Callable[[int], StageRecord | None],
    first_stage: Callable[[int | None], StageRecord | None],
) -> dict[str, Any]:
    """Check an ``addDeal``/``updateDeal`` body (the emulated subset of its fields).

    A stage implies its pipeline; a pipeline alone means its first stage. Raises
    :class:`APIProblem` (400) naming the field and the reason.
    """
    unknown = sorted(set(body) - _DEAL_WRITABLE)
    if unknown:
        raise bad_request(f"deal fields not emulated or unknown: {', '.join(unknown)}")
    if creating and "title" not in body:
        raise bad_request("title is required")
    values: dict[str, Any] = {}
    for key, raw in body.items():
        if key in _DEAL_CHECKS:
            values[key] = _DEAL_CHECKS[key](raw, key)
        elif key in _DEAL_REFERENCES:
            kind = _DEAL_REFERENCES[key]
            if raw is None and key != "owner_id":
                values[key] = None
            elif isinstance(raw, bool) or not isinstance(raw, int) or not exists(kind, raw):
                raise bad_request(f"{key}: no {kind} with id {raw!r}")
            else:
                values[key] = raw
    stage = _stage(body, creating=creating, stage_of=stage_of, first_stage=first_stage)
    if stage is not None:
        values["stage_id"], values["pipeline_id"] = stage.id, stage.pipeline_id
    return values


def apply_deal(deal: DealRecord, changes: Mapping[str, Any], now: float) -> bool:
    """Apply checked changes with Pipedrive's side effects; return whether anything changed.

    A new stage sets ``stage_change_time``; won or lost set their time and the close
    time; reopening clears them.
    """
    before = deal.snapshot()
    old_stage, old_status = deal.stage_id, deal.status
    for key, value in changes.items():
        setattr(deal, key, value)
    if deal.snapshot() == before:
        return False
    if deal.stage_id != old_stage:
        deal.stage_change_time = now
    if deal.status != old_status:
        deal.won_time = now if deal.status == "won" else None
        deal.lost_time = now if deal.status == "lost" else None
        deal.close_time = now if deal.status in {"won", "lost"} else None
    deal.update_time = now
    return True


def _stamp(seconds: float | None) -> str | None:
    return None if seconds is None else rfc3339(seconds)


def deal_v2(deal: DealRecord) -> dict[str, Any]:
    """A deal as the v2 API sends it (non-nullable fields without a value left out)."""
    wire: dict[str, Any] = {
        "id": deal.id,
        "title": deal.title,
        "owner_id": deal.owner_id,
        "person_id": deal.person_id,
        "org_id": deal.org_id,
        "pipeline_id": deal.pipeline_id,
        "stage_id": deal.stage_id,
        "value": deal.value,
        "currency": deal.currency,
        "add_time": rfc3339(deal.add_time),
        "update_time": rfc3339(deal.update_time),
        "stage_change_time": _stamp(deal.stage_change_time),
        "is_deleted": deal.deleted,
        "is_archived": False,
        "status": deal.status,
        "probability": deal.probability,
        "lost_reason": deal.lost_reason,
        "visible_to": deal.visible_to,
        "close_time": _stamp(deal.close_time),
        "won_time": _stamp(deal.won_time),
        "lost_time": _stamp(deal.lost_time),
        "expected_close_date": deal.expected_close_date,
        "label_ids": [],
        "origin": deal.origin,
        "origin_id": None,
        "channel": None,
        "channel_id": None,
        "arr": None,
        "mrr": None,
        "acv": None,
        "custom_fields": {},
    }
    for key in (
        "person_id",
        "org_id",
        "stage_change_time",
        "won_time",
        "lost_time",
        "expected_close_date",
    ):
        if wire[key] is None:
            del wire[key]
    return wire


def deal_webhook(deal: DealRecord, creator_id: int) -> dict[str, Any]:
    """The slim deal of a webhooks v2 payload."""
    return {
        "add_time": rfc3339(deal.add_time),
        "close_time": _stamp(deal.close_time),
        "creator_user_id": creator_id,
        "currency": deal.currency,
        "custom_fields": {},
        "expected_close_date": deal.expected_close_date,
        "id": deal.id,
        "is_archived": False,
        "label_ids": [],
        "lost_reason": deal.lost_reason,
        "lost_time": _stamp(deal.lost_time),
        "org_id": deal.org_id,
        "origin": deal.origin,
        "owner_id": deal.owner_id,
        "person_id": deal.person_id,
        "pipeline_id": deal.pipeline_id,
        "probability": deal.probability,
        "stage_change_time": _stamp(deal.stage_change_time),
        "stage_id": deal.stage_id,
        "status": deal.status,
        "title": deal.title,
        "update_time": rfc3339(deal.update_time),
        "value": deal.value,
        "visible_to": str(deal.visible_to),
        "won_time": _stamp(deal.won_time),
    }


def deal_v1(deal: DealRecord, owner: Mapping[str, Any]) -> dict[str, Any]:
    """A deal in the v1 shape of ``/v1/recents`` (absent non-nullable values left out)."""
    wire: dict[str, Any] = {
        "id": deal.id,
        "creator_user_id": owner["id"],
        "user_id": deal.owner_id,
        "person_id": deal.person_id,
        "org_id": deal.org_id,
        "stage_id": deal.stage_id,
        "title": deal.title,
        "value": deal.value,
        "currency": deal.currency,
        "add_time": v1_time(deal.add_time),
        "update_time": v1_time(deal.update_time),
        "stage_change_time": None
        if deal.stage_change_time is None
        else v1_time(deal.stage_change_time),
        "active": deal.status == "open" and not deal.deleted,
        "deleted": deal.deleted,
        "is_archived": False,
        "status": deal.status,
        "probability": deal.probability,
        "lost_reason": deal.lost_reason,
        "visible_to": str(deal.visible_to),
        "close_time": None if deal.close_time is None else v1_time(deal.close_time),
        "pipeline_id": deal.pipeline_id,
        "won_time": None if deal.won_time is None else v1_time(deal.won_time),
        "lost_time": None if deal.lost_time is None else v1_time(deal.lost_time),
        "expected_close_date": deal.expected_close_date,
        "owner_name": owner["name"],
        "origin": deal.origin,
        "origin_id": None,
    }
    nullable = {"probability", "lost_reason", "close_time", "origin_id"}
    return {key: value for key, value in wire.items() if value is not None or key in nullable}


def deal_values(deal: DealRecord, code: str) -> list[Any]:
    """The values a deal filter compares for one of :data:`DEAL_FIELDS`."""
    if code in {"add_time", "update_time"}:
        return [day_of(getattr(deal, code))]
    value = getattr(deal, code)
    if value is None:
        return []
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [float(value)]
    return [value]
