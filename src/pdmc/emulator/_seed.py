"""A deterministic stream of realistic contacts: the same seed always gives the same data.

:func:`generate_contacts` yields :class:`SeedContact` records one at a time and keeps
only a few dozen recent addresses (to make duplicates from), so a million contacts
take no more memory than ten. Each record says what it holds in Pipedrive (a
:class:`SeedPerson`), in Mailchimp (a :class:`SeedMember`), or both, in terms of the
seeded account's schema (field names and option labels, pipeline and stage names);
:mod:`pdmc.emulator._seed_load` turns those into the emulator's ids as it loads.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, Literal, TypeVar

import attrs
from attrs import field, frozen, validators

from pdmc.clients.mailchimp.models import MemberStatus
from pdmc.clients.pipedrive.models import ContactPoint, MarketingStatus, PostalAddress
from pdmc.emulator._seed_data import (
    COMPANY_KINDS,
    COMPANY_WORDS,
    FAKE_EMAILS,
    JOB_TITLES,
    LOCALES,
    Locale,
    Name,
)

__all__ = [
    "MERGE_FIELDS",
    "PERSON_FIELDS",
    "PIPELINES",
    "TAGS",
    "CompanyUser",
    "ContactTrait",
    "EarlierPerson",
    "SeedContact",
    "SeedDeal",
    "SeedMember",
    "SeedMergeField",
    "SeedPerson",
    "SeedPersonField",
    "SeedSpec",
    "generate_contacts",
]


class ContactTrait(enum.Flag):
    """The data-quality cases a contact exercises, so tests can find one of each."""

    NONE = 0
    NO_EMAIL = enum.auto()
    """The person has no email address."""
    SEVERAL_EMAILS = enum.auto()
    """The person has two or three addresses."""
    PRIMARY_NOT_FIRST = enum.auto()
    """The primary address is not the first one listed."""
    SHARED_EMAIL = enum.auto()
    """The person's address also belongs to an earlier person."""
    DUPLICATE_PERSON = enum.auto()
    """An earlier person has the same name and address (entered twice)."""
    INVALID_EMAIL = enum.auto()
    """The primary address is not a valid address (a typo, a missing ``@``)."""
    FAKE_EMAIL = enum.auto()
    """The primary address is valid but fake (``test@test.com``)."""
    MIXED_CASE_EMAIL = enum.auto()
    """The primary address has upper-case letters."""
    CASE_DIFFERS = enum.auto()
    """The Mailchimp member's address differs from the person's in case only."""
    NAME_DIFFERS = enum.auto()
    """The Mailchimp member's first name differs from the person's."""
    LONG_TEXT = enum.auto()
    """A text field holds more than 255 bytes (Mailchimp's text limit)."""


@frozen
class SeedPersonField:
    """A custom person field of the seeded account.

    ``options`` are an enum's or set's labels; ``share`` is how many persons have a value.
    """

    name: str
    field_type: str
    options: tuple[str, ...] = ()
    share: float = 0.3


@frozen
class SeedMergeField:
    """A merge field of the seeded audience; ``options`` are a dropdown's or radio's choices."""

    tag: str
    name: str
    type: str
    options: tuple[str, ...] = ()


PERSON_FIELDS: Final = (
    SeedPersonField("LinkedIn profile", "varchar", share=0.25),
    SeedPersonField("Lead source", "varchar_auto", share=0.5),
    SeedPersonField("Background", "text", share=0.2),
    SeedPersonField("Lead score", "double", share=0.6),
    SeedPersonField("Annual budget", "monetary", share=0.35),
    SeedPersonField("Contract start", "date"),
    SeedPersonField("Trial period", "daterange", share=0.15),
    SeedPersonField("Best time to call", "time", share=0.2),
    SeedPersonField("Office hours", "timerange", share=0.15),
    SeedPersonField(
        "Industry",
        "enum",
        ("Software", "Manufacturing", "Retail", "Healthcare", "Éducation", "Logística", "金融"),
        share=0.6,
    ),
    SeedPersonField(
        "Interests",
        "set",
        ("Webinars", "Product news", "Events & meet-ups", "Case studies", "Newsletter"),
        share=0.45,
    ),
    SeedPersonField("Assistant phone", "phone", share=0.1),
    SeedPersonField("Billing address", "address", share=0.2),
    SeedPersonField("Account manager", "user"),
    SeedPersonField("Referred by", "people", share=0.1),
)
"""The custom person fields of a seeded Pipedrive company, one of each value type."""

