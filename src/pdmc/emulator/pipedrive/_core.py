"""The Pipedrive emulator's state and mechanics, shared by its API and its direct-state API.

It holds every company's data, decides who a request comes from and whether the
rate limits let it through (:meth:`admit`), charges tokens and adds the rate-limit
headers (:meth:`finish`), renders errors in Pipedrive's format, and makes every
write announce itself to webhook subscriptions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final

from attrs import define, field

from pdmc.emulator._clock import EmulatorClock
from pdmc.emulator._service import APIProblem, EmulatedRequest, EmulatedResponse, Route, Service
from pdmc.emulator._transport import _HTML_403
from pdmc.emulator._webhooks import WebhookHandler, post_over_http
from pdmc.emulator.pipedrive._accounts import PLANS, SEARCH_BURST, Accounts, Caller, Company
from pdmc.emulator.pipedrive._costs import TOKEN_COSTS
from pdmc.emulator.pipedrive._deals import (
    DEAL_FIELDS,
    DEFAULT_STAGES,
    DealRecord,
    Participant,
    PipelineRecord,
    StageRecord,
    apply_deal,
    deal_values,
    deal_webhook,
)
from pdmc.emulator.pipedrive._fields import FieldRegistry, comparable, is_numeric
from pdmc.emulator.pipedrive._filters import FieldRef, FilterRecord, evaluate
from pdmc.emulator.pipedrive._limits import Budget, BurstLimiter, Refusal, WindowState
from pdmc.emulator.pipedrive._persons import (
    PersonBook,
    PersonChanges,
    PersonRecord,
    person_webhook,
)
from pdmc.emulator.pipedrive._webhooks import Event, WebhookCenter
from pdmc.emulator.pipedrive._wire import day_of, error_body

__all__ = [
    "API_HOST",
    "OAUTH_HOST",
    "PipedriveCore",
    "Tenant",
]

API_HOST: Final = "api.pipedrive.com"
OAUTH_HOST: Final = "oauth.pipedrive.com"
_PERSON_STANDARD_VALUES: Final[Mapping[str, Callable[[PersonRecord], list[Any]]]] = {
    "name": lambda p: [p.name] if p.name else [],
    "first_name": lambda p: [n] if (n := p.names()[0]) else [],
    "last_name": lambda p: [n] if (n := p.names()[1]) else [],
    "email": lambda p: [value for value, _, _ in p.emails],
    "phone": lambda p: [value for value, _, _ in p.phones],
    "im": lambda p: [value for value, _, _ in p.im],
    "org_id": lambda p: [] if p.org_id is None else [float(p.org_id)],
    "owner_id": lambda p: [float(p.owner_id)],
    "label_ids": lambda p: [float(label) for label in p.label_ids],
    "visible_to": lambda p: [float(p.visible_to)],
    "marketing_status": lambda p: [p.marketing_status],
    "add_time": lambda p: [day_of(p.add_time)],
    "update_time": lambda p: [day_of(p.update_time)],
    "picture_id": lambda _: [],
    "postal_address": lambda p: [p.postal_address["value"]] if p.postal_address else [],
    "birthday": lambda p: [p.birthday] if p.birthday else [],
    "job_title": lambda p: [p.job_title] if p.job_title else [],
    "notes": lambda p: [p.notes] if p.notes else [],
}


def _person_values(person: PersonRecord | None, ref: FieldRef) -> list[Any]:
    """The values a filter condition compares for a person's field (none without a person)."""
    if person is None:
        return []
    getter = _PERSON_STANDARD_VALUES.get(ref.code)
    if getter is not None:
        return getter(person)
    return comparable(ref.kind, (person.custom or {}).get(ref.code))


def _compares_numbers(ref: FieldRef) -> bool:
    return is_numeric(ref.kind)


