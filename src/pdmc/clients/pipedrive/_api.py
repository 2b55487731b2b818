"""The no-I/O half of the Pipedrive clients: one builder per call, shared by both shells."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pdmc._secret import Secret
from pdmc._types import UNSET
from pdmc.clients._core import APIRequest, Call, Listing, Vendor
from pdmc.clients._pagination import CursorPagination, StartLimitPagination
from pdmc.clients.pipedrive._convert import converter
from pdmc.clients.pipedrive._operations import OPERATIONS
from pdmc.clients.pipedrive.models import (
    CurrentUser,
    Deal,
    DealParticipant,
    Filter,
    FilterConditions,
    Person,
    PersonField,
    PersonInput,
    PersonSearchHit,
    Pipeline,
    RecentItem,
    Stage,
    Webhook,
)
from pdmc.errors import APIError

__all__ = ["PipedriveAPI", "PipedriveVendor"]

T = TypeVar("T")

PersonSort = Literal["id", "update_time", "add_time"]
WebhookAction = Literal["create", "change", "delete", "*"]
WebhookObject = Literal[
    "activity", "deal", "lead", "note", "organization", "person", "pipeline", "product",
    "stage", "user", "*",
]  # fmt: skip


class PipedriveVendor(Vendor):
    """Pipedrive's error bodies: ``{"success": false, "error": ..., "error_info": ...}``."""

    request_id_headers = ("x-correlation-id", "x-request-id")
    reset_header = "x-ratelimit-reset"

    def describe(self, body: Any) -> tuple[str | None, str | None]:
        error, info = body.get("error"), body.get("error_info")
        return (str(error) if error else None, str(info) if info else None)

    def refine(self, error: APIError) -> APIError:
        return error


def _data(cls: type[T]) -> Any:
    return lambda body: converter.structure(body["data"], cls)


def _request(
    operation: str,
    *,
    path: Mapping[str, str | int] | None = None,
    params: Mapping[str, Any] | None = None,
    json: Any = UNSET,
) -> APIRequest:
    query = {k: v for k, v in (params or {}).items() if v is not None and v is not UNSET}
    return APIRequest(
        operation=OPERATIONS[operation], path_params=path or {}, params=query, json=json
    )


