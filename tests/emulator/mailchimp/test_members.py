"""Members: upsert and consent rules, refusals, archive, last_changed, listing filters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pdmc.clients.mailchimp import MemberUpsert, subscriber_hash
from pdmc.errors import (
    ComplianceStateError,
    ForgottenEmailError,
    InvalidEmailError,
    MemberExistsError,
    NotFoundError,
)

ADA = "ada@lovelace.dev"


def upsert(email: str = ADA, **fields: object) -> MemberUpsert:
    fields.setdefault("status_if_new", "subscribed")
    return MemberUpsert(email_address=email, **fields)  # type: ignore[arg-type]


def test_put_creates_a_member_with_status_if_new(client, list_id):
    """A PUT for a new address creates it with status_if_new, keyed by the lowercased hash."""
    member = client.upsert_member(list_id, upsert("Ada@Lovelace.dev", status_if_new="pending"))
    assert member.status == "pending"
    assert member.id == subscriber_hash(ADA)
    assert client.get_member(list_id, "ADA@LOVELACE.DEV").email_address == "Ada@Lovelace.dev"


def test_put_leaves_the_status_of_an_existing_member_alone(client, mailchimp, list_id):
    """status_if_new never touches an existing member: an unsubscribed one stays so."""
    mailchimp.add_member(list_id, ADA, status="unsubscribed")
    member = client.upsert_member(list_id, upsert(merge_fields={"FNAME": "Ada"}))
    assert member.status == "unsubscribed"
    assert member.merge_fields["FNAME"] == "Ada"


def test_an_explicit_status_changes_an_existing_member(client, mailchimp, list_id):
    """status, when sent, overwrites the status of an existing member."""
    mailchimp.add_member(list_id, ADA)
    assert client.upsert_member(list_id, upsert(status="unsubscribed")).status == "unsubscribed"


@pytest.mark.parametrize(
    ("before", "target"),
    [("unsubscribed", "subscribed"), ("cleaned", "subscribed"), ("cleaned", "pending")],
)
def test_resubscribing_through_the_api_is_a_compliance_refusal(
    client, mailchimp, list_id, before, target
):
    """The API cannot (re)subscribe an unsubscribed or cleaned member (compliance state)."""
    mailchimp.add_member(list_id, ADA, status=before)
    with pytest.raises(ComplianceStateError) as refused:
        client.update_member(list_id, ADA, status=target)
    assert refused.value.title == "Member In Compliance State"
    assert mailchimp.get_member(list_id, ADA)["status"] == before


def test_pending_is_how_an_unsubscribed_member_is_asked_again(client, mailchimp, list_id):
    """An unsubscribed member may be set to pending (a new opt-in email), not subscribed."""
    mailchimp.add_member(list_id, ADA, status="unsubscribed")
    assert client.update_member(list_id, ADA, status="pending").status == "pending"


def test_the_person_may_resubscribe_themselves(mailchimp, list_id):
    """A sign-up by the person lifts an unsubscribe; an admin cannot do it for them."""
    mailchimp.add_member(list_id, ADA, status="unsubscribed")
    with pytest.raises(Exception, match="Member In Compliance State"):
        mailchimp.subscribe(list_id, ADA, source="admin")
    mailchimp.subscribe(list_id, ADA)
    assert mailchimp.get_member(list_id, ADA)["status"] == "subscribed"


def test_a_forgotten_address_cannot_be_added_back(client, mailchimp, list_id):
    """After a permanent delete the API refuses the address: Forgotten Email Not Subscribed."""
    mailchimp.add_member(list_id, ADA)
    mailchimp.forget(list_id, ADA)
    with pytest.raises(NotFoundError):
        client.get_member(list_id, ADA)
    with pytest.raises(ForgottenEmailError) as refused:
        client.upsert_member(list_id, upsert())
    assert "permanently deleted" in (refused.value.detail or "")
    mailchimp.subscribe(list_id, ADA)  # the person signing up again is allowed
    assert client.get_member(list_id, ADA).status == "subscribed"


def test_delete_permanent_forgets_through_the_api(http, mailchimp, list_id):
    """POST .../actions/delete-permanent removes the member and blocks the address."""
    mailchimp.add_member(list_id, ADA)
    path = f"/lists/{list_id}/members/{subscriber_hash(ADA)}"
    assert http.post(path + "/actions/delete-permanent").status_code == 204
    assert http.get(path).status_code == 404
    refused = http.put(path, json={"email_address": ADA, "status_if_new": "subscribed"})
    assert refused.json()["title"] == "Forgotten Email Not Subscribed"


@pytest.mark.parametrize(
    "email",
    ["test@test.com", "asdf@gmail.com", "someone@example.com", "a@b", "no at sign", "x@y.invalid"],
)
def test_fake_or_invalid_addresses_are_refused(client, list_id, email):
    """Addresses that look fake or invalid get 400 Invalid Resource, as the real API answers."""
    with pytest.raises(InvalidEmailError) as refused:
        client.upsert_member(list_id, MemberUpsert(email_address=email, status_if_new="subscribed"))
    assert (
        refused.value.detail == f"{email} looks fake or invalid, please enter a real email address."
    )


def test_errors_are_problem_documents(http, list_id):
    """Errors are application/problem+json with type, title, status, detail and instance."""
    response = http.get(f"/lists/{list_id}/members/{subscriber_hash(ADA)}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "instance"}
    assert (body["title"], body["status"]) == ("Resource Not Found", 404)


def test_put_refuses_a_hash_that_does_not_match_the_address(http, list_id):
    """The subscriber hash in the path must be the MD5 of the body's address."""
    response = http.put(
        f"/lists/{list_id}/members/{subscriber_hash('someone@else.dev')}",
        json={"email_address": ADA, "status_if_new": "subscribed"},
    )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (400, "email_address")