MERGE_FIELDS: Final = (
    SeedMergeField("FNAME", "First Name", "text"),
    SeedMergeField("LNAME", "Last Name", "text"),
    SeedMergeField("ADDRESS", "Address", "address"),
    SeedMergeField("PHONE", "Phone Number", "phone"),
    SeedMergeField("BIRTHDAY", "Birthday", "birthday"),
    SeedMergeField("COMPANY", "Company", "text"),
    SeedMergeField("SCORE", "Lead score", "number"),
    SeedMergeField("JOINED", "Customer since", "date"),
    SeedMergeField("WEBSITE", "Website", "url"),
    SeedMergeField("PLAN", "Plan", "dropdown", ("Free", "Starter", "Pro", "Enterprise")),
    SeedMergeField("CONTACTBY", "Contact me by", "radio", ("Email", "Phone", "Post")),
    SeedMergeField("USZIP", "US ZIP code", "zip"),
)
"""The merge fields of a seeded audience: Mailchimp's five defaults, then custom ones."""

PIPELINES: Final = (
    ("Sales", ("Lead in", "Contact made", "Demo scheduled", "Proposal made", "Negotiations")),
    ("Partnerships", ("Identified", "In talks", "Contract signed")),
)
"""The pipelines of a seeded company and their stages, in order."""

TAGS: Final = ("Customer", "Newsletter", "VIP", "Événements 2026", "Trade fair", "Webinar")
"""The tags of a seeded audience."""


@frozen
class CompanyUser:
    """A ``user`` field's value: the seeded company's user (its id is known when loading)."""


@frozen
class EarlierPerson:
    """A ``people`` field's value: the person seeded ``back`` persons before this one."""

    back: int


@frozen(kw_only=True)
class SeedDeal:
    """A deal of a seeded person, by pipeline and stage name."""

    title: str
    pipeline: str
    stage: str
    status: Literal["open", "won", "lost"]
    value: float
    currency: str


@frozen(kw_only=True)
class SeedPerson:
    """A Pipedrive person to seed.

    ``custom_fields`` is keyed by :data:`PERSON_FIELDS` names and holds wire values,
    except that enum and set fields hold option labels, ``user`` fields a
    :class:`CompanyUser` and ``people`` fields an :class:`EarlierPerson` (the loader
    turns these into ids).
    """

    name: str
    first_name: str
    last_name: str
    emails: tuple[ContactPoint, ...] = ()
    phones: tuple[ContactPoint, ...] = ()
    custom_fields: Mapping[str, Any] = field(factory=dict)
    birthday: str | None = None
    job_title: str | None = None
    postal_address: PostalAddress | None = None
    notes: str | None = None
    marketing_status: MarketingStatus | None = None
    deals: tuple[SeedDeal, ...] = ()


@frozen(kw_only=True)
class SeedMember:
    """A Mailchimp member to seed; ``merge_fields`` is keyed by :data:`MERGE_FIELDS` tags."""

    email: str
    status: MemberStatus
    merge_fields: Mapping[str, Any] = field(factory=dict)
    tags: tuple[str, ...] = ()


@frozen(kw_only=True)
class SeedContact:
    """One generated contact: a person, a member, or both (the same human on both sides)."""

    index: int
    locale: str
    traits: ContactTrait
    person: SeedPerson | None
    member: SeedMember | None


def _share(_instance: object, attribute: Any, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} is a share between 0 and 1, got {value!r}")


@frozen(kw_only=True)
class SeedSpec:
    """What to generate: how many contacts, from which seed, in what mix.

    Args:
        contacts: how many contacts to generate.
        seed: the random seed; the same spec always generates the same contacts.
        in_both: the share of contacts that are a person and a member.
        mailchimp_only: the share that are only a Mailchimp member (the rest are
            only a Pipedrive person). Persons whose primary address Mailchimp would
            refuse (none, invalid, fake, or another person's) never get a member.
        with_deals: the share of persons that have deals.

    Raises:
        ValueError: a negative count, a share outside 0..1, or shares above 1 in total.
    """

    contacts: int = field(default=100, validator=validators.ge(0))
    seed: int = 0
    in_both: float = field(default=0.55, validator=_share)
    mailchimp_only: float = field(default=0.10, validator=_share)
    with_deals: float = field(default=0.35, validator=_share)

    def __attrs_post_init__(self) -> None:
        if self.in_both + self.mailchimp_only > 1.0:
            raise ValueError("in_both and mailchimp_only add up to more than 1")


