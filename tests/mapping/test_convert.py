"""Value conversion, value by value, in both directions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pdmc import UNSET
from pdmc.clients.pipedrive.models import PostalAddress
from pdmc.errors import ConversionError
from pdmc.mapping import Field, FieldPair, Side, convert_value

from .conftest import BUDGET, CONTRACT, OFFICE, SCORE, SOURCE, TOPICS


@pytest.fixture
def convert(pipedrive, mailchimp):
    """Convert one value between the named Pipedrive and Mailchimp fields."""

    def run(wire, pd_key: str, mc_key: str, *, to_mailchimp: bool = True, **options):
        pd, mc = pipedrive[pd_key], mailchimp[mc_key]
        source, target = (pd, mc) if to_mailchimp else (mc, pd)
        pair = FieldPair(pd_key, mc_key, **options)
        return convert_value(wire, source=source, target=target, pair=pair, contact="person 1")

    return run


def reason_of(result) -> str:
    """The reason of a ConversionError, failing if the result is not one."""
    assert isinstance(result, ConversionError), result
    return result.reason


def test_a_bad_value_is_returned_as_a_conversion_error_naming_field_and_contact(convert) -> None:
    """A value that cannot convert comes back as a typed error, never raised."""
    result = convert("31/02/2024", CONTRACT, "SIGNUP")
    assert isinstance(result, ConversionError)
    assert result.field == f"pipedrive:{CONTRACT}"
    assert result.contact == "person 1"
    assert "Contract date" in str(result)
    assert "YYYY-MM-DD" in result.reason


def test_pipedrive_dates_are_written_as_iso_dates(convert) -> None:
    """A Pipedrive date goes to a Mailchimp date field as YYYY-MM-DD."""
    assert convert("2024-02-29", CONTRACT, "SIGNUP") == "2024-02-29"
    assert "calendar date" in reason_of(convert("2023-02-29", CONTRACT, "SIGNUP"))


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("2024-03-04", "2024-03-04"),
        ("2024/03/04", "2024-03-04"),
        ("04-03-2024", "2024-03-04"),
        ("04/03/2024", "2024-03-04"),  # the field's format is DD/MM/YYYY
    ],
)
def test_mailchimp_dates_are_read_in_every_format_mailchimp_uses(convert, wire, expected) -> None:
    """Mailchimp dates are read in ISO, slashed and dashed forms, slashes by the field's format."""
    assert convert(wire, CONTRACT, "SIGNUP", to_mailchimp=False) == expected


def test_slashed_dates_follow_the_fields_date_format() -> None:
    """03/04/2024 is 4 March in a MM/DD/YYYY field and 3 April in a DD/MM/YYYY one."""
    pipedrive = Field(Side.PIPEDRIVE, "d", "D", "date", custom=True)
    pair = FieldPair("d", "D")
    for date_format, expected in (("MM/DD/YYYY", "2024-03-04"), ("DD/MM/YYYY", "2024-04-03")):
        source = Field(Side.MAILCHIMP, "D", "D", "date", format=date_format)
        assert convert_value("03/04/2024", source=source, target=pipedrive, pair=pair) == expected


def test_a_date_becomes_a_birthday_without_its_year(convert) -> None:
    """date → birthday sends MM/DD; the year is dropped by design."""
    assert convert("1815-12-10", "birthday", "BIRTHDAY") == "12/10"


def test_birthdays_are_read_by_their_format() -> None:
    """A DD/MM birthday field reads 10/12 as 10 December; 02/29 is a valid birthday."""
    source = Field(Side.MAILCHIMP, "B", "B", "birthday", format="DD/MM")
    target = Field(Side.MAILCHIMP, "T", "T", "birthday")
    pair = FieldPair("x", "B")
    assert convert_value("10/12", source=source, target=target, pair=pair) == "12/10"
    assert convert_value("29/02", source=source, target=target, pair=pair) == "02/29"
    assert "day of the year" in reason_of(
        convert_value("31/02", source=source, target=target, pair=pair)
    )


@pytest.mark.parametrize(
    ("wire", "expected"),
    [(12.5, 12.5), (7, 7), ("-3.25", -3.25), ("1e3", 1000), (" 42 ", 42), (1e15, 10**15)],
)
def test_numbers_convert_without_locale(convert, wire, expected) -> None:
    """Numbers and plain numeric strings convert exactly, whole numbers as integers."""
    result = convert(wire, SCORE, "SCORE")
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("wire", ["1,5", "1.234,5", "1,234.5", "12 500", "€3", "NaN"])
def test_locale_formatted_numbers_are_reported_not_guessed(convert, wire) -> None:
    """A decimal comma or thousands separator is reported rather than read one way or another."""
    assert "plain number" in reason_of(convert(wire, SCORE, "SCORE", to_mailchimp=False))