def test_post_adds_a_member_with_tags_and_refuses_an_existing_one(http, mailchimp, list_id):
    """POST /members creates (with tags); a second POST for the address is Member Exists."""
    body = {"email_address": ADA, "status": "subscribed", "tags": ["Founders"]}
    created = http.post(f"/lists/{list_id}/members", json=body)
    assert [tag["name"] for tag in created.json()["tags"]] == ["Founders"]
    again = http.post(f"/lists/{list_id}/members", json=body)
    assert (again.status_code, again.json()["title"]) == (400, "Member Exists")


def test_member_exists_is_typed_by_the_client(client, mailchimp, list_id):
    """Changing an address to one already in the audience is refused as Member Exists."""
    mailchimp.add_member(list_id, ADA)
    mailchimp.add_member(list_id, "grace@hopper.dev")
    with pytest.raises(MemberExistsError):
        client.update_member(list_id, ADA, new_email="grace@hopper.dev")


def test_patch_changes_the_address_and_the_subscriber_hash(client, mailchimp, list_id):
    """PATCH with a new email_address moves the member to the new hash and keeps its id."""
    first = client.upsert_member(list_id, upsert())
    moved = client.update_member(list_id, ADA, new_email="ada@analytical.engine.dev")
    assert moved.id == subscriber_hash("ada@analytical.engine.dev")
    assert moved.unique_email_id == first.unique_email_id
    assert mailchimp.get_member(list_id, ADA) is None


def test_archive_hides_a_member_until_it_is_added_back(client, mailchimp, list_id):
    """DELETE archives: the member leaves the default listing, shows under status=archived,
    and a PUT adds it back with status_if_new."""
    mailchimp.add_member(list_id, ADA)
    client.archive_member(list_id, ADA)
    assert client.get_member(list_id, ADA).status == "archived"
    assert list(client.list_members(list_id)) == []
    assert [m.email_address for m in client.list_members(list_id, status="archived")] == [ADA]
    assert client.upsert_member(list_id, upsert()).status == "subscribed"


def test_an_archived_unsubscribe_is_remembered(client, mailchimp, list_id):
    """Adding back an archived member that had unsubscribed cannot subscribe it."""
    mailchimp.add_member(list_id, ADA, status="unsubscribed")
    mailchimp.archive(list_id, ADA)
    with pytest.raises(ComplianceStateError):
        client.upsert_member(list_id, upsert())
    assert client.upsert_member(list_id, upsert(status_if_new="unsubscribed")).status == (
        "unsubscribed"
    )


