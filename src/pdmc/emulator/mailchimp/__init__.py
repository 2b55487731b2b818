"""The emulated Mailchimp Marketing API (and its OAuth endpoints at login.mailchimp.com).

Use it through :class:`pdmc.emulator.Emulator` (``emulator.mailchimp``), or alone:

>>> from pdmc.emulator.mailchimp import MailchimpEmulator
>>> mailchimp = MailchimpEmulator()
>>> member_id = mailchimp.add_member(mailchimp.default_audience_id, "ada@lovelace.dev")
>>> mailchimp.get_member(mailchimp.default_audience_id, "ADA@lovelace.dev")["status"]
'subscribed'

What is emulated, and every known way it differs from the real service, is listed
in ``docs/emulator-mailchimp.md``.
"""

from __future__ import annotations

from pdmc.emulator.mailchimp._emails import email_rejection_reason
from pdmc.emulator.mailchimp._emulator import MailchimpEmulator
from pdmc.emulator.mailchimp._events import signature_header
from pdmc.emulator.mailchimp._records import Account

__all__ = ["Account", "MailchimpEmulator", "email_rejection_reason", "signature_header"]