@pytest.mark.parametrize(
    ("wire", "words"),
    [
        (True, "yes/no"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        ("0.1000000000000000000001", "rounded"),
        (2**60, "too large"),
        ([1], "expected a number"),
    ],
)
def test_numbers_that_cannot_travel_exactly_are_reported(convert, wire, words) -> None:
    """Booleans, infinities, over-precise and oversized numbers are refused one by one."""
    assert words in reason_of(convert(wire, SCORE, "SCORE"))


def test_a_fraction_into_a_whole_number_field_is_reported() -> None:
    """A Pipedrive int field takes whole numbers only; 2.5 is reported, 2.0 written as 2."""
    source = Field(Side.MAILCHIMP, "N", "N", "number")
    target = Field(Side.PIPEDRIVE, "i", "I", "int", custom=True)
    pair = FieldPair("i", "N")
    assert convert_value(2.0, source=source, target=target, pair=pair) == 2
    assert "whole number" in reason_of(convert_value(2.5, source=source, target=target, pair=pair))


def test_monetary_sends_only_the_amount(convert) -> None:
    """A monetary value becomes its amount; the currency is dropped by design."""
    assert convert({"value": 1500.25, "currency": "GBP"}, BUDGET, "SCORE") == 1500.25
    assert convert(99, BUDGET, "SCORE") == 99
    assert convert({"value": None, "currency": "GBP"}, BUDGET, "SCORE") is UNSET
    assert "currency" in reason_of(convert({"value": 1, "currency": 5}, BUDGET, "SCORE"))


def test_phones_are_kept_as_written(convert) -> None:
    """Phone to phone and phone to text keep the number exactly."""
    assert convert("+44 20 7946 0000", "phone", "PHONE") == "+44 20 7946 0000"
    assert convert("+44 (0)20 7946", "phone", "COMPANY") == "+44 (0)20 7946"
    assert convert("555-0100", "job_title", "PHONE", to_mailchimp=False) == "555-0100"


def test_us_format_phone_fields_need_ten_digits() -> None:
    """A Mailchimp phone field in US format reports a number that is not 10 digits."""
    source = Field(Side.PIPEDRIVE, "phone", "Phone", "phone", read="primary_phone")
    target = Field(Side.MAILCHIMP, "PHONE", "Phone", "phone", format="US")
    pair = FieldPair("phone", "PHONE")
    assert convert_value("(555) 010-0100", source=source, target=target, pair=pair) == (
        "(555) 010-0100"
    )
    assert convert_value("+1 555 010 0100", source=source, target=target, pair=pair)
    assert "10-digit" in reason_of(
        convert_value("+44 20 7946 0000", source=source, target=target, pair=pair)
    )


def test_a_pipedrive_address_becomes_a_mailchimp_address(convert) -> None:
    """Street number and street join into addr1 and the country name becomes its code."""
    address = PostalAddress(
        street_number="12",
        route="St James's Square",
        subpremise="Flat 3",
        locality="London",
        admin_area_level_1="England",
        admin_area_level_2="Greater London",
        postal_code="SW1Y 4JH",
        country="United Kingdom",
    )
    assert convert(address, "postal_address", "ADDRESS") == {
        "addr1": "12 St James's Square",
        "addr2": "Flat 3",
        "city": "London",
        "state": "England",
        "zip": "SW1Y 4JH",
        "country": "GB",
    }


@pytest.mark.parametrize(
    ("country", "code"),
    [("Côte d'Ivoire", "CI"), ("cote d\u2019ivoire", "CI"), ("The Netherlands", "NL"),
     ("USA", "US"), ("de", "DE"), ("Türkiye", "TR"), ("Turkey", "TR")],
)  # fmt: skip
def test_country_names_and_codes_are_recognised(convert, country, code) -> None:
    """Country names in any case or accent, common aliases and codes all become the code."""
    address = {"route": "Main St 1", "locality": "X", "admin_area_level_1": "Y",
               "postal_code": "1", "country": country}  # fmt: skip
    assert convert(address, OFFICE, "ADDRESS")["country"] == code


def test_an_incomplete_address_is_reported_not_dropped(convert) -> None:
    """An address without state and zip is an error naming the missing parts."""
    address = PostalAddress(route="Main St", locality="Springfield", country="United States")
    reason = reason_of(convert(address, "postal_address", "ADDRESS"))
    assert "state and zip are missing" in reason


def test_an_unknown_country_is_reported_not_filed_under_the_us(convert) -> None:
    """A country pdmc cannot turn into a code is reported, since Mailchimp would assume US."""
    address = {"route": "1 Way", "locality": "A", "admin_area_level_1": "B",
               "postal_code": "1", "country": "Atlantis"}  # fmt: skip
    assert "Atlantis" in reason_of(convert(address, OFFICE, "ADDRESS"))


def test_a_mailchimp_address_becomes_a_pipedrive_postal_address(convert) -> None:
    """addr1 becomes the street, the code the country's name, and the value is built."""
    wire = {"addr1": "1 Infinite Loop", "addr2": "", "city": "Cupertino", "state": "CA",
            "zip": "95014", "country": "US"}  # fmt: skip
    result = convert(wire, "postal_address", "ADDRESS", to_mailchimp=False)
    assert result == PostalAddress(
        value="1 Infinite Loop, Cupertino, CA 95014, United States",
        route="1 Infinite Loop",
        locality="Cupertino",
        admin_area_level_1="CA",
        postal_code="95014",
        country="United States",
    )
    custom = convert(wire, OFFICE, "ADDRESS", to_mailchimp=False)
    assert custom["route"] == "1 Infinite Loop"
    assert "subpremise" not in custom


def test_a_one_line_mailchimp_address_is_reported(convert) -> None:
    """An address stored as one line of text is not split by guesswork; it is reported."""
    reason = reason_of(
        convert("1 Loop Cupertino CA", "postal_address", "ADDRESS", to_mailchimp=False)
    )
    assert "does not split" in reason


def test_text_over_255_bytes_is_reported(convert) -> None:
    """Text longer than Mailchimp's 255 bytes is reported with its size."""
    reason = reason_of(convert("é" * 128, "job_title", "COMPANY"))
    assert "256 bytes" in reason
    assert "truncate=True" in reason
    assert convert("é" * 127, "job_title", "COMPANY") == "é" * 127


def test_text_is_truncated_on_a_character_boundary_when_the_pair_says_so(convert) -> None:
    """With truncate, text is cut to at most 255 bytes without splitting a character."""
    result = convert("a" + "€" * 100, "notes", "COMPANY", truncate=True)
    assert result == "a" + "€" * 84
    assert len(result.encode()) == 253


def test_text_into_pipedrive_is_limited_in_characters() -> None:
    """Pipedrive varchar holds 255 characters; notes hold 10,000."""
    source = Field(Side.MAILCHIMP, "T", "T", "text")
    varchar = Field(
        Side.PIPEDRIVE, "job_title", "Job", "varchar", read="job_title", write="job_title"
    )
    notes = Field(Side.PIPEDRIVE, "notes", "Notes", "text", read="notes", write="notes")
    pair = FieldPair("x", "T")
    assert "256 characters" in reason_of(
        convert_value("x" * 256, source=source, target=varchar, pair=pair)
    )
    assert convert_value("x" * 9000, source=source, target=notes, pair=pair) == "x" * 9000


def test_text_with_an_unpaired_surrogate_is_reported(convert) -> None:
    """Text that is not valid Unicode is reported instead of crashing the encoder."""
    assert "surrogate" in reason_of(convert("bad \ud800", "job_title", "COMPANY"))


def test_an_empty_source_leaves_the_target_alone_by_default(convert) -> None:
    """An empty or absent source value gives UNSET: the target is not written."""
    assert convert("", "job_title", "COMPANY") is UNSET
    assert convert("   ", "job_title", "COMPANY") is UNSET
    assert convert(None, "job_title", "COMPANY") is UNSET
    assert convert(UNSET, "job_title", "COMPANY", clear_when_empty=True) is UNSET


def test_an_empty_source_clears_the_target_when_the_pair_says_so(convert) -> None:
    """With clear_when_empty, Mailchimp gets "" and Pipedrive gets None."""
    assert convert(None, "job_title", "COMPANY", clear_when_empty=True) == ""
    assert convert("", "job_title", "COMPANY", to_mailchimp=False, clear_when_empty=True) is None


def test_option_labels_are_sent_when_opted_in(convert) -> None:
    """An option id becomes its label; several ids become labels joined by commas."""
    assert convert(2, SOURCE, "SOURCE", send_option_labels=True) == "Outbound"
    assert convert("1", SOURCE, "SOURCE", send_option_labels=True) == "Inbound"
    assert convert([8, 7], TOPICS, "SOURCE", send_option_labels=True) == "Support, Sales"
    assert convert("7,8", TOPICS, "SOURCE", send_option_labels=True) == "Sales, Support"
    assert convert([], TOPICS, "SOURCE", send_option_labels=True) is UNSET
    assert "deleted" in reason_of(convert(99, SOURCE, "SOURCE", send_option_labels=True))


def test_an_invalid_email_address_is_reported(convert) -> None:
    """An address without a domain is reported as not an email address."""
    assert "not an email address" in reason_of(convert("ada@", "email", "EMAIL"))
    assert convert(" ada@example.com ", "email", "EMAIL") == "ada@example.com"


def test_a_value_of_the_wrong_shape_is_reported(convert) -> None:
    """Wire values of an unexpected JSON type are reported, never raised."""
    assert "expected text" in reason_of(convert(12, "job_title", "COMPANY"))
    assert "expected an address part" in reason_of(
        convert({"route": ["x"]}, "postal_address", "ADDRESS")
    )
    assert "list of option ids" in reason_of(
        convert(3.5, TOPICS, "SOURCE", send_option_labels=True)
    )


def test_decimal_strings_keep_their_exact_value(convert) -> None:
    """A long but exactly representable decimal string converts to the same float value."""
    assert Decimal(repr(convert("0.1", SCORE, "SCORE"))) == Decimal("0.1")
