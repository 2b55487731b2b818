"""Field catalogs: every field of one side, in one model, built from the vendor's metadata.

A catalog is built from what the clients return (``PersonField`` or ``MergeField``
lists) and does no I/O. It answers "which fields can this field map to, and why not
the others" through :meth:`FieldCatalog.compatible_targets`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from types import MappingProxyType
from typing import Final

from attrs import field, frozen

from pdmc.clients.mailchimp.models import MergeField
from pdmc.clients.pipedrive.models import PersonField
from pdmc.errors import ConfigurationError
from pdmc.mapping._html import html_table
from pdmc.mapping._kinds import EMAIL_TYPE, Direction, Kind, Side, kind_of
from pdmc.mapping._matrix import Verdict, verdict

__all__ = [
    "MAILCHIMP_EMAIL_KEY",
    "PIPEDRIVE_EMAIL_KEY",
    "PIPEDRIVE_PHONE_KEY",
    "Field",
    "FieldCatalog",
    "Option",
    "Subfield",
    "TargetChoice",
    "TargetChoices",
    "pair_verdict",
]

PIPEDRIVE_EMAIL_KEY: Final = "email"
"""The key of a person's email addresses (Pipedrive reports ``email`` or ``emails``)."""

MAILCHIMP_EMAIL_KEY: Final = "EMAIL"
"""The key of a member's ``email_address`` (Mailchimp reserves the merge tag EMAIL)."""

PIPEDRIVE_PHONE_KEY: Final = "phone"
"""The key of a person's phone numbers (Pipedrive reports ``phone`` or ``phones``)."""


@frozen
class Option:
    """One choice of an option field: Pipedrive's option id and label, or a Mailchimp choice."""

    id: int | str
    label: str


@frozen
class Subfield:
    """A component of a Pipedrive address or monetary field."""

    key: str
    label: str


@frozen
class _Standard:
    """How pdmc reads and writes one of Pipedrive's built-in person fields."""

    read: str | None = None  # the Person attribute holding the value
    write: str | None = None  # the PersonInput attribute taking it
    field_type: str | None = None  # the type pdmc treats the field as, when not the vendor's


_STANDARD: Final = MappingProxyType(
    {
        "name": _Standard("name", "name"),
        # First and last name are written together, as the person's name.
        "first_name": _Standard("first_name", "name"),
        "last_name": _Standard("last_name", "name"),
        PIPEDRIVE_EMAIL_KEY: _Standard("primary_email", "emails", EMAIL_TYPE),
        PIPEDRIVE_PHONE_KEY: _Standard("primary_phone", "phones"),
        "postal_address": _Standard("postal_address", "postal_address"),
        "birthday": _Standard("birthday", "birthday"),
        "job_title": _Standard("job_title", "job_title"),
        "notes": _Standard("notes", "notes"),
        "marketing_status": _Standard(field_type="status"),
    }
)
_KEY_ALIASES: Final = MappingProxyType(
    {"emails": PIPEDRIVE_EMAIL_KEY, "phones": PIPEDRIVE_PHONE_KEY}
)


@frozen
class Field:
    """One field of either side.

    Attributes:
        side: the application the field belongs to.
        key: Pipedrive's ``field_code`` (``email`` and ``phone`` for the built-in
            contact points) or Mailchimp's merge tag (``EMAIL`` for the address).
        label: the name people see.
        type: the vendor's type, except ``email`` for the email address on both sides
            and ``status`` for Pipedrive's marketing status.
        required: whether the account marks the field required.
        options: the choices of an option field.
        subfields: the components of a Pipedrive address or monetary field.
        format: a Mailchimp date, birthday or phone field's format (``MM/DD/YYYY``,
            ``DD/MM``, ``US``...).
        custom: whether the field was created by a user (Pipedrive custom fields).
        read: the Person attribute a built-in Pipedrive field is read from.
        write: the PersonInput attribute a built-in Pipedrive field is written to.
    """

    side: Side
    key: str
    label: str
    type: str
    required: bool = False
    options: tuple[Option, ...] = ()
    subfields: tuple[Subfield, ...] = ()
    format: str | None = None
    custom: bool = False
    read: str | None = None
    write: str | None = None

    @property
    def kind(self) -> Kind:
        """The canonical kind of the field's values."""
        return kind_of(self.side, self.type)

    @property
    def ref(self) -> str:
        """``"pipedrive:<key>"`` or ``"mailchimp:<key>"``: how errors name the field."""
        return f"{self.side.value}:{self.key}"

    @property
    def title(self) -> str:
        """``Mailchimp field 'First Name' (FNAME)``: how messages name the field."""
        return f"{self.side.title} field {self.label!r} ({self.key})"

    @property
    def synced(self) -> bool:
        """Whether pdmc can read and write this field (custom, or a built-in it knows)."""
        return self.side is Side.MAILCHIMP or self.custom or self.read is not None


def pair_verdict(
    pipedrive: Field,
    mailchimp: Field,
    direction: Direction,
    *,
    send_option_labels: bool = False,
) -> Verdict:
    """Decide whether two fields may be mapped in ``direction``, and why.

    The type matrix decides first; a pair it allows is still refused when pdmc does
    not sync the Pipedrive field (a system field Pipedrive computes itself).
    """
    decided = verdict(
        pipedrive.type, mailchimp.type, direction, send_option_labels=send_option_labels
    )
    if decided.allowed and not pipedrive.synced:
        return Verdict.refuse(
            f"{pipedrive.title} is a system field Pipedrive fills in itself; pdmc does not "
            "sync it.",
        )
    return decided


