"""Batch subscribe (POST /lists/{id}): per-row results in a 200, consent rules per row."""

from __future__ import annotations

from pdmc.clients.mailchimp import MemberUpsert, typed_batch_errors
from pdmc.errors import ComplianceStateError, ForgottenEmailError, InvalidEmailError


def row(email: str, **fields: object) -> dict[str, object]:
    return {"email_address": email, **fields}


def subscribe(http, list_id, members, **body):
    response = http.post(f"/lists/{list_id}", json={"members": members, **body})
    assert response.status_code == 200
    return response.json()


def test_new_rows_are_created_with_their_status_or_status_if_new(http, list_id):
    """New rows take status, or status_if_new when status is left out."""
    result = subscribe(
        http,
        list_id,
        [
            row("ada@lovelace.dev", status="subscribed"),
            row("alan@turing.dev", status_if_new="pending"),
        ],
    )
    assert [(m["email_address"], m["status"]) for m in result["new_members"]] == [
        ("ada@lovelace.dev", "subscribed"),
        ("alan@turing.dev", "pending"),
    ]
    assert (result["total_created"], result["error_count"]) == (2, 0)


def test_existing_rows_are_errors_without_update_existing(http, mailchimp, list_id):
    """Without update_existing, an existing address is a row error with ERROR_CONTACT_EXISTS."""
    mailchimp.add_member(list_id, "ada@lovelace.dev")
    result = subscribe(http, list_id, [row("ada@lovelace.dev", status_if_new="subscribed")])
    assert result["errors"][0]["error_code"] == "ERROR_CONTACT_EXISTS"
    assert "update_existing" in result["errors"][0]["error"]


def test_update_existing_never_changes_a_status_that_is_not_sent(http, mailchimp, list_id):
    """With update_existing, merge fields change but the status stays unless status is sent."""
    mailchimp.add_member(list_id, "ada@lovelace.dev", status="unsubscribed")
    result = subscribe(
        http,
        list_id,
        [row("ada@lovelace.dev", status_if_new="subscribed", merge_fields={"FNAME": "Ada"})],
        update_existing=True,
    )
    updated = result["updated_members"][0]
    assert (updated["status"], updated["merge_fields"]["FNAME"]) == ("unsubscribed", "Ada")


def test_compliance_forgotten_and_fake_rows_are_refused_one_by_one(rig, http, list_id):
    """Rows that would resubscribe, re-add a forgotten address, or use a fake one are refused
    per row, and the other rows go through; the client types each refusal."""
    mailchimp = rig.mailchimp
    mailchimp.add_member(list_id, "gone@away.dev", status="unsubscribed")
    mailchimp.add_member(list_id, "forgot@me.dev")
    mailchimp.forget(list_id, "forgot@me.dev")
    members = [
        row("gone@away.dev", status="subscribed"),
        row("forgot@me.dev", status_if_new="subscribed"),
        row("test@test.com", status_if_new="subscribed"),
        row("fine@reader.dev", status_if_new="subscribed"),
    ]
    result = subscribe(http, list_id, members, update_existing=True)
    assert [m["email_address"] for m in result["new_members"]] == ["fine@reader.dev"]
    assert {e["error_code"] for e in result["errors"]} == {"ERROR_GENERIC"}
    with rig.client() as client:
        typed = client.batch_subscribe(
            list_id,
            [
                MemberUpsert(
                    email_address=m["email_address"],
                    status_if_new="subscribed",
                    status="subscribed",
                )
                for m in members[:3]
            ],  # type: ignore[arg-type]
        )
    kinds = [type(error) for error in typed_batch_errors(typed)]
    assert kinds == [ComplianceStateError, ForgottenEmailError, InvalidEmailError]
    assert mailchimp.get_member(list_id, "gone@away.dev")["status"] == "unsubscribed"


def test_merge_field_rows_name_the_field(http, mailchimp, list_id):
    """A row with a bad merge value carries field and field_message."""
    mailchimp.add_merge_field(list_id, tag="ZIPCODE", name="Zip", type="zip")
    result = subscribe(
        http, list_id, [row("ada@lovelace.dev", status="subscribed", merge_fields={"ZIPCODE": "1"})]
    )
    error = result["errors"][0]
    assert (error["error"], error["field"]) == ("Your merge fields were invalid.", "ZIPCODE")
    assert error["field_message"]


def test_tags_are_added_or_synced(http, mailchimp, list_id):
    """Row tags are added to the member's tags; with sync_tags they replace them."""
    mailchimp.add_member(list_id, "ada@lovelace.dev", tags=["Old"])
    added = subscribe(http, list_id, [row("ada@lovelace.dev", tags=["New"])], update_existing=True)
    assert [t["name"] for t in added["updated_members"][0]["tags"]] == ["Old", "New"]
    synced = subscribe(
        http,
        list_id,
        [row("ada@lovelace.dev", tags=["Only"])],
        update_existing=True,
        sync_tags=True,
    )
    assert [t["name"] for t in synced["updated_members"][0]["tags"]] == ["Only"]


def test_duplicates_in_one_request_are_refused_unless_skipped(http, list_id):
    """A second row for the same address is an error; skip_duplicate_check keeps the first."""
    members = [
        row("ada@lovelace.dev", status="subscribed"),
        row("ADA@lovelace.dev", status="pending"),
    ]
    refused = subscribe(http, list_id, members)
    assert (refused["total_created"], refused["error_count"]) == (1, 1)
    response = http.post(
        f"/lists/{list_id}",
        params={"skip_duplicate_check": "true"},
        json={
            "members": [
                row("alan@turing.dev", status="subscribed"),
                row("Alan@turing.dev", status="pending"),
            ]
        },
    )
    assert response.json()["error_count"] == 0
    assert response.json()["new_members"][0]["status"] == "subscribed"


def test_more_than_500_members_is_refused_whole(http, list_id):
    """A batch of 501 members is a 400; nothing is added."""
    members = [row(f"reader{n}@books.dev", status="subscribed") for n in range(501)]
    response = http.post(f"/lists/{list_id}", json={"members": members})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (400, "members")
    assert http.get(f"/lists/{list_id}/members").json()["total_items"] == 0
