"""Member operations: list, get, add, upsert, update, archive, forget, batch subscribe, tags.

Routes are collected per class (see :class:`~pdmc.emulator._service.Service`), so
the operations are split over a chain of classes, one file each:
:class:`MemberOperations` here, then ``_api_audiences`` and ``_api_integrations``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import attrs

from pdmc.clients.mailchimp import subscriber_hash
from pdmc.emulator._service import APIProblem, EmulatedRequest, EmulatedResponse, operation
from pdmc.emulator.mailchimp import _problems
from pdmc.emulator.mailchimp._audience import Audience, WriteOutcome, iso
from pdmc.emulator.mailchimp._core import MailchimpCore
from pdmc.emulator.mailchimp._emails import email_rejection_reason
from pdmc.emulator.mailchimp._records import STATUSES, Member
from pdmc.emulator.mailchimp._wire import (
    body_of,
    boolean,
    flag,
    member_write,
    page_of,
    string,
    time_window,
)

__all__ = ["BATCH_SUBSCRIBE_LIMIT", "MemberOperations"]

BATCH_SUBSCRIBE_LIMIT: Final = 500
_LIST: Final = "/3.0/lists/{list_id}"
_MEMBER: Final = _LIST + "/members/{subscriber_hash}"
_NOT_EMULATED_FILTERS: Final = (
    "interest_category_id",
    "interest_ids",
    "interest_match",
    "since_last_campaign",
    "unsubscribed_since",
)
_SORT_KEYS: Final[dict[str, Callable[[Member], float]]] = {
    "timestamp_opt": lambda member: member.opt,
    "timestamp_signup": lambda member: member.signup,
    "last_changed": lambda member: member.changed,
}
_BOUNDS: Final = (
    ("since_last_changed", "last_changed", True),
    ("before_last_changed", "last_changed", False),
    ("since_timestamp_opt", "timestamp_opt", True),
    ("before_timestamp_opt", "timestamp_opt", False),
)
_EXISTS_IN_BATCH: Final = (
    "{email} is already a list member, do you want to update? "
    "please provide update_existing:true in the request body"
)


def _member_filter(request: EmulatedRequest, audience: Audience) -> Callable[[Member], bool]:
    """The test ``GET /members`` applies: status (archived only when asked), times, flags.

    Raises:
        APIProblem: a bad value, or a filter the emulator does not emulate.
    """
    for name in _NOT_EMULATED_FILTERS:
        if request.arg(name):
            raise _problems.invalid(name, f"the {name} filter is not emulated")
    tests: list[Callable[[Member], bool]] = []
    status = request.arg("status")
    if status is not None and status not in STATUSES:
        raise _problems.invalid("status", f"Value must be one of: {', '.join(STATUSES)}")
    tests.append((lambda m: m.status == status) if status else (lambda m: m.status != "archived"))
    tests += time_window(request, [(name, _SORT_KEYS[key], since) for name, key, since in _BOUNDS])
    if email_type := request.arg("email_type"):
        tests.append(lambda m: m.get_extra("email_type", "html") == email_type)
    if (request.arg("vip_only") or "").lower() == "true":
        tests.append(lambda m: bool(m.get_extra("vip", default=False)))
    if unique := request.arg("unique_email_id"):
        tests.append(lambda m: audience.unique_email_id(m) == unique)
    return lambda member: all(test(member) for test in tests)


def _listing_key(request: EmulatedRequest) -> tuple[tuple[str, str], ...]:
    ignored = {"count", "offset", "fields", "exclude_fields"}
    return tuple(sorted((k, v[0]) for k, v in request.query.items() if k not in ignored and v))


_ROW_FAILURE: Final = "An unexpected internal error has occurred. Please try again later."
"""The text of a scripted row failure: Mailchimp's generic, transient, per-row error."""


def _row_error(email: str, problem: APIProblem) -> dict[str, Any]:
    """A refused row of batch subscribe, from the refusal a single call would get."""
    exists = problem.title == _problems.MEMBER_EXISTS
    row: dict[str, Any] = {
        "email_address": email,
        "error": _EXISTS_IN_BATCH.format(email=email) if exists else problem.detail,
        "error_code": "ERROR_CONTACT_EXISTS" if exists else "ERROR_GENERIC",
    }
    if problem.errors:
        row["field"] = problem.errors[0]["field"]
        row["field_message"] = problem.errors[0]["message"]
    return row