@frozen
class TargetChoice:
    """A candidate target field and the verdict on mapping to it."""

    field: Field
    verdict: Verdict


@frozen
class TargetChoices:
    """The answer to "which fields can this field map to, and why not the others"."""

    source: Field
    allowed: tuple[TargetChoice, ...]
    refused: tuple[TargetChoice, ...]


@frozen
class FieldCatalog:
    """Every field of one side, keyed by :attr:`Field.key`, in the vendor's order.

    Build it with :meth:`for_pipedrive` or :meth:`for_mailchimp`. Both always hold
    the email address (Mailchimp's is required). Look fields up with ``catalog[key]``
    (``KeyError`` when absent) or :meth:`get`.
    """

    side: Side
    fields: tuple[Field, ...]
    _by_key: dict[str, Field] = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        by_key: dict[str, Field] = {}
        for item in self.fields:
            if item.side is not self.side:
                raise ConfigurationError(
                    f"{item.title} does not belong to a {self.side.title} catalog"
                )
            if item.key in by_key:
                raise ConfigurationError(f"{self.side.title} has two fields keyed {item.key!r}")
            by_key[item.key] = item
        object.__setattr__(self, "_by_key", by_key)

    @classmethod
    def for_pipedrive(cls, fields: Iterable[PersonField]) -> FieldCatalog:
        """Build the catalog of Pipedrive person fields, standard and custom.

        ``email``/``emails`` become the ``email`` field and ``phone``/``phones`` the
        ``phone`` field; an email field is added when the list has none. Raises
        :class:`~pdmc.errors.ConfigurationError` if two fields share a key.
        """
        built = [_pipedrive_field(person_field) for person_field in fields]
        if not any(item.key == PIPEDRIVE_EMAIL_KEY for item in built):
            built.insert(0, _pipedrive_field(PersonField(
                field_code=PIPEDRIVE_EMAIL_KEY, field_name="Email", field_type="varchar"
            )))  # fmt: skip
        return cls(Side.PIPEDRIVE, tuple(built))

    @classmethod
    def for_mailchimp(cls, fields: Iterable[MergeField]) -> FieldCatalog:
        """Build the catalog of an audience's merge fields plus the member's email address.

        The email address comes first, keyed ``EMAIL`` and required. Raises
        :class:`~pdmc.errors.ConfigurationError` if two merge fields share a tag.
        """
        email = Field(
            Side.MAILCHIMP, MAILCHIMP_EMAIL_KEY, "Email Address", EMAIL_TYPE, required=True
        )
        return cls(Side.MAILCHIMP, (email, *(_mailchimp_field(merge) for merge in fields)))

    def __getitem__(self, key: str) -> Field:
        return self._by_key[key]

    def get(self, key: str) -> Field | None:
        """The field keyed ``key``, or ``None``."""
        return self._by_key.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    @property
    def email(self) -> Field:
        """The email address field."""
        key = PIPEDRIVE_EMAIL_KEY if self.side is Side.PIPEDRIVE else MAILCHIMP_EMAIL_KEY
        return self._by_key[key]

    def compatible_targets(
        self, source: Field, *, send_option_labels: bool = False
    ) -> TargetChoices:
        """Split this catalog's fields into those ``source`` may feed and those it may not.

        ``source`` belongs to the other side (its side is the flow's source). Each
        refused field carries the reason. Raises
        :class:`~pdmc.errors.ConfigurationError` if ``source`` is from this side.
        """
        if source.side is self.side:
            raise ConfigurationError(f"{source.title} is on the same side as this catalog")
        direction = Direction.PD_TO_MC if source.side is Side.PIPEDRIVE else Direction.MC_TO_PD
        allowed: list[TargetChoice] = []
        refused: list[TargetChoice] = []
        for target in self.fields:
            pipedrive, mailchimp = (
                (source, target) if direction is Direction.PD_TO_MC else (target, source)
            )
            decided = pair_verdict(
                pipedrive, mailchimp, direction, send_option_labels=send_option_labels
            )
            (allowed if decided.allowed else refused).append(TargetChoice(target, decided))
        return TargetChoices(source, tuple(allowed), tuple(refused))

    def _repr_html_(self) -> str:
        rows = [
            (
                item.key,
                item.label,
                item.type,
                item.kind.value,
                "yes" if item.required else "",
                ", ".join(option.label for option in item.options),
            )
            for item in self.fields
        ]
        return html_table(
            f"{self.side.title} fields ({len(self.fields)})",
            ("Key", "Label", "Type", "Kind", "Required", "Options"),
            rows,
        )


def _pipedrive_field(person_field: PersonField) -> Field:
    key = person_field.field_code
    if not person_field.is_custom_field:
        key = _KEY_ALIASES.get(key, key)
    standard = None if person_field.is_custom_field else _STANDARD.get(key)
    return Field(
        Side.PIPEDRIVE,
        key,
        person_field.field_name,
        (standard.field_type if standard else None) or person_field.field_type,
        required=person_field.required,
        options=tuple(Option(o.id, o.label) for o in person_field.options or ()),
        subfields=tuple(Subfield(s.field_code, s.field_name) for s in person_field.subfields or ()),
        custom=person_field.is_custom_field,
        read=standard.read if standard else None,
        write=standard.write if standard else None,
    )


def _mailchimp_field(merge: MergeField) -> Field:
    return Field(
        Side.MAILCHIMP,
        merge.tag,
        merge.name,
        merge.type,
        required=merge.required,
        options=tuple(Option(choice, choice) for choice in merge.options.choices),
        format=merge.options.date_format or merge.options.phone_format,
    )
