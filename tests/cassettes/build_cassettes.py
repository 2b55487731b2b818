"""Build the vcrpy cassettes the client tests replay, from the official API contracts.

Run it from the repository root whenever the contracts or the planned exchanges change::

    .venv/bin/python -m tests.cassettes.build_cassettes

Each cassette is a list of planned exchanges: the request the API expects (method,
URL, query and JSON body, spelled from the contracts and ``API-FACTS.md``) and the
answer it gives. Pipedrive answers are the contracts' documented examples
(:func:`tests.contracts.documented_example`), changed only where a scenario needs it
(a second page, the values a write sent back). The Mailchimp contract documents no
operation examples, only property-level ones, so its answers are composed from the
response schemas and ``API-FACTS.md`` (error documents from the property examples of
``Problem_Detail_Document``). Every exchange is validated against its contract before
it is written, so no cassette can hold traffic the contracts refuse.

The exchanges are sent with the same canary credentials the tests use, through an
``httpx.MockTransport`` that vcrpy records: the recording filters (``filter_headers``
for the credential headers, and a scrubber for the secret fields of JSON bodies)
are what keeps the canaries out of the files, and the tests scan every cassette to
prove it. Writing is deterministic (fixed data, no clock, a gzip stream with a zero
mtime), so ``tests/clients/test_cassettes.py`` can rebuild everything into a temporary
folder and require it to equal what is on disk.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import io
import json
import sys
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
import vcr
from vcr.request import Request as VcrRequest

from tests.contracts import Contract, documented_example, validate_exchange

__all__ = [
    "CANARIES",
    "CASSETTES",
    "CASSETTE_DIR",
    "LIST_ID",
    "MAILCHIMP_KEY",
    "PIPEDRIVE_TOKEN",
    "SIGNING_SECRET",
    "WEBHOOK_PASSWORD",
    "audience_json",
    "batch_json",
    "build",
    "member_json",
    "problem_json",
    "results_archive",
    "webhook_json",
    "cassette_vcr",
    "outside_the_contracts",
]

CASSETTE_DIR: Final = Path(__file__).resolve().parent

# Canary credentials: unique strings that must never reach a cassette, a repr, a log
# or an exception. The build sends them as a real client would; the filters drop them.
PIPEDRIVE_TOKEN: Final = "canary-PD-TOKEN-4242"
MAILCHIMP_KEY: Final = "canary-SECRET-4242-us6"
WEBHOOK_PASSWORD: Final = "canary-WEBHOOK-PASS-4242"
SIGNING_SECRET: Final = "canary-SIGNING-SECRET-4242"
CANARIES: Final = (PIPEDRIVE_TOKEN, MAILCHIMP_KEY, WEBHOOK_PASSWORD, SIGNING_SECRET)

AUTH_HEADERS: Final = ("authorization", "x-api-token")
"""Request headers that carry credentials; vcrpy's ``filter_headers`` drops them."""

SECRET_FIELDS: Final = frozenset({"http_auth_password", "signing_secret"})
"""JSON body fields that carry secrets (a webhook's Basic-auth password, a signing secret)."""

FILTERED: Final = "FILTERED"
"""What a secret field holds in a cassette."""

MATCH_ON: Final = ("method", "scheme", "host", "path", "query", "body_without_secrets")
"""How a replayed request finds its recording: everything but headers, bodies compared
as JSON with the secret fields masked on both sides (the cassette holds no secret)."""

PIPEDRIVE: Final = "https://api.pipedrive.com"
MAILCHIMP: Final = "https://us6.api.mailchimp.com/3.0"
BATCH_RESULTS_HOST: Final = "mailchimp-api-batch.s3.amazonaws.com"

_OUTSIDE: Final = {
    "login.mailchimp.com": "Mailchimp's OAuth endpoints (API-FACTS 2.1); no contract covers them",
    BATCH_RESULTS_HOST: "the pre-signed download of a finished batch's results, not an API call",
}


def outside_the_contracts(url: httpx.URL) -> str | None:
    """Why no contract covers requests to ``url``'s host, or ``None`` when one does."""
    return _OUTSIDE.get(url.host)


# --- the recording configuration shared with the replaying tests --------------------


