"""Shared pieces of the schema-drift, bad-input and security scenarios.

People change an account's schema in the apps while flows run: they rename or
delete a Pipedrive custom field (the emulator's direct state API) or a Mailchimp
merge field (through Mailchimp's own API, as an integration or the web app does).
A flow whose mapping broke keeps reporting it on every run, so these scenarios
settle with :func:`settle`, which counts a round as quiet when its only errors are
the broken mappings it already named.
"""

from __future__ import annotations

from typing import Any

import httpx

from pdmc.emulator import Emulator
from pdmc.flows import SyncReport
from tests.flows_safety.world import World


def settle(world: World) -> list[SyncReport]:
    """Settle ``world``'s flows; a round whose only errors are broken mappings is quiet."""
    return world.settle(broken_mappings_ok=True)


def _mailchimp_admin(emulator: Emulator) -> httpx.Client:
    """An ``httpx`` client on the emulated Mailchimp API with the default account's key."""
    account = emulator.mailchimp.default_account
    return httpx.Client(
        base_url=f"https://{account.data_center}.api.mailchimp.com/3.0",
        transport=emulator.transport,
        auth=("pdmc-tests", account.api_key.reveal()),
    )


def _merge_id(emulator: Emulator, audience: str, tag: str) -> int:
    with emulator.mailchimp_client() as client:
        return next(f.merge_id for f in client.list_merge_fields(audience) if f.tag == tag)


def change_merge_field(
    emulator: Emulator, audience: str, merge_tag: str, /, **changes: Any
) -> None:
    """PATCH a merge field (``tag=`` renames its merge tag, ``name=`` its label)."""
    merge_id = _merge_id(emulator, audience, merge_tag)
    with _mailchimp_admin(emulator) as http:
        http.patch(f"/lists/{audience}/merge-fields/{merge_id}", json=changes).raise_for_status()


def delete_merge_field(emulator: Emulator, audience: str, tag: str) -> None:
    """DELETE a merge field and, with it, every member's value of it."""
    merge_id = _merge_id(emulator, audience, tag)
    with _mailchimp_admin(emulator) as http:
        http.delete(f"/lists/{audience}/merge-fields/{merge_id}").raise_for_status()