def generate_contacts(spec: SeedSpec) -> Iterator[SeedContact]:
    """Yield ``spec.contacts`` realistic contacts, the same ones for the same spec.

    Memory stays flat however many are generated: nothing is kept but a few recent
    addresses. Addresses are unique, except where a contact is meant to share one
    (:attr:`ContactTrait.SHARED_EMAIL`): each embeds its contact's index.
    """
    factory = _ContactFactory(spec)
    for index in range(spec.contacts):
        yield factory.contact(index)


# How often each case occurs: often enough that a few hundred contacts hold several of
# each, rarely enough that the account still looks like a real one.
_NO_EMAIL: Final = 0.08
_SHARED: Final = 0.025
_INVALID: Final = 0.03
_FAKE: Final = 0.01
_SEVERAL: Final = 0.15
_PRIMARY_NOT_FIRST: Final = 0.4
_MIXED_CASE: Final = 0.18
_UPPER_CASE: Final = 0.05
_CASE_DIFFERS: Final = 0.3
_NAME_DIFFERS: Final = 0.05
_RECENT: Final = 64
_MEMBER_STATUSES: Final[tuple[tuple[MemberStatus, float], ...]] = (
    ("subscribed", 0.68),
    ("unsubscribed", 0.10),
    ("cleaned", 0.04),
    ("pending", 0.05),
    ("transactional", 0.05),
    ("archived", 0.08),
)
_MARKETING_STATUSES: Final[tuple[MarketingStatus, ...]] = (
    "subscribed", "subscribed", "subscribed", "unsubscribed", "no_consent", "archived",
)  # fmt: skip
_LEAD_SOURCES: Final = ("Website", "Trade fair", "Referral", "Cold call", "Partner", "Webinar")
_PRODUCTS: Final = ("25 licences", "Onboarding package", "Annual renewal", "Pilot project",
                    "Support upgrade", "Consulting days")  # fmt: skip
_DEAL_STATUSES: Final[tuple[tuple[Literal["open", "won", "lost"], float], ...]] = (
    ("open", 0.75),
    ("won", 0.15),
    ("lost", 0.10),
)
_TAG_COUNTS: Final = ((0, 0.35), (1, 0.35), (2, 0.2), (3, 0.1))
_PHONE_COUNTS: Final = ((0, 0.2), (1, 0.65), (2, 0.15))
_CHOICE_MERGE_FIELDS: Final = tuple(f for f in MERGE_FIELDS if f.options)
_MAILCHIMP_TEXT_BYTES: Final = 255
_SENTENCES: Final = (
    "Met at the Berlin trade fair.",
    "Prefers email over phone calls.",
    "Interessiert an der Enterprise-Lizenz, Entscheidung im Frühjahr.",
    "Décideur pour la région Sud-Est ; rappeler après l'été.",
    "Спросить про интеграцию с бухгалтерией.",  # noqa: RUF001 - Russian
    "来年度の予算を検討中です。",
    "Wants a quote before Q3 — follow up!",
    "Budget approved by the CFO (≈ €40k).",
    "Ζήτησε δοκιμαστική περίοδο 30 ημερών.",
)


_T = TypeVar("_T")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _no_at_sign(address: str) -> str:
    return address.replace("@", "", 1)


def _two_at_signs(address: str) -> str:
    return address.replace("@", "@@", 1)


def _space_inside(address: str) -> str:
    return address.replace("@", " @", 1)


def _no_top_level_domain(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local}@{domain.split('.')[0]}"


def _double_dot(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local}..@{domain}"


def _no_local_part(address: str) -> str:
    return address[address.index("@") :]


def _spelled_at(address: str) -> str:
    return address.replace("@", "(at)", 1)


_BREAKS: Final[tuple[Callable[[str], str], ...]] = (
    _no_at_sign, _two_at_signs, _space_inside, _no_top_level_domain, _double_dot,
    _no_local_part, _spelled_at,
)  # fmt: skip