def _scrub(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: FILTERED if k in SECRET_FIELDS else _scrub(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_scrub(item) for item in data]
    return data


_NOT_JSON: Final = object()


def _scrubbed_data(body: bytes | str | None) -> Any:
    """The parsed JSON body with secret fields masked, or ``_NOT_JSON``."""
    if not body:
        return _NOT_JSON
    try:
        return _scrub(json.loads(body))
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


def _scrubbed_json(body: bytes | str | None) -> bytes | None:
    """The body with secret fields masked, or ``None`` if it is not JSON."""
    data = _scrubbed_data(body)
    return None if data is _NOT_JSON else json.dumps(data, separators=(",", ":")).encode()


def _record_request(request: VcrRequest) -> VcrRequest:
    # Only the content type is kept: it tells the body matcher to compare JSON, and
    # every other header (host, user agent with its version) would make builds drift.
    content_type = request.headers.get("content-type")
    request.headers = {"content-type": content_type} if content_type else {}
    scrubbed = _scrubbed_json(request.body)
    if scrubbed is not None:
        request.body = scrubbed
    return request


def _record_response(response: dict[str, Any]) -> dict[str, Any]:
    scrubbed = _scrubbed_json(response["body"]["string"])
    if scrubbed is not None:
        response["body"]["string"] = scrubbed
    # The length of a scrubbed body changed; httpx counts the bytes itself.
    response["headers"] = {k: v for k, v in response["headers"].items() if k != "content-length"}
    return response


def _body_without_secrets(first: VcrRequest, second: VcrRequest) -> bool:
    one, other = _scrubbed_data(first.body), _scrubbed_data(second.body)
    if one is _NOT_JSON or other is _NOT_JSON:
        return (first.body or b"") == (second.body or b"")
    return bool(one == other)


def cassette_vcr(directory: Path = CASSETTE_DIR, *, record_mode: str = "none") -> vcr.VCR:
    """The vcrpy configuration of the cassettes: filters, matchers, folder, mode.

    The tests replay with ``record_mode="none"`` (an unmatched request fails, no
    network is ever reached); the build records with ``"all"``.
    """
    recorder = vcr.VCR(
        cassette_library_dir=str(directory),
        record_mode=record_mode,
        match_on=MATCH_ON,
        filter_headers=AUTH_HEADERS,
        before_record_request=_record_request,
        before_record_response=_record_response,
    )
    recorder.register_matcher("body_without_secrets", _body_without_secrets)
    return recorder


# --- planned exchanges --------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """A request the API expects and the answer it gives."""

    request: httpx.Request
    status: int = 200
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def response(self, request: httpx.Request) -> httpx.Response:
        """The planned answer to ``request``."""
        if self.content is not None:
            return httpx.Response(
                self.status, content=self.content, headers=self.headers, request=request
            )
        if self.json is None:
            return httpx.Response(self.status, headers=self.headers, request=request)
        return httpx.Response(self.status, json=self.json, headers=self.headers, request=request)


def _pipedrive(method: str, path: str, *, params: Any = None, body: Any = None) -> httpx.Request:
    return httpx.Request(
        method,
        PIPEDRIVE + path,
        params=params,
        json=body,
        headers={"x-api-token": PIPEDRIVE_TOKEN},
    )


_MAILCHIMP_AUTH: Final = "Basic " + base64.b64encode(f"pdmc:{MAILCHIMP_KEY}".encode()).decode()


def _mailchimp(method: str, path: str, *, params: Any = None, body: Any = None) -> httpx.Request:
    return httpx.Request(
        method,
        MAILCHIMP + path,
        params=params,
        json=body,
        headers={"authorization": _MAILCHIMP_AUTH},
    )


def _example(operation_id: str, status: str = "200", **changes: Any) -> Any:
    """A documented Pipedrive example; ``changes`` replace keys of its ``data`` object."""
    body = documented_example(operation_id, status)
    body["data"].update(changes)
    return body


def _last_page(body: Any) -> Any:
    body["additional_data"]["next_cursor"] = None
    return body


# Pipedrive ------------------------------------------------------------------------

CURSOR: Final = documented_example("getPersons")["additional_data"]["next_cursor"]
CUSTOM_FIELD: Final = "40characterhashforcustomfieldidentifier"
"""The custom field key of the contract's person-field example."""

PERSON_EMAIL: Final = {"value": "email1@email.com", "primary": True, "label": "work"}
NEW_EMAIL: Final = {"value": "person.name@example.com", "primary": True, "label": "work"}
FILTER_CONDITIONS: Final = {
    "glue": "and",
    "conditions": [
        {
            "glue": "and",
            "conditions": [
                {
                    "object": "person",
                    "field_id": "9032",
                    "operator": "LIKE '%$%'",
                    "value": "@example.com",
                    "extra_value": None,
                }
            ],
        },
        {"glue": "or", "conditions": []},
    ],
}


def _second_person() -> Any:
    body = _last_page(documented_example("getPersons"))
    first = body["data"][0]
    first.update(
        id=2,
        name="Second Person",
        first_name="Second",
        last_name="Person",
        org_id=None,
        picture_id=None,
        emails=[{"value": "second.person@example.com", "primary": True, "label": "work"}],
        phones=[],
    )
    return body


def _filter_example(operation_id: str, **changes: Any) -> Any:
    body = _example(operation_id, **changes)
    for group in body["data"]["conditions"]["conditions"]:
        for condition in group["conditions"]:
            condition["object"] = "person"
    return body


def _participants_page(start: int) -> Any:
    body = documented_example("getDealParticipants")
    participant = body["data"][0]
    if start:
        participant["id"] += start
        participant["person_id"]["value"] += start
        participant["person"]["id"] += start
    more = start == 0
    body["additional_data"]["pagination"] = {
        "start": start,
        "limit": 1,
        "more_items_in_collection": more,
        **({"next_start": start + 1} if more else {}),
    }
    return body


def _recents() -> Any:
    body = documented_example("getRecents")
    # The example's own pagination key is misspelt ("pagination\"") with string
    # values; the schema and the API use ``pagination`` with numbers.
    body["additional_data"] = {
        "since_timestamp": "2024-01-01 00:00:00",
        "last_timestamp_on_page": "2024-01-02 09:30:00",
        "pagination": {"start": 0, "limit": 500, "more_items_in_collection": False},
    }
    return body


def _webhook_created() -> Any:
    return _example(
        "addWebhook",
        "201",
        event_action="*",
        event_object="person",
        subscription_url="https://sync.example.com/hooks/pipedrive",
        name="pdmc person sync",
        http_auth_user="pdmc",
        http_auth_password=WEBHOOK_PASSWORD,
    )


PIPEDRIVE_CASSETTES: Final[dict[str, Callable[[], list[Exchange]]]] = {
    "pipedrive_list_persons": lambda: [
        Exchange(
            _pipedrive("GET", "/api/v2/persons", params={"limit": 500}),
            json=documented_example("getPersons"),
        ),
        Exchange(
            _pipedrive("GET", "/api/v2/persons", params={"limit": 500, "cursor": CURSOR}),
            json=_second_person(),
        ),
    ],
    "pipedrive_get_person": lambda: [
        Exchange(_pipedrive("GET", "/api/v2/persons/1"), json=documented_example("getPerson")),
    ],
    "pipedrive_create_person": lambda: [
        Exchange(
            _pipedrive(
                "POST",
                "/api/v2/persons",
                body={
                    "name": "Person Name",
                    "emails": [PERSON_EMAIL],
                    "custom_fields": {CUSTOM_FIELD: 1},
                },
            ),
            json=_example("addPerson", custom_fields={CUSTOM_FIELD: 1}),
        ),
    ],
    "pipedrive_update_person": lambda: [
        Exchange(
            _pipedrive(
                "PATCH",
                "/api/v2/persons/1",
                body={"emails": [NEW_EMAIL], "custom_fields": {CUSTOM_FIELD: None}},
            ),
            json=_example("updatePerson", emails=[NEW_EMAIL], custom_fields={CUSTOM_FIELD: None}),
        ),
    ],
    "pipedrive_search_persons_by_email": lambda: [
        Exchange(
            _pipedrive(
                "GET",
                "/api/v2/persons/search",
                params={
                    "term": "jane@pipedrive.com",
                    "fields": "email",
                    "exact_match": "true",
                    "limit": 100,
                },
            ),
            json=_last_page(documented_example("searchPersons")),
        ),
    ],
    "pipedrive_list_person_fields": lambda: [
        Exchange(
            _pipedrive(
                "GET",
                "/api/v2/personFields",
                params={"include_fields": "required_fields", "limit": 500},
            ),
            json=_last_page(documented_example("getPersonFields", contract=Contract.PIPEDRIVE_V2)),
        ),
    ],
    "pipedrive_list_filters": lambda: [
        Exchange(
            _pipedrive("GET", "/v1/filters", params={"type": "people"}),
            json={
                **documented_example("getFilters"),
                "data": [
                    {**documented_example("getFilters")["data"][0], "type": "people"},
                ],
            },
        ),
    ],
    "pipedrive_get_filter": lambda: [
        Exchange(
            _pipedrive("GET", "/v1/filters/1", params={"include_field_code": "true"}),
            json=_filter_example("getFilter", type="people"),
        ),
    ],
    "pipedrive_create_filter": lambda: [
        Exchange(
            _pipedrive(
                "POST",
                "/v1/filters",
                body={
                    "name": "Example.com people",
                    "type": "people",
                    "conditions": FILTER_CONDITIONS,
                },
            ),
            json=_filter_example(
                "addFilter",
                name="Example.com people",
                type="people",
                conditions=copy.deepcopy(FILTER_CONDITIONS),
            ),
        ),
    ],
    "pipedrive_update_filter": lambda: [
        Exchange(
            _pipedrive(
                "PUT",
                "/v1/filters/1",
                body={"name": "Example.com people (renamed)", "conditions": FILTER_CONDITIONS},
            ),
            json=_filter_example(
                "updateFilter",
                name="Example.com people (renamed)",
                type="people",
                conditions=copy.deepcopy(FILTER_CONDITIONS),
            ),
        ),
    ],
    "pipedrive_delete_filter": lambda: [
        Exchange(_pipedrive("DELETE", "/v1/filters/1"), json=documented_example("deleteFilter")),
    ],
    "pipedrive_list_pipelines": lambda: [
        Exchange(
            _pipedrive("GET", "/api/v2/pipelines", params={"limit": 500}),
            json=_last_page(documented_example("getPipelines")),
        ),
    ],
    "pipedrive_list_stages": lambda: [
        Exchange(
            _pipedrive("GET", "/api/v2/stages", params={"pipeline_id": 1, "limit": 500}),
            json=_last_page(documented_example("getStages")),
        ),
    ],
    "pipedrive_get_deal": lambda: [
        Exchange(_pipedrive("GET", "/api/v2/deals/1"), json=documented_example("getDeal")),
    ],
    "pipedrive_list_deals": lambda: [
        Exchange(
            _pipedrive(
                "GET", "/api/v2/deals", params={"stage_id": 1, "status": "open", "limit": 500}
            ),
            json=_last_page(documented_example("getDeals")),
        ),
    ],
    "pipedrive_list_deal_participants": lambda: [
        Exchange(
            _pipedrive("GET", "/v1/deals/1/participants", params={"start": start, "limit": 1}),
            json=_participants_page(start),
        )
        for start in (0, 1)
    ],
    "pipedrive_list_webhooks": lambda: [
        Exchange(_pipedrive("GET", "/v1/webhooks"), json=documented_example("getWebhooks")),
    ],
    "pipedrive_create_webhook": lambda: [
        Exchange(
            _pipedrive(
                "POST",
                "/v1/webhooks",
                body={
                    "subscription_url": "https://sync.example.com/hooks/pipedrive",
                    "event_action": "*",
                    "event_object": "person",
                    "name": "pdmc person sync",
                    "version": "2.0",
                    "http_auth_user": "pdmc",
                    "http_auth_password": WEBHOOK_PASSWORD,
                },
            ),
            status=201,
            json=_webhook_created(),
        ),
    ],
    "pipedrive_delete_webhook": lambda: [
        Exchange(_pipedrive("DELETE", "/v1/webhooks/1"), json=documented_example("deleteWebhook")),
    ],
    "pipedrive_get_current_user": lambda: [
        Exchange(_pipedrive("GET", "/v1/users/me"), json=documented_example("getCurrentUser")),
    ],
    "pipedrive_list_recents": lambda: [
        Exchange(
            _pipedrive(
                "GET",
                "/v1/recents",
                params={"since_timestamp": "2024-01-01 00:00:00", "start": 0, "limit": 500},
            ),
            json=_recents(),
        ),
    ],
}

# Mailchimp ------------------------------------------------------------------------

LIST_ID: Final = "8e1b7a6c2d"
ADA: Final = "ada@example.com"
ADA_NEW: Final = "ada.lovelace@example.com"
SEGMENT_ID: Final = 4242
WEBHOOK_ID: Final = "3a1f5b2c9d"
BATCH_ID: Final = "b7c2d9e1f0"
_RESULTS_URL: Final = (
    f"https://{BATCH_RESULTS_HOST}/{BATCH_ID}-response.tar.gz"
    "?AWSAccessKeyId=EXAMPLEKEY&Expires=1710000000&Signature=example-signature"
)


def _hash(email: str) -> str:
    return hashlib.md5(email.lower().encode(), usedforsecurity=False).hexdigest()


def member_json(
    email: str, *, status: str = "subscribed", first: str = "Ada", last: str = "Lovelace"
) -> Any:
    """A member as ``List_Members`` describes it (API-FACTS 2.4)."""
    return {
        "id": _hash(email),
        "email_address": email,
        "unique_email_id": _hash(email)[:10],
        "contact_id": _hash("contact:" + email)[:24],
        "email_type": "html",
        "status": status,
        "merge_fields": {"FNAME": first, "LNAME": last},
        "interests": {},
        "ip_signup": "",
        "timestamp_signup": "2024-01-15T09:00:00+00:00",
        "ip_opt": "198.51.100.7",
        "timestamp_opt": "2024-01-15T09:00:00+00:00",
        "member_rating": 2,
        "last_changed": "2024-03-01T10:00:00+00:00",
        "language": "en",
        "vip": False,
        "tags_count": 1,
        "tags": [{"id": 101, "name": "customer"}],
        "list_id": LIST_ID,
    }


_MEMBERS: Final = (
    (ADA, "Ada", "Lovelace"),
    ("grace@example.com", "Grace", "Hopper"),
    ("alan@example.com", "Alan", "Turing"),
)


def _members_page(offset: int, count: int) -> Any:
    chosen = _MEMBERS[offset : offset + count]
    return {
        "members": [member_json(email, first=first, last=last) for email, first, last in chosen],
        "list_id": LIST_ID,
        "total_items": len(_MEMBERS),
    }


def audience_json() -> Any:
    return {
        "id": LIST_ID,
        "web_id": 123456,
        "name": "Newsletter",
        "permission_reminder": "You signed up on our website.",
        "date_created": "2023-05-01T08:00:00+00:00",
        "double_optin": False,
        "visibility": "prv",
        "stats": {
            "member_count": 3,
            "unsubscribe_count": 1,
            "cleaned_count": 0,
            "total_contacts": 4,
        },
    }


def _segment(*, member_count: int = 1) -> Any:
    return {
        "id": SEGMENT_ID,
        "name": "pdmc: customers",
        "member_count": member_count,
        "type": "static",
        "created_at": "2024-02-01T12:00:00+00:00",
        "updated_at": "2024-02-01T12:00:00+00:00",
        "list_id": LIST_ID,
    }


def _merge_field(merge_id: int, tag: str, name: str, *, required: bool = False) -> Any:
    return {
        "merge_id": merge_id,
        "tag": tag,
        "name": name,
        "type": "text",
        "required": required,
        "default_value": "",
        "public": True,
        "display_order": merge_id + 1,
        "options": {"size": 25},
        "help_text": "",
        "list_id": LIST_ID,
    }


_WEBHOOK_EVENTS: Final = {
    "subscribe": True,
    "unsubscribe": True,
    "profile": True,
    "cleaned": True,
    "upemail": True,
    "campaign": False,
}
_WEBHOOK_SOURCES: Final = {"user": True, "admin": True, "api": False}


def webhook_json(*, signing: bool) -> Any:
    body = {
        "id": WEBHOOK_ID,
        "url": "https://sync.example.com/hooks/mailchimp",
        "events": _WEBHOOK_EVENTS,
        "sources": _WEBHOOK_SOURCES,
        "list_id": LIST_ID,
    }
    # API-FACTS 2.8: the create response carries the signing secret, exactly once.
    return {**body, "signing_enabled": True, "signing_secret": SIGNING_SECRET} if signing else body


def batch_json(status: str) -> Any:
    finished = status == "finished"
    return {
        "id": BATCH_ID,
        "status": status,
        "total_operations": 2,
        "finished_operations": 2 if finished else 0,
        "errored_operations": 1 if finished else 0,
        "submitted_at": "2024-03-01T10:00:00+00:00",
        **({"completed_at": "2024-03-01T10:02:00+00:00"} if finished else {}),
        "response_body_url": _RESULTS_URL if finished else "",
    }


BATCH_OPERATIONS: Final = [
    {
        "method": "PUT",
        "path": f"/lists/{LIST_ID}/members/{_hash(ADA)}",
        "operation_id": "ada",
        "body": json.dumps(
            {"email_address": ADA, "status_if_new": "subscribed"}, separators=(",", ":")
        ),
    },
    {
        "method": "PUT",
        "path": f"/lists/{LIST_ID}/members/{_hash('test@test.com')}",
        "operation_id": "fake",
        "body": json.dumps(
            {"email_address": "test@test.com", "status_if_new": "subscribed"},
            separators=(",", ":"),
        ),
    },
]


def results_archive() -> bytes:
    """The ``.tar.gz`` a finished batch links to: JSON rows whose ``response`` is a string."""
    rows = [
        {"status_code": 200, "operation_id": "ada", "response": json.dumps(member_json(ADA))},
        {
            "status_code": 400,
            "operation_id": "fake",
            "response": json.dumps(problem_json(400, "Invalid Resource", _FAKE_DETAIL)),
        },
    ]
    payload = json.dumps(rows).encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        entry = tarfile.TarInfo(f"{BATCH_ID}/0.json")
        entry.size, entry.mtime = len(payload), 0
        tar.addfile(entry, io.BytesIO(payload))
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0) as stream:
        stream.write(raw.getvalue())
    return packed.getvalue()


