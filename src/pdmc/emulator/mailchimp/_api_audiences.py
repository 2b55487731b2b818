"""Account, audience, merge field, tag and segment operations."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from pdmc.emulator._service import APIProblem, EmulatedRequest, EmulatedResponse, operation
from pdmc.emulator.mailchimp import _problems
from pdmc.emulator.mailchimp._api_members import BATCH_SUBSCRIBE_LIMIT, MemberOperations
from pdmc.emulator.mailchimp._audience import Audience, iso
from pdmc.emulator.mailchimp._conditions import ConditionError, MemberTest, compile_conditions
from pdmc.emulator.mailchimp._merge import (
    MERGE_TYPES,
    MergeFieldDefinition,
    MergeValueError,
    default_options,
)
from pdmc.emulator.mailchimp._records import STATUSES, Account, Member, Segment, stable_hex
from pdmc.emulator.mailchimp._wire import (
    body_of,
    boolean,
    flag,
    page_of,
    string,
    time_window,
    timestamp,
)

__all__ = ["AudienceOperations"]

_LIST: Final = "/3.0/lists/{list_id}"
_SEGMENT: Final = _LIST + "/segments/{segment_id}"
_MERGE_TAG: Final = re.compile(r"^[A-Z][A-Z0-9_]{0,9}$")
_LIST_REQUIRED: Final = ("name", "contact", "permission_reminder", "campaign_defaults")
#: segment members are subscribed or pending unless the request includes more
_SEGMENT_STATUSES: Final = frozenset({"subscribed", "pending"})
_DEFAULT_MERGE_FIELDS: Final = (
    ("FNAME", "First Name", "text"),
    ("LNAME", "Last Name", "text"),
    ("ADDRESS", "Address", "address"),
    ("PHONE", "Phone Number", "phone"),
)
_DEFAULT_DETAILS: Final = {
    "contact": {
        "company": "Emulated Company",
        "address1": "675 Ponce de Leon Ave NE",
        "address2": "",
        "city": "Atlanta",
        "state": "GA",
        "zip": "30308",
        "country": "US",
        "phone": "",
    },
    "permission_reminder": "You signed up for updates on our website.",
    "use_archive_bar": False,
    "campaign_defaults": {
        "from_name": "Emulated Company",
        "from_email": "news@emulated-company.net",
        "subject": "",
        "language": "en",
    },
    "notify_on_subscribe": "",
    "notify_on_unsubscribe": "",
    "email_type_option": False,
    "marketing_permissions": False,
}
_INCLUDE_FLAGS: Final = (
    ("include_cleaned", "cleaned"),
    ("include_transactional", "transactional"),
    ("include_unsubscribed", "unsubscribed"),
)


def _page(items: list[Any], request: EmulatedRequest) -> list[Any]:
    count, offset = page_of(request)
    return items[offset : offset + count]


def _included(request: EmulatedRequest) -> frozenset[str]:
    extra = {status for name, status in _INCLUDE_FLAGS if flag(request, name)}
    return _SEGMENT_STATUSES | extra


class AudienceOperations(MemberOperations):
    """The account, its audiences, and each audience's fields, tags and segments."""

    # ------------------------------------------------------------------ account

    @operation("GET", "/3.0/", "getRoot")
    def api_get_root(self, request: EmulatedRequest) -> EmulatedResponse:
        account = self.caller(request)
        mine = [a for a in self.audiences.values() if a.account_id == account.id]
        return EmulatedResponse.json(
            200,
            {
                "account_id": account.id,
                "login_id": account.login_id,
                "account_name": account.name,
                "email": account.login_email,
                "first_name": "",
                "last_name": "",
                "username": account.login_email,
                "avatar_url": "",
                "role": "owner",
                "member_since": iso(account.created),
                "pricing_plan_type": "monthly",
                "account_timezone": "UTC",
                "account_industry": "",
                "contact": {"company": account.name, "country": "US"},
                "pro_enabled": False,
                "last_login": iso(self.clock.time()),
                "total_subscribers": sum(a.counts["subscribed"] for a in mine),
            },
        )

    @operation("GET", "/3.0/ping", "getPing")
    def api_ping(self, request: EmulatedRequest) -> EmulatedResponse:
        del request
        return EmulatedResponse.json(200, {"health_status": "Everything's Chimpy!"})

    # ---------------------------------------------------------------- audiences

    def wire_audience(self, audience: Audience, *, total_contacts: bool = False) -> dict[str, Any]:
        """An audience as ``GET /lists/{id}`` shows it."""
        counts = audience.counts
        stats: dict[str, Any] = {
            "member_count": counts["subscribed"],
            "unsubscribe_count": counts["unsubscribed"],
            "cleaned_count": counts["cleaned"],
            "member_count_since_send": counts["subscribed"],
            "unsubscribe_count_since_send": counts["unsubscribed"],
            "cleaned_count_since_send": counts["cleaned"],
            "campaign_count": 0,
            "merge_field_count": len(audience.merge_fields),
            "avg_sub_rate": 0,
            "avg_unsub_rate": 0,
            "target_sub_rate": 0,
            "open_rate": 0,
            "click_rate": 0,
        }
        if total_contacts:
            stats["total_contacts"] = sum(n for s, n in counts.items() if s != "archived")
        if audience.last_subscribed is not None:
            stats["last_sub_date"] = iso(audience.last_subscribed)
        if audience.last_unsubscribed is not None:
            stats["last_unsub_date"] = iso(audience.last_unsubscribed)
        web_id = int(audience.id[:6], 16)
        return {
            "id": audience.id,
            "web_id": web_id,
            "name": audience.name,
            **audience.details,
            "date_created": iso(audience.created),
            "list_rating": 0,
            "subscribe_url_short": f"https://eepurl.com/{audience.id[:6]}",
            "subscribe_url_long": f"https://mailchi.mp/subscribe?u={audience.account_id}&id={audience.id}",
            "beamer_address": f"{audience.id}@inbound.mailchimp.com",
            "visibility": "pub",
            "double_optin": audience.double_optin,
            "has_welcome": False,
            "modules": [],
            "stats": stats,
        }

    @operation("GET", "/3.0/lists", "getLists")
    def api_list_audiences(self, request: EmulatedRequest) -> EmulatedResponse:
        account = self.caller(request)
        email = request.arg("email")
        since, before = request.arg("since_date_created"), request.arg("before_date_created")
        found = [
            a
            for a in self.audiences.values()
            if a.account_id == account.id
            and (email is None or ((m := a.find(email)) is not None and m.status != "archived"))
            and (since is None or a.created >= timestamp(since, "since_date_created"))
            and (before is None or a.created < timestamp(before, "before_date_created"))
        ]
        if request.arg("sort_field") == "date_created":
            found.sort(key=lambda a: a.created, reverse=request.arg("sort_dir") == "DESC")
        totals = flag(request, "include_total_contacts")
        return EmulatedResponse.json(
            200,
            {
                "lists": [
                    self.wire_audience(a, total_contacts=totals) for a in _page(found, request)
                ],
                "total_items": len(found),
                "constraints": {
                    "may_create": True,
                    "max_instances": 100,
                    "current_total_instances": len(found),
                },
            },
        )

    @operation("GET", _LIST, "getListsId")
    def api_get_audience(self, request: EmulatedRequest) -> EmulatedResponse:
        audience = self.audience_of(request)
        totals = flag(request, "include_total_contacts")
        return EmulatedResponse.json(200, self.wire_audience(audience, total_contacts=totals))

    @operation("POST", "/3.0/lists", "postLists")
    def api_create_audience(self, request: EmulatedRequest) -> EmulatedResponse:
        account = self.caller(request)
        body = body_of(request)
        for name in _LIST_REQUIRED:
            if not body.get(name):
                raise _problems.invalid(name, "This value should not be blank.")
        audience = self.new_audience(
            account,
            str(string(body, "name", required=True)),
            double_optin=bool(boolean(body, "double_optin")),
            details=body,
        )
        return EmulatedResponse.json(200, self.wire_audience(audience))

    @operation("PATCH", _LIST, "patchListsId")
    def api_update_audience(self, request: EmulatedRequest) -> EmulatedResponse:
        audience = self.audience_of(request)
        body = body_of(request)
        audience.name = string(body, "name") or audience.name
        if (double_optin := boolean(body, "double_optin")) is not None:
            audience.double_optin = double_optin
        audience.details = _audience_details(body, audience.details)
        return EmulatedResponse.json(200, self.wire_audience(audience))

    @operation("DELETE", _LIST, "deleteListsId")
    def api_delete_audience(self, request: EmulatedRequest) -> EmulatedResponse:
        audience = self.audience_of(request)
        for webhook_id in audience.webhooks:
            self.forget_deliveries(webhook_id)
        del self.audiences[audience.id]
        return EmulatedResponse(status=204)

    def new_audience(
        self, account: Account, name: str, *, double_optin: bool, details: dict[str, Any]
    ) -> Audience:
        """Create an audience with the default merge fields FNAME, LNAME, ADDRESS, PHONE."""
        audience = Audience(
            list_id=stable_hex("list", account.id, next(self._audience_numbers)),
            account_id=account.id,
            name=name,
            double_optin=double_optin,
            created=self.clock.time(),
            segment_ids=self._segment_ids,
            details=_audience_details(details, {}),
        )
        self.audiences[audience.id] = audience
        for tag, label, kind in _DEFAULT_MERGE_FIELDS:
            self.define_merge_field(
                audience, tag=tag, name=label, field_type=kind, required=False, options={}
            )
        return audience

    # ------------------------------------------------------------- merge fields

    def _merge_field_of(self, request: EmulatedRequest) -> tuple[Audience, MergeFieldDefinition]:
        audience = self.audience_of(request)
        wanted = request.path_params.get("merge_id", "")
        found = next((f for f in audience.merge_fields.values() if str(f.merge_id) == wanted), None)
        if found is None:
            raise _problems.not_found()
        return audience, found

    @operation("GET", _LIST + "/merge-fields", "getListsIdMergeFields")
    def api_list_merge_fields(self, request: EmulatedRequest) -> EmulatedResponse:
        audience = self.audience_of(request)
        wanted_type = request.arg("type")
        required = request.arg("required")
        found = [
            f
            for f in sorted(audience.merge_fields.values(), key=lambda f: f.display_order)
            if (wanted_type is None or f.type == wanted_type)
            and (required is None or f.required == (required.lower() == "true"))
        ]
        return EmulatedResponse.json(
            200,
            {
                "merge_fields": [f.wire(audience.id) for f in _page(found, request)],
                "list_id": audience.id,
                "total_items": len(found),
            },
        )

    @operation("GET", _LIST + "/merge-fields/{merge_id}", "getListsIdMergeFieldsId")
    def api_get_merge_field(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, definition = self._merge_field_of(request)
        return EmulatedResponse.json(200, definition.wire(audience.id))

    @operation("POST", _LIST + "/merge-fields", "postListsIdMergeFields")
    def api_create_merge_field(self, request: EmulatedRequest) -> EmulatedResponse:
        audience = self.audience_of(request)
        body = body_of(request)
        field_type = string(body, "type", required=True)
        if field_type not in MERGE_TYPES:
            raise _problems.invalid("type", f"Value must be one of: {', '.join(MERGE_TYPES)}")
        definition = self.define_merge_field(
            audience,
            tag=string(body, "tag"),
            name=str(string(body, "name", required=True)),
            field_type=field_type,
            required=bool(boolean(body, "required")),
            options=_options_of(body),
        )
        _apply_field_settings(definition, body)
        return EmulatedResponse.json(200, definition.wire(audience.id))

    def define_merge_field(
        self,
        audience: Audience,
        *,
        tag: str | None,
        name: str,
        field_type: str,
        required: bool,
        options: Mapping[str, Any],
    ) -> MergeFieldDefinition:
        """Add a merge field to ``audience`` after checking its tag and options.

        Raises:
            APIProblem: a bad or taken tag, an unknown type, or bad options.
        """
        if field_type not in MERGE_TYPES:
            raise _problems.invalid("type", f"Value must be one of: {', '.join(MERGE_TYPES)}")
        checked_tag = _checked_tag(audience, tag) if tag else ""
        try:
            settings = default_options(field_type, options)
        except MergeValueError as error:
            raise _problems.invalid("options", error.message) from None
        definition = MergeFieldDefinition(
            merge_id=0,
            tag=checked_tag,
            name=name,
            type=field_type,
            required=required,
            options=settings,
        )
        return audience.add_merge_field(definition)

    @operation("PATCH", _LIST + "/merge-fields/{merge_id}", "patchListsIdMergeFieldsId")
    def api_update_merge_field(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, definition = self._merge_field_of(request)
        body = body_of(request)
        tag = string(body, "tag")
        if tag is not None and tag.upper() != definition.tag:
            audience.rename_merge_tag(definition, _checked_tag(audience, tag))
        definition.name = string(body, "name") or definition.name
        if (required := boolean(body, "required")) is not None:
            definition.required = required
        if "options" in body:
            try:
                definition.options = default_options(
                    definition.type, {**definition.options, **_options_of(body)}
                )
            except MergeValueError as error:
                raise _problems.invalid("options", error.message) from None
        _apply_field_settings(definition, body)
        audience.touch()
        return EmulatedResponse.json(200, definition.wire(audience.id))

    @operation("DELETE", _LIST + "/merge-fields/{merge_id}", "deleteListsIdMergeFieldsId")
    def api_delete_merge_field(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, definition = self._merge_field_of(request)
        audience.delete_merge_field(definition)
        return EmulatedResponse(status=204)

    # --------------------------------------------------------- tags and segments

    @operation("GET", _LIST + "/tag-search", "searchTagsByName")
    def api_search_tags(self, request: EmulatedRequest) -> EmulatedResponse:
        audience = self.audience_of(request)
        prefix = (request.arg("name") or "").lower()
        found = [
            {"id": s.id, "name": s.name}
            for s in audience.segments.values()
            if s.type == "static" and s.name.lower().startswith(prefix)
        ]
        return EmulatedResponse.json(200, {"tags": found, "total_items": len(found)})

    def segment_test(self, audience: Audience, segment: Segment) -> MemberTest:
        """Whether a member belongs to ``segment`` (statuses aside)."""
        if segment.type == "static":
            return lambda member: any(sid == segment.id for sid, _ in member.tags)
        try:
            return compile_conditions(
                segment.options or {},
                audience.merge_field,
                lambda sid: sid in audience.segments and audience.segments[sid].type == "static",
            )
        except ConditionError:
            # A field or tag the conditions name was deleted since: nobody matches.
            return lambda _: False

    def segment_members(
        self, audience: Audience, segment: Segment, statuses: frozenset[str]
    ) -> list[Member]:
        """The members of a segment whose status is one of ``statuses``."""
        test = self.segment_test(audience, segment)
        return audience.matching(
            ("segment", segment.id, statuses),
            lambda member: member.status in statuses and test(member),
        )

    def wire_segment(
        self, audience: Audience, segment: Segment, statuses: frozenset[str] = _SEGMENT_STATUSES
    ) -> dict[str, Any]:
        """A segment as ``GET /lists/{id}/segments/{segment_id}`` shows it."""
        wire: dict[str, Any] = {
            "id": segment.id,
            "name": segment.name,
            "member_count": len(self.segment_members(audience, segment, statuses)),
            "type": segment.type,
            "created_at": iso(segment.created),
            "updated_at": iso(segment.updated),
            "list_id": audience.id,
        }
        if segment.options is not None:
            wire["options"] = segment.options
        return wire

    def _segment_of(self, request: EmulatedRequest) -> tuple[Audience, Segment]:
        audience = self.audience_of(request)
        raw = request.path_params.get("segment_id", "")
        segment = audience.segments.get(int(raw)) if raw.isdigit() else None
        if segment is None:
            raise _problems.not_found()
        return audience, segment

    @operation("GET", _LIST + "/segments", "previewASegment")
    def api_list_segments(self, request: EmulatedRequest) -> EmulatedResponse:
        audience = self.audience_of(request)
        kind = request.arg("type")
        bounds = _time_bounds(request)
        found = [
            s
            for s in audience.segments.values()
            if (kind is None or s.type == kind) and all(check(s) for check in bounds)
        ]
        statuses = _included(request)
        return EmulatedResponse.json(
            200,
            {
                "segments": [
                    self.wire_segment(audience, s, statuses) for s in _page(found, request)
                ],
                "list_id": audience.id,
                "total_items": len(found),
            },
        )

    @operation("GET", _SEGMENT, "getListsIdSegmentsId")
    def api_get_segment(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, segment = self._segment_of(request)
        return EmulatedResponse.json(200, self.wire_segment(audience, segment, _included(request)))

    @operation("POST", _LIST + "/segments", "postListsIdSegments")
    def api_create_segment(self, request: EmulatedRequest) -> EmulatedResponse:
        audience = self.audience_of(request)
        body = body_of(request)
        name = str(string(body, "name", required=True))
        emails = _emails_of(body, "static_segment")
        options = body.get("options")
        if emails is not None and options is not None:
            raise _problems.invalid("options", "Give static_segment or options, not both.")
        if options is not None:
            segment = self.save_segment(audience, name, options)
        else:
            segment = audience.create_segment(name, "static", self.clock.time())
            self._fill_tag(audience, segment, emails or ())
        return EmulatedResponse.json(200, self.wire_segment(audience, segment))

    def save_segment(self, audience: Audience, name: str, options: Any) -> Segment:
        """Create a saved segment after checking its conditions.

        Raises:
            APIProblem: the conditions cannot be evaluated (named in the message).
        """
        checked = self._checked_conditions(audience, options)
        return audience.create_segment(name, "saved", self.clock.time(), checked)

    def _checked_conditions(self, audience: Audience, options: Any) -> dict[str, Any]:
        if not isinstance(options, dict):
            raise _problems.invalid("options", "options must be an object")
        try:
            compile_conditions(
                options,
                audience.merge_field,
                lambda sid: sid in audience.segments and audience.segments[sid].type == "static",
            )
        except ConditionError as error:
            raise _problems.invalid("options.conditions", str(error)) from None
        return {"match": options.get("match", "all"), "conditions": options["conditions"]}

    def _fill_tag(self, audience: Audience, segment: Segment, emails: tuple[str, ...]) -> None:
        now = self.clock.time()
        for email in emails:
            if (member := audience.find(email)) is not None:
                audience.put_in_tag(member, segment, present=True, now=now)

    @operation("PATCH", _SEGMENT, "patchListsIdSegmentsId")
    def api_update_segment(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, segment = self._segment_of(request)
        body = body_of(request)
        name = str(string(body, "name", required=True)).strip()
        taken = any(
            s.name.lower() == name.lower() and s is not segment for s in audience.segments.values()
        )
        if taken:
            raise APIProblem(400, "Bad Request", f"Sorry, a segment named {name!r} already exists.")
        now = self.clock.time()
        emails = _emails_of(body, "static_segment")
        if emails is not None:
            if segment.type != "static":
                raise _problems.invalid("static_segment", "Only a tag takes static_segment.")
            for member in self.segment_members(audience, segment, frozenset(STATUSES)):
                audience.put_in_tag(member, segment, present=False, now=now)
            self._fill_tag(audience, segment, emails)
        if "options" in body:
            if segment.type != "saved":
                raise _problems.invalid("options", "Only a saved segment takes options.")
            segment.options = self._checked_conditions(audience, body["options"])
        segment.name, segment.updated = name, now
        audience.touch()
        return EmulatedResponse.json(200, self.wire_segment(audience, segment))

    @operation("DELETE", _SEGMENT, "deleteListsIdSegmentsId")
    def api_delete_segment(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, segment = self._segment_of(request)
        audience.delete_segment(segment)
        return EmulatedResponse(status=204)

    @operation("POST", _SEGMENT, "postListsIdSegmentsId")
    def api_update_static_segment(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, segment = self._segment_of(request)
        if segment.type != "static":
            raise APIProblem(
                400, "Bad Request", "Members can be added to and removed from tags only."
            )
        body = body_of(request)
        to_add = _emails_of(body, "members_to_add") or ()
        to_remove = _emails_of(body, "members_to_remove") or ()
        for name, emails in (("members_to_add", to_add), ("members_to_remove", to_remove)):
            if len(emails) > BATCH_SUBSCRIBE_LIMIT:
                raise _problems.invalid(
                    name, f"{name} takes at most {BATCH_SUBSCRIBE_LIMIT} addresses."
                )
        now = self.clock.time()
        added: list[dict[str, Any]] = []
        removed: list[dict[str, Any]] = []
        unknown: list[str] = []
        for emails, present, done in ((to_add, True, added), (to_remove, False, removed)):
            for email in emails:
                member = audience.find(email)
                if member is None:
                    unknown.append(email)
                elif audience.put_in_tag(member, segment, present=present, now=now):
                    done.append(audience.wire_member(member))
        errors = [
            {"email_addresses": unknown, "error": "Email addresses not found in this audience."}
        ]
        return EmulatedResponse.json(
            200,
            {
                "members_added": added,
                "members_removed": removed,
                "errors": errors if unknown else [],
                "total_added": len(added),
                "total_removed": len(removed),
                "error_count": len(unknown),
            },
        )

    @operation("GET", _SEGMENT + "/members", "getListsIdSegmentsIdMembers")
    def api_list_segment_members(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, segment = self._segment_of(request)
        found = self.segment_members(audience, segment, _included(request))
        return EmulatedResponse.json(
            200,
            {
                "members": [audience.wire_member(m) for m in _page(found, request)],
                "total_items": len(found),
            },
        )

    @operation("POST", _SEGMENT + "/members", "postListsIdSegmentsIdMembers")
    def api_add_segment_member(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, segment = self._segment_of(request)
        if segment.type != "static":
            raise APIProblem(400, "Bad Request", "Members can be added to tags only.")
        member = audience.find(str(string(body_of(request), "email_address", required=True)))
        if member is None:
            raise _problems.not_found("The email address is not in this audience.")
        audience.put_in_tag(member, segment, present=True, now=self.clock.time())
        return EmulatedResponse.json(200, audience.wire_member(member))

    @operation(
        "DELETE", _SEGMENT + "/members/{subscriber_hash}", "deleteListsIdSegmentsIdMembersId"
    )
    def api_remove_segment_member(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, segment = self._segment_of(request)
        member = audience.find(request.path_params["subscriber_hash"])
        if member is None or not audience.put_in_tag(
            member, segment, present=False, now=self.clock.time()
        ):
            raise _problems.not_found("The member is not in this segment.")
        return EmulatedResponse(status=204)


def _checked_tag(audience: Audience, tag: str) -> str:
    wanted = tag.strip().upper()
    if not _MERGE_TAG.match(wanted):
        raise _problems.invalid(
            "tag", "A merge tag is 1 to 10 letters, digits or _, starting with a letter."
        )
    if wanted in audience.merge_fields:
        raise _problems.invalid("tag", f"A merge field with the tag {wanted!r} already exists.")
    return wanted


def _options_of(body: Mapping[str, Any]) -> dict[str, Any]:
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise _problems.invalid("options", "options must be an object")
    return options


def _apply_field_settings(definition: MergeFieldDefinition, body: Mapping[str, Any]) -> None:
    for name in ("default_value", "help_text"):
        if (text := string(body, name)) is not None:
            setattr(definition, name, text)
    if (public := boolean(body, "public")) is not None:
        definition.public = public
    order = body.get("display_order")
    if order is not None:
        if not isinstance(order, int) or isinstance(order, bool):
            raise _problems.invalid("display_order", "This value should be an integer.")
        definition.display_order = order


def _emails_of(body: Mapping[str, Any], name: str) -> tuple[str, ...] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(e, str) for e in value):
        raise _problems.invalid(name, "This value should be a list of email addresses.")
    return tuple(value)


def _audience_details(body: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    details = {**_DEFAULT_DETAILS, **current}
    for name in _DEFAULT_DETAILS:
        if name in body:
            details[name] = body[name]
    return details


def _time_bounds(request: EmulatedRequest) -> list[Callable[[Segment], bool]]:
    def created(segment: Segment) -> float:
        return segment.created

    def updated(segment: Segment) -> float:
        return segment.updated

    return time_window(
        request,
        [
            ("since_created_at", created, True),
            ("before_created_at", created, False),
            ("since_updated_at", updated, True),
            ("before_updated_at", updated, False),
        ],
    )
