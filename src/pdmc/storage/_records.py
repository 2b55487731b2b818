"""What a state store holds, as frozen records: flows, links, runs, retries, leases, claims.

Fields documented as "set by the store" are ignored when a record is written and
filled in when it is read back. Every record checks its own fields on construction
and raises :class:`~pdmc.errors.ConfigurationError` naming the record, the field and
the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any, Literal, TypeAlias, get_args

from attrs import Attribute, evolve, field, frozen

from pdmc.errors import ConfigurationError

__all__ = [
    "FLOW_STATUSES",
    "Claim",
    "FlowRecord",
    "FlowStatus",
    "Lease",
    "Link",
    "Outcome",
    "RetryRow",
    "Run",
    "RunStatus",
    "Side",
    "normalise_email",
]

FlowStatus: TypeAlias = Literal["active", "paused", "deactivated"]
RunStatus: TypeAlias = Literal["running", "succeeded", "failed"]
Side: TypeAlias = Literal["pipedrive", "mailchimp"]

FLOW_STATUSES: tuple[FlowStatus, ...] = get_args(FlowStatus)
_RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)
_SIDES: tuple[Side, ...] = get_args(Side)


def normalise_email(email: str) -> str:
    """Return the form under which the store keeps and matches an email address.

    Addresses match case-insensitively and without surrounding blanks, so
    ``" Ada@Example.COM"`` and ``"ada@example.com"`` are the same contact.
    """
    return email.strip().lower()


_Validator: TypeAlias = Callable[[object, "Attribute[Any]", object], None]


def _label(instance: object) -> str:
    """Name a record in an error message by its class and its identifying field."""
    for name in ("flow_id", "email", "row_key", "key", "holder", "action"):
        value = getattr(instance, name, None)
        if isinstance(value, str) and value:
            return f"{type(instance).__name__} {value!r}"
    return type(instance).__name__


def _refuse(instance: object, attribute: Attribute[Any], reason: str) -> ConfigurationError:
    return ConfigurationError(f"{_label(instance)}: field {attribute.name!r} {reason}")


def _text(instance: object, attribute: Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise _refuse(instance, attribute, f"must be a non-empty str, got {value!r}")


def _any_text(instance: object, attribute: Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise _refuse(instance, attribute, f"must be a str, got {value!r}")


def _optional_text(instance: object, attribute: Attribute[Any], value: object) -> None:
    if value is not None:
        _any_text(instance, attribute, value)


def _positive_int(instance: object, attribute: Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _refuse(instance, attribute, f"must be an int >= 1, got {value!r}")


def _optional_id(instance: object, attribute: Attribute[Any], value: object) -> None:
    if value is not None:
        _positive_int(instance, attribute, value)


def _optional_key(instance: object, attribute: Attribute[Any], value: object) -> None:
    if value is not None:
        _text(instance, attribute, value)


def _time(instance: object, attribute: Attribute[Any], value: object) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise _refuse(instance, attribute, f"must be a timezone-aware datetime, got {value!r}")


def _optional_time(instance: object, attribute: Attribute[Any], value: object) -> None:
    if value is not None:
        _time(instance, attribute, value)


def _flag(instance: object, attribute: Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise _refuse(instance, attribute, f"must be a bool, got {value!r}")


def _mapping(instance: object, attribute: Attribute[Any], value: object) -> None:
    if not isinstance(value, Mapping):
        raise _refuse(instance, attribute, f"must be a mapping, got {type(value).__name__}")


def _one_of(choices: Collection[str]) -> _Validator:
    def check(instance: object, attribute: Attribute[Any], value: object) -> None:
        if value not in choices:
            raise _refuse(instance, attribute, f"must be one of {sorted(choices)}, got {value!r}")

    return check


def _counts(instance: object, attribute: Attribute[Any], value: object) -> None:
    if not isinstance(value, Mapping):
        raise _refuse(instance, attribute, f"must be a mapping, got {type(value).__name__}")
    for key, number in value.items():
        if not isinstance(key, str) or isinstance(number, bool) or not isinstance(number, int):
            raise _refuse(instance, attribute, f"must map str to int, got {key!r}: {number!r}")


def _email(value: object) -> object:
    return normalise_email(value) if isinstance(value, str) else value


@frozen(kw_only=True)
class FlowRecord:
    """A flow as the store keeps it: an opaque, versioned definition and its status.

    ``definition`` is the flow engine's JSON document; the store never looks
    inside. ``definition_version`` says which layout the document follows, so a later
    pdmc can read (and upgrade) a definition an older pdmc wrote. A flow is created
    ``paused``; ``deactivated`` needs a ``status_reason``. ``next_run_at`` and
    ``last_run_at`` drive scheduling (:meth:`~pdmc.storage.StateStore.flows_due`).

    ``created_at``, ``updated_at`` (the last change of name, definition or status)
    and ``activated_at`` (the last change to ``active``) are set by the store.
    """

    flow_id: str = field(validator=_text)
    name: str = field(validator=_text)
    definition: Mapping[str, Any] = field(validator=_mapping)
    definition_version: int = field(default=1, validator=_positive_int)
    status: FlowStatus = field(default="paused", validator=_one_of(FLOW_STATUSES))
    status_reason: str | None = field(default=None, validator=_optional_text)
    next_run_at: datetime | None = field(default=None, validator=_optional_time)
    last_run_at: datetime | None = field(default=None, validator=_optional_time)
    created_at: datetime | None = field(default=None, validator=_optional_time)
    updated_at: datetime | None = field(default=None, validator=_optional_time)
    activated_at: datetime | None = field(default=None, validator=_optional_time)

    def __attrs_post_init__(self) -> None:
        if self.status == "deactivated" and not self.status_reason:
            raise ConfigurationError(
                f"{_label(self)}: a deactivated flow needs a status_reason saying why"
            )


@frozen(kw_only=True)
class Link:
    """The tie between a Pipedrive person and a Mailchimp member.

    A link belongs to an account pair (one Pipedrive company and one Mailchimp
    account, named by the caller) and a Mailchimp audience, and is shared by every
    flow of that pair. Within an audience each person id, member id (the sync engine
    stores the member's ``unique_email_id``, which an address change keeps) and email
    belongs to at most one link; ``email`` is kept normalised
    (:func:`normalise_email`).

    The fingerprints are what pdmc last wrote to each side, so a later run can tell
    a real change from its own echo. ``member_status`` is the member's last known
    Mailchimp status (``"subscribed"``, ``"unsubscribed"``, ``"cleaned"``,
    ``"pending"``, ``"transactional"``, ``"archived"``, or pdmc's own ``"forgotten"``
    for an address Mailchimp deleted for good); the store keeps any non-empty text, so
    a status Mailchimp adds later is kept too. ``None`` in a link given to
    :meth:`~pdmc.storage.Batch.upsert_link` means "keep what is stored".
    ``created_at`` and ``updated_at`` are set by the store.
    """

    account_pair: str = field(validator=_text)
    audience_id: str = field(validator=_text)
    email: str = field(converter=_email, validator=_text)
    person_id: int | None = field(default=None, validator=_optional_id)
    member_id: str | None = field(default=None, validator=_optional_key)
    member_status: str | None = field(default=None, validator=_optional_key)
    pipedrive_fingerprint: str | None = field(default=None, validator=_optional_text)
    mailchimp_fingerprint: str | None = field(default=None, validator=_optional_text)
    created_at: datetime | None = field(default=None, validator=_optional_time)
    updated_at: datetime | None = field(default=None, validator=_optional_time)

    def fingerprint(self, side: Side) -> str | None:
        """Return the fingerprint of what pdmc last wrote to ``side``, if any."""
        return self.pipedrive_fingerprint if side == "pipedrive" else self.mailchimp_fingerprint

    def with_fingerprint(self, side: Side, fingerprint: str) -> Link:
        """Return a copy whose fingerprint for ``side`` is ``fingerprint``."""
        if side == "pipedrive":
            return evolve(self, pipedrive_fingerprint=fingerprint)
        if side == "mailchimp":
            return evolve(self, mailchimp_fingerprint=fingerprint)
        raise ConfigurationError(f"{_label(self)}: side must be one of {_SIDES}, got {side!r}")


@frozen(kw_only=True)
class Outcome:
    """What a run did with one contact.

    ``action`` is the engine's word for it (``"created"``, ``"updated"``,
    ``"unchanged"``, ``"skipped"``, ``"failed"``, ...); ``reason`` explains skips
    and failures. The contact is named by whichever of ``email``, ``person_id`` and
    ``member_id`` the engine knew. ``recorded_at`` is set by the store.
    """

    action: str = field(validator=_text)
    email: str | None = field(default=None, converter=_email, validator=_optional_key)
    person_id: int | None = field(default=None, validator=_optional_id)
    member_id: str | None = field(default=None, validator=_optional_key)
    reason: str | None = field(default=None, validator=_optional_text)
    recorded_at: datetime | None = field(default=None, validator=_optional_time)


@frozen(kw_only=True)
class Run:
    """One run of a flow: when it started and ended, how it ended, and its counts.

    ``counts`` are the engine's tallies (contacts created, API calls, token cost, ...).
    A run whose worker crashed stays ``running``; its flow's lease expires, and the
    next worker may finish it as ``failed``.
    """

    run_id: int = field(validator=_positive_int)
    flow_id: str = field(validator=_text)
    status: RunStatus = field(validator=_one_of(_RUN_STATUSES))
    started_at: datetime = field(validator=_time)
    finished_at: datetime | None = field(default=None, validator=_optional_time)
    counts: Mapping[str, int] = field(factory=dict, validator=_counts)
    error: str | None = field(default=None, validator=_optional_text)


@frozen(kw_only=True)
class RetryRow:
    """A contact waiting for another try after a transient failure.

    ``row_key`` is the engine's name for the contact within the flow (for example
    ``"person:42"``); ``payload`` is the engine's JSON document saying what to redo.
    ``attempts`` counts the failures so far and ``first_failed_at`` when they began.
    """

    flow_id: str = field(validator=_text)
    row_key: str = field(validator=_text)
    payload: Any
    error: str = field(validator=_any_text)
    attempts: int = field(validator=_positive_int)
    first_failed_at: datetime = field(validator=_time)
    next_attempt_at: datetime = field(validator=_time)


@frozen(kw_only=True)
class Lease:
    """The right to run one flow, held by one worker until ``expires_at``.

    ``token`` grows by one each time the lease changes hands, so a worker whose
    lease lapsed and was taken over can be told apart from the new holder (pass the
    lease to :class:`~pdmc.storage.Batch` and a stale holder's writes are refused).
    """

    flow_id: str = field(validator=_text)
    holder: str = field(validator=_text)
    token: int = field(validator=_positive_int)
    acquired_at: datetime = field(validator=_time)
    expires_at: datetime = field(validator=_time)


@frozen(kw_only=True)
class Claim:
    """A named, expiring, exclusive claim, such as "I am creating the person for this address".

    Taken with :meth:`~pdmc.storage.StateStore.claim` and given up with
    :meth:`~pdmc.storage.StateStore.release_claim` (or
    :meth:`~pdmc.storage.Batch.release_claim`, with the batch that records the work
    it guarded). ``token`` is random and new each time the claim changes hands (an
    extension by the same holder keeps it), so a stale copy can never release a
    later claim. ``taken_over`` is ``True`` when taking it replaced the expired,
    never released claim of another holder: that holder may have crashed half-way,
    so look before doing the guarded work again.
    """

    key: str = field(validator=_text)
    holder: str = field(validator=_text)
    token: str = field(validator=_text)
    acquired_at: datetime = field(validator=_time)
    expires_at: datetime = field(validator=_time)
    taken_over: bool = field(default=False, validator=_flag)
