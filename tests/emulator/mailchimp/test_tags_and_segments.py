"""Tags (member tags, tag search, static segments) and saved segments with conditions."""

from __future__ import annotations

import pytest

from pdmc.clients.mailchimp import TagUpdate
from pdmc.errors import ConfigurationError

ADA, ALAN, GRACE = "ada@lovelace.dev", "alan@turing.dev", "grace@hopper.dev"


@pytest.fixture
def people(mailchimp, list_id):
    mailchimp.add_member(list_id, ADA, merge_fields={"FNAME": "Ada", "LNAME": "Lovelace"})
    mailchimp.add_member(list_id, ALAN, merge_fields={"FNAME": "Alan", "LNAME": "Turing"})
    mailchimp.add_member(list_id, GRACE, status="unsubscribed", merge_fields={"FNAME": "Grace"})


def cond(kind, field, op, value=None):
    """One segment condition."""
    condition = {"condition_type": kind, "field": field, "op": op}
    return condition if value is None else {**condition, "value": value}


def options(*conditions, match="all"):
    """Saved-segment options from conditions."""
    return {"match": match, "conditions": list(conditions)}


def members_of(client, list_id, segment_id):
    return sorted(m.email_address for m in client.list_segment_members(list_id, segment_id))


def test_member_tags_are_set_active_and_inactive(people, client, list_id):
    """Active tags are added (created when new); inactive ones are removed; unknown inactive
    tags are ignored."""
    client.update_member_tags(list_id, ADA, [TagUpdate(name="VIP"), TagUpdate(name="Beta")])
    client.update_member_tags(
        list_id,
        ADA,
        [TagUpdate(name="Beta", status="inactive"), TagUpdate(name="Nope", status="inactive")],
    )
    assert [tag.name for tag in client.list_member_tags(list_id, ADA)] == ["VIP"]
    assert client.get_member(list_id, ADA).tag_names == {"VIP"}


def test_member_tags_carry_the_date_they_were_added(people, rig, http, list_id):
    """GET .../tags shows each tag with date_added on the emulator clock."""
    rig.advance(120)
    http.post(
        f"/lists/{list_id}/members/{ADA}/tags", json={"tags": [{"name": "VIP", "status": "active"}]}
    )
    tags = http.get(f"/lists/{list_id}/members/{ADA}/tags").json()
    assert tags["tags"][0]["date_added"] == rig.clock.now().isoformat(timespec="seconds")
    assert tags["total_items"] == 1


def test_tag_names_ignore_case(people, client, list_id):
    """Tagging "vip" when "VIP" exists uses the same tag."""
    client.update_member_tags(list_id, ADA, [TagUpdate(name="VIP")])
    client.update_member_tags(list_id, ALAN, [TagUpdate(name="vip")])
    assert len(client.search_tags(list_id, "")) == 1


def test_tag_search_matches_by_prefix(people, mailchimp, client, list_id):
    """tag-search returns the tags whose name starts with the text, ignoring case."""
    for name in ("Customer 2025", "Customer 2026", "Prospect"):
        mailchimp.add_tag(list_id, name)
    assert sorted(t.name for t in client.search_tags(list_id, "cust")) == [
        "Customer 2025",
        "Customer 2026",
    ]


def test_static_segments_add_and_remove_members(people, client, list_id):
    """A tag made with emails holds them; members_to_add/remove change it and report totals
    and unknown addresses."""
    tag = client.create_segment(list_id, "Founders", static_emails=[ADA, "nobody@nowhere.dev"])
    assert tag.type == "static"
    update = client.update_static_segment(
        list_id, tag.id, add=[ALAN, "stranger@far.dev"], remove=[ADA]
    )
    assert (update.total_added, update.total_removed, update.error_count) == (1, 1, 1)
    assert members_of(client, list_id, tag.id) == [ALAN]


def test_static_segment_updates_take_at_most_500_each(people, http, list_id, mailchimp):
    """members_to_add and members_to_remove are each limited to 500 addresses."""
    tag_id = mailchimp.add_tag(list_id, "Big")
    emails = [f"reader{n}@books.dev" for n in range(501)]
    response = http.post(f"/lists/{list_id}/segments/{tag_id}", json={"members_to_add": emails})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (400, "members_to_add")
    response = http.post(
        f"/lists/{list_id}/segments/{tag_id}", json={"members_to_remove": emails[:500]}
    )
    assert response.status_code == 200


def test_segment_members_leave_out_unsubscribed_unless_asked(people, mailchimp, http, list_id):
    """Tag members are subscribed (and pending) ones by default; include_unsubscribed adds the
    rest."""
    tag_id = mailchimp.add_tag(list_id, "Everyone", [ADA, ALAN, GRACE])
    url = f"/lists/{list_id}/segments/{tag_id}"
    assert http.get(url).json()["member_count"] == 2
    listed = http.get(url + "/members", params={"include_unsubscribed": "true"}).json()
    assert sorted(m["email_address"] for m in listed["members"]) == [ADA, ALAN, GRACE]


