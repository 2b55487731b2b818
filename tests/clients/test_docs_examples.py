"""Every ```python block of the client docs runs, in order, as a reader would run it.

The Pipedrive and Mailchimp pages use a name they do not define, ``transport``: a
small stand-in for the service, built here from the contracts' examples (the same
data the cassettes hold) and injected into the page's namespace. The HTTP-core page
defines its own stand-ins inline. Every request the examples send is checked against
the contracts like any other client test's.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from tests.cassettes.build_cassettes import (
    BATCH_ID,
    LIST_ID,
    audience_json,
    batch_json,
    member_json,
    problem_json,
    results_archive,
    webhook_json,
)
from tests.contracts import Contract, documented_example

DOCS = Path(__file__).resolve().parents[2] / "docs" / "clients"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(page: Path) -> list[tuple[int, str]]:
    """Each ```python block of a page with the line it starts on."""
    text = page.read_text()
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in _BLOCK.finditer(text)]


def _json(request: httpx.Request) -> Any:
    return json.loads(request.content)


def _ok(body: Any) -> httpx.Response:
    return httpx.Response(200, json=body)


Route = tuple[str, str, Callable[[httpx.Request, re.Match[str]], httpx.Response]]
"""A method (or ``*``), a pattern of host and path, and the answer to give."""


def _router(name: str, routes: list[Route]) -> Callable[[httpx.Request], httpx.Response]:
    """A transport handler that answers with the first route matching method, host and path."""

    def answer(request: httpx.Request) -> httpx.Response:
        target = f"{request.url.host}{request.url.path}"
        for method, pattern, reply in routes:
            if method in {"*", request.method} and (match := re.fullmatch(pattern, target)):
                return reply(request, match)
        raise AssertionError(
            f"the {name} stand-in has no answer for {request.method} {request.url}"
        )

    return answer


# A stand-in for Pipedrive ------------------------------------------------------------


def _pipedrive_person(data: dict[str, Any] | None = None) -> dict[str, Any]:
    body = documented_example("getPerson")
    body["data"].update(data or {})
    return body


def _pipedrive_persons(request: httpx.Request) -> httpx.Response:
    body = documented_example("getPersons")
    if "cursor" in request.url.params:
        grace = [{"value": "grace@example.com", "primary": True, "label": "work"}]
        body["data"][0].update(
            id=2, name="Grace Hopper", first_name="Grace", last_name="Hopper", emails=grace
        )
        body["additional_data"]["next_cursor"] = None
    return httpx.Response(200, json=body)


def _pipedrive_filter(request: httpx.Request) -> httpx.Response:
    operation = "addFilter" if request.method == "POST" else "updateFilter"
    body = documented_example(operation)
    body["data"].update(_json(request), type="people")
    return httpx.Response(200, json=body)


def _pipedrive_last_page(operation: str, **kwargs: Any) -> httpx.Response:
    body = documented_example(operation, **kwargs)
    body["additional_data"]["next_cursor"] = None
    return httpx.Response(200, json=body)


def _pipedrive_person_by_id(request: httpx.Request, match: re.Match[str]) -> httpx.Response:
    changes = _json(request) if request.method == "PATCH" else {}
    return httpx.Response(200, json=_pipedrive_person({**changes, "id": int(match.group(1))}))


_PD = r"[\w.-]+\.pipedrive\.com"
_NOT_FOUND = {"success": False, "error": "Person not found", "error_info": "Check the id."}


_pipedrive = _router(
    "Pipedrive",
    [
        (
            "POST",
            r"oauth\.pipedrive\.com/oauth/token",
            lambda _, __: _ok(documented_example("get-tokens")),
        ),
        ("GET", _PD + "/api/v2/persons", lambda r, _: _pipedrive_persons(r)),
        (
            "POST",
            _PD + "/api/v2/persons",
            lambda r, _: _ok(_pipedrive_person({**_json(r), "id": 3})),
        ),
        (
            "GET",
            _PD + "/api/v2/persons/search",
            lambda _, __: _pipedrive_last_page("searchPersons"),
        ),
        ("GET", _PD + "/api/v2/persons/999", lambda _, __: httpx.Response(404, json=_NOT_FOUND)),
        ("*", _PD + r"/api/v2/persons/(\d+)", _pipedrive_person_by_id),
        (
            "GET",
            _PD + "/api/v2/personFields",
            lambda _, __: _pipedrive_last_page("getPersonFields", contract=Contract.PIPEDRIVE_V2),
        ),
        ("*", _PD + r"/v1/filters(/\d+)?", lambda r, _: _pipedrive_filter(r)),
    ],
)
"""Answers the calls of docs/clients/pipedrive.md with the contracts' examples."""


# A stand-in for Mailchimp ------------------------------------------------------------

_PEOPLE = {
    "ada@example.com": ("Ada", "Lovelace"),
    "grace@example.com": ("Grace", "Hopper"),
    "alan@example.com": ("Alan", "Turing"),
    "ada.lovelace@example.com": ("Ada", "Lovelace"),
}
_BY_HASH = {hashlib.md5(e.encode(), usedforsecurity=False).hexdigest(): e for e in _PEOPLE}
_COMPLIANCE = (
    "linus@example.com is in a compliance state due to unsubscribe, bounce, or compliance "
    "review and cannot be subscribed."
)
_RESULTS_URL = f"https://mailchimp-api-batch.s3.amazonaws.com/{BATCH_ID}-response.tar.gz"


def _member(email: str) -> dict[str, Any]:
    first, last = _PEOPLE[email]
    return member_json(email, first=first, last=last)


def _problem(status: int, title: str, detail: str) -> httpx.Response:
    return httpx.Response(
        status,
        content=httpx.Response(200, json=problem_json(status, title, detail)).content,
        headers={"content-type": "application/problem+json"},
    )


def _mailchimp_member(request: httpx.Request, subscriber_hash: str) -> httpx.Response:
    if request.method == "PUT" and _json(request)["email_address"] == "linus@example.com":
        return _problem(400, "Member In Compliance State", _COMPLIANCE)
    if request.method == "PATCH" and "email_address" in _json(request):
        return httpx.Response(200, json=_member(_json(request)["email_address"]))
    return httpx.Response(200, json=_member(_BY_HASH.get(subscriber_hash, "ada@example.com")))


def _mailchimp_batch_subscribe(request: httpx.Request) -> httpx.Response:
    rows = _json(request)["members"]
    refused = [r["email_address"] for r in rows if r["email_address"] == "linus@example.com"]
    created = [_member(r["email_address"]) for r in rows if r["email_address"] not in refused]
    errors = [
        {"email_address": e, "error": _COMPLIANCE, "error_code": "ERROR_GENERIC"} for e in refused
    ]
    body = {
        "new_members": created,
        "updated_members": [],
        "errors": errors,
        "total_created": len(created),
        "total_updated": 0,
        "error_count": len(errors),
    }
    return httpx.Response(200, json=body)


def _mailchimp_login(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/oauth2/token":
        assert parse_qs(request.content.decode())["grant_type"] == ["authorization_code"]
        return httpx.Response(200, json={"access_token": "an-oauth-token", "scope": None})
    return httpx.Response(200, json={"dc": "us6", "api_endpoint": "https://us6.api.mailchimp.com"})


_MC = r"us6\.api\.mailchimp\.com/3\.0"
_LIST = f"{_MC}/lists/{LIST_ID}"
_ACCOUNT = {"account_id": "8d3a3db4d97663a9074efcc16", "account_name": "Example Ltd"}
_MEMBERS = ("ada@example.com", "grace@example.com", "alan@example.com")

_mailchimp = _router(
    "Mailchimp",
    [
        ("*", r"login\.mailchimp\.com/oauth2/\w+", lambda r, _: _mailchimp_login(r)),
        (
            "GET",
            r"mailchimp-api-batch\.s3\.amazonaws\.com/.*",
            lambda _, __: httpx.Response(200, content=results_archive()),
        ),
        ("GET", _MC + "/", lambda _, __: _ok(_ACCOUNT)),
        ("GET", _LIST, lambda _, __: _ok(audience_json())),
        ("POST", _LIST, lambda r, _: _mailchimp_batch_subscribe(r)),
        (
            "GET",
            _LIST + "/members",
            lambda _, __: _ok(
                {"members": [_member(e) for e in _MEMBERS], "list_id": LIST_ID, "total_items": 3}
            ),
        ),
        ("POST", _LIST + r"/members/\w+/tags", lambda _, __: httpx.Response(204)),
        ("*", _LIST + r"/members/(\w+)", lambda r, m: _mailchimp_member(r, m.group(1))),
        ("POST", _LIST + "/webhooks", lambda _, __: _ok(webhook_json(signing=True))),
        ("POST", _MC + "/batches", lambda _, __: _ok(batch_json("pending"))),
        (
            "GET",
            f"{_MC}/batches/{BATCH_ID}",
            lambda _, __: _ok({**batch_json("finished"), "response_body_url": _RESULTS_URL}),
        ),
    ],
)
"""Answers the calls of docs/clients/mailchimp.md, composed like the cassettes."""


PAGES: dict[str, Callable[[httpx.Request], httpx.Response] | None] = {
    "http-core.md": None,
    "pipedrive.md": _pipedrive,
    "mailchimp.md": _mailchimp,
}


@pytest.mark.parametrize("page", PAGES)
def test_every_python_block_of_the_page_runs(page: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The page's python blocks run in order in one namespace, with ``transport`` provided."""
    blocks = python_blocks(DOCS / page)
    assert len(blocks) >= 5, f"{page} has too few examples"
    handler = PAGES[page]
    namespace: dict[str, Any] = {"__name__": f"docs.clients.{page}"}
    if handler is not None:
        namespace["transport"] = httpx.MockTransport(handler)
    for line, code in blocks:
        # Blank lines first, so a traceback names the page's own line numbers.
        exec(compile("\n" * (line - 1) + code, str(DOCS / page), "exec"), namespace)  # noqa: S102 - the docs are ours
    assert capsys.readouterr().out, f"{page}'s examples printed nothing"


def test_the_pages_show_what_the_issue_asks_for() -> None:
    """Each vendor page constructs, lists, writes, handles errors, counts usage and awaits."""
    for page in ("pipedrive.md", "mailchimp.md"):
        code = "\n".join(block for _, block in python_blocks(DOCS / page))
        for needle in (
            "Client(",
            ".pages()",
            "except ",
            ".usage",
            "async with",
            "upsert_member" if page == "mailchimp.md" else "create_person",
        ):
            assert needle in code, (page, needle)