def _mixed_case(address: str) -> str:
    local, _, domain = address.partition("@")
    return ".".join(p.capitalize() for p in local.split(".")) + "@" + domain.capitalize()


def _other_case(address: str) -> str:
    lower = address.lower()
    return _mixed_case(lower) if address == lower else lower


def _weighted(rng: random.Random, table: tuple[tuple[_T, float], ...]) -> _T:
    """One value of ``table``, drawn by its weights (which add up to 1)."""
    draw = rng.random()
    for value, weight in table:
        draw -= weight
        if draw < 0:
            return value
    return table[-1][0]


def _pattern(rng: random.Random, pattern: str) -> str:
    """Fill ``#`` with digits and ``?`` with upper-case letters."""
    # One draw for all the digits: phone numbers are most of the patterns filled.
    digits = iter(str(rng.randrange(10 ** pattern.count("#"))).zfill(pattern.count("#")))
    return "".join(
        next(digits) if c == "#" else chr(65 + rng.randrange(26)) if c == "?" else c
        for c in pattern
    )


def _company_domain(who: _Identity) -> str:
    return f"{_ascii(who.company).replace(' ', '-')}.{who.locale.company_tld}"


@frozen
class _Identity:
    """Who a contact is: drawn once, used by every part of the contact."""

    index: int
    locale: Locale
    given: Name
    family: Name
    female: bool
    company: str

    @property
    def full_name(self) -> str:
        first, last = self.given.native, self.family.native
        if self.locale.family_first:
            return f"{last}{self.locale.separator}{first}"
        return f"{first} {last}"


@frozen
class _Recent:
    """A recent person's address and names, to make shared addresses and duplicates."""

    address: str
    first_name: str
    last_name: str
    name: str


@frozen
class _Emails:
    """A person's addresses, what they exercise, and which one Mailchimp may hold."""

    points: tuple[ContactPoint, ...]
    traits: ContactTrait
    usable: str | None
    duplicate_of: _Recent | None = None