def test_last_changed_moves_only_when_the_member_changes(client, rig, list_id):
    """last_changed is kept across a no-op PUT and a tag change, and bumped by a real change."""
    created = client.upsert_member(list_id, upsert(merge_fields={"FNAME": "Ada"}))
    rig.advance(60)
    same = client.upsert_member(list_id, upsert(merge_fields={"FNAME": "Ada"}))
    assert same.last_changed == created.last_changed
    rig.mailchimp.add_tag(list_id, "VIP", [ADA])
    assert client.get_member(list_id, ADA).last_changed == created.last_changed
    changed = client.upsert_member(list_id, upsert(merge_fields={"FNAME": "Augusta"}))
    assert changed.last_changed == created.last_changed + timedelta(seconds=60)


def test_listing_filters_by_status_and_change_windows(client, rig, list_id):
    """status, since_last_changed (inclusive), before_last_changed, since_timestamp_opt."""
    mailchimp = rig.mailchimp
    mailchimp.add_member(list_id, "early@bird.dev")
    start = rig.clock.now()
    rig.advance(3600)
    mailchimp.add_member(list_id, "late@owl.dev")
    mailchimp.add_member(list_id, "gone@away.dev", status="unsubscribed")
    middle = rig.clock.now()

    def emails(**filters: object) -> list[str]:
        return [m.email_address for m in client.list_members(list_id, **filters)]  # type: ignore[arg-type]

    assert emails(status="unsubscribed") == ["gone@away.dev"]
    assert emails(since_last_changed=middle) == ["late@owl.dev", "gone@away.dev"]
    assert emails(since_timestamp_opt=middle) == ["late@owl.dev", "gone@away.dev"]
    with rig.http() as http:
        before = http.get(
            f"/lists/{list_id}/members",
            params={
                "before_last_changed": middle.isoformat(),
                "since_last_changed": start.isoformat(),
            },
        )
    assert [m["email_address"] for m in before.json()["members"]] == ["early@bird.dev"]


def test_an_unencoded_plus_in_a_time_filter_is_understood(rig, list_id):
    """since_last_changed=2026-01-05T09:00:00+00:00 sent raw (the + read as a space) works."""
    rig.mailchimp.add_member(list_id, ADA)
    with rig.http() as http:
        response = http.get(
            f"/lists/{list_id}/members?since_last_changed=2026-01-05T09:00:00+00:00"
        )
    assert response.json()["total_items"] == 1


def test_pages_hold_up_to_1000_members_with_total_items(rig, http, list_id):
    """count (at most 1000) and offset page through members; total_items counts them all."""
    for number in range(25):
        rig.mailchimp.add_member(list_id, f"reader{number:02d}@books.dev")
    page = http.get(f"/lists/{list_id}/members", params={"count": 10, "offset": 20}).json()
    assert page["total_items"] == 25
    assert [m["email_address"] for m in page["members"]] == [
        f"reader{n:02d}@books.dev" for n in range(20, 25)
    ]
    too_many = http.get(f"/lists/{list_id}/members", params={"count": 1001})
    assert too_many.status_code == 400


def test_listing_sorts_by_last_changed(rig, client, list_id):
    """sort_field=last_changed with sort_dir=DESC lists the latest change first."""
    rig.mailchimp.add_member(list_id, "first@queue.dev")
    rig.advance(10)
    rig.mailchimp.add_member(list_id, "second@queue.dev")
    newest_first = client.list_members(list_id, sort_field="last_changed", sort_dir="DESC")
    assert [m.email_address for m in newest_first] == ["second@queue.dev", "first@queue.dev"]


def test_filters_the_emulator_does_not_emulate_are_refused(http, list_id):
    """Interest filters are answered with a 400 naming them, never silently ignored."""
    response = http.get(f"/lists/{list_id}/members", params={"interest_category_id": "abc"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "interest_category_id"


def test_partial_responses_keep_only_the_fields_asked_for(rig, http, list_id):
    """fields= keeps the dotted paths asked for; exclude_fields= drops them."""
    rig.mailchimp.add_member(list_id, ADA)
    kept = http.get(
        f"/lists/{list_id}/members", params={"fields": "members.email_address,total_items"}
    ).json()
    assert kept == {"members": [{"email_address": ADA}], "total_items": 1}
    dropped = http.get(f"/lists/{list_id}/members", params={"exclude_fields": "members"}).json()
    assert "members" not in dropped
    assert dropped["total_items"] == 1
