"""Fidelity, measured: every emulated operation, driven through realistic scenarios by
pdmc's own clients (and raw ``httpx`` where they have no call), with every request and
response validated against the official contracts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from pdmc import Secret
from pdmc.clients import AsyncPipedriveClient, PipedriveClient, RetryPolicy
from pdmc.clients.pipedrive.models import (
    ContactPoint,
    FilterCondition,
    FilterConditionGroup,
    FilterConditions,
    PersonInput,
    PostalAddress,
)
from pdmc.clients.pipedrive.oauth import PipedriveOAuthApp, PipedriveOAuthAuth
from pdmc.emulator.pipedrive import PipedriveEmulator
from tests.emulator.pipedrive.conftest import Rig

URL = "https://hooks.example.com/pipedrive"


def _email(value: str, *, primary: bool = True) -> ContactPoint:
    return ContactPoint(value=value, primary=primary, label="work")


def _set_up_fields(http: httpx.Client) -> dict[str, str]:
    """An admin adds the custom fields a marketing team uses (addPersonField, getPersonField)."""
    codes = {}
    for name, kind, options in (
        ("Newsletter source", "varchar", None),
        ("Industry", "enum", ["Software", "Retail", "Healthcare"]),
        ("Interests", "set", ["Events", "Webinars"]),
        ("Budget", "monetary", None),
        ("Office", "address", None),
        ("Signed up", "date", None),
    ):
        body = {"field_name": name, "field_type": kind}
        if options:
            body["options"] = [{"label": label} for label in options]
        codes[name] = http.post("/api/v2/personFields", json=body).json()["data"]["field_code"]
    http.get(
        f"/api/v2/personFields/{codes['Industry']}", params={"include_fields": "ui_visibility"}
    )
    return codes


def _people_and_filters(client: PipedriveClient, rig: Rig, codes: dict[str, str]) -> list[int]:
    """Create, change, read, search and filter persons as a sync would."""
    fields = list(client.list_person_fields())
    industry = next(f for f in fields if f.field_code == codes["Industry"])
    software = industry.options[0].id if industry.options else None
    ids = []
    for n, email in enumerate(("ana@example.com", "ben@example.org", "cy@example.net")):
        person = client.create_person(
            PersonInput(
                name=f"Person {n}",
                emails=(_email(email), _email(f"alt{n}@example.com", primary=False)),
                phones=(ContactPoint(value=f"+37255500{n}", primary=True, label="mobile"),),
                job_title="Buyer",
                birthday="1990-05-17",
                postal_address=PostalAddress(value="Narva mnt 5, Tallinn", locality="Tallinn"),
                custom_fields={
                    codes["Newsletter source"]: "Webinar",
                    codes["Industry"]: software,
                    codes["Budget"]: {"value": 1200 + n, "currency": "EUR"},
                    codes["Office"]: {"value": "Tartu mnt 1", "country": "EE"},
                    codes["Signed up"]: "2025-12-01",
                },
                marketing_status="subscribed",
            )
        )
        ids.append(person.id)
    mark = rig.clock.now()
    rig.clock.advance(90)
    client.update_person(ids[0], PersonInput(job_title="Head of buying", label_ids=(1,)))
    client.get_person(ids[0], include_fields=["marketing_status"])
    list(client.list_persons(updated_since=mark + timedelta(seconds=60), sort_by="update_time"))
    list(client.list_persons(ids=ids[:2], sort_direction="desc"))
    client.search_persons_by_email("ANA@example.com")
    conditions = FilterConditions(
        glue="and",
        conditions=(
            FilterConditionGroup(
                glue="and",
                conditions=(
                    FilterCondition(object="person", field_id="email", operator="IS NOT NULL"),
                    FilterCondition(
                        object="person", field_id=codes["Budget"], operator=">", value="1200"
                    ),
                ),
            ),
            FilterConditionGroup(
                glue="or",
                conditions=(
                    FilterCondition(
                        object="person", field_id="name", operator="LIKE '%$%'", value="person 1"
                    ),
                    FilterCondition(
                        object="person",
                        field_id=codes["Industry"],
                        operator="=",
                        value=str(software),
                    ),
                ),
            ),
        ),
    )
    saved = client.create_filter("Budget holders", conditions)
    client.get_filter(saved.id)
    client.list_filters()
    client.update_filter(saved.id, name="Big budget holders", conditions=conditions)
    assert [p.id for p in client.list_persons(filter_id=saved.id)] == ids[1:]
    client.delete_filter(saved.id)
    return ids


def _deals(client: PipedriveClient, http: httpx.Client, person_id: int) -> None:
    """A rep opens a deal and moves it through the pipeline."""
    pipeline = next(iter(client.list_pipelines()))
    stages = list(client.list_stages(pipeline_id=pipeline.id))
    http.get(f"/api/v2/pipelines/{pipeline.id}")
    http.get(f"/api/v2/stages/{stages[0].id}")
    deal = http.post(
        "/api/v2/deals",
        json={
            "title": "Annual plan",
            "person_id": person_id,
            "stage_id": stages[0].id,
            "value": 4800,
            "currency": "EUR",
            "expected_close_date": "2026-03-31",
        },
    ).json()["data"]
    http.patch(f"/api/v2/deals/{deal['id']}", json={"stage_id": stages[2].id})
    http.patch(f"/api/v2/deals/{deal['id']}", json={"status": "won"})
    client.get_deal(deal["id"])
    list(client.list_deals(stage_id=stages[2].id, status="won"))
    list(client.list_deal_participants(deal["id"]))


def _webhooks_user_recents(client: PipedriveClient, http: httpx.Client) -> None:
    """An integration registers its webhook, checks who it is, and polls recents."""
    hook = client.create_webhook(
        subscription_url=URL,
        event_action="*",
        event_object="person",
        name="pdmc",
        http_auth_user="pdmc",
        http_auth_password=Secret("hook-secret"),
    )
    client.list_webhooks()
    http.post(
        "/v1/webhooks",
        json={"subscription_url": "nope", "event_action": "*", "event_object": "*", "name": "bad"},
    )
    client.delete_webhook(hook.id)
    http.delete(f"/v1/webhooks/{hook.id}")
    client.get_current_user()
    http.get("/v1/users/me", headers={"x-api-token": "0" * 40})
    list(client.list_recents(datetime(2026, 1, 1, tzinfo=UTC), items="person"))
    list(client.list_recents(datetime(2026, 1, 1, tzinfo=UTC)))


def _oauth(rig: Rig) -> None:
    """A Marketplace app installs, refreshes, and calls the company domain."""
    registered = rig.pipedrive.default_oauth_app
    app = PipedriveOAuthApp(
        client_id=registered.client_id,
        client_secret=registered.client_secret,
        redirect_uri=registered.redirect_uri,
        clock=rig.clock.now,
    )
    with httpx.Client(transport=rig.checked) as http:
        tokens = app.exchange_code(rig.pipedrive.authorize(), http_client=http)
        tokens = app.refresh(tokens, http_client=http)
    with PipedriveClient(
        oauth=PipedriveOAuthAuth(app, tokens),
        transport=rig.checked,
        retry=RetryPolicy.no_wait(attempts=1),
    ) as client:
        client.get_current_user()
        list(client.list_persons())


async def _async_reads(rig: Rig, person_id: int) -> None:
    async with AsyncPipedriveClient(
        rig.pipedrive.default_company.api_token,
        transport=rig.checked,
        retry=RetryPolicy.no_wait(attempts=1),
        sleep=rig.clock.asleep,
        clock=rig.clock.monotonic,
    ) as client:
        await client.get_person(person_id)
        async for _ in client.list_persons():
            pass


async def test_every_operation_follows_its_contract(rig: Rig) -> None:
    """Each emulated operation is answered with success at least once, and every request
    and response of the scenario validates against the official contracts."""
    with rig.client() as client, rig.http() as http:
        codes = _set_up_fields(http)
        ids = _people_and_filters(client, rig, codes)
        _deals(client, http, ids[0])
        _webhooks_user_recents(client, http)
        http.put(f"/v1/persons/{ids[2]}/merge", json={"merge_with_id": ids[1]})
        http.delete(f"/api/v2/persons/{ids[2] + 100}")
        http.delete(f"/api/v2/persons/{ids[1]}")
        http.get(f"/api/v2/persons/{ids[1]}")
    _oauth(rig)
    await _async_reads(rig, ids[0])
    assert rig.checked.failures == []
    emulated = {route.operation_id for route in PipedriveEmulator.routes}
    assert emulated - rig.checked.answered() == {"refresh-tokens"}  # pdmc posts to /oauth/token
    assert len(rig.checked.results) == rig.pipedrive.log.requests  # none went unchecked


def test_the_trailing_slash_token_route_follows_its_contract(rig: Rig) -> None:
    """``POST /oauth/token/`` (the contract's refresh operation) answers like /oauth/token."""
    app = rig.pipedrive.default_oauth_app
    _, refresh = rig.pipedrive.issue_oauth_tokens()
    with httpx.Client(transport=rig.checked) as http:
        answer = http.post(
            "https://oauth.pipedrive.com/oauth/token/",
            data={"grant_type": "refresh_token", "refresh_token": refresh.reveal()},
            auth=(app.client_id, app.client_secret.reveal()),
        )
    assert answer.status_code == 200
    assert rig.checked.failures == []
    assert "refresh-tokens" in rig.checked.answered()