class PipedriveAPI:
    """Builds every Pipedrive call the clients make; no I/O, so both shells share it."""

    def __init__(self, *, page_size: int = 500) -> None:
        self.page_size = page_size

    def _cursor(self) -> CursorPagination:
        return CursorPagination(limit=self.page_size)

    def _start_limit(self) -> StartLimitPagination:
        return StartLimitPagination(limit=self.page_size)

    # persons ---------------------------------------------------------------------------

    def list_persons(
        self,
        *,
        filter_id: int | None = None,
        ids: Sequence[int] | None = None,
        updated_since: datetime | None = None,
        updated_until: datetime | None = None,
        sort_by: PersonSort | None = None,
        sort_direction: Literal["asc", "desc"] | None = None,
        include_fields: Sequence[str] | None = None,
        custom_fields: Sequence[str] | None = None,
    ) -> Listing[Person]:
        params = {
            "filter_id": filter_id,
            "ids": ids,
            "updated_since": updated_since,
            "updated_until": updated_until,
            "sort_by": sort_by,
            "sort_direction": sort_direction,
            "include_fields": include_fields,
            "custom_fields": custom_fields,
        }
        return Listing(
            _request("getPersons", params=params),
            self._cursor(),
            lambda raw: converter.structure(raw, Person),
        )

    def get_person(
        self, person_id: int, *, include_fields: Sequence[str] | None = None
    ) -> Call[Person]:
        params = {"include_fields": include_fields}
        return Call(_request("getPerson", path={"id": person_id}, params=params), _data(Person))

    def create_person(self, person: PersonInput) -> Call[Person]:
        body = converter.unstructure(person)
        return Call(_request("addPerson", json=body), _data(Person))

    def update_person(self, person_id: int, changes: PersonInput) -> Call[Person]:
        body = converter.unstructure(changes)
        return Call(_request("updatePerson", path={"id": person_id}, json=body), _data(Person))

    def search_persons_by_email(self, email: str) -> Call[list[PersonSearchHit]]:
        params = {"term": email.strip(), "fields": "email", "exact_match": True, "limit": 100}
        return Call(
            _request("searchPersons", params=params),
            lambda body: [
                converter.structure(raw, PersonSearchHit)
                for raw in (body.get("data") or {}).get("items") or ()
            ],
        )

    def list_person_fields(self) -> Listing[PersonField]:
        return Listing(
            _request("getPersonFields", params={"include_fields": "required_fields"}),
            self._cursor(),
            lambda raw: converter.structure(raw, PersonField),
        )

    # filters (v1) ----------------------------------------------------------------------

    def list_filters(self, *, type: str = "people") -> Call[list[Filter]]:  # noqa: A002 - the API's name
        return Call(
            _request("getFilters", params={"type": type}),
            lambda body: [converter.structure(raw, Filter) for raw in body.get("data") or ()],
        )

    def get_filter(self, filter_id: int) -> Call[Filter]:
        params = {"include_field_code": True}
        return Call(_request("getFilter", path={"id": filter_id}, params=params), _data(Filter))

    def create_filter(
        self,
        name: str,
        conditions: FilterConditions,
        *,
        type: str = "people",  # noqa: A002
    ) -> Call[Filter]:
        body = {"name": name, "type": type, "conditions": _conditions(conditions)}
        return Call(_request("addFilter", json=body), _data(Filter))

    def update_filter(
        self, filter_id: int, conditions: FilterConditions, *, name: str | None = None
    ) -> Call[Filter]:
        # The contract requires ``conditions`` on every update, a rename included.
        body: dict[str, Any] = {"conditions": _conditions(conditions)}
        if name is not None:
            body["name"] = name
        return Call(_request("updateFilter", path={"id": filter_id}, json=body), _data(Filter))

    def delete_filter(self, filter_id: int) -> Call[None]:
        return Call(_request("deleteFilter", path={"id": filter_id}), lambda _: None)

    # pipelines, stages, deals ----------------------------------------------------------

    def list_pipelines(self) -> Listing[Pipeline]:
        return Listing(
            _request("getPipelines"), self._cursor(), lambda raw: converter.structure(raw, Pipeline)
        )

    def list_stages(self, *, pipeline_id: int | None = None) -> Listing[Stage]:
        return Listing(
            _request("getStages", params={"pipeline_id": pipeline_id}),
            self._cursor(),
            lambda raw: converter.structure(raw, Stage),
        )

    def get_deal(self, deal_id: int) -> Call[Deal]:
        return Call(_request("getDeal", path={"id": deal_id}), _data(Deal))

    def list_deals(
        self,
        *,
        stage_id: int | None = None,
        pipeline_id: int | None = None,
        person_id: int | None = None,
        status: Literal["open", "won", "lost", "deleted"] | None = None,
        updated_since: datetime | None = None,
    ) -> Listing[Deal]:
        params = {
            "stage_id": stage_id,
            "pipeline_id": pipeline_id,
            "person_id": person_id,
            "status": status,
            "updated_since": updated_since,
        }
        return Listing(
            _request("getDeals", params=params),
            self._cursor(),
            lambda raw: converter.structure(raw, Deal),
        )

    def list_deal_participants(self, deal_id: int) -> Listing[DealParticipant]:
        return Listing(
            _request("getDealParticipants", path={"id": deal_id}),
            self._start_limit(),
            lambda raw: converter.structure(raw, DealParticipant),
        )

    # webhooks, user, recents (v1) -------------------------------------------------------

    def list_webhooks(self) -> Call[list[Webhook]]:
        return Call(
            _request("getWebhooks"),
            lambda body: [converter.structure(raw, Webhook) for raw in body.get("data") or ()],
        )

    def create_webhook(
        self,
        *,
        subscription_url: str,
        event_action: WebhookAction,
        event_object: WebhookObject,
        name: str,
        http_auth_user: str | None = None,
        http_auth_password: Secret | None = None,
        user_id: int | None = None,
        version: Literal["1.0", "2.0"] = "2.0",
    ) -> Call[Webhook]:
        body: dict[str, Any] = {
            "subscription_url": subscription_url,
            "event_action": event_action,
            "event_object": event_object,
            "name": name,
            "version": version,
        }
        if http_auth_user is not None:
            body["http_auth_user"] = http_auth_user
        if http_auth_password is not None:
            body["http_auth_password"] = http_auth_password.reveal()
        if user_id is not None:
            body["user_id"] = user_id
        return Call(_request("addWebhook", json=body), _data(Webhook))

    def delete_webhook(self, webhook_id: int) -> Call[None]:
        return Call(_request("deleteWebhook", path={"id": webhook_id}), lambda _: None)

    def get_current_user(self) -> Call[CurrentUser]:
        return Call(_request("getCurrentUser"), _data(CurrentUser))

    def list_recents(
        self,
        since: datetime,
        *,
        items: Literal["person", "deal", "filter", "stage", "pipeline", "user"] | None = None,
    ) -> Listing[RecentItem]:
        stamp = since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        return Listing(
            _request("getRecents", params={"since_timestamp": stamp, "items": items}),
            self._start_limit(),
            lambda raw: converter.structure(raw, RecentItem),
        )


def _conditions(conditions: FilterConditions) -> dict[str, Any]:
    tree: dict[str, Any] = converter.unstructure(conditions)
    for group in tree["conditions"]:
        for condition in group["conditions"]:
            if condition.get("field_code") is None:
                condition.pop("field_code", None)
    return tree