_FAKE_DETAIL: Final = "test@test.com looks fake or invalid, please enter a real email address."


def problem_json(status: int, title: str, detail: str) -> Any:
    """A problem document; ``type`` and ``instance`` follow the contract's examples."""
    return {
        "type": "https://mailchimp.com/developer/marketing/docs/errors/",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": "995c5cb0-3280-4a6e-808b-3b096d0bb219",
    }


BATCH_SUBSCRIBE_ROWS: Final = [
    {"email_address": ADA, "status_if_new": "subscribed", "merge_fields": {"FNAME": "Ada"}},
    {"email_address": "grace@example.com", "status_if_new": "subscribed"},
    {"email_address": "linus@example.com", "status_if_new": "subscribed"},
    {"email_address": "margaret@example.com", "status_if_new": "subscribed"},
    {"email_address": "test@test.com", "status_if_new": "subscribed"},
    {
        "email_address": "edsger@example.com",
        "status_if_new": "subscribed",
        "merge_fields": {"BIRTHDAY": "31/12"},
    },
]
BATCH_SUBSCRIBE_ERRORS: Final = [
    {
        "email_address": "grace@example.com",
        "error": (
            "grace@example.com is already a list member. Use PUT to insert or update list members."
        ),
        "error_code": "ERROR_CONTACT_EXISTS",
    },
    {
        "email_address": "linus@example.com",
        "error": (
            "linus@example.com is in a compliance state due to unsubscribe, bounce, or "
            "compliance review and cannot be subscribed."
        ),
        "error_code": "ERROR_GENERIC",
    },
    {
        "email_address": "margaret@example.com",
        "error": (
            "margaret@example.com was permanently deleted and cannot be re-imported. "
            "The contact must re-subscribe to get back on the list."
        ),
        "error_code": "ERROR_GENERIC",
    },
    {"email_address": "test@test.com", "error": _FAKE_DETAIL, "error_code": "ERROR_GENERIC"},
    {
        "email_address": "edsger@example.com",
        "error": "Please enter the date in the MM/DD format.",
        "error_code": "ERROR_GENERIC",
        "field": "BIRTHDAY",
        "field_message": "Please enter the date in the MM/DD format.",
    },
]

