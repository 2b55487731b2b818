"""The Pipedrive operations the emulator answers, one handler each.

Handlers parse and check the request, call the shared mechanics of
:class:`~pdmc.emulator.pipedrive._core.PipedriveCore`, and answer in the exact
shapes of the v2 (persons, fields, pipelines, stages, deals) and v1 (filters,
participants, webhooks, current user, recents, merge) contracts.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any, Final, Literal, cast

from pdmc.emulator._service import EmulatedRequest, EmulatedResponse, operation
from pdmc.emulator.pipedrive._accounts import (
    ACCESS_TOKEN_SECONDS,
    IssuedTokens,
    OAuthApp,
    OAuthRefusal,
)
from pdmc.emulator.pipedrive._core import PipedriveCore, Tenant
from pdmc.emulator.pipedrive._deals import (
    DEAL_STATUSES,
    DealRecord,
    PipelineRecord,
    StageRecord,
    deal_v1,
    deal_v2,
    parse_deal_input,
)
from pdmc.emulator.pipedrive._fields import CREATABLE_TYPES
from pdmc.emulator.pipedrive._filters import FILTER_TYPES, FilterRecord, parse_conditions
from pdmc.emulator.pipedrive._persons import (
    PersonQuery,
    PersonRecord,
    RenderOptions,
    parse_person_input,
    person_v1,
    person_v2,
)
from pdmc.emulator.pipedrive._webhooks import MAX_PER_USER, subscription_problems
from pdmc.emulator.pipedrive._wire import (
    bad_request,
    decode_cursor,
    encode_cursor,
    json_body,
    not_found,
    ok,
    page_of,
    parse_rfc3339,
    query_bool,
    query_csv,
    query_int,
    query_limit,
    query_v1_timestamp,
    v1_time,
)

__all__ = ["PipedriveAPI"]

_SORTS: Final = ("id", "update_time", "add_time")
_SEARCH_FIELDS: Final = ("custom_fields", "email", "notes", "phone", "name")
_SEARCHABLE_TYPES: Final = frozenset(
    {"address", "varchar", "text", "varchar_auto", "double", "monetary", "phone"}
)
_PERSON_INCLUDES: Final = frozenset(
    {
        "next_activity_id",
        "last_activity_id",
        "open_deals_count",
        "related_open_deals_count",
        "closed_deals_count",
        "related_closed_deals_count",
        "participant_open_deals_count",
        "participant_closed_deals_count",
        "email_messages_count",
        "activities_count",
        "done_activities_count",
        "undone_activities_count",
        "files_count",
        "notes_count",
        "followers_count",
        "won_deals_count",
        "related_won_deals_count",
        "lost_deals_count",
        "related_lost_deals_count",
        "last_incoming_mail_time",
        "last_outgoing_mail_time",
        "marketing_status",
        "doi_status",
        "smart_bcc_email",
    }
)
_FIELD_INCLUDES: Final = frozenset({"ui_visibility", "important_fields", "required_fields"})
_RECENT_ITEMS: Final = (
    "activity",
    "activityType",
    "deal",
    "file",
    "filter",
    "note",
    "person",
    "organization",
    "pipeline",
    "product",
    "stage",
    "user",
)
_MAX_IDS: Final = 100
_MAX_CUSTOM_KEYS: Final = 15


def _path_id(request: EmulatedRequest, name: str = "id") -> int:
    raw = request.path_params[name]
    if not raw.isdigit():
        raise bad_request(f"{name} must be a positive integer, got {raw!r}")
    return int(raw)


def _sort(request: EmulatedRequest, allowed: tuple[str, ...]) -> tuple[str, bool]:
    sort_by = request.arg("sort_by") or "id"
    if sort_by not in allowed:
        raise bad_request(f"sort_by must be one of {', '.join(allowed)}")
    direction = request.arg("sort_direction") or "asc"
    if direction not in {"asc", "desc"}:
        raise bad_request("sort_direction must be asc or desc")
    return sort_by, direction == "desc"


def _window(request: EmulatedRequest) -> tuple[float | None, float | None]:
    bounds = []
    for name in ("updated_since", "updated_until"):
        raw = request.arg(name)
        bounds.append(None if not raw else parse_rfc3339(raw, name))
    return bounds[0], bounds[1]


def _ids(request: EmulatedRequest) -> frozenset[int] | None:
    raw = query_csv(request, "ids")
    if not raw:
        return None
    if len(raw) > _MAX_IDS or not all(item.isdigit() for item in raw):
        raise bad_request(f"ids must be at most {_MAX_IDS} comma-separated integers")
    return frozenset(int(item) for item in raw)


def _next(next_key: list[Any] | None, kind: str) -> dict[str, str | None]:
    """``additional_data`` of a v2 list: the cursor of the next page, ``null`` at the end."""
    return {"next_cursor": None if next_key is None else encode_cursor(kind, next_key)}


def _v1_page(request: EmulatedRequest) -> tuple[int, int]:
    start = query_int(request, "start") or 0
    if start < 0:
        raise bad_request("start must not be negative")
    return start, query_limit(request)


def _v1_pagination(start: int, limit: int, total: int) -> dict[str, Any]:
    more = start + limit < total
    page: dict[str, Any] = {"start": start, "limit": limit, "more_items_in_collection": more}
    if more:
        page["next_start"] = start + limit
    return page


def _webhook_error(status: int, errors: dict[str, list[str]]) -> EmulatedResponse:
    return EmulatedResponse.json(status, {"status": "error", "success": False, "errors": errors})


class PipedriveAPI(PipedriveCore):
    """The emulated operations (see the module docstring)."""

    def _person(self, tenant: Tenant, person_id: int) -> PersonRecord:
        person = tenant.persons.get(person_id)
        if person is None:
            raise not_found("Person")
        return person

    def _render_options(self, request: EmulatedRequest, tenant: Tenant) -> RenderOptions:
        includes = set(query_csv(request, "include_fields"))
        unknown = sorted(includes - _PERSON_INCLUDES)
        if unknown:
            raise bad_request(f"include_fields: unknown fields {', '.join(unknown)}")
        keys = query_csv(request, "custom_fields")
        if len(keys) > _MAX_CUSTOM_KEYS:
            raise bad_request(f"custom_fields: at most {_MAX_CUSTOM_KEYS} keys are allowed")
        for key in keys:
            if tenant.fields.custom(key) is None:
                raise bad_request(f"custom_fields: {key!r} is not a custom person field")
        return RenderOptions(
            marketing_status="marketing_status" in includes,
            custom_fields=frozenset(keys) if keys else None,
            option_labels=query_bool(request, "include_option_labels"),
            labels=query_bool(request, "include_labels"),
        )

    # persons (v2) ---------------------------------------------------------------------

    @operation("GET", "/api/v2/persons", "getPersons")
    def _get_persons(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        options = self._render_options(request, tenant)
        sort_by, descending = _sort(request, _SORTS)
        kind = f"persons/{sort_by}/{'desc' if descending else 'asc'}"
        since, until = _window(request)
        filter_id = query_int(request, "filter_id")
        restrictions: dict[str, Any] = {}
        if filter_id is not None:
            chosen = tenant.filters.get(filter_id)
            if chosen is None or chosen.type != "people":
                raise bad_request(f"filter_id: no people filter with id {filter_id}")
            restrictions["matches"] = lambda p: tenant.person_matches(chosen, p)
        else:
            ids = _ids(request)
            deal_id = query_int(request, "deal_id")
            if deal_id is not None:
                deal = tenant.deals.get(deal_id)
                in_deal = {p.person_id for p in deal.participants} if deal else set()
                ids = frozenset(in_deal if ids is None else ids & in_deal)
            restrictions.update(
                ids=ids,
                owner_id=query_int(request, "owner_id"),
                org_id=query_int(request, "org_id"),
            )
        query = PersonQuery(
            sort_by=cast("Literal['id', 'update_time', 'add_time']", sort_by),
            descending=descending,
            after=decode_cursor(request.arg("cursor"), kind),
            limit=query_limit(request),
            updated_since=since,
            updated_until=until,
            **restrictions,
        )
        people, next_key = tenant.persons.page(query)
        data = [person_v2(p, tenant.fields, options) for p in people]
        return ok(data, _next(next_key, kind))

    @operation("GET", "/api/v2/persons/{id}", "getPerson")
    def _get_person(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        person = self._person(tenant, _path_id(request))
        return ok(person_v2(person, tenant.fields, self._render_options(request, tenant)))

    @operation("POST", "/api/v2/persons", "addPerson")
    def _add_person(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        changes = parse_person_input(
            json_body(request), creating=True, fields=tenant.fields, exists=tenant.exists
        )
        person = self.create_person(tenant, changes, source="api", notify=True)
        return ok(person_v2(person, tenant.fields, RenderOptions(marketing_status=True)))

    @operation("PATCH", "/api/v2/persons/{id}", "updatePerson")
    def _update_person(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        person = self._person(tenant, _path_id(request))
        changes = parse_person_input(
            json_body(request), creating=False, fields=tenant.fields, exists=tenant.exists
        )
        self.change_person(tenant, person, changes, source="api")
        return ok(person_v2(person, tenant.fields, RenderOptions(marketing_status=True)))

    @operation("DELETE", "/api/v2/persons/{id}", "deletePerson")
    def _delete_person(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        person = self._person(tenant, _path_id(request))
        self.remove_person(tenant, person, source="api")
        return ok({"id": person.id})

    @operation("PUT", "/v1/persons/{id}/merge", "mergePersons")
    def _merge_persons(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        merged = self._person(tenant, _path_id(request))
        keep_id = json_body(request).get("merge_with_id")
        if isinstance(keep_id, bool) or not isinstance(keep_id, int):
            raise bad_request("merge_with_id is required and must be an integer")
        if keep_id == merged.id:
            raise bad_request("a person cannot be merged with itself")
        keep = self._person(tenant, keep_id)
        self.merge_persons_into(tenant, keep, merged, source="api")
        data = person_v1(keep, tenant.fields, company_id=tenant.company.id, owner=tenant.owner())
        return ok({**data, "merge_what_id": merged.id})

    @operation("GET", "/api/v2/persons/search", "searchPersons")
    def _search_persons(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        term = (request.arg("term") or "").strip()
        exact = query_bool(request, "exact_match")
        if len(term) < (1 if exact else 2):
            raise bad_request("term must have at least 2 characters (1 with exact_match)")
        fields = query_csv(request, "fields") or list(_SEARCH_FIELDS)
        unknown = sorted(set(fields) - set(_SEARCH_FIELDS))
        if unknown:
            raise bad_request(f"fields: {', '.join(unknown)} cannot be searched")
        searchable = {d.code: d for d in tenant.fields if d.custom and d.type in _SEARCHABLE_TYPES}
        hits = tenant.persons.search(
            term,
            fields,
            exact=exact,
            org_id=query_int(request, "organization_id"),
            custom=searchable,
        )
        kind = "persons/search"
        page, next_key = page_of(
            hits,
            lambda hit: [-hit[0], hit[1].id],
            decode_cursor(request.arg("cursor"), kind),
            query_limit(request),
        )
        items = [
            {"result_score": score, "item": self._search_item(person, matched, fields)}
            for score, person, matched in page
        ]
        return ok({"items": items}, _next(next_key, kind))

    def _search_item(
        self, person: PersonRecord, matched: list[str], fields: list[str]
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": person.id,
            "type": "person",
            "name": person.name,
            "phones": [value for value, _, _ in person.phones],
            "emails": [value for value, _, _ in person.emails],
            "visible_to": person.visible_to,
            "owner": {"id": person.owner_id},
            "custom_fields": matched,
            "notes": [person.notes] if person.notes and "notes" in fields else [],
        }
        if person.org_id is not None:
            item["organization"] = {
                "id": person.org_id,
                "name": f"Organization {person.org_id}",
                "address": None,
            }
        return item

    # person fields (v2) ---------------------------------------------------------------

    def _field_includes(self, request: EmulatedRequest) -> list[str]:
        includes = query_csv(request, "include_fields")
        unknown = sorted(set(includes) - _FIELD_INCLUDES)
        if unknown:
            raise bad_request(f"include_fields: unknown values {', '.join(unknown)}")
        return includes

    @operation("GET", "/api/v2/personFields", "getPersonFields")
    def _get_person_fields(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        includes = self._field_includes(request)
        order = {definition.code: index for index, definition in enumerate(tenant.fields)}
        kind = "personFields"
        page, next_key = page_of(
            list(tenant.fields),
            lambda d: [order[d.code]],
            decode_cursor(request.arg("cursor"), kind),
            query_limit(request),
        )
        data = [definition.wire(includes) for definition in page]
        return ok(data, _next(next_key, kind))

    @operation("GET", "/api/v2/personFields/{field_code}", "getPersonField")
    def _get_person_field(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        definition = tenant.fields.get(request.path_params["field_code"])
        if definition is None:
            raise not_found("Field")
        return ok(definition.wire(self._field_includes(request)))

    @operation("POST", "/api/v2/personFields", "addPersonField")
    def _add_person_field(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        body = json_body(request)
        unknown = sorted(set(body) - {"field_name", "field_type", "options", *_FIELD_INCLUDES})
        if unknown:
            raise bad_request(f"unknown field properties: {', '.join(unknown)}")
        name, kind = body.get("field_name"), body.get("field_type")
        if not isinstance(name, str):
            raise bad_request("field_name is required")
        if kind not in CREATABLE_TYPES:
            raise bad_request(f"field_type must be one of {', '.join(sorted(CREATABLE_TYPES))}")
        raw_options = body.get("options")
        if raw_options is not None and (
            not isinstance(raw_options, list)
            or not all(isinstance(o, dict) and isinstance(o.get("label"), str) for o in raw_options)
        ):
            raise bad_request("options must be a list of objects with a label")
        labels = [o["label"] for o in raw_options] if raw_options else None
        definition = tenant.fields.add(name, kind, labels, float(self.now()))
        required = body.get("required_fields")
        definition.required = isinstance(required, dict) and required.get("enabled") is True
        return ok(definition.wire(sorted(_FIELD_INCLUDES)))

    # filters (v1) ---------------------------------------------------------------------

    def _filter(self, tenant: Tenant, filter_id: int) -> FilterRecord:
        found = tenant.filters.get(filter_id)
        if found is None:
            raise not_found("Filter")
        return found

    @operation("GET", "/v1/filters", "getFilters")
    def _get_filters(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        wanted = request.arg("type")
        if wanted is not None and wanted not in FILTER_TYPES:
            raise bad_request(f"type must be one of {', '.join(FILTER_TYPES)}")
        data = [
            f.wire(conditions=False)
            for f in tenant.filters.values()
            if wanted is None or f.type == wanted
        ]
        return ok(data)

    @operation("GET", "/v1/filters/{id}", "getFilter")
    def _get_filter(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        found = self._filter(tenant, _path_id(request))
        return ok(found.wire(conditions=True, with_code=query_bool(request, "include_field_code")))

    @operation("POST", "/v1/filters", "addFilter")
    def _add_filter(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        body = json_body(request)
        name, kind = body.get("name"), body.get("type")
        if not isinstance(name, str) or not name.strip():
            raise bad_request("name is required")
        if kind not in FILTER_TYPES:
            raise bad_request(f"type must be one of {', '.join(FILTER_TYPES)}")
        if "conditions" not in body:
            raise bad_request("conditions are required")
        record = self.create_filter(tenant, name, kind, body["conditions"])
        return ok(record.wire(conditions=True, with_code=query_bool(request, "include_field_code")))

    def create_filter(self, tenant: Tenant, name: str, kind: str, conditions: Any) -> FilterRecord:
        """Check and store a filter (shared with the direct-state API)."""
        groups = parse_conditions(conditions, kind, tenant.field_ref)
        now = float(self.now())
        record = FilterRecord(
            tenant.take_id("filter"), name, kind, groups, tenant.company.user_id, now, now
        )
        tenant.filters[record.id] = record
        return record

    @operation("PUT", "/v1/filters/{id}", "updateFilter")
    def _update_filter(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        record = self._filter(tenant, _path_id(request))
        body = json_body(request)
        if "conditions" not in body:
            raise bad_request("conditions are required")
        name = body.get("name", record.name)
        if not isinstance(name, str) or not name.strip():
            raise bad_request("name must be a non-empty string")
        record.groups = parse_conditions(body["conditions"], record.type, tenant.field_ref)
        record.name = name
        record.update_time = float(self.now())
        return ok(record.wire(conditions=True, with_code=query_bool(request, "include_field_code")))

    @operation("DELETE", "/v1/filters/{id}", "deleteFilter")
    def _delete_filter(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        record = self._filter(tenant, _path_id(request))
        del tenant.filters[record.id]
        return ok({"id": record.id})

    # pipelines, stages, deals (v2) -------------------------------------------------------

    @operation("GET", "/api/v2/pipelines", "getPipelines")
    def _get_pipelines(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        return self._small_listing(
            request, list(tenant.pipelines.values()), "pipelines", PipelineRecord.v2, _SORTS
        )

    @operation("GET", "/api/v2/pipelines/{id}", "getPipeline")
    def _get_pipeline(self, request: EmulatedRequest) -> EmulatedResponse:
        found = self.tenant_of(request).pipelines.get(_path_id(request))
        if found is None:
            raise not_found("Pipeline")
        return ok(found.v2())

    @operation("GET", "/api/v2/stages", "getStages")
    def _get_stages(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        pipeline_id = query_int(request, "pipeline_id")
        stages = [
            s for s in tenant.stages.values() if pipeline_id is None or s.pipeline_id == pipeline_id
        ]
        return self._small_listing(request, stages, "stages", StageRecord.v2, (*_SORTS, "order_nr"))

    @operation("GET", "/api/v2/stages/{id}", "getStage")
    def _get_stage(self, request: EmulatedRequest) -> EmulatedResponse:
        found = self.tenant_of(request).stages.get(_path_id(request))
        if found is None:
            raise not_found("Stage")
        return ok(found.v2())

    def _small_listing(
        self,
        request: EmulatedRequest,
        items: list[Any],
        name: str,
        render: Callable[[Any], dict[str, Any]],
        sorts: tuple[str, ...],
    ) -> EmulatedResponse:
        sort_by, descending = _sort(request, sorts)
        kind = f"{name}/{sort_by}/{'desc' if descending else 'asc'}"
        page, next_key = page_of(
            items,
            lambda item: [getattr(item, sort_by), item.id],
            decode_cursor(request.arg("cursor"), kind),
            query_limit(request),
            descending=descending,
        )
        data = [render(item) for item in page]
        return ok(data, _next(next_key, kind))

    def _deal(self, tenant: Tenant, deal_id: int) -> DealRecord:
        deal = tenant.deals.get(deal_id)
        if deal is None or deal.deleted:
            raise not_found("Deal")
        return deal

    @operation("GET", "/api/v2/deals", "getDeals")
    def _get_deals(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        since, until = _window(request)
        filter_id = query_int(request, "filter_id")
        candidates = list(tenant.deals.values())
        if filter_id is not None:
            chosen = tenant.filters.get(filter_id)
            if chosen is None or chosen.type != "deals":
                raise bad_request(f"filter_id: no deals filter with id {filter_id}")
            candidates = [d for d in candidates if not d.deleted and tenant.deal_matches(chosen, d)]
        else:
            candidates = self._deal_restrictions(request, candidates)
        candidates = [
            d
            for d in candidates
            if (since is None or d.update_time >= since)
            and (until is None or d.update_time < until)
        ]
        return self._small_listing(request, candidates, "deals", deal_v2, _SORTS)

    def _deal_restrictions(
        self, request: EmulatedRequest, deals: list[DealRecord]
    ) -> list[DealRecord]:
        statuses = query_csv(request, "status")
        unknown = sorted(set(statuses) - {*DEAL_STATUSES, "deleted"})
        if unknown:
            raise bad_request(f"status: unknown values {', '.join(unknown)}")
        ids = _ids(request)
        wanted = {
            key: query_int(request, key)
            for key in ("owner_id", "person_id", "org_id", "pipeline_id", "stage_id")
        }

        def keep(deal: DealRecord) -> bool:
            state = "deleted" if deal.deleted else deal.status
            in_status = state in statuses if statuses else not deal.deleted
            return (
                in_status
                and (ids is None or deal.id in ids)
                and all(v is None or getattr(deal, k) == v for k, v in wanted.items())
            )

        return [deal for deal in deals if keep(deal)]

    @operation("GET", "/api/v2/deals/{id}", "getDeal")
    def _get_deal(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        return ok(deal_v2(self._deal(tenant, _path_id(request))))

    def _deal_input(
        self, tenant: Tenant, body: dict[str, Any], *, creating: bool
    ) -> dict[str, Any]:
        return parse_deal_input(
            body,
            creating=creating,
            exists=tenant.exists,
            stage_of=tenant.stages.get,
            first_stage=tenant.first_stage,
        )

    @operation("POST", "/api/v2/deals", "addDeal")
    def _add_deal(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        values = self._deal_input(tenant, json_body(request), creating=True)
        return ok(deal_v2(self.create_deal(tenant, values, source="api", notify=True)))

    @operation("PATCH", "/api/v2/deals/{id}", "updateDeal")
    def _update_deal(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        deal = self._deal(tenant, _path_id(request))
        values = self._deal_input(tenant, json_body(request), creating=False)
        self.change_deal(tenant, deal, values, source="api")
        return ok(deal_v2(deal))

    @operation("GET", "/v1/deals/{id}/participants", "getDealParticipants")
    def _get_deal_participants(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        deal = self._deal(tenant, _path_id(request))
        participants = deal.participants
        start, limit = _v1_page(request)
        owner = tenant.owner()
        user = {**owner, "has_pic": 0, "pic_hash": None, "active_flag": True}
        data, people = [], {}
        for participant in participants[start : start + limit]:
            person = tenant.persons.get(participant.person_id)
            if person is None:
                continue
            full = person_v1(
                person, tenant.fields, company_id=tenant.company.id, owner=owner, expanded=True
            )
            data.append(
                {
                    "id": participant.id,
                    "person_id": {
                        "active_flag": True,
                        "name": person.name,
                        "email": full["email"],
                        "phone": full["phone"],
                        "owner_id": person.owner_id,
                        "value": person.id,
                    },
                    "add_time": v1_time(participant.add_time),
                    "active_flag": True,
                    "related_item_data": {"deal_id": deal.id, "title": deal.title},
                    "person": full,
                    "added_by_user_id": {**user, "value": owner["id"]},
                    "related_item_type": "deal",
                    "related_item_id": deal.id,
                }
            )
            people[str(person.id)] = {
                "active_flag": True,
                "id": person.id,
                "name": person.name,
                "email": full["email"],
                "phone": full["phone"],
                "owner_id": person.owner_id,
            }
        body = {
            "success": True,
            "data": data,
            "additional_data": {"pagination": _v1_pagination(start, limit, len(participants))},
            "related_objects": {"user": {str(owner["id"]): user}, "person": people},
        }
        return EmulatedResponse.json(200, body)

    # webhooks, current user, recents (v1) -------------------------------------------------

    @operation("GET", "/v1/webhooks", "getWebhooks")
    def _get_webhooks(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        data = [s.wire() for s in self.webhooks.of_company(tenant.company.id)]
        return EmulatedResponse.json(200, {"status": "ok", "success": True, "data": data})

    @operation("POST", "/v1/webhooks", "addWebhook")
    def _add_webhook(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        body = json_body(request)
        problems = subscription_problems(body, lambda user: tenant.exists("user", user))
        if len(self.webhooks.of_company(tenant.company.id)) >= MAX_PER_USER:
            problems["user_id"] = [f"a user may have at most {MAX_PER_USER} webhooks"]
        if problems:
            return _webhook_error(400, problems)
        subscription = self.webhooks.subscribe(tenant.company.id, tenant.company.user_id, body)
        return EmulatedResponse.json(
            201, {"status": "ok", "success": True, "data": subscription.wire()}
        )

    @operation("DELETE", "/v1/webhooks/{id}", "deleteWebhook")
    def _delete_webhook(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        webhook_id = _path_id(request)
        found = self.webhooks.subscriptions.get(webhook_id)
        if found is None or found.company_id != tenant.company.id:
            return _webhook_error(404, {"id": ["not found"]})
        self.webhooks.unsubscribe(webhook_id)
        return EmulatedResponse.json(200, {"status": "ok", "success": True})

    @operation("GET", "/v1/users/me", "getCurrentUser")
    def _get_current_user(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        company = tenant.company
        return ok(
            {
                "id": company.user_id,
                "name": company.user_name,
                "default_currency": "EUR",
                "locale": "en_US",
                "lang": 1,
                "email": company.user_email,
                "phone": None,
                "activated": True,
                "last_login": v1_time(self.now()),
                "created": v1_time(tenant.created),
                "modified": None,
                "has_created_company": True,
                "access": [
                    {"app": "sales", "admin": True, "permission_set_id": f"sales-{company.id}"},
                    {"app": "global", "admin": True, "permission_set_id": f"global-{company.id}"},
                ],
                "active_flag": True,
                "timezone_name": "UTC",
                "timezone_offset": "+00:00",
                "role_id": 1,
                "icon_url": None,
                "is_you": True,
                "is_deleted": False,
                "company_id": company.id,
                "company_name": company.name,
                "company_domain": company.domain,
                "company_country": "EE",
                "company_industry": "Software",
                "language": {"language_code": "en", "country_code": "US"},
            }
        )

    @operation("GET", "/v1/recents", "getRecents")
    def _get_recents(self, request: EmulatedRequest) -> EmulatedResponse:
        tenant = self.tenant_of(request)
        since = query_v1_timestamp(request, "since_timestamp")
        items = query_csv(request, "items") or list(_RECENT_ITEMS)
        unknown = sorted(set(items) - set(_RECENT_ITEMS))
        if unknown:
            raise bad_request(f"items: unknown item types {', '.join(unknown)}")
        found = self._recent(tenant, since, set(items))
        start, limit = _v1_page(request)
        page = found[start : start + limit]
        last = page[-1][0] if page else since
        return ok(
            [{"item": kind, "id": item_id, "data": data} for _, kind, item_id, data in page],
            {
                "since_timestamp": v1_time(since),
                "last_timestamp_on_page": v1_time(last),
                "pagination": _v1_pagination(start, limit, len(found)),
            },
        )

    def _recent(
        self, tenant: Tenant, since: float, items: set[str]
    ) -> list[tuple[float, str, int, dict[str, Any]]]:
        owner = tenant.owner()
        found: list[tuple[float, str, int, dict[str, Any]]] = []
        if "person" in items:
            for when, person, deleted in tenant.persons.changed_since(since):
                data = person_v1(person, tenant.fields, company_id=tenant.company.id, owner=owner)
                found.append((when, "person", person.id, {**data, "active_flag": not deleted}))
        if "deal" in items:
            found += [
                (d.update_time, "deal", d.id, deal_v1(d, owner))
                for d in tenant.deals.values()
                if d.update_time >= since
            ]
        if "filter" in items:
            found += [
                (f.update_time, "filter", f.id, f.wire(conditions=False))
                for f in tenant.filters.values()
                if f.update_time >= since
            ]
        for kind, records in (("pipeline", tenant.pipelines), ("stage", tenant.stages)):
            if kind in items:
                found += [
                    (r.update_time, kind, r.id, r.v1())
                    for r in records.values()
                    if r.update_time >= since
                ]
        found.sort(key=lambda entry: (entry[0], entry[1], entry[2]))
        return found

    # OAuth (oauth.pipedrive.com) -------------------------------------------------------

    @operation("POST", "/oauth/token", "get-tokens")
    def _token(self, request: EmulatedRequest) -> EmulatedResponse:
        return self._oauth(request)

    @operation("POST", "/oauth/token/", "refresh-tokens")
    def _token_slash(self, request: EmulatedRequest) -> EmulatedResponse:
        return self._oauth(request)

    def _grant(self, app: OAuthApp, form: dict[str, str]) -> IssuedTokens:
        """Tokens for an authorization code or a refresh token (rotating it)."""
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self.accounts.exchange_code(
                app, form.get("code", ""), form.get("redirect_uri", "")
            )
        if grant == "refresh_token":
            return self.accounts.refresh(app, form.get("refresh_token", ""))
        return _never(grant)

    def _oauth(self, request: EmulatedRequest) -> EmulatedResponse:
        try:
            client_id, client_secret = _basic_credentials(request.headers.get("authorization"))
            app = self.accounts.app_for(client_id, client_secret)
            issued = self._grant(app, request.form())
        except OAuthRefusal as refusal:
            return EmulatedResponse.json(
                refusal.status, {"error": refusal.error, "error_description": refusal.description}
            )
        return EmulatedResponse.json(
            200,
            {
                "access_token": issued.access_token.reveal(),
                "token_type": "Bearer",
                "refresh_token": issued.refresh_token.reveal(),
                "scope": issued.scope,
                "expires_in": ACCESS_TOKEN_SECONDS,
                "api_domain": issued.company.api_domain,
            },
        )


def _never(grant: str | None) -> IssuedTokens:
    raise OAuthRefusal(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")


def _basic_credentials(header: str | None) -> tuple[str, str]:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        raise OAuthRefusal(401, "invalid_client", "Basic client credentials are required")
    try:
        user, sep, password = base64.b64decode(encoded.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthRefusal(401, "invalid_client", "malformed Basic credentials") from None
    if not sep:
        raise OAuthRefusal(401, "invalid_client", "malformed Basic credentials")
    return user, password
