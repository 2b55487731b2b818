"""The no-I/O half of the Mailchimp clients: one builder per call, shared by both shells."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Literal, TypeVar

from pdmc._types import UNSET, UnsetType
from pdmc.clients._core import APIRequest, Call, Listing, Vendor
from pdmc.clients._pagination import CountOffsetPagination
from pdmc.clients.mailchimp._convert import converter
from pdmc.clients.mailchimp._errors import member_error, member_error_class
from pdmc.clients.mailchimp._operations import OPERATIONS
from pdmc.clients.mailchimp.models import (
    Account,
    Audience,
    AudienceWebhook,
    Batch,
    BatchOperation,
    BatchOperationResult,
    BatchSubscribeResult,
    Member,
    MemberStatus,
    MemberTag,
    MemberUpsert,
    MergeField,
    Segment,
    StaticSegmentUpdate,
    TagUpdate,
    WebhookEvents,
    WebhookSources,
    WritableStatus,
)
from pdmc.errors import APIError, ConfigurationError, MemberError

__all__ = ["BATCH_LIMIT", "MailchimpAPI", "MailchimpVendor", "subscriber_hash"]

T = TypeVar("T")

BATCH_LIMIT: Final = 500
"""The most members one batch subscribe or static-segment update takes."""


def subscriber_hash(email: str) -> str:
    """Return Mailchimp's id of a member: the MD5 hex digest of the lowercased address."""
    return hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


class MailchimpVendor(Vendor):
    """Mailchimp's ``application/problem+json`` errors and its permanent member refusals."""

    request_id_headers = ("x-request-id",)

    def describe(self, body: Any) -> tuple[str | None, str | None]:
        title, detail = body.get("title"), body.get("detail")
        return (str(title) if title else None, str(detail) if detail else None)

    def body_request_id(self, body: Any) -> str | None:
        # The problem document's ``instance`` is the id Mailchimp support asks for.
        instance = body.get("instance")
        return str(instance) if instance else None

    def refine(self, error: APIError) -> APIError:
        if error.status_code != 400 or "/members" not in error.url:  # noqa: PLR2004
            return error  # member refusals are 400s on member paths
        errors = error.body.get("errors") if isinstance(error.body, dict) else None
        fields = tuple(
            (str(e.get("field", "")), str(e.get("message", "")))
            for e in errors or ()
            if isinstance(e, dict)
        )
        cls = member_error_class(error.title, error.detail)
        if cls is None:
            return error
        refined = member_error(
            cls,
            str(error),
            email=None,
            status_code=error.status_code,
            method=error.method,
            url=error.url,
            body=error.body,
            field_errors=fields,
        )
        refined.title, refined.detail, refined.request_id = (
            error.title,
            error.detail,
            error.request_id,
        )
        return refined


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


def _model(cls: type[T]) -> Any:
    return lambda body: converter.structure(body, cls)


def _items(key: str, cls: type[T]) -> Any:
    return lambda body: [converter.structure(raw, cls) for raw in (body or {}).get(key) or ()]


def _member_path(list_id: str, email_or_hash: str) -> dict[str, str | int]:
    key = email_or_hash if "@" not in email_or_hash else subscriber_hash(email_or_hash)
    return {"list_id": list_id, "subscriber_hash": key}


def _check_batch(size: int, what: str) -> None:
    if size > BATCH_LIMIT:
        raise ConfigurationError(f"{what} takes at most {BATCH_LIMIT} members, got {size}")


def typed_batch_errors(result: BatchSubscribeResult) -> list[MemberError]:
    """Return one :class:`~pdmc.errors.MemberError` per refused row of a batch subscribe.

    Rows whose error is not a known permanent refusal come back as plain
    :class:`~pdmc.errors.MemberError` with the text Mailchimp sent.
    """
    typed = []
    for row in result.errors:
        cls = (
            member_error_class(None, row.error, code=row.error_code, field=row.field) or MemberError
        )
        fields = ((row.field, row.field_message or row.error),) if row.field else ()
        typed.append(
            member_error(
                cls,
                f"{row.email_address}: {row.error}",
                email=row.email_address,
                field_errors=fields,
            )
        )
    return typed


def read_batch_results(archive: bytes) -> list[BatchOperationResult]:
    """Return the per-operation results inside a finished batch's ``.tar.gz`` archive."""
    results: list[BatchOperationResult] = []
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for entry in tar:
            handle = tar.extractfile(entry) if entry.isfile() else None
            if handle is None:
                continue
            for item in json.loads(handle.read() or b"[]"):
                raw = item.get("response")
                try:
                    response = json.loads(raw) if isinstance(raw, str) and raw else raw
                except ValueError:
                    response = raw
                results.append(
                    BatchOperationResult(
                        operation_id=item.get("operation_id"),
                        status_code=int(item.get("status_code", 0)),
                        response=response,
                    )
                )
    return results