_ADA_PATH: Final = f"/lists/{LIST_ID}/members/{_hash(ADA)}"
_PAGE: Final = {"count": 1000, "offset": 0}

MAILCHIMP_CASSETTES: Final[dict[str, Callable[[], list[Exchange]]]] = {
    "mailchimp_ping": lambda: [
        Exchange(
            _mailchimp("GET", "/"),
            json={
                "account_id": "8d3a3db4d97663a9074efcc16",
                "login_id": "123456",
                "account_name": "Example Ltd",
                "email": "owner@example.com",
                "role": "owner",
            },
        ),
    ],
    "mailchimp_audiences": lambda: [
        Exchange(
            _mailchimp("GET", "/lists", params=_PAGE),
            json={"lists": [audience_json()], "total_items": 1},
        ),
        Exchange(_mailchimp("GET", f"/lists/{LIST_ID}"), json=audience_json()),
    ],
    "mailchimp_list_members": lambda: [
        Exchange(
            _mailchimp(
                "GET",
                f"/lists/{LIST_ID}/members",
                params={
                    "status": "subscribed",
                    "since_last_changed": "2024-01-01T00:00:00Z",
                    "count": 2,
                    "offset": offset,
                },
            ),
            json=_members_page(offset, 2),
        )
        for offset in (0, 2)
    ],
    "mailchimp_get_member": lambda: [
        Exchange(_mailchimp("GET", _ADA_PATH), json=member_json(ADA)),
    ],
    "mailchimp_upsert_member": lambda: [
        Exchange(
            _mailchimp(
                "PUT",
                _ADA_PATH,
                body={
                    "email_address": ADA,
                    "status_if_new": "subscribed",
                    "merge_fields": {"FNAME": "Ada", "LNAME": "Lovelace"},
                },
            ),
            json=member_json(ADA),
        ),
    ],
    "mailchimp_change_member_email": lambda: [
        Exchange(
            _mailchimp("PATCH", _ADA_PATH, body={"email_address": ADA_NEW}),
            json=member_json(ADA_NEW),
        ),
    ],
    "mailchimp_archive_member": lambda: [
        Exchange(_mailchimp("DELETE", _ADA_PATH), status=204),
    ],
    "mailchimp_batch_subscribe": lambda: [
        Exchange(
            _mailchimp(
                "POST",
                f"/lists/{LIST_ID}",
                body={
                    "members": BATCH_SUBSCRIBE_ROWS,
                    "update_existing": False,
                    "sync_tags": False,
                },
            ),
            json={
                "new_members": [member_json(ADA)],
                "updated_members": [],
                "errors": BATCH_SUBSCRIBE_ERRORS,
                "total_created": 1,
                "total_updated": 0,
                "error_count": len(BATCH_SUBSCRIBE_ERRORS),
            },
        ),
    ],
    "mailchimp_member_tags": lambda: [
        Exchange(
            _mailchimp("GET", f"{_ADA_PATH}/tags", params=_PAGE),
            json={
                "tags": [
                    {"id": 101, "name": "customer", "date_added": "2024-02-01T12:00:00+00:00"},
                    {"id": 102, "name": "newsletter", "date_added": "2024-02-02T12:00:00+00:00"},
                ],
                "total_items": 2,
            },
        ),
        Exchange(
            _mailchimp(
                "POST",
                f"{_ADA_PATH}/tags",
                body={
                    "tags": [
                        {"name": "pdmc", "status": "active"},
                        {"name": "newsletter", "status": "inactive"},
                    ],
                    "is_syncing": True,
                },
            ),
            status=204,
        ),
    ],
    "mailchimp_search_tags": lambda: [
        Exchange(
            _mailchimp("GET", f"/lists/{LIST_ID}/tag-search", params={"name": "cust"}),
            json={"tags": [{"id": 101, "name": "customer"}], "total_items": 1},
        ),
    ],
    "mailchimp_segments": lambda: [
        Exchange(
            _mailchimp("GET", f"/lists/{LIST_ID}/segments", params={"type": "static", **_PAGE}),
            json={"segments": [_segment()], "list_id": LIST_ID, "total_items": 1},
        ),
        Exchange(_mailchimp("GET", f"/lists/{LIST_ID}/segments/{SEGMENT_ID}"), json=_segment()),
        Exchange(
            _mailchimp("GET", f"/lists/{LIST_ID}/segments/{SEGMENT_ID}/members", params=_PAGE),
            json={"members": [member_json(ADA)], "total_items": 1},
        ),
    ],
    "mailchimp_create_segment": lambda: [
        Exchange(
            _mailchimp(
                "POST",
                f"/lists/{LIST_ID}/segments",
                body={"name": "pdmc: customers", "static_segment": [ADA]},
            ),
            json=_segment(),
        ),
    ],
    "mailchimp_update_static_segment": lambda: [
        Exchange(
            _mailchimp(
                "POST",
                f"/lists/{LIST_ID}/segments/{SEGMENT_ID}",
                body={"members_to_add": ["grace@example.com"], "members_to_remove": [ADA]},
            ),
            json={
                "members_added": [member_json("grace@example.com", first="Grace", last="Hopper")],
                "members_removed": [member_json(ADA)],
                "errors": [],
                "total_added": 1,
                "total_removed": 1,
                "error_count": 0,
            },
        ),
    ],
    "mailchimp_merge_fields": lambda: [
        Exchange(
            _mailchimp("GET", f"/lists/{LIST_ID}/merge-fields", params=_PAGE),
            json={
                "merge_fields": [
                    _merge_field(1, "FNAME", "First Name"),
                    _merge_field(2, "LNAME", "Last Name"),
                ],
                "list_id": LIST_ID,
                "total_items": 2,
            },
        ),
        Exchange(
            _mailchimp(
                "POST",
                f"/lists/{LIST_ID}/merge-fields",
                body={"name": "Company", "type": "text", "required": False, "tag": "COMPANY"},
            ),
            json=_merge_field(3, "COMPANY", "Company"),
        ),
    ],
    "mailchimp_webhooks": lambda: [
        Exchange(
            _mailchimp("GET", f"/lists/{LIST_ID}/webhooks"),
            json={"webhooks": [webhook_json(signing=False)], "list_id": LIST_ID, "total_items": 1},
        ),
        Exchange(
            _mailchimp(
                "POST",
                f"/lists/{LIST_ID}/webhooks",
                body={
                    "url": "https://sync.example.com/hooks/mailchimp",
                    "events": _WEBHOOK_EVENTS,
                    "sources": _WEBHOOK_SOURCES,
                },
            ),
            json=webhook_json(signing=True),
        ),
        Exchange(_mailchimp("DELETE", f"/lists/{LIST_ID}/webhooks/{WEBHOOK_ID}"), status=204),
    ],
    "mailchimp_batches": lambda: [
        Exchange(
            _mailchimp("POST", "/batches", body={"operations": BATCH_OPERATIONS}),
            json=batch_json("pending"),
        ),
        Exchange(_mailchimp("GET", f"/batches/{BATCH_ID}"), json=batch_json("started")),
        Exchange(_mailchimp("GET", f"/batches/{BATCH_ID}"), json=batch_json("finished")),
        Exchange(
            httpx.Request("GET", _RESULTS_URL),
            content=results_archive(),
            headers={"content-type": "application/x-gzip"},
        ),
    ],
}