def test_single_segment_members_are_added_and_removed(people, mailchimp, http, list_id):
    """POST .../members adds one member to a tag; DELETE .../members/{hash} takes it out."""
    tag_id = mailchimp.add_tag(list_id, "Speakers")
    url = f"/lists/{list_id}/segments/{tag_id}/members"
    assert http.post(url, json={"email_address": ADA}).json()["email_address"] == ADA
    assert http.delete(f"{url}/{ADA}").status_code == 204
    assert http.delete(f"{url}/{ADA}").status_code == 404


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (options(cond("TextMerge", "FNAME", "is", "ada")), [ADA]),
        (options(cond("TextMerge", "LNAME", "contains", "ur")), [ALAN]),
        (options(cond("TextMerge", "LNAME", "starts", "Love")), [ADA]),
        (options(cond("TextMerge", "LNAME", "blank")), []),
        (options(cond("EmailAddress", "EMAIL", "ends", "turing.dev")), [ALAN]),
        (
            options(
                cond("TextMerge", "FNAME", "is", "Ada"),
                cond("TextMerge", "FNAME", "is", "Alan"),
                match="any",
            ),
            [ADA, ALAN],
        ),
    ],
)
def test_saved_segments_match_merge_field_conditions(people, client, list_id, conditions, expected):
    """Saved segments evaluate text conditions (is, contains, starts, blank, email) with
    all/any glue, ignoring case."""
    segment = client.create_segment(list_id, "Saved", conditions=conditions)
    assert segment.type == "saved"
    assert members_of(client, list_id, segment.id) == expected


def test_saved_segments_match_tags(people, mailchimp, client, list_id):
    """A StaticSegment condition selects the members with (static_is) or without a tag."""
    vip = mailchimp.add_tag(list_id, "VIP", [ADA])
    has = client.create_segment(
        list_id,
        "VIPs",
        conditions=options(cond("StaticSegment", "static_segment", "static_is", vip)),
    )
    lacks = client.create_segment(
        list_id,
        "Others",
        conditions=options(cond("StaticSegment", "static_segment", "static_not", vip)),
    )
    assert members_of(client, list_id, has.id) == [ADA]
    assert members_of(client, list_id, lacks.id) == [ALAN]
    client.update_member_tags(list_id, ALAN, [TagUpdate(name="VIP")])
    assert members_of(client, list_id, has.id) == [ADA, ALAN]


def test_saved_segment_status_follows_the_include_flags(people, http, mailchimp, list_id):
    """Status selection in segments works through include_unsubscribed/cleaned/transactional."""
    segment_id = mailchimp.add_saved_segment(
        list_id, "Named", options(cond("TextMerge", "FNAME", "blank_not"))
    )
    url = f"/lists/{list_id}/segments/{segment_id}/members"
    assert http.get(url).json()["total_items"] == 2
    assert http.get(url, params={"include_unsubscribed": "true"}).json()["total_items"] == 3


def test_saved_segments_match_dates_numbers_and_choices(mailchimp, client, list_id):
    """Date, number and dropdown merge conditions compare as their types do."""
    mailchimp.add_merge_field(list_id, tag="SINCE", name="Since", type="date")
    mailchimp.add_merge_field(list_id, tag="SEATS", name="Seats", type="number")
    mailchimp.add_merge_field(
        list_id, tag="PLAN", name="Plan", type="dropdown", options={"choices": ["Free", "Pro"]}
    )
    mailchimp.add_member(
        list_id, ADA, merge_fields={"SINCE": "2024-05-01", "SEATS": 12, "PLAN": "Pro"}
    )
    mailchimp.add_member(
        list_id, ALAN, merge_fields={"SINCE": "2026-01-01", "SEATS": 3, "PLAN": "Free"}
    )
    for condition, expected in [
        (cond("DateMerge", "SINCE", "less", "01/01/2025"), [ADA]),
        (cond("TextMerge", "SEATS", "greater", "5"), [ADA]),
        (cond("SelectMerge", "PLAN", "is", "Free"), [ALAN]),
    ]:
        segment = client.create_segment(list_id, condition["field"], conditions=options(condition))
        assert members_of(client, list_id, segment.id) == expected


def test_conditions_the_emulator_cannot_evaluate_are_refused(people, http, mailchimp, list_id):
    """A condition type that is not emulated, or a wrong field, is a 400 naming it."""
    response = http.post(
        f"/lists/{list_id}/segments",
        json={"name": "Openers", "options": options(cond("Aim", "aim", "open", "any"))},
    )
    assert response.status_code == 400
    assert "'Aim'" in response.json()["errors"][0]["message"]
    with pytest.raises(ConfigurationError, match="no TextMerge field"):
        mailchimp.add_saved_segment(list_id, "Bad", options(cond("TextMerge", "NOPE", "is", "x")))


def test_segments_are_listed_by_type_renamed_and_deleted(people, mailchimp, http, list_id):
    """Segments list with type filters; PATCH renames; deleting a tag takes it off members."""
    tag_id = mailchimp.add_tag(list_id, "Founders", [ADA])
    mailchimp.add_saved_segment(list_id, "Adas", options(cond("TextMerge", "FNAME", "is", "Ada")))
    static = http.get(f"/lists/{list_id}/segments", params={"type": "static"}).json()
    assert [s["name"] for s in static["segments"]] == ["Founders"]
    renamed = http.patch(
        f"/lists/{list_id}/segments/{tag_id}", json={"name": "Pioneers", "static_segment": [ALAN]}
    ).json()
    assert (renamed["name"], renamed["member_count"]) == ("Pioneers", 1)
    assert http.delete(f"/lists/{list_id}/segments/{tag_id}").status_code == 204
    assert mailchimp.get_member(list_id, ALAN)["tags"] == []


def test_segment_names_are_unique(mailchimp, list_id):
    """A second tag or segment with the same name (in any case) is refused."""
    mailchimp.add_tag(list_id, "Founders")
    with pytest.raises(ConfigurationError, match="already exists"):
        mailchimp.add_tag(list_id, "founders")
