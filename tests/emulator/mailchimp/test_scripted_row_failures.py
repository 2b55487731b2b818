"""Scripted transient row failures of batch subscribe (``fail_batch_rows``)."""

from __future__ import annotations

import pytest

from pdmc.clients.mailchimp import MemberUpsert, typed_batch_errors
from pdmc.errors import ConfigurationError, MemberError


def _subscribe(client, list_id, *emails):
    rows = [MemberUpsert(email_address=e, status_if_new="subscribed") for e in emails]
    return client.batch_subscribe(list_id, rows)


def test_a_scripted_row_fails_as_often_as_told_and_then_goes_through(client, mailchimp, list_id):
    """The scripted address's rows fail ``times`` times with a generic error; the rest pass."""
    mailchimp.fail_batch_rows(list_id, "Ada@Lovelace.dev", times=2)
    for _ in range(2):
        result = _subscribe(client, list_id, "ada@lovelace.dev", "alan@turing.dev")
        (refusal,) = typed_batch_errors(result)
        assert type(refusal) is MemberError  # no permanent cause: a caller retries it
        assert refusal.email == "ada@lovelace.dev"
        assert "try again later" in str(refusal)
        assert mailchimp.get_member(list_id, "ada@lovelace.dev") is None
    assert mailchimp.get_member(list_id, "alan@turing.dev") is not None
    result = _subscribe(client, list_id, "ada@lovelace.dev")
    assert (result.total_created, result.error_count) == (1, 0)


def test_a_row_failure_needs_a_known_audience_and_a_positive_count(mailchimp, list_id):
    """Scripting a failure for an unknown audience, or zero times, is refused."""
    with pytest.raises(ConfigurationError):
        mailchimp.fail_batch_rows("nope", "ada@lovelace.dev")
    with pytest.raises(ConfigurationError, match="at least 1"):
        mailchimp.fail_batch_rows(list_id, "ada@lovelace.dev", times=0)
