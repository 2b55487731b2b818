"""PipedriveEmulator: the emulated API plus direct state access for seeding and assertions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pdmc._secret import Secret
from pdmc.emulator._clock import EmulatorClock
from pdmc.emulator._service import APIProblem
from pdmc.emulator.pipedrive._accounts import Accounts, Company, OAuthApp
from pdmc.emulator.pipedrive._api import PipedriveAPI
from pdmc.emulator.pipedrive._core import Tenant
from pdmc.emulator.pipedrive._deals import DealRecord, Participant, deal_v2
from pdmc.emulator.pipedrive._persons import (
    PersonRecord,
    RenderOptions,
    parse_person_input,
    person_v2,
)
from pdmc.emulator.pipedrive._webhooks import WebhookStatus
from pdmc.errors import ConfigurationError

__all__ = [
    "PipedriveEmulator",
    "Source",
]

Source = Literal["app", "api"]
_ALL = RenderOptions(marketing_status=True)


def _refused(subject: str, problem: APIProblem) -> ConfigurationError:
    return ConfigurationError(f"{subject}: {problem.title}")


class PipedriveEmulator(PipedriveAPI):
    """A stateful fake of the Pipedrive API, faithful to the official v1 and v2 contracts.

    Serve it through :class:`~pdmc.emulator.Emulator` (an ``httpx`` transport, or
    real HTTP on localhost), or seed and inspect its state directly with the methods
    below. Every company starts with the standard person fields and one pipeline of
    five stages. Direct writes act as a person in the Pipedrive app does
    (``change_source`` ``app`` in webhooks) unless ``source="api"`` is given.

    Args:
        clock: the clock everything runs on (a new one by default).
        plan: the default company's plan: ``essential``, ``advanced``,
            ``professional``, ``power`` or ``enterprise`` (sets the rate limits).
        seats: the default company's seats (scales the daily token budget).
        seed: seeds the generator of tokens, field hashes and event ids.

    Every direct method raises :class:`~pdmc.errors.ConfigurationError` naming the
    item, the field and the reason when given an unknown id or a value the API
    would refuse.
    """

    def __init__(
        self,
        clock: EmulatorClock | None = None,
        *,
        plan: str = "professional",
        seats: int = 1,
        seed: int = 0,
    ) -> None:
        super().__init__(clock or EmulatorClock(), plan=plan, seats=seats, seed=seed)
        self.default_oauth_app = self.accounts.register_app(
            "pdmc-emulator", Secret(f"secret-{seed}"), "https://localhost/oauth/callback"
        )

    def __repr__(self) -> str:
        return f"PipedriveEmulator(companies={len(self.tenants)}, clock={self.clock!r})"

    # companies and credentials ----------------------------------------------------------

    def add_company(self, name: str, *, plan: str = "professional", seats: int = 1) -> Company:
        """Add another company, with its own user, API token, data and limits."""
        with self.lock:
            return self._new_company(name, plan=plan, seats=seats)

    def register_oauth_app(
        self, client_id: str, client_secret: Secret | str, redirect_uri: str
    ) -> OAuthApp:
        """Register a Marketplace app whose client credentials the token endpoint accepts."""
        secret = client_secret if isinstance(client_secret, Secret) else Secret(client_secret)
        with self.lock:
            return self.accounts.register_app(client_id, secret, redirect_uri)

    def authorize(
        self,
        company: Company | None = None,
        *,
        app: OAuthApp | None = None,
        scope: str = Accounts.DEFAULT_SCOPE,
    ) -> str:
        """The authorization code a user's consent would send to the app's redirect URI
        (valid 5 minutes, once)."""
        with self.lock:
            return self.accounts.authorize(
                company or self.default_company, app or self.default_oauth_app, scope
            )

    def issue_oauth_tokens(
        self,
        company: Company | None = None,
        *,
        app: OAuthApp | None = None,
        scope: str = Accounts.DEFAULT_SCOPE,
    ) -> tuple[Secret, Secret]:
        """An access token (valid one hour on the clock) and a refresh token."""
        with self.lock:
            issued = self.accounts.issue(
                (company or self.default_company).id,
                (app or self.default_oauth_app).client_id,
                scope,
            )
        return issued.access_token, issued.refresh_token

    def token_budget_left(self, company: Company | None = None) -> int:
        """Tokens the company has left today."""
        with self.lock:
            return self.tenant(company).budget.left

    def spend_tokens(self, tokens: int, company: Company | None = None) -> None:
        """Charge ``tokens`` to today's budget, as the company's other apps and users do.

        Raises :class:`~pdmc.errors.ConfigurationError` for a negative amount.
        """
        if tokens < 0:
            raise ConfigurationError(f"spend_tokens: {tokens} is negative; give tokens to spend")
        with self.lock:
            self.tenant(company).budget.charge(tokens)

    # persons ----------------------------------------------------------------------------

    def _person_record(self, tenant: Tenant, person_id: int) -> PersonRecord:
        person = tenant.persons.get(person_id)
        if person is None:
            raise ConfigurationError(f"person {person_id}: no such person")
        return person

    def add_person(
        self,
        *,
        name: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        emails: Sequence[str | Mapping[str, Any]] = (),
        phones: Sequence[str | Mapping[str, Any]] = (),
        custom_fields: Mapping[str, Any] | None = None,
        owner_id: int | None = None,
        org_id: int | None = None,
        label_ids: Sequence[int] = (),
        postal_address: Mapping[str, Any] | None = None,
        birthday: str | None = None,
        job_title: str | None = None,
        notes: str | None = None,
        marketing_status: str | None = None,
        company: Company | None = None,
        source: Source = "app",
        notify: bool = True,
    ) -> int:
        """Add a person and return its id.

        ``emails`` and ``phones`` take strings or ``{"value", "primary", "label"}``
        objects; custom field values take the v2 wire shapes. With ``notify=False`` no
        webhook event is made (for seeding).
        """
        body: dict[str, Any] = {
            key: value
            for key, value in (
                ("name", name),
                ("first_name", first_name),
                ("last_name", last_name),
                ("owner_id", owner_id),
                ("org_id", org_id),
                ("postal_address", postal_address),
                ("birthday", birthday),
                ("job_title", job_title),
                ("notes", notes),
                ("marketing_status", marketing_status),
                ("custom_fields", custom_fields),
            )
            if value is not None
        }
        if emails:
            body["emails"] = list(emails)
        if phones:
            body["phones"] = list(phones)
        if label_ids:
            body["label_ids"] = list(label_ids)
        with self.lock:
            tenant = self.tenant(company)
            try:
                changes = parse_person_input(
                    body, creating=True, fields=tenant.fields, exists=tenant.exists, direct=True
                )
            except APIProblem as problem:
                raise _refused(f"person {name or first_name!r}", problem) from None
            return self.create_person(tenant, changes, source=source, notify=notify).id

    def update_person(
        self,
        person_id: int,
        changes: Mapping[str, Any],
        *,
        source: Source = "app",
        company: Company | None = None,
    ) -> dict[str, Any]:
        """Change a person as a user of the app would (or the API, with ``source="api"``);
        ``changes`` has the shape of the v2 PATCH body. Returns the person (v2 shape)."""
        with self.lock:
            tenant = self.tenant(company)
            person = self._person_record(tenant, person_id)
            try:
                checked = parse_person_input(
                    changes,
                    creating=False,
                    fields=tenant.fields,
                    exists=tenant.exists,
                    direct=True,
                )
            except APIProblem as problem:
                raise _refused(f"person {person_id}", problem) from None
            self.change_person(tenant, person, checked, source=source)
            return person_v2(person, tenant.fields, _ALL)

    def delete_person(
        self, person_id: int, *, source: Source = "app", company: Company | None = None
    ) -> None:
        """Delete a person; its deals lose their person."""
        with self.lock:
            tenant = self.tenant(company)
            self.remove_person(tenant, self._person_record(tenant, person_id), source=source)

    def merge_persons(
        self,
        keep_id: int,
        merge_id: int,
        *,
        source: Source = "app",
        company: Company | None = None,
    ) -> dict[str, Any]:
        """Merge person ``merge_id`` into ``keep_id`` (whose values win); returns the kept one."""
        with self.lock:
            tenant = self.tenant(company)
            keep = self._person_record(tenant, keep_id)
            merged = self._person_record(tenant, merge_id)
            if keep is merged:
                raise ConfigurationError(f"person {keep_id}: cannot be merged with itself")
            self.merge_persons_into(tenant, keep, merged, source=source)
            return person_v2(keep, tenant.fields, _ALL)

    def get_person(
        self, person_id: int, *, company: Company | None = None
    ) -> dict[str, Any] | None:
        """A person in the v2 wire shape (with ``marketing_status``), or ``None``."""
        with self.lock:
            tenant = self.tenant(company)
            person = tenant.persons.get(person_id)
            return None if person is None else person_v2(person, tenant.fields, _ALL)

    def person_count(self, *, company: Company | None = None) -> int:
        """How many persons the company has."""
        with self.lock:
            return len(self.tenant(company).persons)

    def iter_persons(self, *, company: Company | None = None) -> Iterator[dict[str, Any]]:
        """Every person in the v2 wire shape, by id (rendered one at a time)."""
        with self.lock:
            tenant = self.tenant(company)
            ids = list(tenant.persons.people)
        for person_id in ids:
            found = self.get_person(person_id, company=company)
            if found is not None:
                yield found

    # fields ------------------------------------------------------------------------------

    def add_person_field(
        self,
        name: str,
        field_type: str,
        *,
        options: Sequence[str] | None = None,
        company: Company | None = None,
    ) -> str:
        """Add a custom person field of any type the contracts list; returns its 40-character
        key. ``options`` are the labels of an enum or set field."""
        with self.lock:
            tenant = self.tenant(company)
            try:
                definition = tenant.fields.add(name, field_type, options, float(self.now()))
            except APIProblem as problem:
                raise _refused(f"person field {name!r}", problem) from None
            return definition.code

    def rename_person_field(
        self, field_code: str, name: str, *, company: Company | None = None
    ) -> None:
        """Rename a custom person field, as a user of the app would; its key stays the same.

        Raises:
            ConfigurationError: no custom field has this key, or the name is blank.
        """
        with self.lock:
            definition = self.tenant(company).fields.custom(field_code)
            if definition is None:
                raise ConfigurationError(f"person field {field_code!r}: no such custom field")
            if not name.strip():
                raise ConfigurationError(f"person field {field_code!r}: the name is blank")
            definition.name = name

    def delete_person_field(self, field_code: str, *, company: Company | None = None) -> None:
        """Delete a custom person field and, with it, every person's value of it.

        Raises:
            ConfigurationError: no custom field has this key (standard fields stay).
        """
        with self.lock:
            tenant = self.tenant(company)
            if tenant.fields.remove(field_code) is None:
                raise ConfigurationError(f"person field {field_code!r}: no such custom field")
            for person in tenant.persons.people.values():
                if person.custom and field_code in person.custom:
                    person.custom = {k: v for k, v in person.custom.items() if k != field_code}
                    person.custom = person.custom or None

    def person_field_options(
        self, field_code: str, *, company: Company | None = None
    ) -> dict[str, int | str]:
        """The option ids of an enum or set field, by label."""
        with self.lock:
            definition = self.tenant(company).fields.get(field_code)
            if definition is None:
                raise ConfigurationError(f"person field {field_code!r}: no such field")
            return {option.label: option.id for option in definition.options or ()}

    def person_field_id(self, field_code: str, *, company: Company | None = None) -> int:
        """The numeric id filter conditions use for a field (standard or custom)."""
        with self.lock:
            definition = self.tenant(company).fields.get(field_code)
            if definition is None:
                raise ConfigurationError(f"person field {field_code!r}: no such field")
            return definition.id

    # pipelines, stages, deals -----------------------------------------------------------

    def add_pipeline(self, name: str, *, company: Company | None = None) -> int:
        """Add a pipeline (without stages); returns its id."""
        if not name.strip():
            raise ConfigurationError("a pipeline needs a name")
        with self.lock:
            return self._create_pipeline(self.tenant(company), name)

    def add_stage(self, pipeline_id: int, name: str, *, company: Company | None = None) -> int:
        """Add a stage at the end of a pipeline; returns its id."""
        with self.lock:
            tenant = self.tenant(company)
            if pipeline_id not in tenant.pipelines:
                raise ConfigurationError(f"stage {name!r}: no pipeline {pipeline_id}")
            return self._create_stage(tenant, pipeline_id, name)

    def _deal_record(self, tenant: Tenant, deal_id: int) -> DealRecord:
        deal = tenant.deals.get(deal_id)
        if deal is None or deal.deleted:
            raise ConfigurationError(f"deal {deal_id}: no such deal")
        return deal

    def add_deal(
        self,
        *,
        title: str,
        person_id: int | None,
        stage_id: int,
        status: Literal["open", "won", "lost"] = "open",
        value: float = 0,
        currency: str = "EUR",
        source: Source = "app",
        notify: bool = True,
        company: Company | None = None,
    ) -> int:
        """Add a deal in a stage (its person becomes a participant); returns its id."""
        body = {
            "title": title,
            "person_id": person_id,
            "stage_id": stage_id,
            "status": status,
            "value": value,
            "currency": currency,
        }
        with self.lock:
            tenant = self.tenant(company)
            try:
                values = self._deal_input(tenant, body, creating=True)
            except APIProblem as problem:
                raise _refused(f"deal {title!r}", problem) from None
            return self.create_deal(tenant, values, source=source, notify=notify).id

    def move_deal(
        self, deal_id: int, stage_id: int, *, source: Source = "app", company: Company | None = None
    ) -> None:
        """Move a deal to another stage (of any pipeline), as dragging it in the app does."""
        with self.lock:
            tenant = self.tenant(company)
            deal = self._deal_record(tenant, deal_id)
            try:
                values = self._deal_input(tenant, {"stage_id": stage_id}, creating=False)
            except APIProblem as problem:
                raise _refused(f"deal {deal_id}", problem) from None
            self.change_deal(tenant, deal, values, source=source)

    def delete_deal(
        self, deal_id: int, *, source: Source = "app", company: Company | None = None
    ) -> None:
        """Delete a deal."""
        with self.lock:
            tenant = self.tenant(company)
            self.remove_deal(tenant, self._deal_record(tenant, deal_id), source=source)

    def get_deal(self, deal_id: int, *, company: Company | None = None) -> dict[str, Any] | None:
        """A deal in the v2 wire shape, or ``None``."""
        with self.lock:
            deal = self.tenant(company).deals.get(deal_id)
            return None if deal is None or deal.deleted else deal_v2(deal)

    def add_deal_participant(
        self, deal_id: int, person_id: int, *, company: Company | None = None
    ) -> int:
        """Add a person to a deal's participants; returns the participant id."""
        with self.lock:
            tenant = self.tenant(company)
            deal = self._deal_record(tenant, deal_id)
            self._person_record(tenant, person_id)
            for participant in deal.participants:
                if participant.person_id == person_id:
                    return participant.id
            added = Participant(tenant.take_id("participant"), person_id, float(self.now()))
            deal.participants.append(added)
            return added.id

    # filters ----------------------------------------------------------------------------

    def add_filter(
        self,
        name: str,
        conditions: Mapping[str, Any],
        *,
        type: str = "people",  # noqa: A002 - the API's name
        company: Company | None = None,
    ) -> int:
        """Add a filter (the v1 condition tree; fields by numeric id or by code)."""
        with self.lock:
            try:
                return self.create_filter(self.tenant(company), name, type, conditions).id
            except APIProblem as problem:
                raise _refused(f"filter {name!r}", problem) from None

    def delete_filter(self, filter_id: int, *, company: Company | None = None) -> None:
        """Delete a filter."""
        with self.lock:
            if self.tenant(company).filters.pop(filter_id, None) is None:
                raise ConfigurationError(f"filter {filter_id}: no such filter")

    # webhooks ---------------------------------------------------------------------------

    def webhook_status(self, webhook_id: int) -> WebhookStatus | None:
        """Delivery counts, ban and queue of one webhook (``None`` if it does not exist,
        for instance after three days without a successful delivery)."""
        with self.lock:
            return self.webhooks.status(webhook_id)

    @property
    def webhooks_banned_until(self) -> dict[int, datetime]:
        """The webhooks banned now (after 10 failed first attempts), with the ban's end."""
        with self.lock:
            now = self.clock.time()
            return {
                s.id: datetime.fromtimestamp(s.banned_until, UTC)
                for s in self.webhooks.subscriptions.values()
                if now < s.banned_until
            }
