"""Field catalogs built from the clients' field metadata."""

from __future__ import annotations

import pytest

from pdmc.clients.mailchimp.models import MergeField
from pdmc.clients.pipedrive.models import PersonField
from pdmc.errors import ConfigurationError
from pdmc.mapping import FieldCatalog, Kind, Side

from .conftest import SCORE, SOURCE


def test_pipedrive_catalog_keys_the_contact_points_email_and_phone(pipedrive) -> None:
    """Pipedrive's emails and phones fields become the email and phone fields."""
    assert pipedrive["email"].kind is Kind.EMAIL
    assert pipedrive["email"].type == "email"
    assert pipedrive["phone"].kind is Kind.PHONE
    assert "emails" not in pipedrive
    assert pipedrive.email is pipedrive["email"]


def test_pipedrive_catalog_adds_an_email_field_when_the_list_has_none() -> None:
    """The email field is always there, because every flow maps it."""
    catalog = FieldCatalog.for_pipedrive([])
    assert [field.key for field in catalog] == ["email"]


def test_pipedrive_catalog_reads_kinds_options_and_required_flags(pipedrive) -> None:
    """Custom fields keep their hash keys, options and kinds; the required flag is kept."""
    assert pipedrive[SCORE].kind is Kind.NUMBER
    assert pipedrive[SCORE].custom
    assert [o.label for o in pipedrive[SOURCE].options] == ["Inbound", "Outbound"]
    assert pipedrive[SOURCE].kind is Kind.OPTION
    assert pipedrive["name"].required
    assert len(pipedrive["postal_address"].subfields) == 9


def test_marketing_status_is_consent_whatever_its_reported_type(pipedrive) -> None:
    """Pipedrive's marketing status is treated as consent, which is never mapped."""
    assert pipedrive["marketing_status"].kind is Kind.CONSENT


def test_mailchimp_catalog_starts_with_the_required_email_address(mailchimp) -> None:
    """The member's address is a required field keyed EMAIL, before the merge fields."""
    first = next(iter(mailchimp))
    assert (first.key, first.kind, first.required) == ("EMAIL", Kind.EMAIL, True)
    assert mailchimp["BIRTHDAY"].format == "MM/DD"
    assert [o.label for o in mailchimp["PLAN"].options] == ["Free", "Pro"]
    assert len(mailchimp) == 16


def test_duplicate_keys_are_refused() -> None:
    """Two fields with one key are a configuration error naming the key."""
    field = PersonField(field_code="x" * 40, field_name="A", field_type="varchar")
    with pytest.raises(ConfigurationError, match=r"x{40}"):
        FieldCatalog.for_pipedrive([field, field])
    merge = MergeField(merge_id=1, tag="FNAME", name="First", type="text")
    with pytest.raises(ConfigurationError, match="FNAME"):
        FieldCatalog.for_mailchimp([merge, merge])


def test_compatible_targets_split_allowed_and_refused_with_reasons(pipedrive, mailchimp) -> None:
    """A catalog answers which of its fields a source may feed, and why not the others."""
    choices = mailchimp.compatible_targets(pipedrive["phone"])
    assert {c.field.key for c in choices.allowed} == {
        "PHONE", "FNAME", "LNAME", "COMPANY", "SOURCE", "JOBTITLE",
    }  # fmt: skip
    assert len(choices.allowed) + len(choices.refused) == len(mailchimp)
    refused = {c.field.key: c.verdict.reason for c in choices.refused}
    assert "radio fields cannot be mapped" in refused["PLAN"]
    assert "identity" in refused["EMAIL"]


def test_compatible_targets_work_from_mailchimp_to_pipedrive(pipedrive, mailchimp) -> None:
    """Asked of the Pipedrive catalog, a Mailchimp field is the source."""
    choices = pipedrive.compatible_targets(mailchimp["WEBSITE"])
    allowed = {c.field.key for c in choices.allowed}
    assert "job_title" in allowed
    assert "notes" in allowed
    assert "phone" not in allowed


def test_system_fields_pdmc_does_not_sync_are_refused(pipedrive, mailchimp) -> None:
    """A built-in field pdmc does not read, such as add_time, is refused with the reason."""
    choices = mailchimp.compatible_targets(pipedrive["add_time"])
    assert not choices.allowed
    reasons = {c.field.key: c.verdict.reason for c in choices.refused}
    assert "system field" in reasons["SIGNUP"]


def test_compatible_targets_refuses_a_source_of_its_own_side(mailchimp) -> None:
    """Asking a catalog about one of its own fields is a configuration error."""
    with pytest.raises(ConfigurationError):
        mailchimp.compatible_targets(mailchimp["FNAME"])


def test_catalog_displays_as_an_escaped_html_table() -> None:
    """In a notebook a catalog is a table, and labels are escaped."""
    catalog = FieldCatalog.for_mailchimp(
        [MergeField(merge_id=1, tag="X", name="<b>Tag & name</b>", type="text")]
    )
    html = catalog._repr_html_()
    assert html.startswith("<table>")
    assert "&lt;b&gt;Tag &amp; name&lt;/b&gt;" in html
    assert "<b>" not in html
    assert html.count("<tr>") == 3


def test_field_names_itself_for_errors(mailchimp) -> None:
    """A field's ref and title say which side and which field it is."""
    field = mailchimp["FNAME"]
    assert field.side is Side.MAILCHIMP
    assert field.ref == "mailchimp:FNAME"
    assert field.title == "Mailchimp field 'First Name' (FNAME)"