class _ContactFactory:
    """Makes one contact at a time from a single seeded generator."""

    def __init__(self, spec: SeedSpec) -> None:
        self._spec = spec
        self._rng = random.Random(spec.seed)  # noqa: S311 - reproducible test data, not crypto
        self._recent: deque[_Recent] = deque(maxlen=_RECENT)
        self._values: Mapping[str, Callable[[SeedPersonField, _Identity], Any]] = {
            "varchar": self._profile_url,
            "varchar_auto": self._lead_source,
            "text": self._background,
            "double": self._score,
            "monetary": self._money,
            "date": self._day,
            "daterange": self._days,
            "time": self._time,
            "timerange": self._times,
            "enum": self._option,
            "set": self._options,
            "phone": self._phone_value,
            "address": self._address_value,
            "user": self._user,
            "people": self._earlier_person,
        }

    def contact(self, index: int) -> SeedContact:
        rng = self._rng
        locale = rng.choice(LOCALES)
        female = self._chance(0.5)
        who = _Identity(
            index=index,
            locale=locale,
            given=rng.choice(locale.female if female else locale.male),
            family=rng.choice(locale.family)[int(female)],
            female=female,
            company=f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}",
        )
        draw = rng.random()
        spec = self._spec
        if spec.in_both <= draw < spec.in_both + spec.mailchimp_only:
            return self._member_only(who)
        return self._person_contact(who, in_mailchimp=draw < spec.in_both)

    def _member_only(self, who: _Identity) -> SeedContact:
        address, mixed = self._cased(self._fresh_address(who)[0])
        return SeedContact(
            index=who.index,
            locale=who.locale.code,
            traits=ContactTrait.MIXED_CASE_EMAIL if mixed else ContactTrait.NONE,
            person=None,
            member=self._member(address, who.given.native, who.family.native, who, None),
        )

    def _person_contact(self, who: _Identity, *, in_mailchimp: bool) -> SeedContact:
        emails = self._emails(who)
        person = self._person(who, emails)
        traits = emails.traits
        texts = (v for v in person.custom_fields.values() if isinstance(v, str))
        if any(len(text.encode()) > _MAILCHIMP_TEXT_BYTES for text in texts):
            traits |= ContactTrait.LONG_TEXT
        member = None
        if in_mailchimp and emails.usable is not None:
            address = emails.usable
            if self._chance(_CASE_DIFFERS):
                address = _other_case(address)
                traits |= ContactTrait.CASE_DIFFERS
            first = person.first_name
            if self._chance(_NAME_DIFFERS):
                first = self._rng.choice(
                    who.locale.female if who.female else who.locale.male
                ).native
                if first != person.first_name:
                    traits |= ContactTrait.NAME_DIFFERS
            member = self._member(address, first, person.last_name, who, person)
        return SeedContact(
            index=who.index, locale=who.locale.code, traits=traits, person=person, member=member
        )

    def _person(self, who: _Identity, emails: _Emails) -> SeedPerson:
        rng = self._rng
        same = emails.duplicate_of
        first = same.first_name if same else who.given.native
        last = same.last_name if same else who.family.native
        name = same.name if same else who.full_name
        if emails.usable is not None:
            self._recent.append(_Recent(emails.usable, first, last, name))
        return SeedPerson(
            name=name,
            first_name=first,
            last_name=last,
            emails=emails.points,
            phones=self._phones(who.locale),
            custom_fields={
                f.name: self._values[f.field_type](f, who)
                for f in PERSON_FIELDS
                if self._chance(f.share)
            },
            birthday=self._date(1950, 2005) if self._chance(0.3) else None,
            job_title=rng.choice(JOB_TITLES) if self._chance(0.5) else None,
            postal_address=self._postal_address(who.locale) if self._chance(0.4) else None,
            notes=(
                f"<p>Met at the {who.company} stand in {rng.choice(who.locale.places).city}.</p>"
                if self._chance(0.1)
                else None
            ),
            marketing_status=(
                rng.choice(_MARKETING_STATUSES)
                if emails.usable is not None and self._chance(0.3)
                else None
            ),
            deals=self._deals(who) if self._chance(self._spec.with_deals) else (),
        )

    def _emails(self, who: _Identity) -> _Emails:
        rng = self._rng
        draw = rng.random()
        if draw < _NO_EMAIL:
            return _Emails((), ContactTrait.NO_EMAIL, None)
        draw -= _NO_EMAIL
        fresh, label = self._fresh_address(who)
        traits = ContactTrait.NONE
        duplicate_of = None
        usable: str | None = None
        if draw < _SHARED and self._recent:
            earlier = rng.choice(self._recent)
            first = _other_case(earlier.address) if self._chance(0.5) else earlier.address
            traits |= ContactTrait.SHARED_EMAIL
            if self._chance(0.5):
                traits |= ContactTrait.DUPLICATE_PERSON
                duplicate_of = earlier
        elif draw < _SHARED + _INVALID:
            first = rng.choice(_BREAKS)(fresh)
            traits |= ContactTrait.INVALID_EMAIL
        elif draw < _SHARED + _INVALID + _FAKE:
            first = rng.choice(FAKE_EMAILS)
            traits |= ContactTrait.FAKE_EMAIL
        else:
            first, mixed = self._cased(fresh)
            traits |= ContactTrait.MIXED_CASE_EMAIL if mixed else ContactTrait.NONE
            usable = first
        addresses = [first]
        labels = [label]
        if self._chance(_SEVERAL):
            traits |= ContactTrait.SEVERAL_EMAILS
            g, f = who.given.ascii, who.family.ascii
            # Extra addresses put a dot before the index, which first addresses never do.
            addresses.append(f"{g}{f}.{who.index}@{rng.choice(who.locale.mail_domains)}")
            labels.append("home" if labels[0] == "work" else "work")
            if self._chance(0.3):
                addresses.append(f"{g}.{f}.{who.index}@{_company_domain(who)}")
                labels.append("other")
        primary = 0
        if len(addresses) > 1 and self._chance(_PRIMARY_NOT_FIRST):
            primary = rng.randrange(1, len(addresses))
            traits |= ContactTrait.PRIMARY_NOT_FIRST
            # A sync uses the primary address, and this one is valid and unique.
            usable = addresses[primary]
        points = tuple(
            ContactPoint(value=value, primary=i == primary, label=label)
            for i, (value, label) in enumerate(zip(addresses, labels, strict=True))
        )
        return _Emails(points, traits, usable, duplicate_of)

    def _fresh_address(self, who: _Identity) -> tuple[str, str]:
        """A unique, lower-case address and its label (``work`` or ``home``).

        The contact's index ends the local part, right after a letter, so no two
        contacts share an address by chance.
        """
        rng = self._rng
        g, f = who.given.ascii, who.family.ascii
        local = rng.choice((f"{g}.{f}", f"{g}{f}", f"{g[0]}{f}", f"{f}.{g}", f"{g}_{f}"))
        if self._chance(0.35):
            return f"{local}{who.index}@{_company_domain(who)}", "work"
        return f"{local}{who.index}@{rng.choice(who.locale.mail_domains)}", "home"

    def _cased(self, address: str) -> tuple[str, bool]:
        """The address as a person typed it, and whether it has capitals."""
        draw = self._rng.random()
        if draw < _MIXED_CASE:
            return _mixed_case(address), True
        if draw < _MIXED_CASE + _UPPER_CASE:
            return address.upper(), True
        return address, False

    def _phones(self, locale: Locale) -> tuple[ContactPoint, ...]:
        rng = self._rng
        count = _weighted(rng, _PHONE_COUNTS)
        labels = ("mobile", "work")
        return tuple(
            ContactPoint(value=_pattern(rng, rng.choice(locale.phones)), primary=i == 0,
                         label=labels[i])
            for i in range(count)
        )  # fmt: skip

    def _postal_address(self, locale: Locale) -> PostalAddress:
        rng = self._rng
        place = rng.choice(locale.places)
        street = rng.choice(locale.streets)
        number = str(rng.randint(1, 180))
        postal = _pattern(rng, place.postal)
        line = f"{number} {street}" if locale.number_first else f"{street} {number}"
        return PostalAddress(
            value=f"{line}, {postal} {place.city}, {place.region}, {locale.country_name}",
            street_number=number,
            route=street,
            locality=place.city,
            admin_area_level_1=place.region,
            postal_code=postal,
            country=locale.country_name,
        )

    def _date(self, first_year: int, last_year: int) -> str:
        start = dt.date(first_year, 1, 1).toordinal()
        span = dt.date(last_year, 12, 31).toordinal() - start
        return dt.date.fromordinal(start + self._rng.randrange(span + 1)).isoformat()

    def _deals(self, who: _Identity) -> tuple[SeedDeal, ...]:
        rng = self._rng
        count = _weighted(rng, ((1, 0.8), (2, 0.15), (3, 0.05)))
        deals = []
        for _ in range(count):
            pipeline, stages = rng.choice(PIPELINES)
            deals.append(
                SeedDeal(
                    title=f"{who.company} – {rng.choice(_PRODUCTS)}",  # noqa: RUF001 - a typographic dash
                    pipeline=pipeline,
                    stage=rng.choice(stages),
                    status=_weighted(rng, _DEAL_STATUSES),
                    value=float(rng.randrange(1_000, 200_000, 100)),
                    currency=who.locale.currency,
                )
            )
        return tuple(deals)

    def _chance(self, share: float) -> bool:
        """True for ``share`` of the draws."""
        return self._rng.random() < share

    def _member(
        self, address: str, first: str, last: str, who: _Identity, person: SeedPerson | None
    ) -> SeedMember:
        merge = self._profile_merge_fields(first, last, who, person)
        rng = self._rng
        if self._chance(0.6):
            merge["COMPANY"] = who.company
        if self._chance(0.4):
            merge["SCORE"] = rng.randint(0, 100)
        if self._chance(0.3):
            merge["JOINED"] = self._date(2015, 2025)
        if self._chance(0.2):
            merge["WEBSITE"] = f"https://www.{_company_domain(who)}/"
        for choice_field in _CHOICE_MERGE_FIELDS:
            if self._chance(0.4):
                merge[choice_field.tag] = rng.choice(choice_field.options)
        return SeedMember(
            email=address,
            status=_weighted(rng, _MEMBER_STATUSES),
            merge_fields=merge,
            tags=tuple(rng.sample(TAGS, _weighted(rng, _TAG_COUNTS))),
        )

    def _profile_merge_fields(
        self, first: str, last: str, who: _Identity, person: SeedPerson | None
    ) -> dict[str, Any]:
        """Names, phone, address and birthday: the person's where there is one."""
        rng = self._rng
        merge: dict[str, Any] = {}
        if self._chance(0.95):
            merge["FNAME"] = first
        if self._chance(0.95):
            merge["LNAME"] = last
        phones = person.phones if person else ()
        if phones or self._chance(0.3):
            merge["PHONE"] = (
                phones[0].value if phones else _pattern(rng, rng.choice(who.locale.phones))
            )
        postal = person.postal_address if person else None
        if postal is not None or self._chance(0.2):
            merge["ADDRESS"] = _mailchimp_address(postal or self._postal_address(who.locale), who)
            if who.locale.country == "US" and self._chance(0.5):
                merge["USZIP"] = merge["ADDRESS"]["zip"]
        birthday = person.birthday if person else None
        if birthday is not None or self._chance(0.15):
            day = birthday or self._date(1950, 2005)
            merge["BIRTHDAY"] = f"{day[5:7]}/{day[8:10]}"
        return merge

    # Custom field values, one maker per field type (the field is passed to all alike).

    def _profile_url(self, _field: SeedPersonField, who: _Identity) -> str:
        return f"https://www.linkedin.com/in/{who.given.ascii}-{who.family.ascii}-{who.index}"

    def _lead_source(self, _field: SeedPersonField, _who: _Identity) -> str:
        return self._rng.choice(_LEAD_SOURCES)

    def _background(self, _field: SeedPersonField, _who: _Identity) -> str:
        rng = self._rng
        count = rng.randint(8, 14) if self._chance(0.15) else rng.randint(1, 3)
        return "\n".join(rng.choice(_SENTENCES) for _ in range(count))

    def _score(self, _field: SeedPersonField, _who: _Identity) -> float:
        return round(self._rng.uniform(0, 100), 1)

    def _money(self, _field: SeedPersonField, who: _Identity) -> dict[str, Any]:
        return {
            "value": float(self._rng.randrange(500, 250_000, 50)),
            "currency": who.locale.currency,
        }

    def _day(self, _field: SeedPersonField, _who: _Identity) -> str:
        return self._date(2020, 2026)

    def _days(self, _field: SeedPersonField, _who: _Identity) -> dict[str, str]:
        start = dt.date.fromisoformat(self._date(2024, 2026))
        end = start + dt.timedelta(days=self._rng.randint(7, 60))
        return {"start": start.isoformat(), "end": end.isoformat()}

    def _time(self, _field: SeedPersonField, _who: _Identity) -> str:
        rng = self._rng
        return f"{rng.randint(8, 18):02d}:{rng.choice((0, 15, 30, 45)):02d}:00"

    def _times(self, _field: SeedPersonField, _who: _Identity) -> dict[str, str]:
        rng = self._rng
        start = rng.randint(7, 10)
        return {"start": f"{start:02d}:00:00", "end": f"{start + rng.randint(6, 9):02d}:30:00"}

    def _option(self, field: SeedPersonField, _who: _Identity) -> str:
        return self._rng.choice(field.options)

    def _options(self, field: SeedPersonField, _who: _Identity) -> tuple[str, ...]:
        rng = self._rng
        return tuple(rng.sample(field.options, rng.randint(1, 3)))

    def _phone_value(self, _field: SeedPersonField, who: _Identity) -> str:
        return _pattern(self._rng, self._rng.choice(who.locale.phones))

    def _address_value(self, _field: SeedPersonField, who: _Identity) -> dict[str, str]:
        postal = self._postal_address(who.locale)
        return {k: v for k, v in attrs.asdict(postal).items() if v is not None}

    def _user(self, _field: SeedPersonField, _who: _Identity) -> CompanyUser:
        return CompanyUser()

    def _earlier_person(self, _field: SeedPersonField, _who: _Identity) -> EarlierPerson:
        return EarlierPerson(self._rng.randint(1, _RECENT))


def _mailchimp_address(postal: PostalAddress, who: _Identity) -> dict[str, str]:
    """A postal address in Mailchimp's shape (addr1, city, state and zip are required)."""
    number, street = postal.street_number or "", postal.route or ""
    return {
        "addr1": f"{number} {street}" if who.locale.number_first else f"{street} {number}",
        "addr2": "",
        "city": postal.locality or "",
        "state": postal.admin_area_level_1 or "",
        "zip": postal.postal_code or "",
        "country": who.locale.country,
    }