@define
class Tenant:
    """Everything one company holds."""

    company: Company
    fields: FieldRegistry
    budget: Budget
    persons: PersonBook = field(factory=PersonBook)
    filters: dict[int, FilterRecord] = field(factory=dict)
    pipelines: dict[int, PipelineRecord] = field(factory=dict)
    stages: dict[int, StageRecord] = field(factory=dict)
    deals: dict[int, DealRecord] = field(factory=dict)
    created: float = 0.0
    _counters: dict[str, int] = field(factory=dict)

    def take_id(self, kind: str) -> int:
        """The next id of a kind of object (filters, pipelines, stages, deals...)."""
        self._counters[kind] = self._counters.get(kind, 0) + 1
        return self._counters[kind]

    def owner(self) -> dict[str, Any]:
        """The company user as v1 shapes describe an owner."""
        return {
            "id": self.company.user_id,
            "name": self.company.user_name,
            "email": self.company.user_email,
        }

    def exists(self, kind: str, item_id: int) -> bool:
        """Whether an id of a referenced kind exists (organizations are not emulated)."""
        if kind == "user":
            return item_id == self.company.user_id
        if kind == "people":
            return self.persons.get(item_id) is not None
        return item_id > 0

    def first_stage(self, pipeline_id: int | None) -> StageRecord | None:
        """The first stage of a pipeline (of the first pipeline when ``None``)."""
        if pipeline_id is None:
            if not self.pipelines:
                return None
            pipeline_id = min(self.pipelines)
        stages = [s for s in self.stages.values() if s.pipeline_id == pipeline_id]
        return min(stages, key=lambda s: (s.order_nr, s.id)) if stages else None

    def person_matches(self, filter_record: FilterRecord, person: PersonRecord) -> bool:
        """Whether a person matches a people filter."""
        return evaluate(
            filter_record.groups, lambda ref: _person_values(person, ref), _compares_numbers
        )

    def deal_matches(self, filter_record: FilterRecord, deal: DealRecord) -> bool:
        """Whether a deal matches a deal filter (person conditions use the deal's person)."""
        person = None if deal.person_id is None else self.persons.get(deal.person_id)
        return evaluate(
            filter_record.groups,
            lambda ref: (
                deal_values(deal, ref.code) if ref.object == "deal" else _person_values(person, ref)
            ),
            _compares_numbers,
        )

    def field_ref(self, obj: str, reference: str) -> FieldRef | None:
        """The field a filter condition names (person fields, or deal fields)."""
        if obj == "deal":
            by_id = {str(ref.id): ref for ref in DEAL_FIELDS.values()}
            return DEAL_FIELDS.get(reference) or by_id.get(reference)
        definition = self.fields.by_id_or_code(reference)
        if definition is None:
            return None
        return FieldRef("person", definition.id, definition.code, definition.type)