CASSETTES: Final[dict[str, Callable[[], list[Exchange]]]] = {
    **PIPEDRIVE_CASSETTES,
    **MAILCHIMP_CASSETTES,
}
"""Every cassette by name (the file is ``<name>.yaml``) with its planned exchanges."""


# --- building -----------------------------------------------------------------------


class ContractBreach(AssertionError):  # noqa: N818 - reads as the failed check it is
    """A planned exchange breaks its API contract; the cassette is not written."""


def _checked(exchanges: list[Exchange]) -> Iterator[Exchange]:
    for exchange in exchanges:
        if outside_the_contracts(exchange.request.url) is None:
            result = validate_exchange(exchange.request, exchange.response(exchange.request))
            if not result.ok:
                raise ContractBreach(str(result))
        yield exchange


def _record(name: str, exchanges: list[Exchange], directory: Path) -> Path:
    path = directory / f"{name}.yaml"
    path.unlink(missing_ok=True)
    planned = list(_checked(exchanges))
    answers = iter(planned)

    def answer(request: httpx.Request) -> httpx.Response:
        return next(answers).response(request)

    with (
        cassette_vcr(directory, record_mode="all").use_cassette(path.name),
        httpx.Client(transport=httpx.MockTransport(answer)) as client,
    ):
        for exchange in planned:
            client.send(exchange.request)
    return path


def build(directory: Path = CASSETTE_DIR) -> list[Path]:
    """Write every cassette into ``directory`` and return the files, in name order.

    Raises:
        ContractBreach: a planned exchange breaks its contract (nothing more is written).
    """
    directory.mkdir(parents=True, exist_ok=True)
    return [_record(name, CASSETTES[name](), directory) for name in sorted(CASSETTES)]


def main() -> None:
    """Rebuild the cassettes beside this script and list them."""
    for path in build():
        sys.stdout.write(f"wrote {path.relative_to(Path.cwd())}\n")


if __name__ == "__main__":
    main()
