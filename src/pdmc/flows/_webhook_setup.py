"""Registering exactly the webhooks the active flows need, idempotently."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from pdmc.clients import MailchimpClient, PipedriveClient
from pdmc.clients.mailchimp import WebhookEvents, WebhookSources
from pdmc.errors import ConfigurationError
from pdmc.flows._flow import Flow
from pdmc.flows._results import WebhookSetup
from pdmc.flows._webhooks import MailchimpWebhookAuth, PipedriveWebhookAuth

__all__ = ["ensure_webhooks"]

_NAME: Final = "pdmc"
_SOURCES: Final = WebhookSources(user=True, admin=True, api=False)
"""Changes people make, never pdmc's own API writes (which would echo back)."""


def ensure_webhooks(
    public_url: str,
    *,
    flows: Iterable[Flow],
    audiences: Iterable[str],
    pipedrive: PipedriveClient,
    mailchimp: MailchimpClient,
    pipedrive_auth: PipedriveWebhookAuth | None,
    mailchimp_auth: MailchimpWebhookAuth | None,
) -> WebhookSetup:
    """Create the webhooks ``flows`` need under ``public_url``; delete pdmc's others there.

    ``audiences`` are every audience pdmc may have webhooks in (the account's), so
    webhooks of audiences no active flow needs any more are removed too.
    """
    base = public_url.rstrip("/")
    flows = list(flows)
    setup = _Changes()
    needed_pd: set[tuple[str, str]] = set()
    needed_mc: dict[str, set[str]] = {}
    for flow in flows:
        needs = flow.trigger.webhooks()
        needed_pd |= needs.pipedrive
        if needs.mailchimp:
            needed_mc.setdefault(flow.audience_id, set()).update(needs.mailchimp)
    _pipedrive(f"{base}/pipedrive", needed_pd, pipedrive, pipedrive_auth, setup)
    for audience in sorted(set(audiences) | set(needed_mc)):
        _mailchimp(
            f"{base}/mailchimp",
            audience,
            needed_mc.get(audience, set()),
            mailchimp,
            mailchimp_auth,
            setup,
        )
    return WebhookSetup(
        created=tuple(setup.created), deleted=tuple(setup.deleted), kept=tuple(setup.kept)
    )


class _Changes:
    def __init__(self) -> None:
        self.created: list[str] = []
        self.deleted: list[str] = []
        self.kept: list[str] = []


def _pipedrive(
    url: str,
    needed: set[tuple[str, str]],
    client: PipedriveClient,
    auth: PipedriveWebhookAuth | None,
    changes: _Changes,
) -> None:
    ours = [hook for hook in client.list_webhooks() if hook.subscription_url == url]
    have = {(hook.event_object, hook.event_action) for hook in ours if hook.is_active}
    if needed - have and auth is None:
        raise ConfigurationError("Pipedrive webhooks need the engine's pipedrive_webhook_auth")
    for obj, action in sorted(needed):
        label = f"pipedrive {obj}.{action}"
        if (obj, action) in have:
            changes.kept.append(label)
            continue
        assert auth is not None  # noqa: S101 - checked above
        client.create_webhook(
            subscription_url=url,
            event_action=action,  # type: ignore[arg-type]  # from a trigger's WebhookNeeds
            event_object=obj,  # type: ignore[arg-type]
            name=f"{_NAME} {obj}.{action}",
            http_auth_user=auth.username,
            http_auth_password=auth.password,
            version="2.0",
        )
        changes.created.append(label)
    for hook in ours:
        if (hook.event_object, hook.event_action) not in needed or not hook.is_active:
            client.delete_webhook(hook.id)
            changes.deleted.append(f"pipedrive {hook.event_object}.{hook.event_action}")


def _mailchimp(  # noqa: PLR0917 - private, called once with every argument named
    url: str,
    audience: str,
    events: set[str],
    client: MailchimpClient,
    auth: MailchimpWebhookAuth | None,
    changes: _Changes,
) -> None:
    ours = [hook for hook in client.list_webhooks(audience) if hook.url.split("?")[0] == url]
    if not events:
        for hook in ours:
            client.delete_webhook(audience, hook.id)
            changes.deleted.append(f"mailchimp {audience}")
        return
    if auth is None or auth.url_secret is None:
        raise ConfigurationError(
            "Mailchimp webhooks need the engine's mailchimp_webhook_auth with a url_secret"
        )
    full_url = f"{url}?secret={auth.url_secret.reveal()}"
    wanted = WebhookEvents(**dict.fromkeys(sorted(events), True))
    keep = next(
        (h for h in ours if h.url == full_url and h.events == wanted and h.sources == _SOURCES),
        None,
    )
    for hook in ours:
        if hook is not keep:
            client.delete_webhook(audience, hook.id)
            changes.deleted.append(f"mailchimp {audience}")
    if keep is not None:
        changes.kept.append(f"mailchimp {audience}")
        return
    client.create_webhook(audience, full_url, events=wanted, sources=_SOURCES)
    changes.created.append(f"mailchimp {audience}")