class PipedriveCore(Service):
    """State, credentials, limits and webhooks of the Pipedrive emulator (no handlers)."""

    name: ClassVar[str] = "pipedrive"
    default_host = API_HOST

    def __init__(
        self, clock: EmulatorClock, *, plan: str = "professional", seats: int = 1, seed: int = 0
    ) -> None:
        super().__init__()
        self.clock = clock
        self._rng = random.Random(seed)  # noqa: S311 - fake credentials and ids, not security
        self.accounts = Accounts(self._rng, clock.time)
        self.tenants: dict[int, Tenant] = {}
        self.limiter = BurstLimiter(clock.monotonic)
        self.webhooks = WebhookCenter(clock.now, self._rng)
        self.webhook_handler: WebhookHandler | None = None
        self._admitted: tuple[Caller, WindowState, Tenant] | None = None
        self.default_company = self._new_company("Emulated Company", plan=plan, seats=seats)

    def _new_company(self, name: str, *, plan: str, seats: int) -> Company:
        company = self.accounts.add_company(name, plan=plan, seats=seats)
        tenant = Tenant(
            company=company,
            fields=FieldRegistry(self._rng),
            budget=Budget(company.daily_token_budget, self.clock.now),
            created=self.clock.time(),
        )
        self.tenants[company.id] = tenant
        pipeline_id = self._create_pipeline(tenant, "Pipeline")
        for stage_name in DEFAULT_STAGES:
            self._create_stage(tenant, pipeline_id, stage_name)
        return company

    def now(self) -> int:
        """The emulated time in whole seconds (the resolution of Pipedrive timestamps)."""
        return math.floor(self.clock.time())

    def tenant(self, company: Company | None = None) -> Tenant:
        """The data of a company (the default company when ``None``)."""
        return self.tenants[(company or self.default_company).id]

    # requests -----------------------------------------------------------------------

    def serves(self, host: str) -> bool:
        return host in {API_HOST, OAUTH_HOST} or self.accounts.company_at(host) is not None

    def caller(self, request: EmulatedRequest) -> Caller | None:
        """Who sent a request: an API token (header, or ``api_token`` on v1) or a bearer token."""
        token = request.headers.get("x-api-token")
        if token is None and request.path.startswith("/v1/"):
            token = request.arg("api_token")
        if token is not None:
            return self.accounts.caller_for_api_token(token)
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and bearer:
            return self.accounts.caller_for_access_token(bearer.strip())
        return None

    def tenant_of(self, request: EmulatedRequest) -> Tenant:
        """The company an admitted request acts for."""
        caller = self.caller(request)
        if caller is None:  # admit() refused such requests already
            raise APIProblem(401, "unauthorized access")
        return self.tenants[caller.company_id]

    def admit(self, route: Route, request: EmulatedRequest) -> EmulatedResponse | None:
        self._admitted = None
        if route.template.startswith("/oauth/"):
            return None
        caller = self.caller(request)
        at_host = self.accounts.company_at(request.host)
        if caller is None or (at_host is not None and at_host.id != caller.company_id):
            return self.render_problem(APIProblem(401, "unauthorized access"))
        if self.limiter.is_blocked(caller.key):
            return EmulatedResponse(
                status=403, body=_HTML_403, headers={"content-type": "text/html"}
            )
        tenant = self.tenants[caller.company_id]
        cost = TOKEN_COSTS[(route.method, route.template)]
        if not tenant.budget.affords(cost):
            self.limiter.strike(caller.key)
            wait = tenant.budget.seconds_to_reset()
            return self._too_many(
                "Daily token budget exhausted", wait, WindowState(0, 0, wait), tenant
            )
        plan = PLANS[tenant.company.plan]
        limits = {
            "general": plan.api_token_burst if caller.kind == "api_token" else plan.oauth_burst
        }
        if route.operation_id == "searchPersons":
            limits["search"] = SEARCH_BURST
        outcome = self.limiter.admit(caller.key, limits)
        if isinstance(outcome, Refusal):
            self.limiter.strike(caller.key)
            return self._too_many("Request over limit", outcome.retry_after, outcome.window, tenant)
        self._admitted = (caller, outcome, tenant)
        return None

    def _too_many(
        self, reason: str, wait: int, window: WindowState, tenant: Tenant
    ) -> EmulatedResponse:
        headers = {"retry-after": str(wait), **_limit_headers(window, tenant)}
        return self.render_problem(APIProblem(429, reason, headers=headers))

    def finish(
        self, route: Route | None, request: EmulatedRequest, response: EmulatedResponse
    ) -> tuple[EmulatedResponse, int]:
        del request
        admitted, self._admitted = self._admitted, None
        if admitted is None or route is None:
            return response, 0
        _, window, tenant = admitted
        cost = TOKEN_COSTS[(route.method, route.template)]
        tenant.budget.charge(cost)
        return response.with_headers(**_limit_headers(window, tenant)), cost

    def render_problem(self, problem: APIProblem) -> EmulatedResponse:
        body = error_body(problem.status, problem.title, problem.detail or None)
        return EmulatedResponse.json(problem.status, body, **problem.headers)

    # webhooks -----------------------------------------------------------------------

    def announce(
        self,
        tenant: Tenant,
        action: str,
        entity: str,
        entity_id: int,
        *,
        data: Mapping[str, Any] | None,
        previous: Mapping[str, Any] | None,
        source: str,
        correlation_id: str | None = None,
        merged_to_id: int | None = None,
        merged_from_id: int | None = None,
    ) -> None:
        """Publish one change to the company's matching webhook subscriptions."""
        company = tenant.company
        self.webhooks.publish(
            Event(
                action=action,
                entity=entity,
                entity_id=entity_id,
                company_id=company.id,
                user_id=company.user_id,
                change_source=source,
                timestamp=self.clock.now(),
                host=f"{company.domain}.pipedrive.com",
                data=data,
                previous=previous,
                correlation_id=correlation_id or self.webhooks.new_uuid(),
                event_id=self.webhooks.new_uuid(),
                merged_to_id=merged_to_id,
                merged_from_id=merged_from_id,
            )
        )

    def deliver_webhooks(self) -> int:
        """Deliver every webhook attempt due on the clock; return how many were attempted.

        Deliveries go to :attr:`webhook_handler` (real HTTP when it is ``None``). The
        handler runs outside the emulator's lock, so it may call the emulator back.
        """
        attempted = 0
        while True:
            with self.lock:
                found = self.webhooks.next_due()
                if found is None:
                    return attempted
                subscription, pending = found
                delivery = self.webhooks.delivery(subscription, pending)
            handler = self.webhook_handler or post_over_http
            attempted += 1
            status = 0
            try:
                status = handler(delivery)
            finally:
                with self.lock:
                    self.webhooks.record(subscription, pending, status)

    # writes that announce themselves ----------------------------------------------------

    def create_person(
        self, tenant: Tenant, changes: PersonChanges, *, source: str, notify: bool
    ) -> PersonRecord:
        """Store a new person and announce it."""
        person = tenant.persons.create(changes, owner_id=tenant.company.user_id, now=self.now())
        if notify and self.webhooks.listening(tenant.company.id, "create", "person"):
            self.announce(
                tenant,
                "create",
                "person",
                person.id,
                data=person_webhook(person, tenant.fields),
                previous=None,
                source=source,
            )
        return person

    def change_person(
        self,
        tenant: Tenant,
        person: PersonRecord,
        changes: PersonChanges,
        *,
        source: str,
        merged_from_id: int | None = None,
        correlation_id: str | None = None,
    ) -> bool:
        """Apply changes to a person; announce them with only the changed fields in
        ``previous``. Returns whether anything changed (a merge always changes the kept
        person, even when the other one had nothing to add)."""
        listening = self.webhooks.listening(tenant.company.id, "change", "person")
        before = person_webhook(person, tenant.fields) if listening else None
        changed = tenant.persons.update(
            person, changes, now=self.now(), api=source == "api", force=merged_from_id is not None
        )
        if changed and before is not None:
            after = person_webhook(person, tenant.fields)
            self.announce(
                tenant,
                "change",
                "person",
                person.id,
                data=after,
                previous=_changed_fields(before, after),
                source=source,
                merged_from_id=merged_from_id,
                correlation_id=correlation_id,
            )
        return changed

    def remove_person(
        self,
        tenant: Tenant,
        person: PersonRecord,
        *,
        source: str,
        merged_to_id: int | None = None,
        correlation_id: str | None = None,
    ) -> None:
        """Delete a person (unlinking its deals) and announce it with its last state."""
        last = person_webhook(person, tenant.fields)
        for deal in tenant.deals.values():
            deal.participants = [p for p in deal.participants if p.person_id != person.id]
            if deal.person_id == person.id:
                deal.person_id = merged_to_id
        tenant.persons.delete(person, self.now())
        if self.webhooks.listening(tenant.company.id, "delete", "person"):
            self.announce(
                tenant,
                "delete",
                "person",
                person.id,
                data=None,
                previous=last,
                source=source,
                merged_to_id=merged_to_id,
                correlation_id=correlation_id,
            )

    def merge_persons_into(
        self, tenant: Tenant, keep: PersonRecord, merged: PersonRecord, *, source: str
    ) -> None:
        """Merge ``merged`` into ``keep``: keep's values win, empty ones and contact
        points are filled from the other, deals move over. Announces a delete with
        ``merged_to_id`` and a change with ``merged_from_id``."""
        changes = _merged_changes(keep, merged)
        for deal in tenant.deals.values():
            if deal.person_id == merged.id:
                deal.person_id = keep.id
            if any(p.person_id == merged.id for p in deal.participants):
                kept = [p for p in deal.participants if p.person_id != merged.id]
                if not any(p.person_id == keep.id for p in kept):
                    kept.append(Participant(tenant.take_id("participant"), keep.id, self.now()))
                deal.participants = kept
        correlation = self.webhooks.new_uuid()
        self.remove_person(
            tenant, merged, source=source, merged_to_id=keep.id, correlation_id=correlation
        )
        self.change_person(
            tenant,
            keep,
            changes,
            source=source,
            merged_from_id=merged.id,
            correlation_id=correlation,
        )

    def _create_pipeline(self, tenant: Tenant, name: str) -> int:
        pipeline = PipelineRecord(
            tenant.take_id("pipeline"), name, len(tenant.pipelines) + 1, self.now(), self.now()
        )
        tenant.pipelines[pipeline.id] = pipeline
        return pipeline.id

    def _create_stage(self, tenant: Tenant, pipeline_id: int, name: str) -> int:
        order = 1 + sum(1 for s in tenant.stages.values() if s.pipeline_id == pipeline_id)
        stage = StageRecord(
            tenant.take_id("stage"), pipeline_id, name, order, self.now(), self.now()
        )
        tenant.stages[stage.id] = stage
        return stage.id

    def create_deal(
        self, tenant: Tenant, values: Mapping[str, Any], *, source: str, notify: bool
    ) -> DealRecord:
        """Store a new deal (its person becomes a participant) and announce it."""
        now = self.now()
        deal = DealRecord(
            id=tenant.take_id("deal"),
            title=values["title"],
            owner_id=values.get("owner_id", tenant.company.user_id),
            pipeline_id=values["pipeline_id"],
            stage_id=values["stage_id"],
            add_time=now,
            update_time=now,
            stage_change_time=None,
            origin="API" if source == "api" else "ManuallyCreated",
        )
        for key, value in values.items():
            setattr(deal, key, value)
        if deal.status in {"won", "lost"}:
            deal.close_time = now
            setattr(deal, f"{deal.status}_time", now)
        self._link_participant(tenant, deal)
        tenant.deals[deal.id] = deal
        if notify and self.webhooks.listening(tenant.company.id, "create", "deal"):
            self.announce(
                tenant,
                "create",
                "deal",
                deal.id,
                data=deal_webhook(deal, tenant.company.user_id),
                previous=None,
                source=source,
            )
        return deal

    def _link_participant(self, tenant: Tenant, deal: DealRecord) -> None:
        if deal.person_id is not None and not any(
            p.person_id == deal.person_id for p in deal.participants
        ):
            deal.participants.append(
                Participant(tenant.take_id("participant"), deal.person_id, self.now())
            )

    def change_deal(
        self, tenant: Tenant, deal: DealRecord, values: Mapping[str, Any], *, source: str
    ) -> bool:
        """Apply changes to a deal (moving stages, winning, losing) and announce them."""
        creator = tenant.company.user_id
        before = deal_webhook(deal, creator)
        if not apply_deal(deal, values, self.now()):
            return False
        self._link_participant(tenant, deal)
        if self.webhooks.listening(tenant.company.id, "change", "deal"):
            after = deal_webhook(deal, creator)
            self.announce(
                tenant,
                "change",
                "deal",
                deal.id,
                data=after,
                previous=_changed_fields(before, after),
                source=source,
            )
        return True

    def remove_deal(self, tenant: Tenant, deal: DealRecord, *, source: str) -> None:
        """Mark a deal deleted and announce it with its last state."""
        last = deal_webhook(deal, tenant.company.user_id)
        deal.deleted = True
        deal.update_time = self.now()
        if self.webhooks.listening(tenant.company.id, "delete", "deal"):
            self.announce(
                tenant, "delete", "deal", deal.id, data=None, previous=last, source=source
            )


