"""The direct state API (seeding and assertions), the fake-address rule, and memory per member."""

from __future__ import annotations

import gc
import tracemalloc
from datetime import UTC, datetime

import pytest

from pdmc.emulator._seed_data import FAKE_EMAILS
from pdmc.emulator.mailchimp import MailchimpEmulator, email_rejection_reason
from pdmc.errors import ConfigurationError


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("ada@lovelace.dev", None),
        ("first.last+tag@sub.domain.co.uk", None),
        ("o'brien@irish.ie", None),
        ("ada@lovelace", "syntax"),
        ("ada@@lovelace.dev", "syntax"),
        (".ada@lovelace.dev", "syntax"),
        ("ada..b@lovelace.dev", "syntax"),
        ("ada@-lovelace.dev", "syntax"),
        ("ada@lovelace.d", "syntax"),
        ("jürgen@web.de", "syntax"),
        ("a" * 65 + "@lovelace.dev", "syntax"),
        ("ada@example.com", "reserved domain"),
        ("ada@mail.example.org", "reserved domain"),
        ("ada@host.test", "reserved domain"),
        ("ada@printer.localhost", "reserved domain"),
        ("Test@gmail.com", "fake local part"),
        ("noemail@yahoo.com", "fake local part"),
    ],
)
def test_the_fake_address_rule(address, reason):
    """Syntax, reserved domains and made-up local parts are refused; real addresses pass."""
    assert email_rejection_reason(address) == reason


@pytest.mark.parametrize("address", FAKE_EMAILS)
def test_the_seeding_fakes_are_refused(address):
    """Every address the seeder writes as a typed-in fake is one the emulator refuses."""
    assert email_rejection_reason(address) is not None


def test_seeding_adds_members_silently_and_reads_them_back(rig, list_id):
    """add_member sends no webhook (notify=False) and shows up in get/iter/count."""
    mailchimp = rig.mailchimp
    opted = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    key = mailchimp.add_member(
        list_id,
        "Ada@Lovelace.dev",
        merge_fields={"FNAME": "Ada"},
        tags=["VIP"],
        timestamp_opt=opted,
    )
    mailchimp.add_member(list_id, "alan@turing.dev", status="transactional")
    member = mailchimp.get_member(list_id, "ada@lovelace.dev")
    assert (member["id"], member["timestamp_opt"]) == (key, "2025-03-01T12:00:00+00:00")
    assert [m["email_address"] for m in mailchimp.iter_members(list_id)] == [
        "Ada@Lovelace.dev",
        "alan@turing.dev",
    ]
    assert mailchimp.member_count(list_id) == 2
    assert rig.inbox.posts == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m, _: m.add_member("nope", "ada@lovelace.dev"), "no audience 'nope'"),
        (lambda m, lid: m.add_member(lid, "test@test.com"), "looks fake or invalid"),
        (lambda m, lid: m.unsubscribe(lid, "ghost@nowhere.dev"), "no member"),
        (lambda m, lid: m.add_merge_field(lid, tag="FNAME", name="Again", type="text"), "FNAME"),
        (lambda m, lid: m.delete_segment(lid, 1), "no segment 1"),
        (lambda m, _: m.authorize("unknown-app"), "add_oauth_app"),
        (lambda m, lid: m.add_member(lid, "ada@lovelace.dev", status="happy"), "status must be"),
        (lambda m, lid: m.unsubscribe(lid, "ada@lovelace.dev", source="robot"), "source must be"),
    ],
)
def test_refused_seeding_names_what_and_why(mailchimp, list_id, call, message):
    """A refused direct change raises ConfigurationError naming the item and the reason."""
    with pytest.raises(ConfigurationError, match=message):
        call(mailchimp, list_id)


def test_merge_field_refusals_name_the_field(mailchimp, list_id):
    """Seeding a bad merge value says which field and why."""
    mailchimp.add_merge_field(list_id, tag="ZIPCODE", name="Zip", type="zip")
    with pytest.raises(ConfigurationError, match="ZIPCODE: Please enter a 5-digit US ZIP code"):
        mailchimp.add_member(list_id, "ada@lovelace.dev", merge_fields={"ZIPCODE": "1"})


def test_no_secret_shows_in_reprs(mailchimp):
    """Neither the emulator's nor an account's repr holds the API key."""
    key = mailchimp.default_account.api_key.reveal()
    assert key not in repr(mailchimp)
    assert key not in repr(mailchimp.default_account)
    assert key not in str(mailchimp.issue_oauth_token())


def test_a_member_takes_under_a_kilobyte():
    """10,000 seeded members (two merge fields, half tagged) cost under 1 KiB each."""
    mailchimp = MailchimpEmulator()
    list_id = mailchimp.default_audience_id
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(10_000):
            mailchimp.add_member(
                list_id,
                f"reader.{number}@books-and-more.net",
                merge_fields={"FNAME": f"Reader{number}", "LNAME": "Lovelace"},
                tags=["Seeded"] if number % 2 else (),
            )
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert used / 10_000 < 1024