class MailchimpAPI:
    """Builds every Mailchimp call the clients make; no I/O, so both shells share it."""

    def __init__(self, *, page_size: int = 1000) -> None:
        self.page_size = page_size

    def _pages(self, key: str) -> CountOffsetPagination:
        return CountOffsetPagination(items_key=key, count=self.page_size)

    def get_root(self) -> Call[Account]:
        return Call(_request("getRoot"), _model(Account))

    def list_audiences(self) -> Listing[Audience]:
        return Listing(_request("getLists"), self._pages("lists"), _model(Audience))

    def get_audience(self, list_id: str) -> Call[Audience]:
        return Call(_request("getListsId", path={"list_id": list_id}), _model(Audience))

    def list_members(
        self,
        list_id: str,
        *,
        status: MemberStatus | None = None,
        since_last_changed: datetime | None = None,
        since_timestamp_opt: datetime | None = None,
        sort_field: Literal["timestamp_opt", "timestamp_signup", "last_changed"] | None = None,
        sort_dir: Literal["ASC", "DESC"] | None = None,
    ) -> Listing[Member]:
        params = {
            "status": status,
            "since_last_changed": since_last_changed,
            "since_timestamp_opt": since_timestamp_opt,
            "sort_field": sort_field,
            "sort_dir": sort_dir,
        }
        return Listing(
            _request("getListsIdMembers", path={"list_id": list_id}, params=params),
            self._pages("members"),
            _model(Member),
        )

    def get_member(self, list_id: str, email: str) -> Call[Member]:
        return Call(
            _request("getListsIdMembersId", path=_member_path(list_id, email)), _model(Member)
        )

    def upsert_member(
        self, list_id: str, member: MemberUpsert, *, skip_merge_validation: bool = False
    ) -> Call[Member]:
        if not isinstance(member.tags, UnsetType):
            raise ConfigurationError("PUT does not take tags; use update_member_tags")
        if isinstance(member.status_if_new, UnsetType):
            raise ConfigurationError("an upsert needs status_if_new for new members")
        params = {"skip_merge_validation": skip_merge_validation or None}
        return Call(
            _request(
                "putListsIdMembersId",
                path=_member_path(list_id, member.email_address),
                params=params,
                json=converter.unstructure(member),
            ),
            _model(Member),
        )

    def update_member(
        self,
        list_id: str,
        email: str,
        *,
        new_email: str | UnsetType = UNSET,
        merge_fields: Mapping[str, Any] | UnsetType = UNSET,
        status: WritableStatus | UnsetType = UNSET,
        skip_merge_validation: bool = False,
    ) -> Call[Member]:
        body: dict[str, Any] = {}
        if not isinstance(new_email, UnsetType):
            body["email_address"] = new_email
        if not isinstance(merge_fields, UnsetType):
            body["merge_fields"] = dict(merge_fields)
        if not isinstance(status, UnsetType):
            body["status"] = status
        params = {"skip_merge_validation": skip_merge_validation or None}
        return Call(
            _request(
                "patchListsIdMembersId", path=_member_path(list_id, email), params=params, json=body
            ),
            _model(Member),
        )

    def archive_member(self, list_id: str, email: str) -> Call[None]:
        return Call(
            _request("deleteListsIdMembersId", path=_member_path(list_id, email)), lambda _: None
        )

    def batch_subscribe(
        self,
        list_id: str,
        members: Sequence[MemberUpsert],
        *,
        update_existing: bool = True,
        sync_tags: bool = False,
        skip_merge_validation: bool = False,
    ) -> Call[BatchSubscribeResult]:
        _check_batch(len(members), "batch subscribe")
        body = {
            "members": [converter.unstructure(member) for member in members],
            "update_existing": update_existing,
            "sync_tags": sync_tags,
        }
        params = {"skip_merge_validation": skip_merge_validation or None}
        return Call(
            _request("postListsId", path={"list_id": list_id}, params=params, json=body),
            _model(BatchSubscribeResult),
        )

    def list_member_tags(self, list_id: str, email: str) -> Listing[MemberTag]:
        return Listing(
            _request("getListMemberTags", path=_member_path(list_id, email)),
            self._pages("tags"),
            _model(MemberTag),
        )

    def update_member_tags(
        self, list_id: str, email: str, tags: Sequence[TagUpdate], *, is_syncing: bool = True
    ) -> Call[None]:
        body = {"tags": [converter.unstructure(tag) for tag in tags], "is_syncing": is_syncing}
        return Call(
            _request("postListMemberTags", path=_member_path(list_id, email), json=body),
            lambda _: None,
        )

    def search_tags(self, list_id: str, name: str) -> Call[list[MemberTag]]:
        return Call(
            _request("searchTagsByName", path={"list_id": list_id}, params={"name": name}),
            _items("tags", MemberTag),
        )

    def list_segments(
        self,
        list_id: str,
        *,
        type: Literal["saved", "static", "fuzzy"] | None = None,  # noqa: A002
    ) -> Listing[Segment]:
        return Listing(
            _request("previewASegment", path={"list_id": list_id}, params={"type": type}),
            self._pages("segments"),
            _model(Segment),
        )

    def get_segment(self, list_id: str, segment_id: int) -> Call[Segment]:
        path: dict[str, str | int] = {"list_id": list_id, "segment_id": segment_id}
        return Call(_request("getListsIdSegmentsId", path=path), _model(Segment))

    def list_segment_members(self, list_id: str, segment_id: int) -> Listing[Member]:
        path: dict[str, str | int] = {"list_id": list_id, "segment_id": segment_id}
        return Listing(
            _request("getListsIdSegmentsIdMembers", path=path),
            self._pages("members"),
            _model(Member),
        )

    def create_segment(
        self,
        list_id: str,
        name: str,
        *,
        static_emails: Sequence[str] | None = None,
        conditions: Mapping[str, Any] | None = None,
    ) -> Call[Segment]:
        if (static_emails is None) == (conditions is None):
            raise ConfigurationError("give static_emails (a tag) or conditions (a saved segment)")
        body: dict[str, Any] = {"name": name}
        if static_emails is not None:
            _check_batch(len(static_emails), "a new static segment")
            body["static_segment"] = list(static_emails)
        else:
            body["options"] = dict(conditions or {})
        return Call(
            _request("postListsIdSegments", path={"list_id": list_id}, json=body), _model(Segment)
        )

    def update_static_segment(
        self,
        list_id: str,
        segment_id: int,
        *,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
    ) -> Call[StaticSegmentUpdate]:
        _check_batch(len(add), "members_to_add")
        _check_batch(len(remove), "members_to_remove")
        body = {"members_to_add": list(add), "members_to_remove": list(remove)}
        path: dict[str, str | int] = {"list_id": list_id, "segment_id": segment_id}
        return Call(
            _request("postListsIdSegmentsId", path=path, json=body), _model(StaticSegmentUpdate)
        )

    def list_merge_fields(self, list_id: str) -> Listing[MergeField]:
        return Listing(
            _request("getListsIdMergeFields", path={"list_id": list_id}),
            self._pages("merge_fields"),
            _model(MergeField),
        )

    def create_merge_field(
        self,
        list_id: str,
        *,
        name: str,
        type: str,  # noqa: A002 - the API's name
        tag: str | None = None,
        required: bool = False,
        options: Mapping[str, Any] | None = None,
    ) -> Call[MergeField]:
        body: dict[str, Any] = {"name": name, "type": type, "required": required}
        if tag is not None:
            body["tag"] = tag
        if options:
            body["options"] = dict(options)
        return Call(
            _request("postListsIdMergeFields", path={"list_id": list_id}, json=body),
            _model(MergeField),
        )

    def list_webhooks(self, list_id: str) -> Call[list[AudienceWebhook]]:
        return Call(
            _request("getListsIdWebhooks", path={"list_id": list_id}),
            _items("webhooks", AudienceWebhook),
        )

    def create_webhook(
        self, list_id: str, url: str, *, events: WebhookEvents, sources: WebhookSources
    ) -> Call[AudienceWebhook]:
        body = {
            "url": url,
            "events": converter.unstructure(events),
            "sources": converter.unstructure(sources),
        }
        return Call(
            _request("postListsIdWebhooks", path={"list_id": list_id}, json=body),
            _model(AudienceWebhook),
        )

    def delete_webhook(self, list_id: str, webhook_id: str) -> Call[None]:
        path: dict[str, str | int] = {"list_id": list_id, "webhook_id": webhook_id}
        return Call(_request("deleteListsIdWebhooksId", path=path), lambda _: None)

    def submit_batch(self, operations: Sequence[BatchOperation]) -> Call[Batch]:
        rows = []
        for operation in operations:
            row = converter.unstructure(operation)
            if "body" in row:
                row["body"] = json.dumps(row["body"], separators=(",", ":"))
            rows.append(row)
        return Call(_request("postBatches", json={"operations": rows}), _model(Batch))

    def get_batch(self, batch_id: str) -> Call[Batch]:
        return Call(_request("getBatchesId", path={"batch_id": batch_id}), _model(Batch))