def _limit_headers(window: WindowState, tenant: Tenant) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(window.limit),
        "x-ratelimit-remaining": str(window.remaining),
        "x-ratelimit-reset": str(window.reset),
        "x-daily-requests-left": str(tenant.budget.left),
    }


def _merged_changes(keep: PersonRecord, merged: PersonRecord) -> PersonChanges:
    """What ``keep`` takes from ``merged``: values it lacks, contact points it does not
    have yet (as non-primary), labels and custom fields it has not set."""
    changes = PersonChanges()
    for key in ("org_id", "postal_address", "birthday", "job_title", "notes"):
        if getattr(keep, key) is None and getattr(merged, key) is not None:
            changes.values[key] = getattr(merged, key)
    for key in ("emails", "phones", "im"):
        seen = {value.lower() for value, _, _ in getattr(keep, key)}
        extra = tuple(
            (value, False, label)
            for value, _, label in getattr(merged, key)
            if value.lower() not in seen
        )
        if extra:
            changes.values[key] = (*getattr(keep, key), *extra)
    if merged.label_ids:
        changes.values["label_ids"] = tuple(dict.fromkeys((*keep.label_ids, *merged.label_ids)))
    changes.custom = {
        code: value
        for code, value in (merged.custom or {}).items()
        if code not in (keep.custom or {})
    }
    return changes


def _changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """``previous`` of a change event: only the fields whose value changed (custom
    fields compared one by one)."""
    previous: dict[str, Any] = {}
    for key, old in before.items():
        new = after.get(key)
        if key == "custom_fields" and isinstance(old, Mapping) and isinstance(new, Mapping):
            changed = {
                code: old.get(code) for code in {*old, *new} if old.get(code) != new.get(code)
            }
            if changed:
                previous[key] = changed
        elif old != new:
            previous[key] = old
    return previous