class MemberOperations(MailchimpCore):
    """The member endpoints of one audience."""

    def _now(self) -> float:
        return self.clock.time()

    @operation("GET", _LIST + "/members", "getListsIdMembers")
    def api_list_members(self, request: EmulatedRequest) -> EmulatedResponse:
        audience = self.audience_of(request)
        count, offset = page_of(request)
        sort_field = request.arg("sort_field")
        if sort_field is not None and sort_field not in _SORT_KEYS:
            raise _problems.invalid("sort_field", f"Value must be one of: {', '.join(_SORT_KEYS)}")
        found = audience.matching(
            ("members", _listing_key(request)),
            _member_filter(request, audience),
            _SORT_KEYS[sort_field] if sort_field else None,
            reverse=request.arg("sort_dir") == "DESC",
        )
        page = found[offset : offset + count]
        return EmulatedResponse.json(
            200,
            {
                "members": [audience.wire_member(member) for member in page],
                "list_id": audience.id,
                "total_items": len(found),
            },
        )

    @operation("GET", _MEMBER, "getListsIdMembersId")
    def api_get_member(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, member = self.member_of(request)
        return EmulatedResponse.json(200, audience.wire_member(member))

    @operation("POST", _LIST + "/members", "postListsIdMembers")
    def api_add_member(self, request: EmulatedRequest) -> EmulatedResponse:
        audience = self.audience_of(request)
        body = body_of(request)
        email = str(string(body, "email_address", required=True))
        string(body, "status", required=True)
        change = member_write(
            body, skip_merge_validation=flag(request, "skip_merge_validation"), with_tags=True
        )
        outcome = audience.add_or_update(
            email, change, may_update=False, actor="api", now=self._now()
        )
        self.notify(audience, outcome, "api")
        return EmulatedResponse.json(200, audience.wire_member(outcome.member))

    @operation("PUT", _MEMBER, "putListsIdMembersId")
    def api_upsert_member(self, request: EmulatedRequest) -> EmulatedResponse:
        audience = self.audience_of(request)
        body = body_of(request)
        email = str(string(body, "email_address", required=True))
        in_path = request.path_params["subscriber_hash"]
        path_key = subscriber_hash(in_path) if "@" in in_path else in_path.lower()
        # A fake address is refused as such, whatever the path says.
        if email_rejection_reason(email.strip()) is None and subscriber_hash(email) != path_key:
            raise _problems.invalid(
                "email_address", "The email address does not match the subscriber hash in the path."
            )
        change = member_write(body, skip_merge_validation=flag(request, "skip_merge_validation"))
        outcome = audience.add_or_update(
            email, change, may_update=True, actor="api", now=self._now()
        )
        self.notify(audience, outcome, "api")
        return EmulatedResponse.json(200, audience.wire_member(outcome.member))

    @operation("PATCH", _MEMBER, "patchListsIdMembersId")
    def api_update_member(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, member = self.member_of(request)
        body = body_of(request)
        change = attrs.evolve(
            member_write(body, skip_merge_validation=flag(request, "skip_merge_validation")),
            new_email=string(body, "email_address"),
        )
        outcome = audience.update(member, change, actor="api", now=self._now())
        self.notify(audience, outcome, "api")
        return EmulatedResponse.json(200, audience.wire_member(outcome.member))

    @operation("DELETE", _MEMBER, "deleteListsIdMembersId")
    def api_archive_member(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, member = self.member_of(request)
        if audience.archive(member, self._now()):
            self.emit(audience, member, ["unsubscribe"], "api")
        return EmulatedResponse(status=204)

    @operation(
        "POST",
        _MEMBER + "/actions/delete-permanent",
        "postListsIdMembersHashActionsDeletePermanent",
    )
    def api_delete_member_permanently(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, member = self.member_of(request)
        self.forget_member(audience, member, "api")
        return EmulatedResponse(status=204)

    def forget_member(self, audience: Audience, member: Member, source: str) -> None:
        """Delete a member permanently, telling webhooks as an archive does."""
        if audience.archive(member, self._now()):
            self.emit(audience, member, ["unsubscribe"], source)
        audience.forget(member)

    @operation("POST", _LIST, "postListsId")
    def api_batch_subscribe(self, request: EmulatedRequest) -> EmulatedResponse:
        audience = self.audience_of(request)
        body = body_of(request)
        rows = body.get("members")
        if not isinstance(rows, list):
            raise _problems.invalid("members", "This value should be a list of members.")
        if len(rows) > BATCH_SUBSCRIBE_LIMIT:
            raise _problems.invalid(
                "members", f"A batch subscribe takes at most {BATCH_SUBSCRIBE_LIMIT} members."
            )
        update_existing = bool(boolean(body, "update_existing"))
        sync_tags = bool(boolean(body, "sync_tags"))
        skip_merge_validation = flag(request, "skip_merge_validation")
        skip_duplicates = flag(request, "skip_duplicate_check")
        seen: set[str] = set()
        created: list[dict[str, Any]] = []
        updated: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for row in rows:
            email = str(row.get("email_address") or "") if isinstance(row, dict) else ""
            key = subscriber_hash(email) if email else ""
            if key and key in seen and skip_duplicates:
                continue
            try:
                if not isinstance(row, dict):
                    raise _problems.invalid("members", "Each member must be an object.")
                if key and key in seen:
                    raise _problems.invalid(
                        "email_address", f"{email} appears more than once in this request."
                    )
                seen.add(key)
                self._fail_row_if_scripted(audience, key)
                outcome = self._subscribe_row(
                    audience, email, row, update_existing, sync_tags, skip_merge_validation
                )
            except APIProblem as problem:
                errors.append(_row_error(email, problem))
                continue
            self.notify(audience, outcome, "api")
            wire = audience.wire_member(outcome.member)
            (created if outcome.created else updated).append(wire)
        return EmulatedResponse.json(
            200,
            {
                "new_members": created,
                "updated_members": updated,
                "errors": errors,
                "total_created": len(created),
                "total_updated": len(updated),
                "error_count": len(errors),
            },
        )

    def _fail_row_if_scripted(self, audience: Audience, key: str) -> None:
        """Refuse the row with Mailchimp's generic error if a failure is scripted for it."""
        left = self.row_failures.get((audience.id, key), 0)
        if left > 0:
            self.row_failures[(audience.id, key)] = left - 1
            raise APIProblem(500, "Internal Server Error", _ROW_FAILURE)

    def _subscribe_row(  # noqa: PLR0917 - a private step of batch subscribe
        self,
        audience: Audience,
        email: str,
        row: dict[str, Any],
        update_existing: bool,
        sync_tags: bool,
        skip_merge_validation: bool,
    ) -> WriteOutcome:
        change = member_write(row, skip_merge_validation=skip_merge_validation, with_tags=True)
        tags = change.tags
        if sync_tags:
            change = attrs.evolve(change, tags=None)
        now = self._now()
        outcome = audience.add_or_update(
            email, change, may_update=update_existing, actor="api", now=now
        )
        if sync_tags and tags is not None:
            audience.set_tags(outcome.member, exactly=tags, now=now)
        return outcome

    @operation("GET", _MEMBER + "/tags", "getListMemberTags")
    def api_list_member_tags(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, member = self.member_of(request)
        count, offset = page_of(request)
        tags = [
            {"id": sid, "name": audience.segments[sid].name, "date_added": iso(added)}
            for sid, added in member.tags
        ]
        return EmulatedResponse.json(
            200, {"tags": tags[offset : offset + count], "total_items": len(tags)}
        )

    @operation("POST", _MEMBER + "/tags", "postListMemberTags")
    def api_update_member_tags(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, member = self.member_of(request)
        body = body_of(request)
        tags = body.get("tags")
        if not isinstance(tags, list):
            raise _problems.invalid("tags", "This value should be a list of tags.")
        active: list[str] = []
        inactive: list[str] = []
        for index, tag in enumerate(tags):
            name = tag.get("name") if isinstance(tag, dict) else None
            status = tag.get("status") if isinstance(tag, dict) else None
            if (
                not isinstance(name, str)
                or not name.strip()
                or status not in {"active", "inactive"}
            ):
                raise _problems.invalid(
                    f"tags[{index}]", "Each tag needs a name and a status (active or inactive)."
                )
            (active if status == "active" else inactive).append(name)
        boolean(body, "is_syncing")
        audience.set_tags(member, active=active, inactive=inactive, now=self._now())
        return EmulatedResponse(status=204)
