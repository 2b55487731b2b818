"""Accounts and credentials: API keys with data centres, Bearer, OAuth, audiences."""

from __future__ import annotations

import httpx
import pytest

from pdmc.clients import MailchimpClient, RetryPolicy
from pdmc.clients.mailchimp import MailchimpOAuthApp
from pdmc.errors import AuthenticationError, OAuthError

REDIRECT = "https://app.pdmc.dev/oauth/mailchimp"


def test_the_default_key_ends_with_its_data_centre(mailchimp):
    """The default account's key ends in -us6 and the service answers as us6.api.mailchimp.com."""
    assert mailchimp.default_account.api_key.reveal().endswith("-us6")
    assert mailchimp.default_host == "us6.api.mailchimp.com"


@pytest.mark.parametrize("user", ["anystring", "pdmc", ""])
def test_basic_auth_takes_any_user_name(rig, user):
    """Basic auth works with any user name and the API key as password."""
    key = rig.mailchimp.default_account.api_key.reveal()
    with httpx.Client(transport=rig.transport, auth=(user, key)) as http:
        assert http.get("https://us6.api.mailchimp.com/3.0/").status_code == 200


def test_bearer_takes_the_key_too(rig):
    """Authorization: Bearer <key> is accepted, as the current docs say."""
    key = rig.mailchimp.default_account.api_key.reveal()
    with httpx.Client(transport=rig.transport) as http:
        response = http.get(
            "https://us6.api.mailchimp.com/3.0/ping", headers={"authorization": f"Bearer {key}"}
        )
    assert response.json() == {"health_status": "Everything's Chimpy!"}


def test_missing_wrong_and_misplaced_keys_get_401(rig):
    """No key, an unknown key, or a key sent to another data centre answer 401."""
    key = rig.mailchimp.default_account.api_key.reveal()
    with httpx.Client(transport=rig.transport) as http:
        missing = http.get("https://us6.api.mailchimp.com/3.0/")
        unknown = http.get("https://us6.api.mailchimp.com/3.0/", auth=("u", "0" * 32 + "-us6"))
        elsewhere = http.get("https://us19.api.mailchimp.com/3.0/", auth=("u", key))
        bare_host = http.get("https://api.mailchimp.com/3.0/", auth=("u", key))
    assert missing.json()["title"] == "API Key Missing"
    assert (unknown.status_code, unknown.json()["title"]) == (401, "API Key Invalid")
    assert elsewhere.status_code == 401
    assert bare_host.status_code == 200


def test_accounts_only_see_their_own_audiences(rig, list_id):
    """Another account's key gets 404 for this account's audience, and its own elsewhere."""
    other = rig.mailchimp.add_account("Other Co", data_center="us19")
    theirs = rig.mailchimp.add_audience("Theirs", account=other)
    base = "https://us19.api.mailchimp.com/3.0"
    with rig.http(key=other.api_key.reveal(), base_url=base) as http:
        assert http.get(f"/lists/{list_id}").status_code == 404
        assert [a["id"] for a in http.get("/lists").json()["lists"]] == [theirs]


def test_oauth_codes_become_tokens_that_never_expire(rig):
    """The token endpoint trades a code for a token; metadata tells its data centre; the
    token works for ever (until revoked)."""
    mailchimp = rig.mailchimp
    secret = mailchimp.add_oauth_app("pdmc-app", redirect_uri=REDIRECT)
    app = MailchimpOAuthApp(client_id="pdmc-app", client_secret=secret, redirect_uri=REDIRECT)
    with httpx.Client(transport=rig.transport) as http:
        token = app.exchange_code(mailchimp.authorize("pdmc-app"), http_client=http)
        metadata = app.metadata(token, http_client=http)
    assert (metadata.dc, metadata.api_endpoint) == ("us6", "https://us6.api.mailchimp.com")
    rig.advance(400 * 24 * 3600)
    client = MailchimpClient(
        oauth_token=token,
        data_center=metadata.dc,
        transport=rig.transport,
        retry=RetryPolicy.no_wait(1),
    )
    assert client.ping().account_id == mailchimp.default_account.id
    mailchimp.revoke(token)
    with pytest.raises(AuthenticationError):
        client.ping()


def test_oauth_codes_are_single_use_and_checked(rig):
    """A used code, a wrong secret or a wrong redirect URI are refused."""
    mailchimp = rig.mailchimp
    secret = mailchimp.add_oauth_app("pdmc-app", redirect_uri=REDIRECT)
    app = MailchimpOAuthApp(client_id="pdmc-app", client_secret=secret, redirect_uri=REDIRECT)
    code = mailchimp.authorize("pdmc-app")
    with httpx.Client(transport=rig.transport) as http:
        app.exchange_code(code, http_client=http)
        with pytest.raises(OAuthError):
            app.exchange_code(code, http_client=http)
        wrong = MailchimpOAuthApp(
            client_id="pdmc-app", client_secret=secret, redirect_uri="https://evil.example/cb"
        )
        with pytest.raises(OAuthError):
            wrong.exchange_code(mailchimp.authorize("pdmc-app"), http_client=http)
        response = http.get("https://us6.api.mailchimp.com/oauth2/metadata")
    assert response.status_code == 404  # OAuth lives on login.mailchimp.com only


def test_audiences_are_created_changed_and_deleted(http, mailchimp):
    """POST /lists needs its required fields; double_optin is kept and can be changed."""
    refused = http.post("/lists", json={"name": "Half"})
    assert refused.status_code == 400
    body = {
        "name": "Customers",
        "contact": {
            "company": "Acme",
            "address1": "1 Main St",
            "city": "Springfield",
            "country": "US",
        },
        "permission_reminder": "You bought from us.",
        "campaign_defaults": {
            "from_name": "Acme",
            "from_email": "news@acme-widgets.net",
            "subject": "",
            "language": "en",
        },
        "email_type_option": False,
        "double_optin": True,
    }  # fmt: skip
    created = http.post("/lists", json=body).json()
    assert created["double_optin"] is True
    changed = http.patch(f"/lists/{created['id']}", json={"double_optin": False}).json()
    assert changed["double_optin"] is False
    assert http.delete(f"/lists/{created['id']}").status_code == 204
    assert http.get(f"/lists/{created['id']}").status_code == 404


def test_audience_stats_count_statuses(http, mailchimp, list_id):
    """stats count subscribed, unsubscribed and cleaned members; total_contacts on request."""
    mailchimp.add_member(list_id, "ada@lovelace.dev")
    mailchimp.add_member(list_id, "alan@turing.dev", status="unsubscribed")
    mailchimp.add_member(list_id, "grace@hopper.dev", status="cleaned")
    stats = http.get(f"/lists/{list_id}", params={"include_total_contacts": "true"}).json()["stats"]
    assert (stats["member_count"], stats["unsubscribe_count"], stats["cleaned_count"]) == (1, 1, 1)
    assert stats["total_contacts"] == 3


def test_the_account_is_described_at_the_root(client, mailchimp):
    """GET / names the account behind the key."""
    account = client.ping()
    assert (account.account_id, account.role) == (mailchimp.default_account.id, "owner")
